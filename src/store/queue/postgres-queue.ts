import pg from 'pg';
import type { Kysely } from 'kysely';
import { newId } from '../../core/ids.js';
import { sql } from '../kysely.js';
import { cancelledOutcome, notTakenOutcome, outOfTriesOutcome, unansweredOutcome } from './outcomes.js';
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

/** NOTIFY channels: a pool has new work (payload: pool name); an item ended (payload: item id). */
const QUEUED = 'sibyl_runner_queued';
const ENDED = 'sibyl_runner_ended';
/** Notifications can be missed (a reconnect); every waiter also looks again this often. */
const POLL_MS = 1000;
/** Ended rows whose submitter never read them (its instance stopped) are removed after this. */
const KEEP_ENDED_MS = 60_000;
/** Waiting item ids looked up per statement. */
const COLLECT_BATCH = 1000;

interface Waiter {
  settle: (outcome: ItemOutcome) => void;
}

type Db = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The queue in Postgres, shared by every API instance on the database: items are rows, a lease is
 * `FOR UPDATE SKIP LOCKED` plus a deadline the holding instance keeps extending while its replica
 * is connected, and LISTEN/NOTIFY wakes takers and submitters at once (with a slow poll behind it).
 */
export class PostgresRunnerQueue implements RunnerQueue {
  readonly kind = 'postgres';
  private readonly waiters = new Map<string, Waiter>();
  private readonly wake = new Map<string, Set<() => void>>();
  private readonly timer: NodeJS.Timeout;
  private listener: pg.Client | undefined;
  private closed = false;

  private constructor(
    private readonly db: Db,
    private readonly url: string,
  ) {
    this.timer = setInterval(() => void this.tick().catch(() => undefined), POLL_MS).unref();
  }

  static async open(db: Db, url: string): Promise<PostgresRunnerQueue> {
    const queue = new PostgresRunnerQueue(db, url);
    await queue.listen();
    return queue;
  }

