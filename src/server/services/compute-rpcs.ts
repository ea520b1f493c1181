import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import {
  deleteComputeClusters,
  getComputeCluster,
  listComputeClusters,
  patchComputeClusters,
  postComputeClusters,
} from './compute-clusters.js';
import type { Caller, ServiceContext } from './context.js';
import {
  deleteDeployments,
  getDeployment,
  listDeployments,
  patchDeployments,
  postDeployments,
} from './deployments.js';
import { deleteNodepools, getNodepool, listNodepools, patchNodepools, postNodepools } from './nodepools.js';
import { isObject } from './request-shape.js';
import { deleteRunners, getRunner, listRunners, patchRunners, postRunners } from './runners.js';

/**
 * Clarifai's compute RPCs (ComputeCluster, Nodepool, Deployment, Runner: Get/List/Post/Patch/
 * Delete), spread into v2-rpcs.ts's RPCS table, so REST, gRPC and gRPC-web serve them alike. The
 * request is the canonical message (server/proto/json.ts); `me` or no user means the key's own.
 */

type Message = Record<string, unknown>;
type Handler = (ctx: ServiceContext, caller: Caller, req: Message, reqId: string) => Promise<object>;

function text(req: Message, field: string): string | undefined {
  const v = req[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function need(req: Message, field: string, code: number): string {
  const v = text(req, field);
  if (!v) throw new InvalidArgumentError(`${field} is required`, code);
  return v;
}

function userOf(req: Message): string {
  const ua = isObject(req.user_app_id) ? req.user_app_id : {};
  return typeof ua.user_id === 'string' && ua.user_id !== '' ? ua.user_id : 'me';
}

function pageOf(req: Message): { page: number; perPage: number } {
  const num = (name: string, dflt: number, max: number): number => {
    const v = req[name];
    if (v === undefined || v === 0) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
      throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}; got ${JSON.stringify(v)}`);
    return v;
  };
  return { page: num('page', 1, 1_000_000), perPage: num('per_page', 128, 1000) };
}

function messages(v: unknown): Message[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function ids(req: Message): string[] {
  return Array.isArray(req.ids) ? req.ids.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

/** Optional filter fields, left out when the request does not set them. */
function on(req: Message): { computeClusterId?: string; nodepoolId?: string } {
  const cluster = text(req, 'compute_cluster_id');
  const pool = text(req, 'nodepool_id');
  return { ...(cluster ? { computeClusterId: cluster } : {}), ...(pool ? { nodepoolId: pool } : {}) };
}

const CC = StatusCode.COMPUTE_CLUSTER_INVALID_ARGUMENT;
const NP = StatusCode.NODEPOOL_INVALID_ARGUMENT;
const DP = StatusCode.DEPLOYMENT_INVALID_ARGUMENT;
const RN = StatusCode.RUNNER_INVALID_ARGUMENT;

const cluster = (req: Message, code: number): string => need(req, 'compute_cluster_id', code);
const pool = (req: Message, code: number): string => need(req, 'nodepool_id', code);

export const COMPUTE_RPCS: Readonly<Record<string, Handler>> = {
  GetComputeCluster: (ctx, caller, req, reqId) =>
    getComputeCluster(ctx, caller, userOf(req), cluster(req, CC), reqId),
  ListComputeClusters: (ctx, caller, req, reqId) =>
    listComputeClusters(ctx, caller, userOf(req), pageOf(req), reqId),
  PostComputeClusters: (ctx, caller, req, reqId) =>
    postComputeClusters(ctx, caller, userOf(req), messages(req.compute_clusters), reqId),
  PatchComputeClusters: (ctx, caller, req, reqId) =>
    patchComputeClusters(ctx, caller, userOf(req), messages(req.compute_clusters), reqId),
  DeleteComputeClusters: (ctx, caller, req, reqId) =>
    deleteComputeClusters(ctx, caller, userOf(req), ids(req), reqId),

  GetNodepool: (ctx, caller, req, reqId) =>
    getNodepool(ctx, caller, userOf(req), cluster(req, NP), pool(req, NP), reqId),
  ListNodepools: (ctx, caller, req, reqId) =>
    listNodepools(ctx, caller, userOf(req), text(req, 'compute_cluster_id'), pageOf(req), reqId),
  PostNodepools: (ctx, caller, req, reqId) =>
    postNodepools(ctx, caller, userOf(req), cluster(req, NP), messages(req.nodepools), reqId),
  PatchNodepools: (ctx, caller, req, reqId) =>
    patchNodepools(ctx, caller, userOf(req), cluster(req, NP), messages(req.nodepools), reqId),
  DeleteNodepools: (ctx, caller, req, reqId) =>
    deleteNodepools(ctx, caller, userOf(req), cluster(req, NP), ids(req), reqId),

  GetDeployment: (ctx, caller, req, reqId) =>
    getDeployment(ctx, caller, userOf(req), need(req, 'deployment_id', DP), reqId),
  ListDeployments: (ctx, caller, req, reqId) =>
    listDeployments(ctx, caller, userOf(req), { ...pageOf(req), ...on(req) }, reqId),
  PostDeployments: (ctx, caller, req, reqId) =>
    postDeployments(ctx, caller, userOf(req), messages(req.deployments), reqId),
  PatchDeployments: (ctx, caller, req, reqId) =>
    patchDeployments(ctx, caller, userOf(req), messages(req.deployments), reqId),
  DeleteDeployments: (ctx, caller, req, reqId) =>
    deleteDeployments(ctx, caller, userOf(req), ids(req), reqId),

  GetRunner: (ctx, caller, req, reqId) =>
    getRunner(ctx, caller, userOf(req), need(req, 'runner_id', RN), on(req), reqId),
  ListRunners: (ctx, caller, req, reqId) =>
    listRunners(ctx, caller, userOf(req), { ...pageOf(req), ...on(req) }, reqId),
  PostRunners: (ctx, caller, req, reqId) =>
    postRunners(ctx, caller, userOf(req), cluster(req, RN), pool(req, RN), messages(req.runners), reqId),
  PatchRunners: (ctx, caller, req, reqId) =>
    patchRunners(ctx, caller, userOf(req), cluster(req, RN), pool(req, RN), messages(req.runners), reqId),
  DeleteRunners: (ctx, caller, req, reqId) =>
    deleteRunners(ctx, caller, userOf(req), cluster(req, RN), pool(req, RN), ids(req), reqId),
};
