import { InvalidArgumentError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { ModelRef } from '../../core/urls.js';
import type { MultiOutputResponse, RunnerSelector } from '../../core/wire.js';
import type { NodepoolRecord } from '../../store/index.js';
import { findDeployment, findNodepool } from '../services/compute-lookup.js';
import type { Caller, ServiceContext } from '../services/context.js';
import { preparePrediction, runPrediction, type PreparedPrediction } from '../services/predict.js';
import { isObject } from '../services/request-shape.js';
import { predictOnEndpoint } from './endpoint.js';
import { endpointHealth } from './endpoint-health.js';
import { asOwnAnswer, runnerRequest } from './runner-request.js';

/** How long a nodepool's runners may leave an item untaken before the next nodepool gets it. */
const HAND_OVER_AFTER_MS = 5000;
/** How long an item waits for a runner when its nodepool has none live (one may be reconnecting). */
const NO_RUNNER_GRACE_MS = 3000;

/** Clarifai's Deployment.SchedulingChoice values that spread work; any other is failover in order. */
const SPREAD_CHOICES = new Set([2 /* RANDOM */, 6 /* UTILIZATION */]);

/** Where a selector sends a prediction: the model, and the nodepools to try in order. */
interface Target {
  ref: ModelRef;
  pools: NodepoolRecord[];
  spread: boolean;
  /** For messages: `deployment "d"` or `nodepool cc/np`. */
  label: string;
}

/**
 * A prediction with a `runner_selector` (or the deployment route form): the deployment or
 * nodepool is looked up for the caller (someone else's is "does not exist", as a missing one),
 * the request is checked and its URL inputs fetched here once, and then it runs on the first
 * nodepool that can take it: this server's workers, a runner of the pool (through the work queue),
 * or an endpoint. A nodepool that cannot (no live runner, an unreachable engine) hands over to
 * the next one of the deployment; only the last one's refusal reaches the caller.
 */
export async function routedPredict(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
  body: unknown,
  selector: RunnerSelector,
  reqId: string,
  signal?: AbortSignal,
): Promise<MultiOutputResponse> {
  const target = await resolveTarget(ctx, caller, ref, selector);
  const prepared = await preparePrediction(ctx, caller, target.ref, body, signal, true);
  const pools = await order(ctx, target);
  for (const [i, { pool, weight }] of pools.entries()) {
    try {
      return await runOn(ctx, pool, weight, prepared, reqId, i < pools.length - 1, signal);
    } catch (error) {
      if (i === pools.length - 1 || !handsOver(error, pool) || signal?.aborted) throw error;
    }
  }
  throw new Error('a target has at least one nodepool');
}

async function resolveTarget(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
  selector: RunnerSelector,
): Promise<Target> {
  if (selector.deployment !== undefined) {
    const id = requiredId(selector.deployment, 'runner_selector.deployment.id');
    const owner = textOf(selector.deployment.user_id) ?? caller.userId;
    const deployment = await findDeployment(ctx, caller, owner, id);
    const model = deployment.model;
    if (
      ref.modelId &&
      (ref.modelId !== model.modelId || ref.userId !== model.userId || ref.appId !== model.appId)
    ) {
      throw new InvalidArgumentError(
        `deployment "${id}" serves model ${model.userId}/${model.appId}/models/${model.modelId}, not ${ref.userId}/${ref.appId}/models/${ref.modelId}`,
        StatusCode.DEPLOYMENT_INVALID_ARGUMENT,
      );
    }
    const versionId = ref.modelId && ref.versionId ? ref.versionId : model.versionId;
    const pools = [];
    for (const p of deployment.nodepools)
      pools.push(await findNodepool(ctx, caller, deployment.userId, p.computeClusterId, p.id));
    return {
      ref: {
        userId: model.userId,
        appId: model.appId,
        modelId: model.modelId,
        ...(versionId ? { versionId } : {}),
      },
      pools,
      spread: SPREAD_CHOICES.has(deployment.schedulingChoice),
      label: `deployment "${id}"`,
    };
  }
  if (selector.nodepool !== undefined) {
    const id = requiredId(selector.nodepool, 'runner_selector.nodepool.id');
    const cluster = selector.nodepool.compute_cluster;
    const clusterId = requiredId(cluster, 'runner_selector.nodepool.compute_cluster.id');
    const owner = textOf(isObject(cluster) ? cluster.user_id : undefined) ?? caller.userId;
    const pool = await findNodepool(ctx, caller, owner, clusterId, id);
    if (!ref.modelId)
      throw new InvalidArgumentError('a nodepool selector needs the model too (model_id, or the model URL)');
    return { ref, pools: [pool], spread: false, label: `nodepool ${clusterId}/${id}` };
  }
  throw new InvalidArgumentError(
    'runner_selector must name a deployment ({"deployment": {"id"}}) or a nodepool ({"nodepool": {"id", "compute_cluster": {"id"}}})',
  );
}

/**
 * The nodepools in the order they are tried. Failover: as the deployment lists them, those that
 * cannot take work now (no live runner, an endpoint that just failed) moved last. Spread: one
 * picked at random in proportion to its live runners, then the rest as in failover.
 */
async function order(ctx: ServiceContext, target: Target): Promise<Weighted[]> {
  const weighted = await Promise.all(
    target.pools.map(async (pool) => ({ pool, weight: await capacity(ctx, pool) })),
  );
  const ready = weighted.filter((w) => w.weight > 0);
  const rest = weighted.filter((w) => w.weight === 0);
  if (target.spread && ready.length > 1) {
    const total = ready.reduce((sum, w) => sum + w.weight, 0);
    let pick = Math.random() * total;
    const i = Math.max(
      0,
      ready.findIndex((w) => (pick -= w.weight) < 0),
    );
    const [first] = ready.splice(i, 1);
    return [first!, ...ready, ...rest];
  }
  return [...ready, ...rest];
}

/** A nodepool with what it can take now (see capacity). */
interface Weighted {
  pool: NodepoolRecord;
  weight: number;
}

/** How much work a nodepool can take now: live runners, or 1 for this server and a healthy endpoint. */
async function capacity(ctx: ServiceContext, pool: NodepoolRecord): Promise<number> {
  if (pool.kind === 'runners') return ctx.runners.liveReplicas(poolKey(pool));
  if (pool.kind === 'endpoint') return endpointHealth.healthy(pool) ? 1 : 0;
  return 1;
}

async function runOn(
  ctx: ServiceContext,
  pool: NodepoolRecord,
  /** Its capacity when ordered: for a runners pool, its live replicas. */
  live: number,
  prepared: PreparedPrediction,
  reqId: string,
  /** Another nodepool follows: a busy one hands over sooner than the last would give up. */
  more: boolean,
  signal?: AbortSignal,
): Promise<MultiOutputResponse> {
  if (pool.kind === 'local') return runPrediction(ctx, prepared, reqId, signal);
  if (pool.kind === 'endpoint') {
    try {
      const res = await predictOnEndpoint(ctx, pool, prepared, reqId, signal);
      endpointHealth.succeeded(pool);
      return res;
    } catch (error) {
      if (handsOver(error, pool)) endpointHealth.failed(pool);
      throw error;
    }
  }
  // With no live runner the item waits only as long as a restarting runner takes to come back.
  const takeWithinMs = live === 0 ? NO_RUNNER_GRACE_MS : more ? HAND_OVER_AFTER_MS : undefined;
  const outcome = await ctx.runners.submit(poolKey(pool), {
    request: runnerRequest(prepared),
    ...(takeWithinMs !== undefined ? { takeWithinMs } : {}),
    ...(signal ? { signal } : {}),
  });
  if (!outcome.ok) throw new SibylError(outcome.code, outcome.description, outcome.details);
  const answer = asOwnAnswer(outcome.output, prepared, reqId);
  const code = answer.status.code;
  // a runner answers a failed prediction as the API would: the caller gets it as an error here too
  if (code !== StatusCode.SUCCESS && code !== StatusCode.MIXED_STATUS) {
    throw new SibylError(code, answer.status.description ?? 'Failure', answer.status.details ?? '');
  }
  return answer;
}

/** Errors after which the next nodepool is tried: the pool could not run it, not a bad request. */
function handsOver(error: unknown, pool: NodepoolRecord): boolean {
  if (!(error instanceof SibylError)) return false;
  const passOn: number[] = [
    StatusCode.RUNNER_NEEDS_RETRY,
    StatusCode.RUNNER_PROCESSING_FAILED,
    StatusCode.MODEL_NOT_DEPLOYED,
    StatusCode.TRY_AGAIN,
    StatusCode.MODEL_BUSY_PLEASE_RETRY,
    StatusCode.MODEL_LOADING,
  ];
  if (passOn.includes(error.code)) return true;
  // an endpoint's engine that fails is down or broken: the next pool may answer
  return pool.kind === 'endpoint' && error.code === StatusCode.MODEL_PREDICTION_FAILED;
}

export function poolKey(pool: NodepoolRecord): {
  userId: string;
  computeClusterId: string;
  nodepoolId: string;
} {
  return { userId: pool.userId, computeClusterId: pool.computeClusterId, nodepoolId: pool.id };
}

function requiredId(holder: unknown, field: string): string {
  const id = isObject(holder) ? holder.id : undefined;
  if (typeof id !== 'string' || id === '')
    throw new InvalidArgumentError(`${field} must be a non-empty string`);
  return id;
}

function textOf(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && v !== 'me' ? v : undefined;
}
