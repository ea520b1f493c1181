/**
 * Server start-up services and the error mapping: the admin bootstrap file, the built-in model
 * sync, and toErrorReply. Stores are real (SQLite in a temp data dir or in memory); the engine is
 * real but never loads a model here, so this file needs no weights.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { parse } from 'yaml';

import {
  AuthError,
  InvalidArgumentError,
  LimitError,
  NotFoundError,
  PredictionError,
  SibylError,
} from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import type { SingleUserResponse } from '../../src/core/wire.js';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import {
  ADMIN_USER_ID,
  BOOTSTRAP_FILE,
  ensureAdminUser,
  writeBootstrapFile,
} from '../../src/server/bootstrap.js';
import { syncBuiltinModels } from '../../src/server/builtins.js';
import { toErrorReply } from '../../src/server/errors.js';
import { openStore, type Store } from '../../src/store/index.js';

let engine: Engine;
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-services-'));
  tempDirs.push(dir);
  return dir;
}

before(() => {
  engine = createEngine();
});

after(async () => {
  await engine.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

interface BootstrapDoc {
  user_id: string;
  pat: string;
  base_url: string;
}

function readBootstrap(dataDir: string): BootstrapDoc {
  const doc = parse(readFileSync(join(dataDir, BOOTSTRAP_FILE), 'utf8')) as BootstrapDoc;
  assert.equal(typeof doc.user_id, 'string');
  assert.equal(typeof doc.pat, 'string');
  assert.equal(typeof doc.base_url, 'string');
  return doc;
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** GET /v2/users/me through the real app with this key: the user id, or the error status code. */
async function whoAmI(store: Store, pat: string): Promise<string | number> {
  const app = buildApp({ store, engine });
  try {
    const res = await app.inject({
      method: 'GET',
      url: '/v2/users/me',
      headers: { authorization: `Key ${pat}` },
    });
    const body = res.json<SingleUserResponse>();
    return res.statusCode === 200 ? body.user.id : body.status.code;
  } finally {
    await app.close();
  }
}

describe('ensureAdminUser', () => {
  it('creates the admin user once and returns it after', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    try {
      assert.equal(await ensureAdminUser(store), ADMIN_USER_ID);
      assert.equal(await ensureAdminUser(store), ADMIN_USER_ID);
      const admin = await store.users.get(ADMIN_USER_ID);
      assert.equal(admin?.isAdmin, true);
      assert.equal((await store.users.list()).filter((u) => u.isAdmin).length, 1);
    } finally {
      await store.close();
    }
  });

  it('an existing admin under another id is kept', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    try {
      await store.users.create({ id: 'root', isAdmin: true });
      assert.equal(await ensureAdminUser(store), 'root');
      assert.equal(await store.users.get(ADMIN_USER_ID), undefined);
    } finally {
      await store.close();
    }
  });
});

