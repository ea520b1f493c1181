import { newId } from '../../core/ids.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_TAKE_WITHIN_MS,
  MAX_ITEM_MS,
  PRESENCE_TTL_MS,
  poolName,
  type ItemOutcome,
  type LeasedItem,
  type PoolKey,
  type Presence,
  type ReplicaRef,
  type RunnerQueue,
  type SubmitOptions,
} from './types.js';
import { cancelledOutcome, notTakenOutcome, outOfTriesOutcome, unansweredOutcome } from './outcomes.js';

interface Item {
  id: string;
  pool: PoolKey;
  request: Record<string, unknown>;
  methodType: number;
  attempt: number;
  maxAttempts: number;
  takeWithinMs: number;
  replica?: ReplicaRef;
  /** Until it is taken: its take deadline. */
  timer?: NodeJS.Timeout;
  /** From submit: the most it may take in all, whoever holds it. */
  deadline?: NodeJS.Timeout;
  settle: (outcome: ItemOutcome) => void;
}

interface Taker {
  replica: ReplicaRef;
  max: number;
  give: (items: LeasedItem[]) => void;
}

/**
 * The queue of a single API instance (SQLite): everything in this process's memory, so nothing
 * outlives a restart, which is also true of the requests waiting on it.
 */
export class MemoryRunnerQueue implements RunnerQueue {
  readonly kind = 'memory';
  private readonly items = new Map<string, Item>();
  private readonly queued = new Map<string, Item[]>();
  private readonly takers = new Map<string, Taker[]>();
  private readonly seen = new Map<string, Presence & { at: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), PRESENCE_TTL_MS / 2).unref();

  submit(pool: PoolKey, opts: SubmitOptions): Promise<ItemOutcome> {
    return new Promise((resolve) => {
      const signal = opts.signal;
      if (signal?.aborted) return resolve(cancelledOutcome());
      const onAbort = () => {
        const item = this.items.get(id);
        if (item) this.finish(item, cancelledOutcome());
      };
      const id = newId();
      const item: Item = {
        id,
        pool,
        request: opts.request,
        methodType: opts.methodType ?? 1,
        attempt: 1,
        maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        takeWithinMs: opts.takeWithinMs ?? DEFAULT_TAKE_WITHIN_MS,
        settle: (outcome) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      item.deadline = setTimeout(() => this.finish(item, unansweredOutcome(MAX_ITEM_MS)), MAX_ITEM_MS);
      this.items.set(id, item);
      this.enqueue(item, false);
    });
  }

  take(pool: PoolKey, replica: ReplicaRef, max: number, signal: AbortSignal): Promise<LeasedItem[]> {
    const ready = this.lease(pool, replica, max);
    if (ready.length > 0 || signal.aborted) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const key = poolName(pool);
      const taker: Taker = {
        replica,
        max,
        give: (items) => {
          signal.removeEventListener('abort', onAbort);
          resolve(items);
        },
      };
      const onAbort = () => {
        const list = this.takers.get(key) ?? [];
        const i = list.indexOf(taker);
        if (i >= 0) list.splice(i, 1);
        resolve([]);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const list = this.takers.get(key) ?? [];
      list.push(taker);
      this.takers.set(key, list);
    });
  }

  async complete(itemId: string, replica: ReplicaRef, output: Record<string, unknown>): Promise<boolean> {
    const item = this.items.get(itemId);
    if (!item || item.replica?.replicaId !== replica.replicaId) return false;
    this.finish(item, { ok: true, output, replica, attempt: item.attempt });
    return true;
  }

  async release(replica: ReplicaRef, reason: string): Promise<void> {
    this.seen.delete(replica.replicaId);
    for (const item of [...this.items.values()]) {
      if (item.replica?.replicaId !== replica.replicaId) continue;
      if (item.attempt >= item.maxAttempts) {
        this.finish(item, outOfTriesOutcome(item.attempt, reason));
        continue;
      }
      delete item.replica;
      item.attempt++;
      this.enqueue(item, true);
    }
  }

  async beat(present: readonly Presence[]): Promise<void> {
    const at = Date.now();
    for (const p of present) this.seen.set(p.replicaId, { ...p, at });
  }

  async liveReplicas(pool: PoolKey): Promise<number> {
    const key = poolName(pool);
    const since = Date.now() - PRESENCE_TTL_MS;
    let n = 0;
    for (const p of this.seen.values()) if (p.at >= since && poolName(p.pool) === key) n++;
    return n;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const item of [...this.items.values()])
      this.finish(item, cancelledOutcome('the server is shutting down'));
    for (const list of this.takers.values()) for (const t of list.splice(0)) t.give([]);
  }

  /** Queues an item (a retried one goes first) and hands it to a waiting replica if there is one. */
  private enqueue(item: Item, first: boolean): void {
    const key = poolName(item.pool);
    const list = this.queued.get(key) ?? [];
    if (first) list.unshift(item);
    else list.push(item);
    this.queued.set(key, list);
    clearTimeout(item.timer);
    item.timer = setTimeout(() => {
      if (!item.replica && this.items.has(item.id)) {
        void this.liveReplicas(item.pool).then((live) =>
          this.finish(item, notTakenOutcome(item.pool, item.takeWithinMs, live)),
        );
      }
      // not unref'd: a caller is waiting on this item, so the process should not exit under it
    }, item.takeWithinMs);
    const takers = this.takers.get(key) ?? [];
    while (takers.length > 0 && (this.queued.get(key)?.length ?? 0) > 0) {
      const taker = takers.shift()!;
      taker.give(this.lease(item.pool, taker.replica, taker.max));
    }
  }

  private lease(pool: PoolKey, replica: ReplicaRef, max: number): LeasedItem[] {
    const list = this.queued.get(poolName(pool)) ?? [];
    const out: LeasedItem[] = [];
    while (out.length < max && list.length > 0) {
      const item = list.shift()!;
      clearTimeout(item.timer);
      item.replica = replica;
      out.push({ id: item.id, request: item.request, methodType: item.methodType, attempt: item.attempt });
    }
    return out;
  }

  private finish(item: Item, outcome: ItemOutcome): void {
    if (!this.items.delete(item.id)) return;
    clearTimeout(item.timer);
    clearTimeout(item.deadline);
    const list = this.queued.get(poolName(item.pool));
    const i = list?.indexOf(item) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    item.settle(outcome);
  }

  /** A replica that stopped beating (its process hung) loses its leases, as if its stream broke. */
  private sweep(): void {
    const since = Date.now() - PRESENCE_TTL_MS;
    for (const p of [...this.seen.values()]) {
      if (p.at < since) void this.release(p, `runner ${p.runnerId} stopped answering`);
    }
  }
}
