import { InvalidArgumentError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { DeploymentFields, DeploymentRecord, NodepoolRef } from '../../store/index.js';
import { ownerFor } from './access.js';
import { deploymentNotFound, findDeployment, findNodepool } from './compute-lookup.js';
import type { Caller, ServiceContext } from './context.js';
import { resolveModel } from './models.js';
import { ok } from './reply.js';
import { isObject } from './request-shape.js';

/**
 * Deployments: a model placed on an ordered list of the owner's nodepools (`local/local`, this
 * server's own workers, among them if wanted). How predictions pick a nodepool follows Clarifai's
 * scheduling_choice: RANDOM (2) and UTILIZATION (6) spread the work across the nodepools; any
 * other choice (FAIL, PRICE, ... or none) tries them in the listed order, the next one only when
 * the one before cannot take the work (failover).
 */

export const SPREAD_CHOICES: readonly number[] = [2, 6];
/** Deployment.SchedulingChoice runs from UNKNOWN_SCHEDULING_CHOICE (0) to PREFER_ONDEMAND (8). */
const LAST_CHOICE = 8;

export interface WireDeployment {
  id: string;
  user_id: string;
  description?: string;
  autoscale_config: { min_replicas?: number; max_replicas?: number };
  nodepools: { id: string; compute_cluster: { id: string; user_id: string } }[];
  scheduling_choice?: number;
  worker: { model: { id: string; user_id: string; app_id: string; model_version?: { id: string } } };
  deploy_latest_version?: boolean;
  metadata?: Record<string, unknown>;
  created_at: string;
  modified_at: string;
}

type Status = ReturnType<typeof ok>;
type Reply = { status: Status; deployments: WireDeployment[] };
const BAD = StatusCode.DEPLOYMENT_INVALID_ARGUMENT;

function bad(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, BAD);
}

export function toWireDeployment(d: DeploymentRecord): WireDeployment {
  const model: WireDeployment['worker']['model'] = {
    id: d.model.modelId,
    user_id: d.model.userId,
    app_id: d.model.appId,
  };
  if (d.model.versionId) model.model_version = { id: d.model.versionId };
  const wire: WireDeployment = {
    id: d.id,
    user_id: d.userId,
    autoscale_config: { min_replicas: d.minReplicas, max_replicas: d.maxReplicas },
    nodepools: d.nodepools.map((n) => ({
      id: n.id,
      compute_cluster: { id: n.computeClusterId, user_id: d.userId },
    })),
    worker: { model },
    created_at: d.createdAt,
    modified_at: d.modifiedAt,
  };
  if (!d.model.versionId) wire.deploy_latest_version = true;
  if (d.schedulingChoice) wire.scheduling_choice = d.schedulingChoice;
  if (d.description) wire.description = d.description;
  if (Object.keys(d.metadata).length > 0) wire.metadata = d.metadata;
  return wire;
}

function str(holder: Record<string, unknown>, field: string, where: string): string | undefined {
  const v = holder[field];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw bad(`${where}.${field} must be a string`);
  return v;
}

/** The model a deployment's worker names; it must be one the owner may see. */
async function modelOf(
  ctx: ServiceContext,
  owner: string,
  msg: Record<string, unknown>,
  where: string,
): Promise<DeploymentRecord['model']> {
  const worker = msg.worker;
  const model = isObject(worker) ? worker.model : undefined;
  if (!isObject(model))
    throw bad(`${where}.worker.model is required: the model to deploy ({id, user_id, app_id})`);
  const w = `${where}.worker.model`;
  const modelId = str(model, 'id', w);
  const appId = str(model, 'app_id', w);
  if (!modelId || !appId) throw bad(`${w} needs id and app_id (and user_id when it is another user's model)`);
  const userId = str(model, 'user_id', w) ?? owner;
  const version = isObject(model.model_version)
    ? str(model.model_version, 'id', `${w}.model_version`)
    : undefined;
  const versionId = msg.deploy_latest_version === true ? undefined : version;
  // the owner's view, not the caller's: an admin deploys for alice only what alice may run
  await resolveModel(
    ctx,
    { userId: owner, scopes: [] },
    {
      userId,
      appId,
      modelId,
      ...(versionId ? { versionId } : {}),
    },
  );
  return { userId, appId, modelId, ...(versionId ? { versionId } : {}) };
}

async function nodepoolsOf(
  ctx: ServiceContext,
  owner: string,
  raw: unknown,
  where: string,
): Promise<NodepoolRef[]> {
  if (!Array.isArray(raw) || raw.length === 0)
    throw bad(`${where}.nodepools must list at least one nodepool ({id, compute_cluster: {id}})`);
  const refs: NodepoolRef[] = [];
  for (const [i, n] of raw.entries()) {
    const w = `${where}.nodepools[${i}]`;
    const id = isObject(n) ? str(n, 'id', w) : undefined;
    const cluster = isObject(n) && isObject(n.compute_cluster) ? n.compute_cluster : undefined;
    const clusterId = cluster ? str(cluster, 'id', `${w}.compute_cluster`) : undefined;
    if (!id || !clusterId) throw bad(`${w} needs id and compute_cluster.id`);
    const clusterUser = cluster ? str(cluster, 'user_id', `${w}.compute_cluster`) : undefined;
    if (clusterUser !== undefined && clusterUser !== owner)
      throw bad(`${w}: a deployment uses only its owner's nodepools ("${owner}"), not "${clusterUser}"'s`);
    if (refs.some((r) => r.id === id && r.computeClusterId === clusterId))
      throw bad(`${w}: nodepool ${clusterId}/${id} is listed twice`);
    await findNodepool(ctx, { userId: owner, scopes: [] }, owner, clusterId, id);
    refs.push({ computeClusterId: clusterId, id });
  }
  return refs;
}

