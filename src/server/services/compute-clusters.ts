import { InvalidArgumentError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import { Visibility } from '../../core/wire.js';
import type { ComputeClusterFields, ComputeClusterRecord } from '../../store/index.js';
import { ownerFor } from './access.js';
import { visibilityOf } from './apps.js';
import {
  builtInRefused,
  clusterNotFound,
  findComputeCluster,
  LOCAL_ID,
  localCluster,
  pageWithBuiltIn,
} from './compute-lookup.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';
import { isObject } from './request-shape.js';

/** Clarifai's ComputeCluster, as far as Sibyl keeps one. */
export interface WireComputeCluster {
  id: string;
  user_id: string;
  description?: string;
  cloud_provider: { id: string; name?: string };
  region?: string;
  cluster_type?: string;
  managed_by?: string;
  visibility: { gettable: number };
  created_at?: string;
  modified_at?: string;
}

type Status = ReturnType<typeof ok>;
type Reply = { status: Status; compute_clusters: WireComputeCluster[] };
const BAD = StatusCode.COMPUTE_CLUSTER_INVALID_ARGUMENT;

export function toWireCluster(c: ComputeClusterRecord): WireComputeCluster {
  const wire: WireComputeCluster = {
    id: c.id,
    user_id: c.userId,
    cloud_provider: { id: c.cloudProviderId },
    visibility: { gettable: c.visibility === 'public' ? Visibility.PUBLIC : Visibility.PRIVATE },
  };
  if (c.description) wire.description = c.description;
  if (c.region) wire.region = c.region;
  if (c.clusterType) wire.cluster_type = c.clusterType;
  if (c.managedBy) wire.managed_by = c.managedBy;
  if (c.createdAt) wire.created_at = c.createdAt;
  if (c.modifiedAt) wire.modified_at = c.modifiedAt;
  return wire;
}

function text(msg: Record<string, unknown>, field: string, where: string): string | undefined {
  const v = msg[field];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new InvalidArgumentError(`${where}.${field} must be a string`, BAD);
  return v;
}

/** The fields a ComputeCluster message sets (id apart). */
function fieldsOf(msg: Record<string, unknown>, where: string): ComputeClusterFields {
  const fields: ComputeClusterFields = {};
  const set = <K extends keyof ComputeClusterFields>(k: K, v: ComputeClusterFields[K] | undefined): void => {
    if (v !== undefined) fields[k] = v;
  };
  set('description', text(msg, 'description', where));
  set('region', text(msg, 'region', where));
  set('clusterType', text(msg, 'cluster_type', where));
  set('managedBy', text(msg, 'managed_by', where));
  if (msg.cloud_provider !== undefined) {
    if (!isObject(msg.cloud_provider))
      throw new InvalidArgumentError(`${where}.cloud_provider must be an object with an id`, BAD);
    set('cloudProviderId', text(msg.cloud_provider, 'id', `${where}.cloud_provider`));
  }
  set('visibility', visibilityOf(msg.visibility));
  return fields;
}

function idOf(msg: Record<string, unknown>, where: string): string {
  const id = msg.id;
  if (typeof id !== 'string' || !isValidId(id)) {
    throw new InvalidArgumentError(
      `${where}.id ${JSON.stringify(id)} is not valid: use letters, digits, "_", "-" or "."`,
      BAD,
    );
  }
  if (id === LOCAL_ID) throw builtInRefused(`compute cluster "${LOCAL_ID}"`, BAD);
  return id;
}

/** GET /v2/users/{user_id}/compute_clusters/{compute_cluster_id} */
export async function getComputeCluster(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
  reqId: string,
): Promise<{ status: Status; compute_cluster: WireComputeCluster }> {
  const cluster = await findComputeCluster(ctx, caller, userId, clusterId);
  return { status: ok(reqId), compute_cluster: toWireCluster(cluster) };
}

/** GET /v2/users/{user_id}/compute_clusters: the built-in `local` first, then the stored ones by id. */
export async function listComputeClusters(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  page: { page: number; perPage: number },
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  const clusters = await pageWithBuiltIn([localCluster(owner)], page, (w) =>
    ctx.store.computeClusters.list(owner, w),
  );
  return { status: ok(reqId), compute_clusters: clusters.map(toWireCluster) };
}

/** POST /v2/users/{user_id}/compute_clusters: all are checked before any is made. */
export async function postComputeClusters(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  msgs: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  if (msgs.length === 0)
    throw new InvalidArgumentError('"compute_clusters" must list at least one compute cluster', BAD);
  const specs = msgs.map((m, i) => {
    const where = `compute_clusters[${i}]`;
    return { id: idOf(m, where), ...fieldsOf(m, where) };
  });
  const out: WireComputeCluster[] = [];
  for (const spec of specs) out.push(toWireCluster(await ctx.store.computeClusters.create(owner, spec)));
  return { status: ok(reqId), compute_clusters: out };
}

/** PATCH /v2/users/{user_id}/compute_clusters: changes the fields each message sets. */
export async function patchComputeClusters(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  msgs: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  const specs = msgs.map((m, i) => {
    const where = `compute_clusters[${i}]`;
    return { id: idOf(m, where), fields: fieldsOf(m, where) };
  });
  const out: WireComputeCluster[] = [];
  for (const { id, fields } of specs) {
    if (!(await ctx.store.computeClusters.patch(owner, id, fields))) throw clusterNotFound(owner, id);
    out.push(toWireCluster((await ctx.store.computeClusters.get(owner, id))!));
  }
  return { status: ok(reqId), compute_clusters: out };
}

/** DELETE /v2/users/{user_id}/compute_clusters (ids in the body): each must exist and hold no nodepool. */
export async function deleteComputeClusters(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  ids: string[],
  reqId: string,
): Promise<{ status: Status }> {
  const owner = await ownerFor(ctx, caller, userId);
  if (ids.length === 0)
    throw new InvalidArgumentError('"ids" must list at least one compute cluster id', BAD);
  for (const id of ids) {
    if (id === LOCAL_ID)
      throw builtInRefused(`compute cluster "${LOCAL_ID}"`, StatusCode.COMPUTE_CLUSTER_INVALID_REQUEST);
    if (!(await ctx.store.computeClusters.get(owner, id))) throw clusterNotFound(owner, id);
  }
  for (const id of ids) {
    if (!(await ctx.store.computeClusters.delete(owner, id))) throw clusterNotFound(owner, id);
  }
  return { status: ok(reqId) };
}
