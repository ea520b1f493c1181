import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { NotFoundError, SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import {
  DATABASE_FILE,
  openStore,
  PAT_PREFIX,
  redactDatabaseUrl,
  TOUCH_INTERVAL_MS,
  type Store,
} from '../../src/store/index.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { describeEachBackend } from '../helpers/store-backends.js';

const run = promisify(execFile);
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-store-'));
  tempDirs.push(dir);
  return dir;
}

after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A clock the test moves by hand. */
function fakeClock(start = Date.parse('2025-01-01T00:00:00.000Z')) {
  let t = start;
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

async function rejectsWithCode(promise: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SibylError, `expected a SibylError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

const DETECTOR = {
  userId: 'clarifai',
  appId: 'main',
  id: 'general-detector',
  name: 'General detector',
  modelTypeId: 'visual-detector',
  description: 'COCO-80 objects',
  versionId: 'centernet-1',
  outputInfo: { output_config: { min_value: 0.3 }, params: { max_objects: 20 } },
} as const;

/** Every migration's name, in order: what a fresh database applies. */
const ALL_MIGRATIONS = Object.keys(await migrationProvider.getMigrations()).sort();

describe('SQLite files', () => {
  test('a fresh data directory gets a private directory, a private file and every migration', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const store = await openStore({ dataDir });
    try {
      assert.deepEqual(store.migrated, ALL_MIGRATIONS);
      assert.equal(store.kind, 'sqlite');
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      const file = join(dataDir, DATABASE_FILE);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      await store.users.create({ id: 'someone' });
      // WAL mode: the write-ahead log exists beside the file and inherits its mode.
      assert.ok(existsSync(`${file}-wal`));
      assert.equal(statSync(`${file}-wal`).mode & 0o777, 0o600);
    } finally {
      await store.close();
    }
  });
});

describe('database URLs', () => {
  test('a password never shows', () => {
    assert.equal(
      redactDatabaseUrl('postgres://sibyl:s3cret@db.example:5432/sibyl'),
      'postgres://sibyl:***@db.example:5432/sibyl',
    );
    assert.equal(redactDatabaseUrl('postgres://db.example/sibyl'), 'postgres://db.example/sibyl');
    assert.ok(!redactDatabaseUrl('not a url s3cret').includes('s3cret'));
  });

  test('a bad URL is refused without echoing its password', async () => {
    for (const url of ['mysql://u:s3cret@h/db', 'postgres://u:s3cret@h', 'u:s3cret@h/db']) {
      await assert.rejects(openStore({ postgresUrl: url }), (err: unknown) => {
        assert.ok(err instanceof SibylError);
        assert.ok(!`${err.message} ${err.details ?? ''}`.includes('s3cret'), err.message);
        return true;
      });
    }
  });

  test('an unreachable database fails with the URL, password hidden', async () => {
    await assert.rejects(openStore({ postgresUrl: 'postgres://u:s3cret@127.0.0.1:1/db' }), (err: unknown) => {
      assert.ok(err instanceof SibylError);
      const text = `${err.message} ${err.details ?? ''}`;
      assert.ok(text.includes('postgres://u:***@127.0.0.1:1/db'), text);
      assert.ok(!text.includes('s3cret'));
      return true;
    });
  });
});

describeEachBackend('store', (backend) => {
  describe('openStore and migrations', () => {
    test('reopening applies nothing twice and keeps the data', async () => {
      const where = await backend.fresh(true);
      const first = await openStore(where);
      assert.deepEqual(first.migrated, ALL_MIGRATIONS);
      assert.equal(first.kind, backend.name);
      await first.users.create({ id: 'kept' });
      await first.close();

      const second = await openStore(where);
      try {
        assert.deepEqual(second.migrated, []);
        const applied = await second.db
          .selectFrom('kysely_migration' as never)
          .select('name' as never)
          .orderBy('name' as never)
          .execute();
        assert.deepEqual(
          applied,
          ALL_MIGRATIONS.map((name) => ({ name })),
        );
        assert.equal((await second.users.get('kept'))?.id, 'kept');
      } finally {
        await second.close();
      }
    });

    test('several processes opening one fresh database at once migrate it exactly once', async () => {
      const where = await backend.fresh(true);
      const child = fileURLToPath(new URL('./open-store-child.ts', import.meta.url));
      const outputs = await Promise.all(
        [1, 2, 3].map(() =>
          run(process.execPath, ['--import', 'tsx', child, JSON.stringify(where)], {
            cwd: fileURLToPath(new URL('../..', import.meta.url)),
          }),
        ),
      );
      const results = outputs.map((o) => JSON.parse(o.stdout) as { migrated: string[]; versionId: string });
      assert.equal(results.filter((r) => r.migrated.length > 0).length, 1);
      assert.ok(results.every((r) => r.versionId === 'shared-v1'));

      const store = await openStore(where);
      try {
        const versions = await store.models.listVersions('clarifai', 'main', 'shared-model');
        assert.deepEqual(
          versions.map((v) => [v.id, v.seq]),
          [['shared-v1', 1]],
        );
      } finally {
        await store.close();
      }
    });

    test('foreign keys are enforced', async () => {
      const store = await backend.open();
      try {
        await assert.rejects(
          store.db.insertInto('apps').values({ user_id: 'nobody', id: 'app', created_at: 'x' }).execute(),
        );
      } finally {
        await store.close();
      }
    });
  });

  describe('users', () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(() => store.close());

    test('create, get, list, findAdmin, ensure', async () => {
      assert.equal(await store.users.findAdmin(), undefined);
      const admin = await store.users.create({ id: 'admin', fullName: 'The Admin', isAdmin: true });
      assert.equal(admin.isAdmin, true);
      assert.equal(admin.fullName, 'The Admin');
      await store.users.create({ id: 'plain' });
      assert.equal((await store.users.findAdmin())?.id, 'admin');
      assert.deepEqual((await store.users.list()).map((u) => u.id).sort(), ['admin', 'plain']);
      assert.equal(await store.users.get('missing'), undefined);

      // ensure leaves an existing user as it is.
      const again = await store.users.ensure({ id: 'admin', isAdmin: false });
      assert.equal(again.isAdmin, true);
      assert.equal((await store.users.ensure({ id: 'fresh' })).id, 'fresh');
    });

    test('a taken or malformed id is refused', async () => {
      await store.users.ensure({ id: 'taken' });
      await rejectsWithCode(store.users.create({ id: 'taken' }), StatusCode.CONN_INVALID_REQUEST);
      await rejectsWithCode(store.users.create({ id: 'has space' }), StatusCode.CONN_INVALID_REQUEST);
    });
  });

  describe('personal access tokens', () => {
    test('a token is prefixed, high-entropy, and only its hash reaches the database', async () => {
      const where = await backend.fresh(true);
      const store = await openStore(where);
      let token: string;
      try {
        await store.users.create({ id: 'alice' });
        const pat = await store.pats.create('alice', 'laptop');
        token = pat.token;
        assert.ok(token.startsWith(PAT_PREFIX));
        assert.match(token, /^sbl_[A-Za-z0-9_-]{43}$/);
        assert.notEqual((await store.pats.create('alice')).token, token);

        const rows = await store.db.selectFrom('pats').selectAll().execute();
        const dump = JSON.stringify(rows);
        assert.ok(!dump.includes(token));
        assert.ok(!dump.includes(token.slice(PAT_PREFIX.length)));
        const row = rows.find((r) => r.id === pat.id);
        assert.match(row?.token_hash ?? '', /^[0-9a-f]{64}$/);

        const info = await store.pats.get(pat.id);
        assert.equal(info?.description, 'laptop');
        assert.equal(info?.display, `${token.slice(0, 8)}…${token.slice(-4)}`);
        assert.ok(!JSON.stringify(await store.pats.list('alice')).includes(token));
      } finally {
        await store.close();
      }
      // Nor does it reach the files on disk (database, write-ahead log).
      if (!('dataDir' in where)) return;
      for (const name of [DATABASE_FILE, `${DATABASE_FILE}-wal`]) {
        const path = join(where.dataDir, name);
        if (existsSync(path)) assert.ok(!readFileSync(path).includes(token), `${name} holds the token`);
      }
    });

    test('verify accepts a live token and nothing else', async () => {
      const store = await backend.open();
      try {
        await store.users.create({ id: 'alice' });
        const { id, token } = await store.pats.create('alice');
        const verified = await store.pats.verify(token);
        assert.equal(verified?.userId, 'alice');
        assert.equal(verified?.patId, id);

        const wrong = `${PAT_PREFIX}${'A'.repeat(43)}`;
        assert.equal(await store.pats.verify(wrong), undefined);
        for (const malformed of [
          '',
          'abc',
          `${token}x`,
          token.slice(0, -1),
          `Key ${token}`,
          token.slice(4),
          42,
          null,
        ]) {
          assert.equal(await store.pats.verify(malformed), undefined, `accepted ${String(malformed)}`);
        }

        assert.equal(await store.pats.revoke(id, 'someone-else'), false);
        assert.equal(await store.pats.revoke(id), true);
        assert.equal(await store.pats.verify(token), undefined);
        assert.equal(await store.pats.revoke(id), false);
      } finally {
        await store.close();
      }
    });

    test('last_used_at is written at most once per interval', async () => {
      const clock = fakeClock();
      const store = await backend.open({ now: clock.now });
      try {
        await store.users.create({ id: 'alice' });
        const { id, token } = await store.pats.create('alice');
        assert.equal((await store.pats.get(id))?.lastUsedAt, null);

        const first = clock.now().toISOString();
        await store.pats.verify(token);
        assert.equal((await store.pats.get(id))?.lastUsedAt, first);

        clock.advance(TOUCH_INTERVAL_MS / 2);
        await store.pats.verify(token);
        assert.equal((await store.pats.get(id))?.lastUsedAt, first);

        clock.advance(TOUCH_INTERVAL_MS);
        await store.pats.verify(token);
        assert.equal((await store.pats.get(id))?.lastUsedAt, clock.now().toISOString());
      } finally {
        await store.close();
      }
    });

    test('a PAT for an unknown user is refused', async () => {
      const store = await backend.open();
      try {
        await rejectsWithCode(store.pats.create('ghost'), StatusCode.USER_DOES_NOT_EXIST);
      } finally {
        await store.close();
      }
    });
  });

  describe('apps', () => {
    test('ensure is idempotent and needs the user', async () => {
      const store = await backend.open();
      try {
        await store.users.create({ id: 'alice' });
        const app = await store.apps.ensure('alice', 'photos');
        assert.deepEqual(await store.apps.ensure('alice', 'photos'), app);
        await store.apps.ensure('alice', 'notes');
        assert.deepEqual(
          (await store.apps.list('alice')).map((a) => a.id),
          ['notes', 'photos'],
        );
        assert.equal(await store.apps.get('alice', 'missing'), undefined);
        await rejectsWithCode(store.apps.ensure('ghost', 'photos'), StatusCode.USER_DOES_NOT_EXIST);
        await rejectsWithCode(store.apps.ensure('alice', 'bad id'), StatusCode.CONN_INVALID_REQUEST);
      } finally {
        await store.close();
      }
    });
  });

  describe('models and visibility', () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
      await store.models.upsertBuiltin(DETECTOR);
      for (const user of ['alice', 'bob']) {
        await store.users.create({ id: user });
        await store.apps.ensure(user, 'app');
      }
      await store.models.create({
        userId: 'bob',
        appId: 'app',
        id: 'secret',
        modelTypeId: 'text-to-text',
        outputInfo: { params: { temperature: 0.7 } },
      });
      await store.models.create({
        userId: 'bob',
        appId: 'app',
        id: 'shared',
        modelTypeId: 'text-to-text',
        visibility: 'public',
      });
    });
    after(() => store.close());

    test("another user's private model reads exactly like a missing one", async () => {
      assert.equal(await store.models.getVisible('alice', 'bob', 'app', 'secret'), undefined);
      assert.equal(await store.models.getVisible(undefined, 'bob', 'app', 'secret'), undefined);
      assert.equal(await store.models.getVisible('alice', 'bob', 'app', 'no-such-model'), undefined);
      const ids = (await store.models.listVisible('alice')).map((m) => `${m.userId}/${m.id}`);
      assert.ok(!ids.includes('bob/secret'));
      assert.deepEqual(
        (await store.models.listVisible('alice', { userId: 'bob' })).map((m) => m.id),
        ['shared'],
      );
    });

    test('its owner sees it', async () => {
      const model = await store.models.getVisible('bob', 'bob', 'app', 'secret');
      assert.equal(model?.visibility, 'private');
      assert.equal(model?.builtin, false);
      assert.equal(model?.name, 'secret');
      assert.deepEqual(
        (await store.models.listVisible('bob')).map((m) => `${m.userId}/${m.appId}/${m.id}`),
        ['bob/app/secret', 'bob/app/shared', 'clarifai/main/general-detector'],
      );
      const version = await store.models.latestVersion('bob', 'app', 'secret');
      assert.deepEqual(version?.outputInfo, { params: { temperature: 0.7 } });
      assert.match(version?.id ?? '', /^[0-9a-f]{32}$/);
    });

    test('a public built-in model is visible to everyone, signed in or not', async () => {
      for (const viewer of ['alice', 'bob', undefined]) {
        const model = await store.models.getVisible(viewer, 'clarifai', 'main', 'general-detector');
        assert.equal(model?.builtin, true);
        assert.equal(model?.visibility, 'public');
        assert.equal(model?.modelTypeId, 'visual-detector');
      }
      const listed = await store.models.listVisible(undefined);
      assert.deepEqual(
        listed.map((m) => m.id),
        ['shared', 'general-detector'],
      );
      assert.deepEqual(
        (await store.models.listVisible('alice', { userId: 'clarifai', appId: 'main' })).map((m) => m.id),
        ['general-detector'],
      );
    });

    test('listVisible pages in a stable order', async () => {
      const all = (await store.models.listVisible('bob')).map((m) => m.id);
      const paged = [];
      for (let page = 1; page <= all.length + 1; page++) {
        paged.push(...(await store.models.listVisible('bob', { page, perPage: 1 })).map((m) => m.id));
      }
      assert.deepEqual(paged, all);
      await rejectsWithCode(store.models.listVisible('bob', { perPage: 0 }), StatusCode.CONN_INVALID_REQUEST);
    });

    test('versions: get, latest, add', async () => {
      const version = await store.models.getVersion('clarifai', 'main', 'general-detector', 'centernet-1');
      assert.deepEqual(version?.outputInfo, DETECTOR.outputInfo);
      assert.equal(version?.status, 21100);
      assert.equal(await store.models.getVersion('bob', 'app', 'secret', 'centernet-1'), undefined);

      const added = await store.models.createVersion('bob', 'app', 'secret', {
        outputInfo: { params: { top_k: 5 } },
      });
      assert.equal(added.seq, 2);
      assert.equal((await store.models.latestVersion('bob', 'app', 'secret'))?.id, added.id);
      assert.equal((await store.models.listVersions('bob', 'app', 'secret')).length, 2);
      await rejectsWithCode(
        store.models.createVersion('bob', 'app', 'nothing'),
        StatusCode.MODEL_DOES_NOT_EXIST,
      );
      await rejectsWithCode(
        store.models.createVersion('bob', 'app', 'secret', { id: added.id }),
        StatusCode.MODEL_INVALID_ARGUMENT,
      );
    });

    test('create refuses a taken id, a missing app and a bad visibility', async () => {
      const spec = { userId: 'bob', appId: 'app', id: 'secret', modelTypeId: 'text-to-text' };
      await rejectsWithCode(store.models.create(spec), StatusCode.MODEL_INVALID_ARGUMENT);
      await rejectsWithCode(store.models.create({ ...spec, appId: 'nope' }), StatusCode.APP_DOES_NOT_EXIST);
      await rejectsWithCode(
        store.models.create({ ...spec, id: 'other', visibility: 'everyone' as never }),
        StatusCode.MODEL_INVALID_ARGUMENT,
      );
      // A failed create leaves nothing behind.
      assert.equal(await store.models.getVisible('bob', 'bob', 'nope', 'secret'), undefined);
    });
  });

  describe('built-in models across restarts', () => {
    test('upsertBuiltin is idempotent: same model, same single version', async () => {
      const where = await backend.fresh(true);
      const clock = fakeClock();
      const first = await openStore({ ...where, now: clock.now });
      const written = await first.models.upsertBuiltin(DETECTOR);
      assert.ok(await first.users.get('clarifai'));
      assert.ok(await first.apps.get('clarifai', 'main'));
      await first.close();

      clock.advance(3_600_000);
      const second = await openStore({ ...where, now: clock.now });
      try {
        const again = await second.models.upsertBuiltin(DETECTOR);
        assert.deepEqual(again, written);
        assert.equal(again.version.id, 'centernet-1');
        assert.equal((await second.models.listVersions('clarifai', 'main', 'general-detector')).length, 1);

        // A changed description updates the model in place; a new version id becomes the latest.
        const changed = await second.models.upsertBuiltin({
          ...DETECTOR,
          description: 'COCO-80 objects, CenterNet',
          versionId: 'centernet-2',
        });
        assert.equal(changed.model.description, 'COCO-80 objects, CenterNet');
        assert.equal(changed.model.createdAt, written.model.createdAt);
        assert.notEqual(changed.model.modifiedAt, written.model.modifiedAt);
        assert.equal(changed.version.seq, 2);
        assert.equal(
          (await second.models.latestVersion('clarifai', 'main', 'general-detector'))?.id,
          'centernet-2',
        );

        // A fixed version id cannot be taken over by another model.
        await rejectsWithCode(
          second.models.upsertBuiltin({ ...DETECTOR, id: 'other-model', versionId: 'centernet-1' }),
          StatusCode.MODEL_INVALID_ARGUMENT,
        );
      } finally {
        await second.close();
      }
    });
  });

  describe('inputs', () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
      for (const user of ['alice', 'bob']) {
        await store.users.create({ id: user });
        await store.apps.ensure(user, 'app');
      }
    });
    after(() => store.close());

    test('create with and without an id, then get', async () => {
      const named = await store.inputs.create('alice', 'app', {
        id: 'cat',
        data: { image: { url: 'https://x/cat.jpg' } },
      });
      assert.equal(named.id, 'cat');
      assert.deepEqual(await store.inputs.get('alice', 'app', 'cat'), named);

      const generated = await store.inputs.create('alice', 'app', { data: { text: { raw: 'hello' } } });
      assert.match(generated.id, /^[0-9a-f]{32}$/);
      assert.deepEqual((await store.inputs.get('alice', 'app', generated.id))?.data, {
        text: { raw: 'hello' },
      });
    });

    test('a duplicate id gives INPUT_ALREADY_EXISTS and changes nothing', async () => {
      await store.inputs.create('alice', 'app', { id: 'dup', data: { text: { raw: 'one' } } });
      await rejectsWithCode(
        store.inputs.create('alice', 'app', { id: 'dup', data: { text: { raw: 'two' } } }),
        StatusCode.INPUT_ALREADY_EXISTS,
      );
      assert.deepEqual((await store.inputs.get('alice', 'app', 'dup'))?.data, { text: { raw: 'one' } });
    });

    test('createMany stores all or nothing', async () => {
      const both = await store.inputs.createMany('alice', 'app', [
        { id: 'm1', data: { text: { raw: '1' } } },
        { id: 'm2', data: { text: { raw: '2' } } },
      ]);
      assert.deepEqual(
        both.map((r) => r.id),
        ['m1', 'm2'],
      );
      await rejectsWithCode(
        store.inputs.createMany('alice', 'app', [
          { id: 'm3', data: {} },
          { id: 'm4', data: {} },
          { id: 'm3', data: {} },
        ]),
        StatusCode.INPUT_ALREADY_EXISTS,
      );
      assert.equal(await store.inputs.get('alice', 'app', 'm3'), undefined);
      assert.equal(await store.inputs.get('alice', 'app', 'm4'), undefined);
    });

    test("users' inputs are isolated, even under the same app and input ids", async () => {
      await store.inputs.create('alice', 'app', { id: 'mine', data: { text: { raw: 'alice' } } });
      assert.equal(await store.inputs.get('bob', 'app', 'mine'), undefined);
      await store.inputs.create('bob', 'app', { id: 'mine', data: { text: { raw: 'bob' } } });
      assert.deepEqual((await store.inputs.get('bob', 'app', 'mine'))?.data, { text: { raw: 'bob' } });
      assert.deepEqual((await store.inputs.get('alice', 'app', 'mine'))?.data, { text: { raw: 'alice' } });
      assert.deepEqual(
        (await store.inputs.list('bob', 'app')).map((i) => i.id),
        ['mine'],
      );
    });

    test('list pages newest first without overlap', async () => {
      const clock = fakeClock();
      const paging = await backend.open({ now: clock.now });
      try {
        await paging.users.create({ id: 'carol' });
        await paging.apps.ensure('carol', 'app');
        for (const id of ['a', 'b', 'c', 'd', 'e']) {
          await paging.inputs.create('carol', 'app', { id, data: {} });
          clock.advance(1);
        }
        const page1 = await paging.inputs.list('carol', 'app', { page: 1, perPage: 2 });
        const page2 = await paging.inputs.list('carol', 'app', { page: 2, perPage: 2 });
        const page3 = await paging.inputs.list('carol', 'app', { page: 3, perPage: 2 });
        assert.deepEqual(
          [...page1, ...page2, ...page3].map((i) => i.id),
          ['e', 'd', 'c', 'b', 'a'],
        );
      } finally {
        await paging.close();
      }
    });

    test('bad ids, bad data and missing apps are refused', async () => {
      await rejectsWithCode(
        store.inputs.create('alice', 'app', { id: '../x', data: {} }),
        StatusCode.INPUT_INVALID_ARGUMENT,
      );
      await rejectsWithCode(
        store.inputs.create('alice', 'app', { data: 'text' as never }),
        StatusCode.INPUT_INVALID_ARGUMENT,
      );
      await assert.rejects(store.inputs.create('alice', 'nope', { data: {} }), NotFoundError);
      await rejectsWithCode(store.inputs.create('ghost', 'app', { data: {} }), StatusCode.APP_DOES_NOT_EXIST);
    });
  });
});
