import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type {
  ComputeClusterRecord,
  DeploymentRecord,
  NodepoolRecord,
  RunnerRecord,
} from '../../store/index.js';
import { actsFor } from './access.js';
import type { Caller, ServiceContext } from './context.js';

/**
 * Finding a user's compute resources, for the services and for predict's routing. Only the owner
 * (or an admin) sees them; anyone else gets exactly the answer for a missing one, so neither the
 * resource nor the user is revealed. Every user also has the built-in, unstored compute cluster
 * `local` with its one nodepool `local`: this server's own workers.
 */

export const LOCAL_ID = 'local';

/** The built-in cluster as the user sees it. */
export function localCluster(userId: string): ComputeClusterRecord {
  return {
    userId,
    id: LOCAL_ID,
    description: "This server's own workers",
    cloudProviderId: LOCAL_ID,
    region: '',
    clusterType: 'local',
    managedBy: 'sibyl',
    visibility: 'private',
    createdAt: '',
    modifiedAt: '',
  };
}

/** The built-in nodepool `local/local`: predictions run on this server's engine. */
export function localNodepool(userId: string): NodepoolRecord {
  return {
    userId,
    computeClusterId: LOCAL_ID,
    id: LOCAL_ID,
    description: "This server's own workers",
    kind: 'local',
    minInstances: 1,
    maxInstances: 1,
    metadata: {},
    createdAt: '',
    modifiedAt: '',
  };
}

/** The refusal for writing the built-in cluster or nodepool. */
export function builtInRefused(what: string, code: number): InvalidArgumentError {
  return new InvalidArgumentError(
    `${what} is built in (this server's own workers): it cannot be created, changed or deleted`,
    code,
  );
}

export function clusterNotFound(userId: string, clusterId: string): NotFoundError {
  return new NotFoundError(
    StatusCode.COMPUTE_CLUSTER_DOES_NOT_EXIST,
    'Compute cluster does not exist',
    `compute cluster "${clusterId}" does not exist for user "${userId}"`,
  );
}

export function nodepoolNotFound(userId: string, clusterId: string, nodepoolId: string): NotFoundError {
  return new NotFoundError(
    StatusCode.NODEPOOL_DOES_NOT_EXIST,
    'Nodepool does not exist',
    `nodepool "${nodepoolId}" does not exist in compute cluster "${clusterId}" of user "${userId}"`,
  );
}

export function deploymentNotFound(userId: string, deploymentId: string): NotFoundError {
  return new NotFoundError(
    StatusCode.DEPLOYMENT_DOES_NOT_EXIST,
    'Deployment does not exist',
    `deployment "${deploymentId}" does not exist for user "${userId}"`,
  );
}

export function runnerNotFound(userId: string, runnerId: string): NotFoundError {
  return new NotFoundError(
    StatusCode.RUNNER_DOES_NOT_EXIST,
    'Runner does not exist',
    `runner "${runnerId}" does not exist for user "${userId}"`,
  );
}

/** `me` as the caller; whether the caller may see that user's compute resources. */
async function owner(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
): Promise<{ userId: string; sees: boolean }> {
  const id = userId === 'me' ? caller.userId : userId;
  return { userId: id, sees: await actsFor(ctx, caller, id) };
}

export async function findComputeCluster(
  ctx: ServiceContext,
  caller: Caller,
  ownerUserId: string,
  clusterId: string,
): Promise<ComputeClusterRecord> {
  const o = await owner(ctx, caller, ownerUserId);
  if (o.sees && clusterId === LOCAL_ID) return localCluster(o.userId);
  const cluster = o.sees ? await ctx.store.computeClusters.get(o.userId, clusterId) : undefined;
  if (!cluster) throw clusterNotFound(o.userId, clusterId);
  return cluster;
}

/** A nodepool (`local/local` included); the error says whether the cluster or the nodepool is missing. */
export async function findNodepool(
  ctx: ServiceContext,
  caller: Caller,
  ownerUserId: string,
  clusterId: string,
  nodepoolId: string,
): Promise<NodepoolRecord> {
  const cluster = await findComputeCluster(ctx, caller, ownerUserId, clusterId);
  if (cluster.id === LOCAL_ID) {
    if (nodepoolId === LOCAL_ID) return localNodepool(cluster.userId);
    throw nodepoolNotFound(cluster.userId, clusterId, nodepoolId);
  }
  const pool = await ctx.store.nodepools.get(cluster.userId, clusterId, nodepoolId);
  if (!pool) throw nodepoolNotFound(cluster.userId, clusterId, nodepoolId);
  return pool;
}

export async function findDeployment(
  ctx: ServiceContext,
  caller: Caller,
  ownerUserId: string,
  deploymentId: string,
): Promise<DeploymentRecord> {
  const o = await owner(ctx, caller, ownerUserId);
  const deployment = o.sees ? await ctx.store.deployments.get(o.userId, deploymentId) : undefined;
  if (!deployment) throw deploymentNotFound(o.userId, deploymentId);
  return deployment;
}

/** A runner by its (global) id, if it is the owner's. */
export async function findRunner(
  ctx: ServiceContext,
  caller: Caller,
  ownerUserId: string,
  runnerId: string,
): Promise<RunnerRecord> {
  const o = await owner(ctx, caller, ownerUserId);
  const runner = o.sees ? await ctx.store.runners.get(runnerId) : undefined;
  if (!runner || runner.userId !== o.userId) throw runnerNotFound(o.userId, runnerId);
  return runner;
}

/** One page of a listing whose built-in items (the `local` ones) come before the stored ones. */
export async function pageWithBuiltIn<T>(
  builtIn: readonly T[],
  page: { page: number; perPage: number },
  stored: (window: { limit: number; offset: number }) => Promise<T[]>,
): Promise<T[]> {
  const start = (page.page - 1) * page.perPage;
  const first = builtIn.slice(start, start + page.perPage);
  const rest = page.perPage - first.length;
  if (rest === 0) return first;
  return [...first, ...(await stored({ limit: rest, offset: Math.max(0, start - builtIn.length) }))];
}
