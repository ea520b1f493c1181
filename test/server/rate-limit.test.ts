/**
 * Per-key rate limits (`clarifai serve --rate-limit N`): a token bucket per PAT, shared by every
 * transport because it is taken where keys are checked. The bucket itself runs on an injected
 * clock, so refill is tested exactly; the app test checks the 429, its Retry-After and v2 status,
 * and that another key keeps its own budget.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { FastifyInstance } from 'fastify';

import { ThrottledError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { ensureAdminUser } from '../../src/server/bootstrap.js';
import { KeyThrottle } from '../../src/server/services/key-throttle.js';
import { openStore, type Store } from '../../src/store/index.js';

describe('KeyThrottle', () => {
  it('allows a burst, then refills at the rate, per key', () => {
    let now = 0;
    const throttle = new KeyThrottle(2, 4, () => now);
    for (let i = 0; i < 4; i++) throttle.take('a');
    assert.throws(
      () => throttle.take('a'),
      (e: unknown) =>
        e instanceof ThrottledError && e.retryAfterSeconds === 1 && /2 requests a second/.test(e.message),
    );
    throttle.take('b'); // another key has its own bucket
    now += 500; // half a second: one request's worth at 2 a second
    throttle.take('a');
    assert.throws(() => throttle.take('a'), ThrottledError);
    now += 10_000; // refills, but never past the burst
    for (let i = 0; i < 4; i++) throttle.take('a');
    assert.throws(() => throttle.take('a'), ThrottledError);
  });
});

describe('serve --rate-limit', () => {
  let store: Store;
  let engine: Engine;
  let app: FastifyInstance;
  let first: string;
  let second: string;
  before(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    engine = createEngine({ workers: 1 });
    const admin = await ensureAdminUser(store);
    first = (await store.pats.create(admin, 'first')).token;
    second = (await store.pats.create(admin, 'second')).token;
    // 1 a second in bursts of 2: the third request in a row is over
    app = buildApp({ store, engine, service: { keyRequestsPerSecond: 1 } });
  });
  after(async () => {
    await app?.close();
    await engine?.close();
    await store?.close();
  });

  const me = (key: string) =>
    app.inject({ method: 'GET', url: '/v2/users/me', headers: { authorization: `Key ${key}` } });

  it('answers 429 with Retry-After and CONN_THROTTLED past the burst; another key is not affected', async () => {
    assert.equal((await me(first)).statusCode, 200);
    assert.equal((await me(first)).statusCode, 200);
    const over = await me(first);
    assert.equal(over.statusCode, 429, over.body);
    assert.equal(over.headers['retry-after'], '1');
    const status = over.json().status as { code: number; details: string };
    assert.equal(status.code, StatusCode.CONN_THROTTLED);
    assert.match(status.details, /1 request a second \(bursts of 2\)/);
    assert.ok(!over.body.includes(first), 'the key is not echoed');
    assert.equal((await me(second)).statusCode, 200);
  });
});
