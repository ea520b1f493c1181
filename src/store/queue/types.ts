/**
 * The work queue between API instances and runners (Clarifai's runner protocol: a runner takes
 * items of its nodepool and posts their outputs back). With SQLite it lives in this process
 * (memory-queue.ts); with Postgres it lives in the database (postgres-queue.ts), so any API
 * instance may take a request and any other hand it to a runner connected there.
 *
 * Guarantees, the same for both:
 * - an item is leased by one runner replica at a time (SKIP LOCKED in Postgres);
 * - a replica that goes away (its stream ends, or its instance stops heart-beating) has its
 *   leased items put back for another replica, at most `maxAttempts` tries in all;
 * - the submitter gets exactly one outcome: the first output posted wins, later ones (from a
 *   replica whose lease was already taken back) are refused, so no prediction is answered twice.
 */

/** A nodepool, by its owner, compute cluster and id. */
export interface PoolKey {
  userId: string;
  computeClusterId: string;
  nodepoolId: string;
}

/** A runner replica holding leases: one connected runner process. */
export interface ReplicaRef {
  runnerId: string;
  replicaId: string;
}

/** A replica seen alive just now, with the pool it serves. */
export interface Presence extends ReplicaRef {
  pool: PoolKey;
}

/** An item as a runner gets it. */
export interface LeasedItem {
  id: string;
  /** The PostModelOutputsRequest message (proto field names), inputs inline. */
  request: Record<string, unknown>;
  /** Clarifai's RunnerMethodType: 1 UNARY_UNARY, 2 UNARY_STREAMING. */
  methodType: number;
  /** This try's number, from 1. */
  attempt: number;
}

export interface SubmitOptions {
  request: Record<string, unknown>;
  methodType?: number;
  /** Tries in all, the first included, before the item fails (default 3). */
  maxAttempts?: number;
  /** The item fails when no replica has taken it this long after it was (re)queued (ms). */
  takeWithinMs?: number;
  /** The caller has gone: the item is withdrawn (or its output ignored). */
  signal?: AbortSignal;
}

/** How an item ended: a runner's output message, or why it could not be run. */
export type ItemOutcome =
  | { ok: true; output: Record<string, unknown>; replica: ReplicaRef; attempt: number }
  | { ok: false; code: number; description: string; details: string };

export interface RunnerQueue {
  readonly kind: 'memory' | 'postgres';
  /** Queues an item for the pool and waits for its outcome. */
  submit(pool: PoolKey, opts: SubmitOptions): Promise<ItemOutcome>;
  /**
   * Leases up to `max` queued items of the pool to a replica, waiting until there is at least one;
   * resolves [] when the signal aborts.
   */
  take(pool: PoolKey, replica: ReplicaRef, max: number, signal: AbortSignal): Promise<LeasedItem[]>;
  /** A replica's output for an item it holds. False when the lease is no longer its own. */
  complete(itemId: string, replica: ReplicaRef, output: Record<string, unknown>): Promise<boolean>;
  /** Puts a replica's leased items back (its stream broke); those out of tries fail. */
  release(replica: ReplicaRef, reason: string): Promise<void>;
  /** Marks replicas alive now; leases of replicas not seen for a while go back to the queue. */
  beat(present: readonly Presence[]): Promise<void>;
  /** Replicas of the pool seen alive recently (on any instance). */
  liveReplicas(pool: PoolKey): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_TAKE_WITHIN_MS = 30_000;
/** An item not answered this long after it was submitted fails, whoever holds it. */
export const MAX_ITEM_MS = 10 * 60_000;
/** A replica not heard of for this long is gone: its leases are taken back. */
export const PRESENCE_TTL_MS = 6_000;

export function samePool(a: PoolKey, b: PoolKey): boolean {
  return a.userId === b.userId && a.computeClusterId === b.computeClusterId && a.nodepoolId === b.nodepoolId;
}

export function poolName(p: PoolKey): string {
  return `${p.userId}/${p.computeClusterId}/${p.nodepoolId}`;
}
