/**
 * Users, keys and apps from the CLI, typed as a user would, against a real `clarifai serve` logged
 * in with its bootstrap.yaml: a scoped key made, used and refused out of its scope with the scope
 * named, listed without its token, revoked; apps created, listed, deleted; an admin makes a user
 * with a key, and that user cannot see the admin's private app.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conceptNames, isolatedEnv, runCli } from '../helpers/cli.js';
import { startServe, type Served } from '../helpers/serve.js';

const LANGUAGE_URL = 'https://clarifai.com/clarifai/main/models/language-identification';

describe('clarifai pat, app and user against `clarifai serve`', () => {
  const env = isolatedEnv();
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-tenancy-cli-'));
  let served: Served;

  before(async () => {
    served = await startServe(['--data-dir', dataDir, '--quiet'], env);
    const login = await runCli(['login', '--config', join(dataDir, 'bootstrap.yaml')], env);
    assert.equal(login.code, 0, login.stderr);
  });
  after(() => served.stop());

  it('a scoped key predicts, is refused out of scope, is listed without its token, and is revoked', async () => {
    const created = await runCli(
      [
        'pat',
        'create',
        '--description',
        'ci predictions',
        '--scopes',
        'Predict,Models:Get',
        '--expires',
        '30d',
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.split('\n')[0]!;
    assert.match(token, /^sbl_\S{20,}$/);
    assert.match(created.stdout, /scopes: predict, read; expires \d{4}-/);
    assert.match(created.stdout, /shown once only/);
    const scoped = { ...env, CLARIFAI_PAT: token };

    const predicted = await runCli(
      ['model', 'predict', '--model_url', LANGUAGE_URL, '--bytes', 'Guten Tag, wie geht es dir?'],
      scoped,
    );
    assert.equal(predicted.code, 0, predicted.stderr);
    assert.equal(conceptNames(predicted.stdout)[0], 'de');

    const refused = await runCli(['app', 'create', 'nope'], scoped);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /"write" scope/);
    const refusedList = await runCli(['user', 'create', 'eve'], scoped);
    assert.match(refusedList.stderr, /"admin" scope/);

    const list = await runCli(['pat', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes(token), list.stdout);
    assert.match(list.stdout, /^id\s+description\s+scopes\s+token\s+expires\s+last_used\n/);
    const row = list.stdout.split('\n').find((l) => l.includes('ci predictions'));
    assert.ok(row, list.stdout);
    assert.match(row, /ci predictions\s+predict,read\s+sbl_\S+\s+\d{4}-\S+\s+\d{4}-/);
    const json = JSON.parse((await runCli(['pat', 'list', '-o', 'json'], env)).stdout) as {
      keys: { id: string; description: string }[];
    };
    assert.ok(!JSON.stringify(json).includes(token));
    const keyId = json.keys.find((k) => k.description === 'ci predictions')!.id;

    const deleted = await runCli(['pat', 'delete', keyId], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /Revoked key/);
    const after = await runCli(
      ['model', 'predict', '--model_url', LANGUAGE_URL, '--bytes', 'Bonjour'],
      scoped,
    );
    assert.equal(after.code, 1);
    assert.match(after.stderr, /\[11\d{3}\]/);
    const again = await runCli(['pat', 'delete', keyId], env);
    assert.equal(again.code, 1, again.stderr);
  });

  it('checks its flags before sending anything', async () => {
    const bad = await runCli(['pat', 'create', '--expires', 'soon'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--expires must be a duration such as 30d/);
    const past = await runCli(['pat', 'create', '--expires', '2001-01-01'], env);
    assert.equal(past.code, 2);
    const scope = await runCli(['pat', 'create', '--scopes', 'fly'], env);
    assert.equal(scope.code, 2, scope.stderr);
    assert.match(scope.stderr, /unknown scope "fly"/);
    const vis = await runCli(['app', 'create', 'x', '--visibility', 'friends'], env);
    assert.equal(vis.code, 2);
    assert.match(vis.stderr, /--visibility must be public or private/);
    const help = (await runCli(['pat', 'create', '--help'], env)).stdout;
    assert.match(help, /Examples:\n {2}clarifai pat create/);
  });

  it('creates, lists and deletes an app', async () => {
    const created = await runCli(['app', 'create', 'holiday', '--description', 'photos', '-o', 'json'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).app.id, 'holiday');
    const list = await runCli(['app', 'list'], env);
    assert.match(list.stdout, /^holiday\s+private\s+\S+\s+photos$/m);
    const dup = await runCli(['app', 'create', 'holiday'], env);
    assert.equal(dup.code, 2, dup.stderr);
    const deleted = await runCli(['app', 'delete', 'holiday'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.doesNotMatch((await runCli(['app', 'list'], env)).stdout, /holiday/);
    const gone = await runCli(['app', 'delete', 'holiday'], env);
    assert.equal(gone.code, 1, gone.stderr);
  });

  it("an admin creates a user with a key; that user cannot see the admin's private app", async () => {
    assert.equal((await runCli(['app', 'create', 'secret'], env)).code, 0);
    const made = await runCli(['user', 'create', 'alice', '--with-key', '-o', 'json'], env);
    assert.equal(made.code, 0, made.stderr);
    const out = JSON.parse(made.stdout) as { user: { id: string }; key: { id: string } };
    assert.equal(out.user.id, 'alice');
    const alice = { ...env, CLARIFAI_PAT: out.key.id };
    assert.equal((await runCli(['app', 'create', 'mine'], alice)).code, 0);
    const apps = await runCli(['app', 'list'], alice);
    assert.match(apps.stdout, /^mine\s+private/m);
    assert.doesNotMatch(apps.stdout, /secret/);
    const peek = await runCli(['input', 'list', '--app_id', 'secret'], {
      ...alice,
      CLARIFAI_USER_ID: 'admin',
    });
    assert.notEqual(peek.code, 0);
    const notAdmin = await runCli(['user', 'create', 'mallory'], alice);
    assert.equal(notAdmin.code, 1, notAdmin.stderr);
    assert.match(notAdmin.stderr, /"admin" scope/);
  });
});

describe('clarifai serve limit flags', () => {
  it('refuses bad values with the flag and its range', async () => {
    const env = isolatedEnv();
    const cases: [string[], RegExp][] = [
      [['--body-budget', '10'], /--body-budget must be a whole number from 64 to/],
      [['--request-timeout', '0'], /--request-timeout must be a whole number from 1 to/],
      [['--max-connections', 'lots'], /--max-connections must be a whole number from 1 to .*got "lots"/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['serve', '--port', '0', ...flags], env);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    }
  });

  it('--max-connections closes connections past the limit; the other flags start a server', async () => {
    const env = isolatedEnv();
    const served = await startServe(
      ['--quiet', '--max-connections', '1', '--body-budget', '64', '--request-timeout', '30'],
      env,
    );
    try {
      const { hostname, port } = new URL(served.url);
      const open = () => connect(Number(port), hostname);
      const first = open();
      await new Promise<void>((resolve) => first.once('connect', () => resolve()));
      const second = open();
      const closed = await new Promise<boolean>((resolve) => {
        second.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 3000);
      });
      first.destroy();
      second.destroy();
      assert.ok(closed, 'the second connection should be closed at once');
    } finally {
      await served.stop();
    }
  });
});
