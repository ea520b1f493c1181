// The runner work queue's guarantees (src/store/queue/types.ts), proven on both queues: the
// in-process one (SQLite) and the Postgres one, there also across two API instances on one database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StatusCode } from '../../src/core/status.js';
import {
  MemoryRunnerQueue,
  openRunnerQueue,
  type PoolKey,
  type ReplicaRef,
  type RunnerQueue,
} from '../../src/store/queue/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { describePostgres, dropPostgresDatabase, freshPostgresDatabase } from '../helpers/store-backends.js';

const POOL: PoolKey = { userId: 'alice', computeClusterId: 'cc', nodepoolId: 'np' };
const OTHER: PoolKey = { userId: 'bob', computeClusterId: 'cc', nodepoolId: 'np' };
const R1: ReplicaRef = { runnerId: 'r1', replicaId: 'r1-a' };
const R2: ReplicaRef = { runnerId: 'r2', replicaId: 'r2-a' };

/** Aborts after ms; unlike AbortSignal.timeout it keeps the test's process alive meanwhile. */
function within(ms: number): AbortSignal {
  const c = new AbortController();
  setTimeout(() => c.abort(), ms);
  return c.signal;
}

/** The same cases against each queue; `second` is another instance on the same queue, if any. */
function queueCases(open: () => Promise<{ a: RunnerQueue; b: RunnerQueue; close(): Promise<void> }>) {
  let a: RunnerQueue;
  let b: RunnerQueue;
  let close: () => Promise<void>;
  before(async () => ({ a, b, close } = await open()));
  after(async () => close());

  it('hands a submitted item to a replica and its output to the submitter', async () => {
    const outcome = a.submit(POOL, { request: { model_id: 'm', n: 1 } });
    const [item] = await b.take(POOL, R1, 4, within(5000));
    assert.ok(item, 'an item was taken');
    assert.deepEqual(item.request, { model_id: 'm', n: 1 });
    assert.equal(item.attempt, 1);
    assert.equal(await b.complete(item.id, R1, { status: { code: 10000 }, outputs: [] }), true);
    const got = await outcome;
    assert.ok(got.ok);
    assert.deepEqual(got.output, { status: { code: 10000 }, outputs: [] });
    assert.equal(got.replica.runnerId, 'r1');
  });

  it('never gives one item to two replicas, and keeps pools apart', async () => {
    const outcomes = [1, 2, 3, 4].map((n) => a.submit(POOL, { request: { n } }));
    const foreign = a.submit(OTHER, { request: { n: 'bob' }, takeWithinMs: 60_000 });
    const [one, two] = await Promise.all([
      b.take(POOL, R1, 2, within(5000)),
      a.take(POOL, R2, 2, within(5000)),
    ]);
    const more = [...one, ...two];
    while (more.length < 4) more.push(...(await b.take(POOL, R1, 4, within(5000))));
    const ids = more.map((i) => i.id);
    assert.equal(new Set(ids).size, 4, 'each item taken once');
    assert.deepEqual(more.map((i) => i.request.n).sort(), [1, 2, 3, 4]);
    for (const item of more)
      await (one.includes(item) || !two.includes(item) ? b : a).complete(
        item.id,
        two.includes(item) ? R2 : R1,
        { n: item.request.n },
      );
    for (const [i, o] of outcomes.entries()) {
      const got = await o;
      assert.ok(got.ok);
      assert.equal(got.output.n, i + 1);
    }
    const bobs = await a.take(OTHER, R1, 4, within(5000));
    assert.equal(bobs.length, 1);
    await a.complete(bobs[0]!.id, R1, { n: 'bob' });
    assert.ok((await foreign).ok);
  });

  it("gives a lost replica's item to another, and refuses the lost one's late output", async () => {
    const outcome = a.submit(POOL, { request: { n: 'retry' } });
    const [first] = await b.take(POOL, R1, 1, within(5000));
    await b.release(R1, 'runner r1 disconnected');
    const [second] = await a.take(POOL, R2, 1, within(5000));
    assert.equal(second!.id, first!.id);
    assert.equal(second!.attempt, 2);
    assert.equal(await b.complete(first!.id, R1, { from: 'r1' }), false, 'the old lease is void');
    assert.equal(await a.complete(second!.id, R2, { from: 'r2' }), true);
    const got = await outcome;
    assert.ok(got.ok);
    assert.deepEqual(got.output, { from: 'r2' });
    assert.equal(got.attempt, 2);
  });

  it('fails an item once its tries are spent, saying why', async () => {
    const outcome = a.submit(POOL, { request: {}, maxAttempts: 2 });
    for (const r of [R1, R2]) {
      const [item] = await b.take(POOL, r, 1, within(5000));
      assert.ok(item);
      await b.release(r, `runner ${r.runnerId} was killed`);
    }
    const got = await outcome;
    assert.ok(!got.ok);
    assert.equal(got.code, StatusCode.RUNNER_PROCESSING_FAILED);
    assert.match(got.details, /given to 2 runners and none answered \(last: runner r2 was killed\)/);
  });

  it('fails an item no replica takes in time, naming the pool', async () => {
    const got = await a.submit({ ...POOL, nodepoolId: 'empty' }, { request: {}, takeWithinMs: 300 });
    assert.ok(!got.ok);
    assert.equal(got.code, StatusCode.RUNNER_NEEDS_RETRY);
    assert.match(got.details, /nodepool alice\/cc\/empty has no live runner/);
  });

  it('withdraws an item whose caller went away', async () => {
    const gone = new AbortController();
    const outcome = a.submit(POOL, { request: { n: 'gone' }, signal: gone.signal });
    gone.abort();
    const got = await outcome;
    assert.ok(!got.ok);
    assert.equal(got.code, StatusCode.RUNNER_ITEM_CANCELLED);
    assert.deepEqual(await b.take(POOL, R1, 4, within(300)), [], 'nothing left to take');
  });

  it('counts live replicas per pool', async () => {
    const pool = { ...POOL, nodepoolId: 'live' };
    assert.equal(await a.liveReplicas(pool), 0);
    await b.beat([
      { ...R1, pool },
      { ...R2, pool },
    ]);
    assert.equal(await a.liveReplicas(pool), 2);
    await b.release(R1, 'gone');
    assert.equal(await a.liveReplicas(pool), 1);
  });

  it('a waiting replica gets an item as soon as it is queued', async () => {
    const waiting = b.take(POOL, R1, 1, within(5000));
    await new Promise((r) => setTimeout(r, 100));
    const outcome = a.submit(POOL, { request: { n: 'late' } });
    const [item] = await waiting;
    assert.equal(item!.request.n, 'late');
    await b.complete(item!.id, R1, {});
    assert.ok((await outcome).ok);
  });

  it('a stopped taker gets nothing', async () => {
    const stop = new AbortController();
    const waiting = a.take({ ...POOL, nodepoolId: 'idle' }, R1, 1, stop.signal);
    stop.abort();
    assert.deepEqual(await waiting, []);
  });
}

