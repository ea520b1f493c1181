import protobuf from 'protobufjs';
import type { HttpBinding } from '../proto/schema.js';
import { loadRestSchema } from '../proto/schema.js';
import { SERVED_RPCS } from '../services/v2-rpcs.js';
import { HAND_ROUTES, type HandRoute } from './hand-routes.js';

/**
 * The OpenAPI 3.1 document of every route, built from the sources the routes come from: the REST
 * bindings and messages of the served RPCs (proto/schema.ts, as routes/v2/rpc-routes.ts registers
 * them) and a small table of the routes written by hand (hand-routes.ts). Message and enum types
 * become components, made only for the types a served RPC reaches. Built on the first request and
 * kept: nothing in it depends on the server's configuration, keys or data.
 */

export type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown>;

const V2_ERROR = 'clarifai.api.status.Status';
/** Every operation needs a key unless it says `security: []`. */
const KEYED = [{ PAT: [] }, { bearer: [] }];

const INTEGER_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const INT64_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** Well-known types as the proto3 JSON mapping writes them. */
const WELL_KNOWN: Record<string, JsonSchema> = {
  'google.protobuf.Struct': { type: 'object', additionalProperties: true },
  'google.protobuf.Value': {},
  'google.protobuf.ListValue': { type: 'array', items: {} },
  'google.protobuf.Any': { type: 'object', additionalProperties: true },
  'google.protobuf.Empty': { type: 'object' },
  'google.protobuf.Timestamp': { type: 'string', format: 'date-time' },
  'google.protobuf.Duration': { type: 'string', description: 'seconds with an `s` suffix, e.g. `1.5s`' },
  'google.protobuf.FieldMask': { type: 'string', description: 'comma-separated field paths' },
  'google.protobuf.BoolValue': { type: 'boolean' },
  'google.protobuf.StringValue': { type: 'string' },
  'google.protobuf.BytesValue': { type: 'string', contentEncoding: 'base64' },
  'google.protobuf.FloatValue': { type: 'number' },
  'google.protobuf.DoubleValue': { type: 'number' },
  'google.protobuf.Int32Value': { type: 'integer' },
  'google.protobuf.UInt32Value': { type: 'integer' },
  'google.protobuf.Int64Value': { type: ['string', 'integer'] },
  'google.protobuf.UInt64Value': { type: ['string', 'integer'] },
};

function scalarSchema(type: string): JsonSchema {
  if (type === 'string') return { type: 'string' };
  if (type === 'bool') return { type: 'boolean' };
  if (type === 'double' || type === 'float') return { type: 'number' };
  if (type === 'bytes') return { type: 'string', contentEncoding: 'base64' };
  if (INTEGER_TYPES.has(type)) return { type: 'integer' };
  if (INT64_TYPES.has(type)) return { type: ['string', 'integer'], description: '64-bit integer' };
  return {};
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const qualified = (t: protobuf.ReflectionObject): string => t.fullName.replace(/^\./, '');

/** Components made lazily: a type gets one the first time a schema refers to it. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The schema of a message or enum type: its well-known form, or a $ref to its component. */
  typeSchema(t: protobuf.Type | protobuf.Enum): JsonSchema {
    const name = qualified(t);
    const known = WELL_KNOWN[name];
    if (known) return { ...known };
    if (!(name in this.schemas)) {
      this.schemas[name] = {}; // placed before the fields, so recursive types end
      this.schemas[name] = t instanceof protobuf.Enum ? enumSchema(t) : this.messageSchema(t);
    }
    return ref(name);
  }

  fieldSchema(field: protobuf.Field): JsonSchema {
    field.resolve();
    const resolved = field.resolvedType;
    const value = resolved ? this.typeSchema(resolved) : scalarSchema(field.type);
    if (field instanceof protobuf.MapField) return { type: 'object', additionalProperties: value };
    if (field.repeated) return { type: 'array', items: value };
    return value;
  }

  private messageSchema(t: protobuf.Type): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    for (const field of t.fieldsArray) {
      const schema = this.fieldSchema(field);
      const comment = field.comment?.trim();
      properties[field.name] = comment && !('$ref' in schema) ? { ...schema, description: comment } : schema;
    }
    return { type: 'object', properties };
  }
}

function enumSchema(e: protobuf.Enum): JsonSchema {
  return {
    anyOf: [
      { type: 'string', enum: Object.keys(e.values) },
      { type: 'integer', enum: [...new Set(Object.values(e.values))] },
    ],
  };
}

/** `/v2/users/{user_app_id.user_id}` -> `/v2/users/{}`: two templates that match the same URLs. */
export function pathShape(path: string): string {
  return path.replace(/\{[^}]*\}/g, '{}');
}

