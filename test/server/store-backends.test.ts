// The server on each store backend: two instances on one Postgres act as one service, and a server
// killed with SIGKILL while inputs are written loses no input it acknowledged (SQLite and Postgres).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { openServerApp, type ServerApp } from '../../src/server/open.js';
import { openStore, type StoreLocation } from '../../src/store/index.js';
import {
  describeEachBackend,
  describePostgres,
  freshPostgresDatabase,
  dropPostgresDatabase,
} from '../helpers/store-backends.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-backends-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: { status?: { code?: number }; inputs?: { id?: string }[]; model?: { id?: string } };
}

async function call(base: string, method: string, path: string, key: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Key ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

describePostgres('two server instances on one Postgres', (baseUrl) => {
  test('serve the same users, keys, models and inputs', async () => {
    const { url, name } = await freshPostgresDatabase(baseUrl);
    const open = () =>
      openServerApp({
        dataDir: tempDir(),
        databaseUrl: url,
        allowPrivateUrls: false,
        warmUp: false,
        engine: { workers: 1 },
      });
    // Started together: the migrations and built-in models are written once between them.
    const servers: ServerApp[] = await Promise.all([open(), open()]);
    try {
      const [a, b] = servers as [ServerApp, ServerApp];
      const [urlA, urlB] = await Promise.all(
        servers.map((s) => s.app.listen({ host: '127.0.0.1', port: 0 })),
      );
      assert.equal(a.adminUserId, b.adminUserId);

      // A key made through one instance works on the other; a revoked one on neither.
      await a.store.users.create({ id: 'carol' });
      await a.store.apps.ensure('carol', 'notes');
      const pat = await a.store.pats.create('carol', 'two instances');
      const inputs = '/v2/users/carol/apps/notes/inputs';
      const posted = await call(urlA!, 'POST', inputs, pat.token, {
        inputs: [{ id: 'from-a', data: { text: { raw: 'written through A' } } }],
      });
      assert.equal(posted.status, 200, JSON.stringify(posted.body));
      const listed = await call(urlB!, 'GET', inputs, pat.token);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.deepEqual(
        listed.body.inputs?.map((i) => i.id),
        ['from-a'],
      );
      const postedB = await call(urlB!, 'POST', inputs, pat.token, {
        inputs: [{ id: 'from-b', data: { text: { raw: 'written through B' } } }],
      });
      assert.equal(postedB.status, 200);
      assert.equal((await call(urlA!, 'GET', `${inputs}/from-b`, pat.token)).status, 200);

      // A model created through one is visible on the other.
      await b.store.models.create({
        userId: 'carol',
        appId: 'notes',
        id: 'mine',
        modelTypeId: 'text-to-text',
      });
      const model = await call(urlA!, 'GET', '/v2/users/carol/apps/notes/models/mine', pat.token);
      assert.equal(model.status, 200, JSON.stringify(model.body));
      assert.equal(model.body.model?.id, 'mine');

      assert.equal(await b.store.pats.revoke(pat.id), true);
      for (const base of [urlA!, urlB!])
        assert.equal((await call(base, 'GET', inputs, pat.token)).status, 401);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await dropPostgresDatabase(baseUrl, name);
    }
  });
});

/** Starts the child server; resolves with it and its URL once it listens. */
async function startChild(dataDir: string, databaseUrl?: string) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'test/server/serve-store-child.ts'),
      dataDir,
      ...(databaseUrl ? [databaseUrl] : []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
  return { child, url, exited: new Promise<void>((r) => child.once('exit', () => r())) };
}

describeEachBackend('SIGKILL while inputs are written', (backend) => {
  test('loses no acknowledged input', async () => {
    const dataDir = tempDir();
    const where: StoreLocation = backend.name === 'sqlite' ? { dataDir } : await backend.fresh();
    const databaseUrl = 'postgresUrl' in where ? where.postgresUrl : undefined;
    const setup = await openStore(where);
    await setup.users.create({ id: 'writer' });
    await setup.apps.ensure('writer', 'app');
    const { token } = await setup.pats.create('writer');
    await setup.close();

    const { child, url, exited } = await startChild(dataDir, databaseUrl);
    const acknowledged: string[] = [];
    let refused = 0;
    let n = 0;
    const writer = async () => {
      for (;;) {
        const id = `in-${++n}`;
        try {
          const reply = await call(url, 'POST', '/v2/users/writer/apps/app/inputs', token, {
            inputs: [{ id, data: { text: { raw: `input ${id}` } } }],
          });
          if (reply.status === 200) acknowledged.push(id);
          else refused++;
        } catch {
          return; // the server is gone
        }
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    while (acknowledged.length < 150) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await exited;
    await Promise.all(writers);
    assert.equal(refused, 0);

    const store = await openStore(where);
    try {
      const missing = [];
      for (const id of acknowledged) if (!(await store.inputs.get('writer', 'app', id))) missing.push(id);
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged inputs lost`);
    } finally {
      await store.close();
    }
  });
});
