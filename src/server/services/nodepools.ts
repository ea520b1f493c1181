import { InvalidArgumentError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import {
  ENDPOINT_PROTOCOLS,
  type EndpointProtocol,
  type NodepoolEndpoint,
  type NodepoolFields,
  type NodepoolRecord,
} from '../../store/index.js';
import { ownerFor, requireAdmin } from './access.js';
import {
  builtInRefused,
  clusterNotFound,
  findNodepool,
  LOCAL_ID,
  localNodepool,
  nodepoolNotFound,
  pageWithBuiltIn,
} from './compute-lookup.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';
import { isObject } from './request-shape.js';

/**
 * Nodepools on the wire: Clarifai's Nodepool, with what Sibyl adds in its `metadata` Struct under
 * `sibyl`: `{"kind": "runners"}` (the default: remote runners register in it) or
 * `{"kind": "endpoint", "endpoint": {"protocol": "oip" | "openai" | "clarifai", "base_url": ...,
 * "model"?: ..., "api_key_env"?: ...}}`, an external model server. A key is never stored: the
 * endpoint names a variable of the server's environment that holds it.
 */

export interface WireNodepool {
  id: string;
  description?: string;
  created_at?: string;
  modified_at?: string;
  compute_cluster: { id: string; user_id: string };
  min_instances?: number;
  max_instances?: number;
  metadata: Record<string, unknown>;
}

type Status = ReturnType<typeof ok>;
type Reply = { status: Status; nodepools: WireNodepool[] };
const BAD = StatusCode.NODEPOOL_INVALID_ARGUMENT;
const ENDPOINT_FIELDS = ['protocol', 'base_url', 'model', 'api_key_env'];
const SECRET_FIELDS = ['api_key', 'apikey', 'key', 'token', 'secret', 'password', 'pat'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLARIFAI_MODEL = /^[^/\s]+\/[^/\s]+\/models\/[^/\s]+$/;

function bad(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, BAD);
}

export function toWireNodepool(p: NodepoolRecord): WireNodepool {
  const sibyl: Record<string, unknown> = { kind: p.kind };
  if (p.endpoint) {
    const e: Record<string, string> = { protocol: p.endpoint.protocol, base_url: p.endpoint.baseUrl };
    if (p.endpoint.model !== undefined) e.model = p.endpoint.model;
    if (p.endpoint.apiKeyEnv !== undefined) e.api_key_env = p.endpoint.apiKeyEnv;
    sibyl.endpoint = e;
  }
  const wire: WireNodepool = {
    id: p.id,
    compute_cluster: { id: p.computeClusterId, user_id: p.userId },
    metadata: { ...p.metadata, sibyl },
  };
  if (p.description) wire.description = p.description;
  if (p.createdAt) wire.created_at = p.createdAt;
  if (p.modifiedAt) wire.modified_at = p.modifiedAt;
  if (p.minInstances) wire.min_instances = p.minInstances;
  if (p.maxInstances) wire.max_instances = p.maxInstances;
  return wire;
}

/** `metadata.sibyl.endpoint`, checked field by field. */
export function parseEndpoint(raw: unknown, where: string): NodepoolEndpoint {
  if (!isObject(raw)) throw bad(`${where} must be an object with protocol and base_url`);
  for (const k of Object.keys(raw)) {
    if (SECRET_FIELDS.includes(k.toLowerCase())) {
      throw bad(
        `${where}.${k}: a nodepool never holds a key; put the key in an environment variable of the server and name that variable in ${where}.api_key_env`,
      );
    }
    if (!ENDPOINT_FIELDS.includes(k))
      throw bad(`${where}.${k} is not a field of an endpoint; allowed: ${ENDPOINT_FIELDS.join(', ')}`);
  }
  const protocol = raw.protocol;
  if (typeof protocol !== 'string' || !(ENDPOINT_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw bad(
      `${where}.protocol must be one of ${ENDPOINT_PROTOCOLS.join(', ')}; got ${JSON.stringify(protocol)}`,
    );
  }
  const baseUrl = raw.base_url;
  let url: URL | undefined;
  try {
    url = typeof baseUrl === 'string' ? new URL(baseUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw bad(
      `${where}.base_url must be an absolute http:// or https:// URL; got ${JSON.stringify(baseUrl)}`,
    );
  }
  if (url.username || url.password) {
    throw bad(
      `${where}.base_url must not hold credentials; name the key's environment variable in api_key_env`,
    );
  }
  const endpoint: NodepoolEndpoint = { protocol: protocol as EndpointProtocol, baseUrl: baseUrl as string };
  if (raw.model !== undefined) {
    if (typeof raw.model !== 'string' || raw.model === '')
      throw bad(`${where}.model must be a non-empty string`);
    if (protocol === 'clarifai' && !CLARIFAI_MODEL.test(raw.model)) {
      throw bad(`${where}.model for protocol clarifai must read USER/APP/models/MODEL; got "${raw.model}"`);
    }
    endpoint.model = raw.model;
  }
  if (raw.api_key_env !== undefined) {
    if (typeof raw.api_key_env !== 'string' || !ENV_NAME.test(raw.api_key_env)) {
      throw bad(
        `${where}.api_key_env must be the NAME of an environment variable of the server (letters, digits, "_"), not a key`,
      );
    }
    endpoint.apiKeyEnv = raw.api_key_env;
  }
  return endpoint;
}

/** Kind and endpoint from `metadata.sibyl`; the rest of the metadata as it is. */
function kindOf(metadata: unknown, where: string): Pick<NodepoolFields, 'kind' | 'endpoint' | 'metadata'> {
  if (metadata === undefined) return {};
  if (!isObject(metadata)) throw bad(`${where}.metadata must be an object`);
  const { sibyl, ...rest } = metadata;
  if (sibyl === undefined) return { kind: 'runners', metadata: rest };
  if (!isObject(sibyl)) throw bad(`${where}.metadata.sibyl must be an object with kind and endpoint`);
  for (const k of Object.keys(sibyl)) {
    if (k !== 'kind' && k !== 'endpoint')
      throw bad(`${where}.metadata.sibyl.${k} is unknown; allowed: kind, endpoint`);
  }
  const kind = sibyl.kind ?? (sibyl.endpoint !== undefined ? 'endpoint' : 'runners');
  if (kind === 'runners') {
    if (sibyl.endpoint !== undefined)
      throw bad(`${where}.metadata.sibyl.endpoint is only for kind "endpoint"`);
    return { kind, metadata: rest };
  }
  if (kind !== 'endpoint') {
    throw bad(
      `${where}.metadata.sibyl.kind must be "runners" or "endpoint"; got ${JSON.stringify(kind)} (kind "local" is only the built-in local/local)`,
    );
  }
  if (sibyl.endpoint === undefined)
    throw bad(`${where}.metadata.sibyl.endpoint is required for kind "endpoint"`);
  return {
    kind,
    endpoint: parseEndpoint(sibyl.endpoint, `${where}.metadata.sibyl.endpoint`),
    metadata: rest,
  };
}

function count(msg: Record<string, unknown>, field: string, where: string): number | undefined {
  const v = msg[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw bad(`${where}.${field} must be a whole number >= 0; got ${JSON.stringify(v)}`);
  return v;
}

function fieldsOf(msg: Record<string, unknown>, where: string): NodepoolFields {
  const fields: NodepoolFields = kindOf(msg.metadata, where);
  if (msg.description !== undefined) {
    if (typeof msg.description !== 'string') throw bad(`${where}.description must be a string`);
    fields.description = msg.description;
  }
  const min = count(msg, 'min_instances', where);
  const max = count(msg, 'max_instances', where);
  if (min !== undefined && max !== undefined && max > 0 && min > max)
    throw bad(`${where}.min_instances (${min}) must not exceed max_instances (${max})`);
  if (min !== undefined) fields.minInstances = min;
  if (max !== undefined) fields.maxInstances = max;
  return fields;
}

function idOf(msg: Record<string, unknown>, where: string): string {
  if (typeof msg.id !== 'string' || !isValidId(msg.id)) {
    throw bad(`${where}.id ${JSON.stringify(msg.id)} is not valid: use letters, digits, "_", "-" or "."`);
  }
  return msg.id;
}

/** The owner and a stored cluster of theirs that nodepools may be written in. */
async function writableCluster(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
): Promise<string> {
  const owner = await ownerFor(ctx, caller, userId);
  if (clusterId === LOCAL_ID)
    throw builtInRefused(
      `compute cluster "${LOCAL_ID}" and its nodepool "${LOCAL_ID}"`,
      StatusCode.NODEPOOL_INVALID_REQUEST,
    );
  if (!(await ctx.store.computeClusters.get(owner, clusterId))) throw clusterNotFound(owner, clusterId);
  return owner;
}

export async function getNodepool(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
  nodepoolId: string,
  reqId: string,
): Promise<{ status: Status; nodepool: WireNodepool }> {
  return {
    status: ok(reqId),
    nodepool: toWireNodepool(await findNodepool(ctx, caller, userId, clusterId, nodepoolId)),
  };
}

/** A cluster's nodepools, or (no cluster) all of the user's, `local/local` first. */
export async function listNodepools(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string | undefined,
  page: { page: number; perPage: number },
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  if (
    clusterId !== undefined &&
    clusterId !== LOCAL_ID &&
    !(await ctx.store.computeClusters.get(owner, clusterId))
  )
    throw clusterNotFound(owner, clusterId);
  const builtIn = clusterId === undefined || clusterId === LOCAL_ID ? [localNodepool(owner)] : [];
  const pools =
    clusterId === LOCAL_ID
      ? await pageWithBuiltIn(builtIn, page, async () => [])
      : await pageWithBuiltIn(builtIn, page, (w) =>
          ctx.store.nodepools.list(owner, { ...w, ...(clusterId ? { computeClusterId: clusterId } : {}) }),
        );
  return { status: ok(reqId), nodepools: pools.map(toWireNodepool) };
}

export async function postNodepools(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
  msgs: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await writableCluster(ctx, caller, userId, clusterId);
  if (msgs.length === 0) throw bad('"nodepools" must list at least one nodepool');
  const specs = msgs.map((m, i) => ({ id: idOf(m, `nodepools[${i}]`), ...fieldsOf(m, `nodepools[${i}]`) }));
  const endpoint = specs.find((s) => s.endpoint);
  if (endpoint) await requireAdmin(ctx, caller, `nodepool "${endpoint.id}" with an endpoint`);
  const out: WireNodepool[] = [];
  for (const spec of specs)
    out.push(toWireNodepool(await ctx.store.nodepools.create(owner, clusterId, spec)));
  return { status: ok(reqId), nodepools: out };
}

export async function patchNodepools(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
  msgs: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await writableCluster(ctx, caller, userId, clusterId);
  const specs = msgs.map((m, i) => ({
    id: idOf(m, `nodepools[${i}]`),
    fields: fieldsOf(m, `nodepools[${i}]`),
  }));
  const endpoint = specs.find((s) => s.fields.endpoint);
  if (endpoint) await requireAdmin(ctx, caller, `nodepool "${endpoint.id}" with an endpoint`);
  const out: WireNodepool[] = [];
  for (const { id, fields } of specs) {
    const current = await ctx.store.nodepools.get(owner, clusterId, id);
    if (!current) throw nodepoolNotFound(owner, clusterId, id);
    const min = fields.minInstances ?? current.minInstances;
    const max = fields.maxInstances ?? current.maxInstances;
    if (max > 0 && min > max)
      throw bad(`nodepool "${id}": min_instances (${min}) must not exceed max_instances (${max})`);
    await ctx.store.nodepools.patch(owner, clusterId, id, fields);
    out.push(toWireNodepool((await ctx.store.nodepools.get(owner, clusterId, id))!));
  }
  return { status: ok(reqId), nodepools: out };
}

/** Deletes nodepools with their runners; one a deployment names is refused (the store says which). */
export async function deleteNodepools(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
  ids: string[],
  reqId: string,
): Promise<{ status: Status }> {
  const owner = await writableCluster(ctx, caller, userId, clusterId);
  if (ids.length === 0) throw bad('"ids" must list at least one nodepool id');
  for (const id of ids)
    if (!(await ctx.store.nodepools.get(owner, clusterId, id))) throw nodepoolNotFound(owner, clusterId, id);
  for (const id of ids)
    if (!(await ctx.store.nodepools.delete(owner, clusterId, id)))
      throw nodepoolNotFound(owner, clusterId, id);
  return { status: ok(reqId) };
}
