/**
 * Tenancy proof: every REST route of the RPC table, tried with bob's full-scope key against
 * alice's private app, model, input and key, answers exactly as for a resource that does not
 * exist (never 403, never 2xx with her data) and changes nothing; scoped, revoked and expired keys
 * are refused with Clarifai's codes. Real SQLite, the real app through inject.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { FastifyInstance } from 'fastify';

import { StatusCode } from '../../src/core/status.js';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { ensureAdminUser } from '../../src/server/bootstrap.js';
import { loadRestSchema } from '../../src/server/proto/schema.js';
import { SERVED_RPCS } from '../../src/server/services/v2-rpcs.js';
import { openStore, type Store } from '../../src/store/index.js';

const SECRET = 'alice-secret-marker';

let store: Store;
let engine: Engine;
let app: FastifyInstance;
let adminKey: string;
let aliceKey: string;
let aliceKeyId: string;
let bobKey: string;
let aliceVersion: string;

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
  const adminId = await ensureAdminUser(store);
  adminKey = (await store.pats.create(adminId, 'tests')).token;
  await store.users.create({ id: 'alice' });
  await store.users.create({ id: 'bob' });
  const alice = await store.pats.create('alice', { description: SECRET });
  aliceKey = alice.token;
  aliceKeyId = alice.id;
  bobKey = (await store.pats.create('bob', 'bob')).token;
  await store.apps.create('alice', { id: 'secret-app', description: SECRET });
  const m = await store.models.create({
    userId: 'alice',
    appId: 'secret-app',
    id: 'secret-model',
    modelTypeId: 'text-classifier',
    description: SECRET,
  });
  aliceVersion = m.version.id;
  await store.inputs.create('alice', 'secret-app', { id: 'secret-input', data: { text: { raw: SECRET } } });
  app = buildApp({ store, engine });
});

after(async () => {
  await app?.close();
  await engine?.close?.();
  await store?.close();
});

function fill(path: string, ids: Record<string, string>): string {
  return path.replace(/\{([^}=]+)(?:=[^}]*)?\}/g, (_, field: string) => {
    const v = ids[field];
    if (v === undefined) throw new Error(`no value for ${field} in ${path}`);
    return encodeURIComponent(v);
  });
}

const REAL = {
  'user_app_id.user_id': 'alice',
  'user_app_id.app_id': 'secret-app',
  model_id: 'secret-model',
  version_id: '',
  input_id: 'secret-input',
  key_id: '',
  'runner_selector.deployment.user_id': 'alice',
  'runner_selector.deployment.id': 'secret-deployment',
};
const MISSING = {
  ...REAL,
  'user_app_id.app_id': 'no-such-app',
  model_id: 'no-such-model',
  version_id: 'no-such-version',
  input_id: 'no-such-input',
  key_id: 'no-such-key',
};

function bodyFor(rpc: string, ids: Record<string, string>): unknown {
  const text = { data: { text: { raw: 'hi' } } };
  switch (rpc) {
    case 'PostModelOutputs':
    case 'GenerateModelOutputs':
    case 'StreamModelOutputs':
      return { inputs: [text] };
    case 'PostInputs':
      return { inputs: [{ id: 'bob-was-here', ...text }] };
    case 'PatchInputs':
      return { action: 'overwrite', inputs: [{ id: ids.input_id, ...text }] };
    case 'PostApps':
    case 'PatchApps':
      return { apps: [{ id: ids['user_app_id.app_id'], visibility: { gettable: 50 } }] };
    case 'PostModels':
      return { model: { id: 'bob-model', model_type_id: 'text-classifier' } };
    case 'PatchModels':
      return { models: [{ id: ids.model_id, visibility: { gettable: 50 } }] };
    case 'PostKeys':
      return { keys: [{ description: 'bob made this', scopes: ['read'] }] };
    case 'PatchKeys':
      return { keys: [{ id: ids.key_id, description: 'bob was here' }] };
    case 'DeleteInputs':
      return { ids: [ids.input_id] };
    default:
      return {};
  }
}

describe('tenancy proof: a second user against the first user’s private resources', () => {
  it('every route of the RPC table answers as for a missing resource, with no data, changing nothing', async () => {
    REAL.version_id = aliceVersion;
    REAL.key_id = aliceKeyId;
    const schema = loadRestSchema(SERVED_RPCS);
    let tried = 0;
    for (const b of schema.bindings) {
      // routes that name no user act for the key's own user: nothing of alice's is reachable there
      const real = fill(b.path, REAL);
      const missing = fill(b.path, MISSING);
      const withBody = b.body === '*';
      const a = await call(b.method, real, bobKey, withBody ? bodyFor(b.rpc, REAL) : undefined);
      const m = await call(b.method, missing, bobKey, withBody ? bodyFor(b.rpc, MISSING) : undefined);
      const where = `${b.rpc} ${b.method} ${real}: ${a.statusCode} ${a.raw.slice(0, 300)}`;
      tried++;
      assert.notEqual(a.statusCode, 403, `403 leaks existence: ${where}`);
      assert.ok(a.statusCode < 500, `no 5xx: ${where}`);
      assert.ok(!a.raw.includes(SECRET), `no data of alice: ${where}`);
      assert.ok(!a.raw.includes(aliceKey), `no key of alice: ${where}`);
      if (b.path.includes('{user_app_id.user_id}')) {
        // the same answer as for a missing resource
        assert.equal(a.statusCode, m.statusCode, `same HTTP status as missing: ${where} vs ${m.raw}`);
        assert.equal(
          a.json.status?.code,
          m.json.status?.code,
          `same v2 code as missing: ${where} vs ${m.raw}`,
        );
        assert.equal(a.json.status?.description, m.json.status?.description, where);
        if (a.statusCode < 300) {
          // only lists answer 2xx: and then with nothing of alice's
          assert.ok(!a.raw.includes('secret-'), `a list shows none of alice's private ids: ${where}`);
        }
      }
    }
    assert.ok(tried >= 40, `walked ${tried} routes`);
    // nothing of alice's changed
    assert.equal((await store.apps.get('alice', 'secret-app'))?.visibility, 'private');
    assert.equal(
      (await store.models.getVisible('alice', 'alice', 'secret-app', 'secret-model'))?.visibility,
      'private',
    );
    assert.deepEqual((await store.inputs.get('alice', 'secret-app', 'secret-input'))?.data, {
      text: { raw: SECRET },
    });
    assert.equal((await store.pats.list('alice')).length, 1);
    assert.equal((await store.pats.get(aliceKeyId))?.description, SECRET);
    assert.equal(await store.apps.get('alice', 'no-such-app'), undefined);
    assert.equal((await store.pats.verify(aliceKey))?.userId, 'alice');
  });

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
