import { InvalidArgumentError, NotFoundError, SibylError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { Presence, ReplicaRef } from '../../store/queue/index.js';
import { requireScope } from '../services/access.js';
import { findNodepool, findRunner } from '../services/compute-lookup.js';
import type { Caller, ServiceContext } from '../services/context.js';
import { isObject } from '../services/request-shape.js';
import { poolKey } from './route.js';

type Message = Record<string, unknown>;

/** A runner's open ProcessRunnerItems call, whatever carries it. */
export interface RunnerConnection {
  /** Sends one MultiRunnerItemResponse. */
  send(message: Message): void;
  /** The runner's messages after the first (PostRunnerItemOutputsRequest), until it half-closes. */
  messages: AsyncIterable<Message>;
  /** Aborted when the call ends from either side. */
  closed: AbortSignal;
  /** Checks the call's key again (revoked, expired); throws as authentication does. */
  reauthenticate?: () => Promise<Caller>;
}

/** How often a connected replica is marked alive in the queue (its leases are kept meanwhile). */
const BEAT_MS = 2000;
const MAX_CONCURRENCY = 256;

/**
 * Serves one runner replica on Clarifai's ProcessRunnerItems stream. The first message opens it:
 * status RUNNER_STREAM_START with the runner id, its compute cluster and nodepool (the key's own,
 * a `runners` nodepool). From then on the server sends work items of that nodepool, never more at
 * once than the runner's `metadata.sibyl.concurrency` (default 1), and each output message the
 * runner sends back completes its item. When the call ends, whatever the runner still held goes
 * back to the queue for another replica.
 */
export async function serveRunnerStream(
  ctx: ServiceContext,
  caller: Caller,
  first: Message,
  conn: RunnerConnection,
): Promise<void> {
  requireScope(caller, 'write', 'ProcessRunnerItems');
  const status = isObject(first.status) ? first.status : {};
  if (status.code !== StatusCode.RUNNER_STREAM_START) {
    throw new InvalidArgumentError(
      `the first ProcessRunnerItems message must have status.code ${StatusCode.RUNNER_STREAM_START} (RUNNER_STREAM_START); got ${JSON.stringify(status.code ?? null)}`,
      StatusCode.RUNNER_INVALID_REQUEST,
    );
  }
  const owner = userOf(first) ?? caller.userId;
  const runnerId = required(first, 'runner_id');
  const clusterId = required(first, 'compute_cluster_id');
  const nodepoolId = required(first, 'nodepool_id');
  const pool = await findNodepool(ctx, caller, owner, clusterId, nodepoolId);
  const runner = await findRunner(ctx, caller, pool.userId, runnerId);
  if (runner.computeClusterId !== clusterId || runner.nodepoolId !== nodepoolId) {
    throw new NotFoundError(
      StatusCode.RUNNER_DOES_NOT_EXIST,
      'Runner does not exist',
      `runner "${runnerId}" belongs to nodepool ${runner.computeClusterId}/${runner.nodepoolId}, not ${clusterId}/${nodepoolId}`,
    );
  }
  if (pool.kind !== 'runners') {
    throw new InvalidArgumentError(
      `nodepool ${clusterId}/${nodepoolId} is ${pool.kind === 'local' ? "this server's own workers" : 'an endpoint'}; runners serve nodepools without an endpoint`,
      StatusCode.RUNNER_INVALID_REQUEST,
    );
  }
  // Leases belong to this stream, under an id the server makes: the runner's runner_replica_id is
  // only a label. A runner keeps its replica id across reconnects, so the old stream's end (noticed
  // late) must not take back what the new stream holds, nor may anyone name another's replica.
  const replica: ReplicaRef = { runnerId, replicaId: `${pool.userId}/${runnerId}/${newId()}` };
  const presence: Presence = { ...replica, pool: poolKey(pool) };
  const slots = concurrencyOf(runner.metadata);
  const queue = ctx.runners;

  const held = new Set<string>();
  // wakes the hand-out loop: a slot freed, the runner stopping, or the call ending
  let wake: (() => void) | undefined;
  // the runner sent RUNNER_STREAM_END: it takes nothing more, but its outputs still come
  let stopping = false;
  let failure: unknown;
  const ended = new AbortController();
  const closed = ended.signal;
  const end = (error?: unknown) => {
    if (error !== undefined && failure === undefined) failure = error;
    ended.abort();
    wake?.();
  };
  conn.closed.addEventListener('abort', () => end(), { once: true });
  if (conn.closed.aborted) end();
  // Each beat also asks again whether the stream may go on: a revoked or expired key, or a deleted
  // runner or nodepool, ends it within a beat rather than at the next reconnect.
  const beat = setInterval(
    () =>
      void (async () => {
        const now = conn.reauthenticate ? await conn.reauthenticate() : caller;
        await findRunner(ctx, now, pool.userId, runnerId);
        await queue.beat([presence]);
      })().catch((error: unknown) => {
        if (error instanceof SibylError) end(error); // a database hiccup is not a reason to drop it
      }),
    BEAT_MS,
  );
  try {
    await queue.beat([presence]);
    // accepted: the runner need not wait for its first item to know the stream is open
    conn.send({
      status: { code: StatusCode.RUNNER_STREAM_START, description: 'Runner stream started' },
      runner_items: [],
    });
    const outputs = (async () => {
      for await (const msg of conn.messages) {
        const itemId = typeof msg.runner_item_id === 'string' ? msg.runner_item_id : '';
        if (!itemId && isObject(msg.status) && msg.status.code === StatusCode.RUNNER_STREAM_END) {
          stopping = true;
          wake?.();
          continue;
        }
        if (!held.has(itemId)) continue; // a stray or repeated output: its item is not this replica's
        const output = outputOf(msg);
        held.delete(itemId);
        await queue.complete(itemId, replica, output);
        wake?.();
      }
    })().then(
      () => end(),
      (error: unknown) => end(error),
    );
    // hand out work while the call is open and the runner takes it, never more than `slots` at once
    while (!closed.aborted && !stopping) {
      if (held.size >= slots) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const taking = new AbortController();
      const stop = () => taking.abort();
      wake = stop; // the runner stopping, or the call ending, also ends a wait for work
      const items = await queue.take(
        presence.pool,
        replica,
        slots - held.size,
        AbortSignal.any([closed, taking.signal]),
      );
      wake = undefined;
      for (const item of items) {
        held.add(item.id);
        conn.send({
          status: { code: StatusCode.SUCCESS, description: 'Ok' },
          runner_items: [
            {
              id: item.id,
              description: `attempt ${item.attempt}`,
              processing_info: { runner_method_type: item.methodType, processing_id: item.id },
              post_model_outputs_request: item.request,
            },
          ],
        });
      }
    }
    // The runner said it stops: it is told nothing more will come, and its last outputs are
    // awaited (it half-closes after them). Ended any other way, there is nothing to wait for.
    if (stopping && !closed.aborted) {
      conn.send({
        status: { code: StatusCode.RUNNER_STREAM_END, description: 'No more items' },
        runner_items: [],
      });
      await outputs;
    }
    if (failure !== undefined) throw failure;
  } finally {
    clearInterval(beat);
    await queue.release(replica, `runner ${runnerId} disconnected`).catch(() => undefined);
  }
}

/** The MultiOutputResponse in an output message; a runner-side failure becomes one. */
function outputOf(msg: Message): Message {
  const outputs = Array.isArray(msg.runner_item_outputs) ? msg.runner_item_outputs : [];
  const first = outputs.find(isObject);
  if (first && isObject(first.multi_output_response)) return first.multi_output_response;
  const status = isObject(msg.status) ? msg.status : {};
  return {
    status: {
      code: StatusCode.RUNNER_PROCESSING_FAILED,
      description: 'Runner processing failed',
      details: `the runner failed: ${[status.details, status.description].find((t) => typeof t === 'string' && t !== '') ?? 'it answered without an output'}`,
    },
    outputs: [],
  };
}

function concurrencyOf(metadata: Record<string, unknown>): number {
  const sibyl = isObject(metadata.sibyl) ? metadata.sibyl : {};
  const n = sibyl.concurrency;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_CONCURRENCY) : 1;
}

function userOf(msg: Message): string | undefined {
  const ua = isObject(msg.user_app_id) ? msg.user_app_id : {};
  return typeof ua.user_id === 'string' && ua.user_id !== '' && ua.user_id !== 'me' ? ua.user_id : undefined;
}

function required(msg: Message, field: string): string {
  const v = msg[field];
  if (typeof v !== 'string' || v === '')
    throw new InvalidArgumentError(
      `${field} is required in the first ProcessRunnerItems message`,
      StatusCode.RUNNER_INVALID_ARGUMENT,
    );
  return v;
}
