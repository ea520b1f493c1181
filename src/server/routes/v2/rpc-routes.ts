import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type protobuf from 'protobufjs';
import { InvalidArgumentError } from '../../../core/errors.js';
import { StatusCode } from '../../../core/status.js';
import type { Canonical } from '../../proto/json.js';
import { decodeJson, encodeJson } from '../../proto/json.js';
import type { HttpBinding, RpcShape } from '../../proto/schema.js';
import { httpBindings, loadFullSchema, loadRestSchema, V2_SERVICE, v2Service } from '../../proto/schema.js';
import type { ServiceContext } from '../../services/context.js';
import type { Message } from '../../services/v2-rpcs.js';
import { isMessageStream, rpcHandler, SERVED_RPCS } from '../../services/v2-rpcs.js';
import { abandonSignal, callerOf } from './context.js';

/**
 * Every REST binding (`google.api.http` option) that Clarifai's service.proto declares for the
 * RPCs in services/v2-rpcs.ts, registered as declared: with and without `/users/{u}/apps/{a}`,
 * with and without `/versions/{v}`, the deployment form of PostModelOutputs. As grpc-gateway does,
 * a route builds the RPC's request message from the body (`body: "*"`), the query string (routes
 * without a body) and the path, decodes it with the proto3 JSON mapping, and answers the RPC's
 * response message with only the fields the proto defines.
 */
export function registerRpcRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const schema = loadRestSchema(SERVED_RPCS);
  const seen = new Set<string>();
  for (const binding of schema.bindings) {
    const rpc = schema.rpcs.get(binding.rpc)!;
    const handler = rpcHandler(binding.rpc)!;
    const { url, params } = fastifyPath(binding.path);
    const key = `${binding.method} ${url.replace(/:p\d+/g, ':')}`;
    if (seen.has(key)) continue; // two RPCs on one route: the first declared wins, as on Clarifai
    seen.add(key);
    const reqType = schema.root.lookupType(rpc.requestType);
    const resType = schema.root.lookupType(rpc.responseType);
    app.route({
      method: binding.method,
      url,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const msg = requestMessage(reqType, rpc, binding, req, params);
        const result = await handler(ctx, callerOf(req), msg, req.id, abandonSignal(reply));
        if (!isMessageStream(result)) {
          const body = encodeJson(resType, result as Canonical);
          if (!rpc.responseStream) return body;
          void reply.header('content-type', 'application/json');
          return `${JSON.stringify({ result: body })}\n`;
        }
        // grpc-gateway's form of a server stream: one {"result": message} JSON object per line, each
        // sent as it comes. A client that goes away destroys the stream, which stops the generation.
        return reply
          .header('content-type', 'application/json')
          .header('cache-control', 'no-store')
          .header('x-accel-buffering', 'no')
          .send(Readable.from(ndjsonLines(resType, result as AsyncIterable<Canonical>)));
      },
    });
  }
}

async function* ndjsonLines(type: protobuf.Type, messages: AsyncIterable<Canonical>): AsyncGenerator<string> {
  for await (const message of messages) yield `${JSON.stringify({ result: encodeJson(type, message) })}\n`;
}

/** `/v2/users/{user_app_id.user_id}/apps` -> `/v2/users/:p0/apps` and p0 -> user_app_id.user_id. */
function fastifyPath(template: string): { url: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const url = template.replace(/\{([^}=]+)(?:=[^}]*)?\}/g, (_, field: string) => {
    const name = `p${params.size}`;
    params.set(name, field);
    return `:${name}`;
  });
  return { url, params };
}

function requestMessage(
  type: protobuf.Type,
  rpc: RpcShape,
  binding: HttpBinding,
  req: FastifyRequest,
  params: Map<string, string>,
): Message {
  let raw: unknown;
  let query = false;
  if (binding.body === '*') {
    raw = req.body ?? {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      const fields = type.fieldsArray.map((f) => f.name).join(', ');
      throw new InvalidArgumentError(
        `the body must be a JSON object, a ${rpc.requestType} with the fields ${fields}`,
        StatusCode.CONN_INVALID_REQUEST,
      );
    }
  } else {
    raw = queryMessage(req.query);
    query = true;
  }
  const msg = (decodeJson(type, raw, { query }) ?? {}) as Message;
  const values = req.params as Record<string, string>;
  for (const [name, field] of params) setPath(msg, field.split('.'), values[name] ?? '');
  return msg;
}

/** Query parameters as a JSON object: `a.b=1` nests, a repeated key is a list. */
function queryMessage(query: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    setPath(out, key.split('.'), value);
  }
  return out;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    node = (
      typeof next === 'object' && next !== null && !Array.isArray(next) ? next : (node[part] = {})
    ) as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

interface UnservedRoute {
  method: string;
  pattern: RegExp;
  rpc: string;
  path: string;
}

let unserved: UnservedRoute[] | undefined;

/**
 * The RPC (`clarifai.api.V2/Name`) whose REST binding in service.proto matches a request no route
 * took, when Sibyl does not serve that RPC: such a path answers NOT_IMPLEMENTED (as gRPC does)
 * rather than "no route", while paths Clarifai's API does not have stay 404. Built on the first
 * miss from the full schema, so start-up never pays for it.
 */
export function unservedRpcFor(method: string, path: string): { rpc: string; path: string } | undefined {
  if (!unserved) {
    const served = new Set(SERVED_RPCS);
    unserved = [];
    for (const m of v2Service(loadFullSchema()).methodsArray) {
      if (served.has(m.name)) continue;
      for (const b of httpBindings(m)) {
        const source = b.path
          .split(/\{[^}]*\}/)
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]+');
        unserved.push({
          method: b.method,
          pattern: new RegExp(`^${source}/?$`),
          rpc: `${V2_SERVICE}/${m.name}`,
          path: b.path,
        });
      }
    }
  }
  const hit = unserved.find((r) => r.method === method && r.pattern.test(path));
  return hit ? { rpc: hit.rpc, path: hit.path } : undefined;
}