describe('runner queue in this process (SQLite)', () => {
  queueCases(async () => {
    const q = new MemoryRunnerQueue();
    return { a: q, b: q, close: () => q.close() };
  });
});

describePostgres('runner queue in Postgres when the database goes away', (baseUrl) => {
  it('still answers a caller who leaves, and nothing is left unhandled', async () => {
    const { url, name } = await freshPostgresDatabase(baseUrl);
    const store = await openStore({ postgresUrl: url });
    const queue = await openRunnerQueue(store, url);
    try {
      const gone = new AbortController();
      const outcome = queue.submit(POOL, { request: {}, signal: gone.signal });
      await new Promise((r) => setTimeout(r, 200));
      await store.db.destroy(); // the database is unreachable from here on
      gone.abort();
      const got = await outcome;
      assert.ok(!got.ok);
      assert.equal(got.code, StatusCode.RUNNER_ITEM_CANCELLED);
    } finally {
      await queue.close();
      await dropPostgresDatabase(baseUrl, name);
    }
  });
});

describePostgres('runner queue in Postgres, two API instances on one database', (baseUrl) => {
  queueCases(async () => {
    const { url, name } = await freshPostgresDatabase(baseUrl);
    const stores: Store[] = [await openStore({ postgresUrl: url }), await openStore({ postgresUrl: url })];
    const [a, b] = await Promise.all(stores.map((s) => openRunnerQueue(s, url)));
    return {
      a: a!,
      b: b!,
      async close() {
        await a!.close();
        await b!.close();
        for (const s of stores) await s.close();
        await dropPostgresDatabase(baseUrl, name);
      },
    };
  });
});
