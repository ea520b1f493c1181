import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

/**
 * Clarifai's V2 API schema, read from the protos inside the installed `clarifai-nodejs-grpc`
 * package (never copied into this repository), with protobufjs reflection.
 *
 * Parsing the 580 KB of proto text takes ~110 ms. `clarifai serve` pays that once for gRPC (it
 * needs every message of every RPC), but the REST app, built for each embedded CLI run, needs only
 * the messages of the RPCs it serves: those are cached as a small JSON descriptor (~60 KB, ~10 ms
 * to load) in `node_modules/.cache/sibyl/`, keyed by the proto files' size and mtime. When the cache
 * cannot be written the REST schema is simply rebuilt from the protos in each process.
 */

const require = createRequire(import.meta.url);

export const V2_SERVICE = 'clarifai.api.V2';

/** One REST binding of an RPC, from its `google.api.http` option. */
export interface HttpBinding {
  rpc: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The proto's template, e.g. `/v2/users/{user_app_id.user_id}/apps/{user_app_id.app_id}/inputs`. */
  path: string;
  /** `*` when the whole body is the request message; empty when there is no body. */
  body: string;
}

export interface RpcShape {
  name: string;
  requestType: string;
  responseType: string;
  requestStream: boolean;
  responseStream: boolean;
}

export interface RestSchema {
  root: protobuf.Root;
  rpcs: Map<string, RpcShape>;
  bindings: HttpBinding[];
}

const PROTO_ENTRY = 'proto/clarifai/api/service.proto';
const WELL_KNOWN = ['struct', 'timestamp', 'wrappers', 'duration', 'empty', 'field_mask', 'any'];
/** Bumped whenever the cached descriptor's layout changes. */
const CACHE_FORMAT = 2;

function packageDir(): string {
  // the package's exports map hides package.json; its main entry is src/index.js
  return dirname(dirname(require.resolve('clarifai-nodejs-grpc')));
}

let fullRoot: protobuf.Root | undefined;

/** Every message and RPC of Clarifai's API (parsed once per process, ~110 ms). */
export function loadFullSchema(): protobuf.Root {
  if (fullRoot) return fullRoot;
  const dir = packageDir();
  const root = new protobuf.Root();
  const seen = new Set<string>();
  const load = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    // google/api/annotations.proto is not shipped; its options parse without it
    if (file.startsWith('google/')) return;
    const parsed = protobuf.parse(readFileSync(join(dir, file), 'utf8'), root, { keepCase: true });
    for (const dep of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) load(dep);
  };
  load(PROTO_ENTRY);
  for (const name of WELL_KNOWN) {
    const common = protobuf.common.get(`google/protobuf/${name}.proto`) as protobuf.INamespace | null;
    if (common?.nested) root.addJSON(common.nested);
  }
  // Clarifai's auth options extend descriptor.proto's option messages
  const descriptor = require('protobufjs/google/protobuf/descriptor.json') as protobuf.INamespace;
  if (descriptor.nested) root.addJSON(descriptor.nested);
  root.resolveAll();
  fullRoot = root;
  return root;
}

export function v2Service(root: protobuf.Root): protobuf.Service {
  return root.lookupService(V2_SERVICE);
}

export function rpcShape(method: protobuf.Method): RpcShape {
  return {
    name: method.name,
    requestType: qualified(method.resolvedRequestType ?? method.parent!.lookupType(method.requestType)),
    responseType: qualified(method.resolvedResponseType ?? method.parent!.lookupType(method.responseType)),
    requestStream: method.requestStream === true,
    responseStream: method.responseStream === true,
  };
}

function qualified(t: protobuf.ReflectionObject): string {
  return t.fullName.replace(/^\./, '');
}

interface RawHttpRule {
  get?: string;
  post?: string;
  put?: string;
  patch?: string;
  delete?: string;
  body?: string;
  additional_bindings?: RawHttpRule | RawHttpRule[];
}

/** The REST bindings an RPC declares, main one first. */
export function httpBindings(method: protobuf.Method): HttpBinding[] {
  const opts = (method.parsedOptions ?? []) as Array<Record<string, unknown>>;
  const rule = opts.find((o) => o['(google.api.http)'])?.['(google.api.http)'] as RawHttpRule | undefined;
  if (!rule) return [];
  const extra = rule.additional_bindings;
  const rules = [rule, ...(Array.isArray(extra) ? extra : extra ? [extra] : [])];
  const out: HttpBinding[] = [];
  for (const r of rules) {
    for (const verb of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const path = r[verb];
      if (typeof path === 'string') {
        out.push({
          rpc: method.name,
          method: verb.toUpperCase() as HttpBinding['method'],
          path,
          body: r.body ?? '',
        });
      }
    }
  }
  return out;
}

const restSchemas = new Map<string, RestSchema>();