describe('writeBootstrapFile', () => {
  let dataDir: string;
  let store: Store;
  let firstPat: string;

  before(async () => {
    dataDir = tempDir();
    store = await openStore({ dataDir });
  });

  after(async () => {
    await store?.close();
  });

  it('first start: writes bootstrap.yaml (mode 0600) with user_id, pat and base_url', async () => {
    const result = await writeBootstrapFile(store, dataDir, 'http://127.0.0.1:8080');
    const path = join(dataDir, BOOTSTRAP_FILE);
    assert.equal(result.path, path);
    assert.equal(result.userId, ADMIN_USER_ID);
    assert.equal(result.createdPat, true);
    assert.equal(modeOf(path), 0o600);

    const doc = readBootstrap(dataDir);
    assert.equal(doc.user_id, ADMIN_USER_ID);
    assert.equal(doc.base_url, 'http://127.0.0.1:8080');
    assert.match(readFileSync(path, 'utf8'), /clarifai login --config/);
    firstPat = doc.pat;
  });

  it('the PAT in the file is a valid key for the admin user', async () => {
    assert.equal((await store.pats.verify(firstPat))?.userId, ADMIN_USER_ID);
    assert.equal(await whoAmI(store, firstPat), ADMIN_USER_ID);
  });

  it('a later start with another base keeps the PAT and rewrites base_url', async () => {
    const result = await writeBootstrapFile(store, dataDir, 'http://0.0.0.0:9999');
    assert.equal(result.createdPat, false);
    const doc = readBootstrap(dataDir);
    assert.equal(doc.pat, firstPat);
    assert.equal(doc.base_url, 'http://0.0.0.0:9999');
    assert.equal(modeOf(join(dataDir, BOOTSTRAP_FILE)), 0o600);
    // No new key was minted for it.
    assert.equal((await store.pats.list(ADMIN_USER_ID)).length, 1);
  });

  it('a file made world-readable is put back to 0600', async () => {
    const path = join(dataDir, BOOTSTRAP_FILE);
    chmodSync(path, 0o644);
    await writeBootstrapFile(store, dataDir, 'http://0.0.0.0:9999');
    assert.equal(modeOf(path), 0o600);
    assert.equal(readBootstrap(dataDir).pat, firstPat);
  });

  it('the PAT survives a restart on the same data dir', async () => {
    await store.close();
    store = await openStore({ dataDir });
    const result = await writeBootstrapFile(store, dataDir, 'http://127.0.0.1:8080');
    assert.equal(result.createdPat, false);
    assert.equal(readBootstrap(dataDir).pat, firstPat);
    assert.equal(await whoAmI(store, firstPat), ADMIN_USER_ID);
  });

  it('a deleted file: a new valid PAT is minted', async () => {
    unlinkSync(join(dataDir, BOOTSTRAP_FILE));
    const result = await writeBootstrapFile(store, dataDir, 'http://127.0.0.1:8081');
    assert.equal(result.createdPat, true);
    assert.ok(existsSync(join(dataDir, BOOTSTRAP_FILE)));
    assert.equal(modeOf(join(dataDir, BOOTSTRAP_FILE)), 0o600);
    const doc = readBootstrap(dataDir);
    assert.notEqual(doc.pat, firstPat);
    assert.equal(doc.base_url, 'http://127.0.0.1:8081');
    assert.equal(await whoAmI(store, doc.pat), ADMIN_USER_ID);
  });

  it('a corrupt file: a new valid PAT is minted', async () => {
    const path = join(dataDir, BOOTSTRAP_FILE);
    const before = readBootstrap(dataDir).pat;
    writeFileSync(path, ': : not yaml [', { mode: 0o600 });
    const result = await writeBootstrapFile(store, dataDir, 'http://127.0.0.1:8082');
    assert.equal(result.createdPat, true);
    const doc = readBootstrap(dataDir);
    assert.notEqual(doc.pat, before);
    assert.equal(await whoAmI(store, doc.pat), ADMIN_USER_ID);
  });

  it('a revoked PAT in the file: a new valid PAT is minted', async () => {
    const old = readBootstrap(dataDir).pat;
    const verified = await store.pats.verify(old);
    assert.ok(verified);
    assert.equal(await store.pats.revoke(verified.patId), true);
    const result = await writeBootstrapFile(store, dataDir, 'http://127.0.0.1:8083');
    assert.equal(result.createdPat, true);
    const doc = readBootstrap(dataDir);
    assert.notEqual(doc.pat, old);
    assert.equal(await whoAmI(store, doc.pat), ADMIN_USER_ID);
    assert.equal(await whoAmI(store, old), StatusCode.CONN_KEY_INVALID);
  });

  it("a file holding another user's PAT is not trusted for the admin", async () => {
    await store.users.ensure({ id: 'mallory' });
    const mallorys = (await store.pats.create('mallory')).token;
    const path = join(dataDir, BOOTSTRAP_FILE);
    writeFileSync(path, `user_id: ${ADMIN_USER_ID}\npat: ${mallorys}\nbase_url: http://x\n`, { mode: 0o600 });
    const result = await writeBootstrapFile(store, dataDir, 'http://127.0.0.1:8084');
    assert.equal(result.createdPat, true);
    const doc = readBootstrap(dataDir);
    assert.notEqual(doc.pat, mallorys);
    assert.equal(await whoAmI(store, doc.pat), ADMIN_USER_ID);
  });
});