/** `/v2/users/{u}/apps/{a}/models/{m}/outputs` -> `models`: the resource an RPC route is about. */
function tagOf(path: string): string {
  const segments = path.split('/').filter((s) => s && s !== 'v2' && !s.startsWith('{'));
  while (segments.length > 1 && (segments[0] === 'users' || segments[0] === 'apps')) segments.shift();
  const first = segments[0] ?? 'users';
  return `v2 ${first === 'app' ? 'apps' : first}`; // GET /v2/app is the key's app
}

function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([^}=]+)(?:=[^}]*)?\}/g)].map((m) => m[1]!);
}

function rpcOperation(
  components: Components,
  root: protobuf.Root,
  binding: HttpBinding,
  requestType: string,
  responseType: string,
  responseStream: boolean,
): Operation {
  const reqType = root.lookupType(requestType);
  const resType = root.lookupType(responseType);
  const inPath = pathParams(binding.path);
  const parameters: Operation[] = inPath.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (binding.body !== '*') {
    // as grpc-gateway: the fields neither in the path nor the body come from the query string
    const bound = new Set(inPath.map((p) => p.split('.')[0]));
    for (const field of reqType.fieldsArray) {
      if (bound.has(field.name)) continue;
      field.resolve();
      if (field.resolvedType instanceof protobuf.Type && !WELL_KNOWN[qualified(field.resolvedType)]) continue;
      parameters.push({ name: field.name, in: 'query', schema: components.fieldSchema(field) });
    }
  }
  const response = components.typeSchema(resType);
  const op: Operation = {
    operationId: `${binding.rpc}_${binding.method}_${pathShape(binding.path).replace(/[^a-z0-9]+/gi, '_')}`,
    summary: binding.rpc,
    tags: [tagOf(binding.path)],
    parameters,
    responses: {
      '200': responseStream
        ? {
            description: `${responseType}s, one \`{"result": ...}\` JSON object per line, each as it comes`,
            content: { 'application/json': { schema: { type: 'object', properties: { result: response } } } },
          }
        : { description: responseType, content: { 'application/json': { schema: response } } },
      default: {
        description: 'a v2 status naming what went wrong',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { status: components.typeSchema(root.lookupType(V2_ERROR)) },
            },
          },
        },
      },
    },
  };
  if (binding.body === '*') {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: components.typeSchema(reqType) } },
    };
  }
  return op;
}

function handOperation(route: HandRoute): Operation {
  const op: Operation = {
    operationId: `${route.method}_${route.path.replace(/[^a-z0-9]+/gi, '_')}`,
    summary: route.summary,
    tags: [route.tag],
    parameters: pathParams(route.path).map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
      ...(route.paramDescriptions?.[name] ? { description: route.paramDescriptions[name] } : {}),
    })),
    responses: {
      '200': { description: route.responseDescription ?? 'OK', content: route.responseContent },
    },
  };
  if (route.description) op.description = route.description;
  if (route.public) op.security = [];
  if (route.requestContent) op.requestBody = { required: true, content: route.requestContent };
  return op;
}

let cached: string | undefined;

/** The document as JSON text (built once per process). */
export function openApiJson(): string {
  cached ??= JSON.stringify(buildOpenApiDocument());
  return cached;
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const schema = loadRestSchema(SERVED_RPCS);
  const components = new Components();
  const paths: Record<string, Record<string, Operation>> = {};
  const byShape = new Map<string, string>(); // pathShape -> the template listed for it
  const add = (method: string, path: string, op: () => Operation): void => {
    const shape = pathShape(path);
    const listed = byShape.get(shape) ?? path;
    byShape.set(shape, listed);
    const item = (paths[listed] ??= {});
    const verb = method.toLowerCase();
    if (item[verb]) return; // two RPCs on one route: the first declared wins, as in rpc-routes.ts
    item[verb] = op();
  };
  for (const binding of schema.bindings) {
    const rpc = schema.rpcs.get(binding.rpc)!;
    add(binding.method, binding.path, () =>
      rpcOperation(components, schema.root, binding, rpc.requestType, rpc.responseType, rpc.responseStream),
    );
  }
  for (const route of HAND_ROUTES) add(route.method, route.path, () => handOperation(route));

  return {
    openapi: '3.1.0',
    info: {
      title: 'Sibyl',
      version: '2',
      description:
        "Clarifai's v2 REST API as `clarifai serve` answers it, with Sibyl's own routes and an OpenAI-compatible API under /v1. gRPC (and gRPC-web at `/clarifai.api.V2/<Method>`) serve the same RPCs.",
    },
    servers: [{ url: '/' }],
    security: KEYED,
    tags: [
      ...new Set(
        Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => op.tags as string[])),
      ),
    ]
      .sort()
      .map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        PAT: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'A personal access token: `Authorization: Key <PAT>`.',
        },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'The same PAT: `Authorization: Bearer <PAT>`.',
        },
      },
      schemas: components.schemas,
    },
  };
}
