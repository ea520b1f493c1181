import { InvalidArgumentError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { RunnerFields, RunnerRecord } from '../../store/index.js';
import { ownerFor } from './access.js';
import { findNodepool, findRunner, LOCAL_ID, runnerNotFound } from './compute-lookup.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';
import { isObject } from './request-shape.js';

/**
 * Runners: processes of the user's (`clarifai runner`) registered in one of the user's nodepools
 * of kind `runners`, each with a global id. The work they take is the lead's queue; here they are
 * only resources to create, read, change and delete.
 */

export interface WireRunner {
  id: string;
  description?: string;
  created_at: string;
  modified_at: string;
  metadata?: Record<string, unknown>;
  worker?: Record<string, unknown>;
  nodepool: { id: string; compute_cluster: { id: string; user_id: string } };
}

type Status = ReturnType<typeof ok>;
type Reply = { status: Status; runners: WireRunner[] };
const BAD = StatusCode.RUNNER_INVALID_ARGUMENT;

function bad(details: string, code: number = BAD): InvalidArgumentError {
  return new InvalidArgumentError(details, code);
}

export function toWireRunner(r: RunnerRecord): WireRunner {
  const wire: WireRunner = {
    id: r.id,
    created_at: r.createdAt,
    modified_at: r.modifiedAt,
    nodepool: { id: r.nodepoolId, compute_cluster: { id: r.computeClusterId, user_id: r.userId } },
  };
  if (r.description) wire.description = r.description;
  if (Object.keys(r.metadata).length > 0) wire.metadata = r.metadata;
  if (r.worker) wire.worker = r.worker;
  return wire;
}

function fieldsOf(msg: Record<string, unknown>, where: string): RunnerFields {
  const fields: RunnerFields = {};
  if (msg.description !== undefined) {
    if (typeof msg.description !== 'string') throw bad(`${where}.description must be a string`);
    fields.description = msg.description;
  }
  if (msg.worker !== undefined) {
    if (!isObject(msg.worker) || !isObject(msg.worker.model))
      throw bad(
        `${where}.worker must be {"model": {"id", "user_id", "app_id", ...}}: the model the runner serves`,
      );
    fields.worker = msg.worker;
  }
  if (msg.metadata !== undefined) {
    if (!isObject(msg.metadata)) throw bad(`${where}.metadata must be an object`);
    fields.metadata = msg.metadata;
  }
  return fields;
}

/** The owner and their nodepool that runners may register in: a stored one of kind `runners`. */
async function runnersPool(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
  nodepoolId: string,
): Promise<string> {
  const owner = await ownerFor(ctx, caller, userId);
  const pool = await findNodepool(ctx, caller, owner, clusterId, nodepoolId);
  if (pool.kind !== 'runners') {
    const why =
      pool.kind === 'local'
        ? `the built-in nodepool ${LOCAL_ID}/${LOCAL_ID} runs on this server's own workers`
        : `nodepool ${clusterId}/${nodepoolId} forwards to an external endpoint`;
    throw bad(
      `${why}; runners register only in a nodepool of kind "runners"`,
      StatusCode.RUNNER_INVALID_REQUEST,
    );
  }
  return owner;
}

/** A runner of the owner's; when the request names a nodepool, it must be in it. */
export async function getRunner(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  runnerId: string,
  where: { computeClusterId?: string; nodepoolId?: string },
  reqId: string,
): Promise<{ status: Status; runner: WireRunner }> {
  const runner = await findRunner(ctx, caller, userId, runnerId);
  if (
    (where.computeClusterId !== undefined && where.computeClusterId !== runner.computeClusterId) ||
    (where.nodepoolId !== undefined && where.nodepoolId !== runner.nodepoolId)
  )
    throw runnerNotFound(runner.userId, runnerId);
  return { status: ok(reqId), runner: toWireRunner(runner) };
}

/** The user's runners, oldest first: all, in one cluster, or in one nodepool. */
export async function listRunners(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  filter: { page: number; perPage: number; computeClusterId?: string; nodepoolId?: string },
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  const { page, perPage, ...on } = filter;
  // a named nodepool must exist, so a typo is an error rather than an empty list
  if (on.computeClusterId !== undefined && on.nodepoolId !== undefined)
    await findNodepool(ctx, caller, owner, on.computeClusterId, on.nodepoolId);
  const list = await ctx.store.runners.list(owner, { ...on, limit: perPage, offset: (page - 1) * perPage });
  return { status: ok(reqId), runners: list.map(toWireRunner) };
}

export async function postRunners(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
  nodepoolId: string,
  msgs: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await runnersPool(ctx, caller, userId, clusterId, nodepoolId);
  if (msgs.length === 0) throw bad('"runners" must list at least one runner');
  const specs = msgs.map((m, i) => {
    const where = `runners[${i}]`;
    if (m.id !== undefined && (typeof m.id !== 'string' || !isValidId(m.id)))
      throw bad(
        `${where}.id ${JSON.stringify(m.id)} is not valid: use letters, digits, "_", "-" or ".", or leave it out`,
      );
    return { ...fieldsOf(m, where), ...(typeof m.id === 'string' ? { id: m.id } : {}) };
  });
  const out: WireRunner[] = [];
  for (const spec of specs) {
    const runner = await ctx.store.runners.create(owner, {
      ...spec,
      computeClusterId: clusterId,
      nodepoolId,
    });
    out.push(toWireRunner(runner));
  }
  return { status: ok(reqId), runners: out };
}

/** PatchRunners (gRPC; REST's POST on the same route creates): changes runners of the nodepool. */
export async function patchRunners(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
  nodepoolId: string,
  msgs: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  await findNodepool(ctx, caller, owner, clusterId, nodepoolId);
  const out: WireRunner[] = [];
  for (const [i, m] of msgs.entries()) {
    const id = typeof m.id === 'string' ? m.id : '';
    const runner = await ctx.store.runners.get(id);
    if (
      !runner ||
      runner.userId !== owner ||
      runner.computeClusterId !== clusterId ||
      runner.nodepoolId !== nodepoolId
    )
      throw runnerNotFound(owner, id);
    await ctx.store.runners.patch(owner, id, fieldsOf(m, `runners[${i}]`));
    out.push(toWireRunner((await ctx.store.runners.get(id))!));
  }
  return { status: ok(reqId), runners: out };
}

export async function deleteRunners(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  clusterId: string,
  nodepoolId: string,
  ids: string[],
  reqId: string,
): Promise<{ status: Status }> {
  const owner = await ownerFor(ctx, caller, userId);
  await findNodepool(ctx, caller, owner, clusterId, nodepoolId);
  if (ids.length === 0) throw bad('"ids" must list at least one runner id');
  for (const id of ids) {
    const runner = await ctx.store.runners.get(id);
    if (
      !runner ||
      runner.userId !== owner ||
      runner.computeClusterId !== clusterId ||
      runner.nodepoolId !== nodepoolId
    )
      throw runnerNotFound(owner, id);
  }
  for (const id of ids) await ctx.store.runners.delete(owner, id);
  return { status: ok(reqId) };
}