/**
 * The messages and REST bindings of the given RPCs: from the on-disk cache when it matches the
 * installed protos, otherwise from the protos (and then cached).
 */
export function loadRestSchema(rpcNames: readonly string[]): RestSchema {
  const names = [...rpcNames].sort();
  const memo = restSchemas.get(names.join(','));
  if (memo) return memo;
  const key = cacheKey(names);
  const file = cacheFile(key);
  let schema: RestSchema | undefined;
  if (file) {
    try {
      schema = fromCache(JSON.parse(readFileSync(file, 'utf8')) as CachedSchema, key);
    } catch {
      schema = undefined; // missing or stale: rebuild below
    }
  }
  if (!schema) {
    const cached = buildCache(names, key);
    if (file) writeCache(file, cached);
    schema = fromCache(cached, key)!;
  }
  restSchemas.set(names.join(','), schema);
  return schema;
}

interface CachedSchema {
  key: string;
  rpcs: RpcShape[];
  bindings: HttpBinding[];
  root: protobuf.INamespace;
}

function protoFiles(): string[] {
  const dir = join(packageDir(), 'proto', 'clarifai');
  return [
    join(dir, 'api', 'service.proto'),
    join(dir, 'api', 'resources.proto'),
    join(dir, 'api', 'status', 'status.proto'),
    join(dir, 'api', 'status', 'status_code.proto'),
  ];
}

function cacheKey(names: string[]): string {
  const hash = createHash('sha256').update(`format ${CACHE_FORMAT}\n${names.join(',')}\n`);
  for (const f of protoFiles()) {
    const st = statSync(f);
    hash.update(`${f} ${st.size} ${st.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 24);
}

function cacheFile(key: string): string | undefined {
  try {
    // node_modules/clarifai-nodejs-grpc -> node_modules/.cache/sibyl
    return join(dirname(packageDir()), '.cache', 'sibyl', `clarifai-rest-${key}.json`);
  } catch {
    return undefined;
  }
}

function writeCache(file: string, cached: CachedSchema): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(cached));
    renameSync(tmp, file); // atomic: a concurrent reader sees the old file or the whole new one
  } catch {
    // a read-only install: every process rebuilds, which is only slower
  }
}

function fromCache(cached: CachedSchema, key: string): RestSchema | undefined {
  if (cached.key !== key) return undefined;
  const root = protobuf.Root.fromJSON(cached.root);
  root.resolveAll();
  return { root, rpcs: new Map(cached.rpcs.map((r) => [r.name, r])), bindings: cached.bindings };
}

/** The named RPCs' shapes and bindings, and a descriptor of every message they can reach. */
function buildCache(names: string[], key: string): CachedSchema {
  const full = loadFullSchema();
  const service = v2Service(full);
  const rpcs: RpcShape[] = [];
  const bindings: HttpBinding[] = [];
  const reached = new Set<protobuf.ReflectionObject>();
  const visit = (t: protobuf.ReflectionObject | null): void => {
    if (!t || reached.has(t)) return;
    reached.add(t);
    if (t instanceof protobuf.Type) for (const f of t.fieldsArray) visit(f.resolve().resolvedType);
  };
  for (const name of names) if (!service.methods[name]) throw new Error(`${V2_SERVICE} has no RPC ${name}`);
  // in service.proto's order, so that where two RPCs share a route (PostRunners and PatchRunners
  // both POST .../runners) the one declared first answers it, as on Clarifai's gateway
  const wanted = new Set(names);
  for (const method of service.methodsArray.filter((m) => wanted.has(m.name))) {
    method.resolve();
    rpcs.push(rpcShape(method));
    bindings.push(...httpBindings(method));
    visit(method.resolvedRequestType);
    visit(method.resolvedResponseType);
  }
  const root: protobuf.INamespace = {};
  for (const t of reached) {
    const path = t.fullName.replace(/^\./, '').split('.');
    let node = root;
    for (const part of path.slice(0, -1)) {
      node.nested ??= {};
      node = (node.nested[part] ??= {}) as protobuf.INamespace;
    }
    node.nested ??= {};
    const last = path[path.length - 1]!;
    const json = t.toJSON() as protobuf.INamespace & {
      fields?: Record<string, { options?: Record<string, unknown> }>;
    };
    delete json.nested; // nested types that are reached are added on their own
    // custom options name extensions the descriptor leaves out; enums keep allow_alias
    if (t instanceof protobuf.Type) delete json.options;
    for (const field of Object.values(json.fields ?? {})) {
      const packed = field.options?.packed;
      if (packed === undefined) delete field.options;
      else field.options = { packed };
    }
    const existing = node.nested[last] as protobuf.INamespace | undefined;
    node.nested[last] = { ...json, ...(existing?.nested ? { nested: existing.nested } : {}) };
  }
  return { key, rpcs, bindings, root };
}