  async submit(pool: PoolKey, opts: SubmitOptions): Promise<ItemOutcome> {
    if (opts.signal?.aborted) return cancelledOutcome();
    const id = newId();
    const now = Date.now();
    const takeWithin = opts.takeWithinMs ?? DEFAULT_TAKE_WITHIN_MS;
    const outcome = new Promise<ItemOutcome>((resolve) => this.waiters.set(id, { settle: resolve }));
    try {
      await sql`INSERT INTO runner_items (id, pool_user_id, compute_cluster_id, nodepool_id, request, method_type,
        state, attempt, max_attempts, take_within_ms, priority, take_by, created_at, updated_at)
      VALUES (${id}, ${pool.userId}, ${pool.computeClusterId}, ${pool.nodepoolId}, ${JSON.stringify(opts.request)},
        ${opts.methodType ?? 1}, 'queued', 1, ${opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS}, ${takeWithin}, 0,
        ${now + takeWithin}, ${now}, ${now})`.execute(this.db);
      await this.notify(QUEUED, poolName(pool));
    } catch (error) {
      this.waiters.delete(id);
      throw error;
    }
    const onAbort = () => void this.cancel(id);
    // the caller may have gone while the row was written: withdrawn before anyone can take it
    if (opts.signal?.aborted) await this.cancel(id);
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await outcome;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async take(pool: PoolKey, replica: ReplicaRef, max: number, signal: AbortSignal): Promise<LeasedItem[]> {
    const key = poolName(pool);
    while (!signal.aborted && !this.closed) {
      const now = Date.now();
      const rows = await sql<{ id: string; request: string; method_type: number; attempt: number }>`
        UPDATE runner_items SET state = 'leased', runner_id = ${replica.runnerId}, replica_id = ${replica.replicaId},
          leased_until = ${now + PRESENCE_TTL_MS}, updated_at = ${now}
        WHERE id IN (
          SELECT id FROM runner_items
          WHERE pool_user_id = ${pool.userId} AND compute_cluster_id = ${pool.computeClusterId}
            AND nodepool_id = ${pool.nodepoolId} AND state = 'queued'
          ORDER BY priority DESC, created_at
          LIMIT ${max}
          FOR UPDATE SKIP LOCKED)
        RETURNING id, request, method_type, attempt`.execute(this.db);
      if (rows.rows.length > 0) {
        return rows.rows.map((r) => ({
          id: r.id,
          request: JSON.parse(r.request) as Record<string, unknown>,
          methodType: r.method_type,
          attempt: r.attempt,
        }));
      }
      await this.sleepUntilWoken(key, signal);
    }
    return [];
  }

  async complete(itemId: string, replica: ReplicaRef, output: Record<string, unknown>): Promise<boolean> {
    const done = await sql<{ id: string }>`
      UPDATE runner_items SET state = 'done', output = ${JSON.stringify(output)}, updated_at = ${Date.now()}
      WHERE id = ${itemId} AND state = 'leased' AND replica_id = ${replica.replicaId}
      RETURNING id`.execute(this.db);
    if (done.rows.length === 0) return false;
    await this.notify(ENDED, itemId);
    return true;
  }

  async release(replica: ReplicaRef, reason: string): Promise<void> {
    await sql`DELETE FROM runner_presence WHERE replica_id = ${replica.replicaId}`.execute(this.db);
    await this.requeue(sql`replica_id = ${replica.replicaId}`, reason);
  }

  async beat(present: readonly Presence[]): Promise<void> {
    const now = Date.now();
    for (const p of present) {
      await sql`INSERT INTO runner_presence (replica_id, runner_id, pool_user_id, compute_cluster_id, nodepool_id, seen_at)
        VALUES (${p.replicaId}, ${p.runnerId}, ${p.pool.userId}, ${p.pool.computeClusterId}, ${p.pool.nodepoolId}, ${now})
        ON CONFLICT (replica_id) DO UPDATE SET seen_at = ${now}`.execute(this.db);
      await sql`UPDATE runner_items SET leased_until = ${now + PRESENCE_TTL_MS}
        WHERE state = 'leased' AND replica_id = ${p.replicaId}`.execute(this.db);
    }
  }

  async liveReplicas(pool: PoolKey): Promise<number> {
    const res = await sql<{ n: number }>`SELECT count(*) AS n FROM runner_presence
      WHERE pool_user_id = ${pool.userId} AND compute_cluster_id = ${pool.computeClusterId}
        AND nodepool_id = ${pool.nodepoolId} AND seen_at >= ${Date.now() - PRESENCE_TTL_MS}`.execute(this.db);
    return Number(res.rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const [id, w] of this.waiters) {
      this.waiters.delete(id);
      w.settle(cancelledOutcome('the server is shutting down'));
    }
    for (const set of this.wake.values()) for (const f of set) f();
    await this.listener?.end().catch(() => undefined);
  }

  /** Leases whose replica vanished go back (or fail when out of tries); the rest of the upkeep. */
  private async tick(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    await sql`DELETE FROM runner_presence WHERE seen_at < ${now - 10 * PRESENCE_TTL_MS}`.execute(this.db);
    await this.requeue(sql`leased_until < ${now}`, 'its runner stopped answering');
    // not taken in time: the reason counts the pool's live replicas, and is written in the same
    // statement as the state, so an item never reads as failed without why
    const late = await sql<{
      id: string;
      pool_user_id: string;
      compute_cluster_id: string;
      nodepool_id: string;
      take_within_ms: number;
    }>`
      SELECT id, pool_user_id, compute_cluster_id, nodepool_id, take_within_ms FROM runner_items
      WHERE state = 'queued' AND take_by < ${now}`.execute(this.db);
    for (const row of late.rows) {
      const pool = {
        userId: row.pool_user_id,
        computeClusterId: row.compute_cluster_id,
        nodepoolId: row.nodepool_id,
      };
      const outcome = notTakenOutcome(pool, row.take_within_ms, await this.liveReplicas(pool));
      await this.fail(row.id, sql`state = 'queued'`, outcome);
    }
    // a runner that holds an item and never answers does not hold its caller forever
    const stale = await sql<{ id: string }>`SELECT id FROM runner_items
      WHERE state = 'leased' AND created_at < ${now - MAX_ITEM_MS}`.execute(this.db);
    for (const row of stale.rows)
      await this.fail(row.id, sql`state = 'leased'`, unansweredOutcome(MAX_ITEM_MS));
    await sql`DELETE FROM runner_items WHERE state IN ('done', 'failed', 'cancelled')
      AND updated_at < ${now - KEEP_ENDED_MS}`.execute(this.db);
    await this.collect([...this.waiters.keys()]);
  }

  /** Ends an item (still in the state `where` says) with an outcome, and tells its submitter. */
  private async fail(id: string, where: ReturnType<typeof sql>, outcome: ItemOutcome): Promise<void> {
    const done = await sql<{ id: string }>`UPDATE runner_items
      SET state = 'failed', error = ${JSON.stringify(outcome)}, updated_at = ${Date.now()}
      WHERE id = ${id} AND ${where} RETURNING id`.execute(this.db);
    if (done.rows.length > 0) await this.notify(ENDED, id);
  }

  /** Leased items matching `where` go back to their queue, first in line; those out of tries fail. */
  private async requeue(where: ReturnType<typeof sql>, reason: string): Promise<void> {
    const now = Date.now();
    // the outcome of those out of tries is composed from this reason and the row's attempt
    const failed = JSON.stringify({ outOfTries: reason });
    const rows = await sql<{
      id: string;
      state: string;
      attempt: number;
      pool_user_id: string;
      compute_cluster_id: string;
      nodepool_id: string;
    }>`
      UPDATE runner_items SET
        state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
        error = CASE WHEN attempt >= max_attempts THEN ${failed} ELSE NULL END,
        attempt = CASE WHEN attempt >= max_attempts THEN attempt ELSE attempt + 1 END,
        take_by = ${now} + take_within_ms, priority = 1, replica_id = NULL, runner_id = NULL,
        leased_until = NULL, updated_at = ${now}
      WHERE state = 'leased' AND ${where}
      RETURNING id, state, attempt, pool_user_id, compute_cluster_id, nodepool_id`.execute(this.db);
    for (const row of rows.rows) {
      if (row.state === 'failed') {
        await this.notify(ENDED, row.id);
      } else {
        await this.notify(
          QUEUED,
          poolName({
            userId: row.pool_user_id,
            computeClusterId: row.compute_cluster_id,
            nodepoolId: row.nodepool_id,
          }),
        );
      }
    }
  }

  /** The caller went away: it is answered at once; the row is marked (or left for tick() to remove). */
  private async cancel(id: string): Promise<void> {
    const w = this.waiters.get(id);
    if (w) {
      this.waiters.delete(id);
      w.settle(cancelledOutcome());
    }
    await sql`UPDATE runner_items SET state = 'cancelled', updated_at = ${Date.now()}
      WHERE id = ${id} AND state IN ('queued', 'leased')`
      .execute(this.db)
      .catch(() => undefined);
  }

  /** Settles the local waiters among `ids` whose items have ended, and removes those rows. */
  private async collect(ids: string[]): Promise<void> {
    // in slices: a statement takes at most 65535 parameters
    for (let i = 0; i < ids.length; i += COLLECT_BATCH)
      await this.collectSlice(ids.slice(i, i + COLLECT_BATCH));
  }

  private async collectSlice(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await sql<{
      id: string;
      state: string;
      output: string | null;
      error: string | null;
      replica_id: string | null;
      runner_id: string | null;
      attempt: number;
    }>`
      SELECT id, state, output, error, replica_id, runner_id, attempt FROM runner_items
      WHERE id IN (${sql.join(ids)}) AND state IN ('done', 'failed')`.execute(this.db);
    for (const row of rows.rows) {
      const w = this.waiters.get(row.id);
      if (!w) continue;
      this.waiters.delete(row.id);
      await sql`DELETE FROM runner_items WHERE id = ${row.id}`.execute(this.db);
      w.settle(
        row.state === 'done'
          ? {
              ok: true,
              output: JSON.parse(row.output ?? '{}') as Record<string, unknown>,
              replica: { runnerId: row.runner_id ?? '', replicaId: row.replica_id ?? '' },
              attempt: row.attempt,
            }
          : failedOutcome(row.error, row.attempt),
      );
    }
  }

  private async notify(channel: string, payload: string): Promise<void> {
    await sql`SELECT pg_notify(${channel}, ${payload})`.execute(this.db);
  }

  private sleepUntilWoken(key: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.wake.get(key) ?? new Set();
      this.wake.set(key, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      set.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One connection LISTENs for the whole instance; it reconnects if the database drops it. */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'sibyl-queue' });
    client.on('error', () => undefined);
    client.on('end', () => {
      if (!this.closed) setTimeout(() => void this.listen().catch(() => undefined), POLL_MS).unref();
    });
    client.on('notification', (n) => {
      if (n.channel === QUEUED && n.payload) for (const f of [...(this.wake.get(n.payload) ?? [])]) f();
      if (n.channel === ENDED && n.payload && this.waiters.has(n.payload))
        void this.collect([n.payload]).catch(() => undefined);
    });
    await client.connect();
    await client.query(`LISTEN ${QUEUED}`);
    await client.query(`LISTEN ${ENDED}`);
    this.listener = client;
  }
}

/** A failed row's outcome: stored whole, or (out of tries) composed from its reason and attempt. */
function failedOutcome(error: string | null, attempt: number): ItemOutcome {
  const stored = JSON.parse(error ?? 'null') as ItemOutcome | { outOfTries: string } | null;
  if (stored && 'outOfTries' in stored) return outOfTriesOutcome(attempt, stored.outOfTries);
  return stored ?? outOfTriesOutcome(attempt, 'no reason recorded');
}