function replicas(msg: Record<string, unknown>, where: string): { min?: number; max?: number } {
  const a = msg.autoscale_config;
  if (a === undefined) return {};
  if (!isObject(a)) throw bad(`${where}.autoscale_config must be an object`);
  const out: { min?: number; max?: number } = {};
  for (const [field, key] of [
    ['min_replicas', 'min'],
    ['max_replicas', 'max'],
  ] as const) {
    const v = a[field];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw bad(`${where}.autoscale_config.${field} must be a whole number >= 0; got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  return out;
}

/** The fields a Deployment message sets (id apart); model and nodepools checked against the store. */
async function fieldsOf(
  ctx: ServiceContext,
  owner: string,
  msg: Record<string, unknown>,
  where: string,
  creating: boolean,
): Promise<DeploymentFields> {
  const fields: DeploymentFields = {};
  if (msg.description !== undefined) {
    if (typeof msg.description !== 'string') throw bad(`${where}.description must be a string`);
    fields.description = msg.description;
  }
  if (creating || msg.worker !== undefined) fields.model = await modelOf(ctx, owner, msg, where);
  if (creating || msg.nodepools !== undefined)
    fields.nodepools = await nodepoolsOf(ctx, owner, msg.nodepools, where);
  const choice = msg.scheduling_choice;
  if (choice !== undefined) {
    if (typeof choice !== 'number' || !Number.isInteger(choice) || choice < 0 || choice > LAST_CHOICE)
      throw bad(
        `${where}.scheduling_choice must be a Deployment.SchedulingChoice (0-${LAST_CHOICE}, e.g. RANDOM or FAIL); got ${JSON.stringify(choice)}`,
      );
    fields.schedulingChoice = choice;
  }
  const { min, max } = replicas(msg, where);
  if (min !== undefined) fields.minReplicas = min;
  if (max !== undefined) fields.maxReplicas = max;
  if (msg.metadata !== undefined) {
    if (!isObject(msg.metadata)) throw bad(`${where}.metadata must be an object`);
    fields.metadata = msg.metadata;
  }
  return fields;
}

function checkReplicas(id: string, min: number, max: number): void {
  if (min > max)
    throw bad(
      `deployment "${id}": autoscale_config.min_replicas (${min}) must not exceed max_replicas (${max})`,
    );
}

function idOf(msg: Record<string, unknown>, where: string): string {
  if (typeof msg.id !== 'string' || !isValidId(msg.id))
    throw bad(`${where}.id ${JSON.stringify(msg.id)} is not valid: use letters, digits, "_", "-" or "."`);
  return msg.id;
}

export async function getDeployment(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  deploymentId: string,
  reqId: string,
): Promise<{ status: Status; deployment: WireDeployment }> {
  return {
    status: ok(reqId),
    deployment: toWireDeployment(await findDeployment(ctx, caller, userId, deploymentId)),
  };
}

/** The user's deployments by id; with a cluster and/or nodepool id, those placed on it. */
export async function listDeployments(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  filter: { page: number; perPage: number; computeClusterId?: string; nodepoolId?: string },
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  const { page, perPage, ...on } = filter;
  const list = await ctx.store.deployments.list(owner, {
    ...on,
    limit: perPage,
    offset: (page - 1) * perPage,
  });
  return { status: ok(reqId), deployments: list.map(toWireDeployment) };
}

export async function postDeployments(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  msgs: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  if (msgs.length === 0) throw bad('"deployments" must list at least one deployment');
  const specs = [];
  for (const [i, m] of msgs.entries()) {
    const where = `deployments[${i}]`;
    const id = idOf(m, where);
    const fields = await fieldsOf(ctx, owner, m, where, true);
    const min = fields.minReplicas ?? 0;
    const max = fields.maxReplicas ?? Math.max(min, 1);
    checkReplicas(id, min, max);
    specs.push({
      ...fields,
      id,
      model: fields.model!,
      nodepools: fields.nodepools!,
      minReplicas: min,
      maxReplicas: max,
    });
  }
  const out: WireDeployment[] = [];
  for (const spec of specs) out.push(toWireDeployment(await ctx.store.deployments.create(owner, spec)));
  return { status: ok(reqId), deployments: out };
}

export async function patchDeployments(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  msgs: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  const out: WireDeployment[] = [];
  for (const [i, m] of msgs.entries()) {
    const where = `deployments[${i}]`;
    const id = idOf(m, where);
    const current = await ctx.store.deployments.get(owner, id);
    if (!current) throw deploymentNotFound(owner, id);
    const fields = await fieldsOf(ctx, owner, m, where, false);
    checkReplicas(id, fields.minReplicas ?? current.minReplicas, fields.maxReplicas ?? current.maxReplicas);
    await ctx.store.deployments.patch(owner, id, fields);
    out.push(toWireDeployment((await ctx.store.deployments.get(owner, id))!));
  }
  return { status: ok(reqId), deployments: out };
}

export async function deleteDeployments(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  ids: string[],
  reqId: string,
): Promise<{ status: Status }> {
  const owner = await ownerFor(ctx, caller, userId);
  if (ids.length === 0) throw bad('"ids" must list at least one deployment id');
  for (const id of ids)
    if (!(await ctx.store.deployments.get(owner, id))) throw deploymentNotFound(owner, id);
  for (const id of ids) await ctx.store.deployments.delete(owner, id);
  return { status: ok(reqId) };
}
