/**
 * Tenancy around the proof: owners and admins reach what another user may not, public resources
 * are readable but not writable by others, and the key API (scopes, expiry, revocation, users)
 * behaves as Clarifai's. The real app through inject, on SQLite. The proof itself, bob against
 * alice's private resources on every route of every transport and both store backends, is
 * tenancy-transports.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { FastifyInstance } from 'fastify';

import { StatusCode } from '../../src/core/status.js';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';
import { seedTenants, SECRET } from '../helpers/tenancy.js';

let store: Store;
let engine: Engine;
let app: FastifyInstance;
let adminKey: string;
let aliceKey: string;
let bobKey: string;

interface Res {
  statusCode: number;
  json: { status?: { code: number; description: string; details?: string } } & Record<string, unknown>;
  raw: string;
}

async function call(method: string, url: string, key: string | undefined, body?: unknown): Promise<Res> {
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers: key ? { authorization: `Key ${key}` } : {},
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { statusCode: res.statusCode, json: res.json(), raw: res.body };
}

before(async () => {
  store = await openStore({ sqlitePath: ':memory:' });
  engine = createEngine();
  ({ adminKey, aliceKey, bobKey } = await seedTenants(store));
  app = buildApp({ store, engine });
});

after(async () => {
  await app?.close();
  await engine?.close?.();
  await store?.close();
});

describe('owners, admins and public resources', () => {
  it('the owner reaches the same routes; an admin acts on any user', async () => {
    const own = await call('GET', '/v2/users/alice/apps/secret-app/inputs/secret-input', aliceKey);
    assert.equal(own.statusCode, 200, own.raw);
    assert.ok(own.raw.includes(SECRET));
    const admin = await call('GET', '/v2/users/alice/apps/secret-app/models/secret-model', adminKey);
    assert.equal(admin.statusCode, 200, admin.raw);
    const apps = await call('GET', '/v2/users/alice/apps', adminKey);
    assert.ok(apps.raw.includes('secret-app'), apps.raw);
  });

  it('public apps and models are readable by others; writes still are not', async () => {
    let r = await call('POST', '/v2/users/alice/apps', aliceKey, {
      apps: [{ id: 'open-app', visibility: { gettable: 50 } }],
    });
    assert.equal(r.statusCode, 200, r.raw);
    r = await call('POST', '/v2/users/alice/apps/open-app/inputs', aliceKey, {
      inputs: [{ id: 'pub', data: { text: { raw: 'hello' } } }],
    });
    assert.equal(r.statusCode, 200, r.raw);
    r = await call('GET', '/v2/users/alice/apps/open-app/inputs', bobKey);
    assert.equal(r.statusCode, 200, r.raw);
    assert.ok(r.raw.includes('hello'));
    r = await call('DELETE', '/v2/users/alice/apps/open-app/inputs/pub', bobKey);
    assert.equal(r.statusCode, 404, r.raw);
    r = await call('GET', '/v2/users/alice/apps', bobKey);
    assert.ok(r.raw.includes('open-app') && !r.raw.includes('secret-app'), r.raw);
    r = await call('DELETE', '/v2/users/alice/apps/open-app', aliceKey);
    assert.equal(r.statusCode, 200, r.raw);
    assert.equal(await store.inputs.get('alice', 'open-app', 'pub'), undefined);
  });
});

describe('keys: scopes, expiry, revocation', () => {
  it('creates a key once, lists it without the token, and refuses out-of-scope calls with 11007', async () => {
    const created = await call('POST', '/v2/users/alice/keys', aliceKey, {
      keys: [{ description: 'reader', scopes: ['Models:Get'] }],
    });
    assert.equal(created.statusCode, 200, created.raw);
    const token = (created.json.keys as { id: string }[])[0]!.id;
    assert.match(token, /^sbl_/);

    const list = await call('GET', '/v2/users/alice/keys', aliceKey);
    assert.equal(list.statusCode, 200, list.raw);
    assert.ok(!list.raw.includes(token), 'the token is never listed');
    const details = await call('GET', '/v2/sibyl/users/alice/keys', aliceKey);
    assert.ok(!details.raw.includes(token));
    const reader = (
      details.json.keys as { description: string; token_hint: string; scopes: string[]; id: string }[]
    ).find((k) => k.description === 'reader')!;
    assert.deepEqual(reader.scopes, ['read']);
    assert.equal(reader.token_hint, `${token.slice(0, 8)}…${token.slice(-4)}`);

    assert.equal(
      (await call('GET', '/v2/users/alice/apps/secret-app/models/secret-model', token)).statusCode,
      200,
    );
    const predict = await call('POST', '/v2/users/alice/apps/secret-app/models/secret-model/outputs', token, {
      inputs: [{ data: { text: { raw: 'x' } } }],
    });
    assert.equal(predict.statusCode, 403, predict.raw);
    assert.equal(predict.json.status?.code, StatusCode.CONN_INSUFFICIENT_SCOPES);
    assert.match(predict.json.status?.details ?? '', /"predict"/);
    const write = await call('POST', '/v2/users/alice/apps', token, { apps: [{ id: 'nope' }] });
    assert.equal(write.statusCode, 403);
    assert.match(write.json.status?.details ?? '', /"write"/);
    // no escalation: a read key cannot make a write key
    const escalate = await call('POST', '/v2/users/alice/keys', token, { keys: [{ scopes: ['write'] }] });
    assert.equal(escalate.statusCode, 403, escalate.raw);

    const revoke = await call('DELETE', `/v2/users/alice/keys/${reader.id}`, aliceKey);
    assert.equal(revoke.statusCode, 200, revoke.raw);
    const after = await call('GET', '/v2/users/me', token);
    assert.equal(after.statusCode, 401);
    assert.equal(after.json.status?.code, StatusCode.CONN_KEY_INVALID);
    assert.match(after.json.status?.details ?? '', /revoked/);
  });

  it('a predict key reads the model it predicts with (as Predict depends on Models:Get), and nothing else', async () => {
    const created = await call('POST', '/v2/users/alice/keys', aliceKey, {
      keys: [{ description: 'service', scopes: ['Predict'] }],
    });
    const token = (created.json.keys as { id: string }[])[0]!.id;
    const model = '/v2/users/alice/apps/secret-app/models/secret-model';
    assert.equal((await call('GET', model, token)).statusCode, 200);
    assert.equal((await call('GET', `${model}/output_info`, token)).statusCode, 200);
    const list = await call('GET', '/v2/users/alice/apps/secret-app/models', token);
    assert.equal(list.statusCode, 403, list.raw);
    assert.match(list.json.status?.details ?? '', /needs a key with the "read" scope/);
    const inputs = await call('GET', '/v2/users/alice/apps/secret-app/inputs', token);
    assert.equal(inputs.statusCode, 403, inputs.raw);
  });

  it('refuses an expired key', async () => {
    const past = await store.pats.create('alice', { expiresAt: '2000-01-01T00:00:00.000Z' });
    const r = await call('GET', '/v2/users/me', past.token);
    assert.equal(r.statusCode, 401);
    assert.equal(r.json.status?.code, StatusCode.CONN_KEY_INVALID);
    assert.match(r.json.status?.details ?? '', /expired/);
    const bad = await call('POST', '/v2/users/alice/keys', aliceKey, {
      keys: [{ expires_at: '2000-01-01T00:00:00Z' }],
    });
    assert.equal(bad.statusCode, 400, bad.raw);
  });

  it('only an admin creates users, with their first key shown once', async () => {
    const refused = await call('POST', '/v2/users', bobKey, { user: { id: 'carol' } });
    assert.equal(refused.statusCode, 403, refused.raw);
    const made = await call('POST', '/v2/users', adminKey, {
      user: { id: 'carol', first_name: 'Carol' },
      key: { description: 'first', scopes: ['predict', 'read'] },
    });
    assert.equal(made.statusCode, 200, made.raw);
    const token = (made.json.key as { id: string }).id;
    const me = await call('GET', '/v2/users/me', token);
    assert.equal(me.statusCode, 200, me.raw);
    assert.equal((me.json.user as { id: string }).id, 'carol');
  });
});