describe('syncBuiltinModels', () => {
  let store: Store;

  before(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
  });

  after(async () => {
    await store?.close();
  });

  async function snapshot(): Promise<{ ids: string[]; versions: Map<string, string[]> }> {
    const models = await store.models.listVisible(undefined);
    const versions = new Map<string, string[]>();
    for (const m of models) {
      versions.set(
        `${m.userId}/${m.appId}/${m.id}`,
        (await store.models.listVersions(m.userId, m.appId, m.id)).map((v) => v.id),
      );
    }
    return { ids: models.map((m) => `${m.userId}/${m.appId}/${m.id}`), versions };
  }

  it('writes every built-in model with its fixed version id, public', async () => {
    await syncBuiltinModels(store, engine);
    const { ids, versions } = await snapshot();
    assert.equal(ids.length, engine.builtins().length);
    for (const def of engine.builtins()) {
      const key = `${def.userId}/${def.appId}/${def.id}`;
      assert.deepEqual(versions.get(key), [def.versionId], key);
      const model = await store.models.getVisible(undefined, def.userId, def.appId, def.id);
      assert.equal(model?.visibility, 'public');
      assert.equal(model?.builtin, true);
      const latest = await store.models.latestVersion(def.userId, def.appId, def.id);
      assert.equal(latest?.id, def.versionId);
      if (def.concepts) assert.equal(latest?.outputInfo.data?.concepts?.length, def.concepts.length);
    }
  });

  it('is idempotent: a second sync changes nothing and duplicates nothing', async () => {
    const first = await snapshot();
    const modifiedBefore = await Promise.all(
      engine
        .builtins()
        .map(async (d) => (await store.models.getVisible(undefined, d.userId, d.appId, d.id))?.modifiedAt),
    );
    await syncBuiltinModels(store, engine);
    await syncBuiltinModels(store, engine);
    const second = await snapshot();
    assert.deepEqual(second.ids, first.ids);
    assert.equal(new Set(second.ids).size, second.ids.length);
    assert.deepEqual([...second.versions], [...first.versions]);
    const modifiedAfter = await Promise.all(
      engine
        .builtins()
        .map(async (d) => (await store.models.getVisible(undefined, d.userId, d.appId, d.id))?.modifiedAt),
    );
    assert.deepEqual(modifiedAfter, modifiedBefore);
  });

  it('GET /v2/models after two syncs lists each built-in once', async () => {
    await ensureAdminUser(store);
    const pat = (await store.pats.create(ADMIN_USER_ID)).token;
    const app = buildApp({ store, engine });
    try {
      const res = await app.inject({
        method: 'GET',
        url: '/v2/models',
        headers: { authorization: `Key ${pat}` },
      });
      assert.equal(res.statusCode, 200);
      const ids = res.json<{ models: Array<{ id: string }> }>().models.map((m) => m.id);
      assert.deepEqual(
        [...ids].sort(),
        engine
          .builtins()
          .map((d) => d.id)
          .sort(),
      );
    } finally {
      await app.close();
    }
  });
});

describe('toErrorReply', () => {
  const reqId = 'req-1';

  it('maps each error class to its HTTP status and keeps code, description and details', () => {
    const cases: Array<[SibylError, number]> = [
      [new AuthError('bad key'), 401],
      [new NotFoundError(StatusCode.MODEL_DOES_NOT_EXIST, 'Model does not exist', 'x/y/z'), 404],
      [new InvalidArgumentError('bad field'), 400],
      [new PredictionError('it broke'), 500],
    ];
    for (const [err, http] of cases) {
      const out = toErrorReply(err, reqId);
      assert.equal(out.httpStatus, http, err.name);
      assert.equal(out.status.code, err.code);
      assert.equal(out.status.description, err.description);
      assert.equal(out.status.details, err.details);
      assert.equal(out.status.req_id, reqId);
    }
  });

  it('an unexpected error is an internal error that does not repeat its message', () => {
    const out = toErrorReply(new Error('ENOENT /home/secret/.ssh/id_rsa sbl_supersecret'), reqId);
    assert.equal(out.httpStatus, 500);
    assert.equal(out.status.code, StatusCode.INTERNAL_ERROR);
    assert.ok(!JSON.stringify(out).includes('secret'), JSON.stringify(out));
    assert.equal(toErrorReply('a string thrown', reqId).httpStatus, 500);
    // Fastify hands `throw undefined` / `throw null` to the error handler as they are.
    for (const thrown of [undefined, null]) {
      const odd = toErrorReply(thrown, reqId);
      assert.equal(odd.httpStatus, 500);
      assert.equal(odd.status.code, StatusCode.INTERNAL_ERROR);
    }
  });

  it('busy and loading errors carry Retry-After', () => {
    for (const code of [StatusCode.MODEL_BUSY_PLEASE_RETRY, StatusCode.MODEL_LOADING, StatusCode.TRY_AGAIN]) {
      const out = toErrorReply(new SibylError(code, 'Busy'), reqId);
      assert.equal(out.retryAfterSeconds, 1, String(code));
      assert.ok(out.httpStatus === 429 || out.httpStatus === 503, `${code} -> ${out.httpStatus}`);
    }
    assert.equal(toErrorReply(new InvalidArgumentError('x'), reqId).retryAfterSeconds, undefined);
  });

  it('an over-limit error is 413', () => {
    const out = toErrorReply(new LimitError(StatusCode.REQUEST_TOO_LARGE, 'Too large', 'big'), reqId);
    assert.equal(out.httpStatus, 413);
    assert.equal(out.status.code, StatusCode.REQUEST_TOO_LARGE);
  });
});
