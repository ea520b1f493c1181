/**
 * Contexts like Clarifai's CLI, typed as a user would: two logins to a `clarifai serve`, listing
 * and switching them, whoami, a logout that says where the next command really goes, a stopped
 * server answered with what to do, a base_url without a scheme refused; inputs listed, used from
 * any app and deleted; model get; every command's help with examples; a bad data directory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conceptNames, isolatedEnv, runCli } from '../helpers/cli.js';
import { startServe, type Served } from '../helpers/serve.js';

const LANGUAGE_URL = 'https://clarifai.com/clarifai/main/models/language-identification';

describe('contexts, whoami and logout against `clarifai serve`', () => {
  const env = isolatedEnv();
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-ctx-serve-'));
  let served: Served;
  let bootstrap: string;

  before(async () => {
    served = await startServe(['--data-dir', dataDir, '--quiet'], env);
    bootstrap = join(dataDir, 'bootstrap.yaml');
  });
  after(() => served.stop());

  it('saves two contexts, lists them and switches between them', async () => {
    for (const name of ['one', 'two']) {
      const login = await runCli(['login', '--config', bootstrap, '--context', name], env);
      assert.equal(login.code, 0, login.stderr);
    }
    const list = await runCli(['config', 'get-contexts'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^\s+NAME\s+USER_ID\s+API_BASE\s+PAT\n\s+one\s+admin\s+http:\/\/127\.0\.0\.1:\d+\s+sbl_\S{4}\*{4}\n\*\s+two\s+admin/,
    );
    assert.doesNotMatch(list.stdout, /sbl_\S{10,}/);
    assert.equal((await runCli(['config', 'get-contexts', '-o', 'name'], env)).stdout, 'one\ntwo\n');
    assert.equal((await runCli(['config', 'current-context'], env)).stdout, 'two\n');
    const use = await runCli(['config', 'use-context', 'one'], env);
    assert.match(
      use.stdout,
      /Switched to context "one"\. Commands now go to http:\/\/127\.0\.0\.1:\d+ \(context "one" in /,
    );
    assert.equal((await runCli(['config', 'current-context'], env)).stdout, 'one\n');
    const unknown = await runCli(['config', 'use-context', 'three'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no context named "three" in .*; there are: one, two/);
    const view = await runCli(['config', 'view', '-o', 'json'], env);
    const doc = JSON.parse(view.stdout);
    assert.equal(doc.current_context, 'one');
    assert.match(doc.contexts.two.CLARIFAI_PAT, /^sbl_\S{4}\*{4}$/);
    await runCli(['config', 'use-context', 'two'], env);
  });

  it('whoami asks the server who the key is', async () => {
    const who = await runCli(['whoami'], env);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^User:\s+admin\nContext:\s+two @ http:\/\/127\.0\.0\.1:\d+\n$/);
    const json = JSON.parse((await runCli(['whoami', '-o', 'json'], env)).stdout);
    assert.equal(json.user_id, 'admin');
    assert.equal(json.api_base, served.url);
    const wrong = await runCli(['whoami'], { ...env, CLARIFAI_PAT: 'sbl_wrong' });
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /\[11008\] \(from the server at http:\/\/127\.0\.0\.1:\d+, CLARIFAI_PAT; req_id \S+\); log in again/,
    );
  });

  it('an input uploaded into any app is found by --input_id, listed and deleted', async () => {
    const upload = await runCli(
      [
        'input',
        'upload',
        '--bytes',
        'Guten Morgen, wie geht es Ihnen heute?',
        '--app_id',
        'myapp',
        '--input_id',
        'greet',
      ],
      env,
    );
    assert.equal(upload.code, 0, upload.stderr);
    const predicted = await runCli(
      ['model', 'predict', '--model_url', LANGUAGE_URL, '--input_id', 'greet'],
      env,
    );
    assert.equal(predicted.code, 0, predicted.stderr);
    assert.equal(conceptNames(predicted.stdout)[0], 'de');
    const list = await runCli(['input', 'list'], env);
    assert.match(list.stdout, /^app_id\s+input_id\s+type\s+created_at\nmyapp\s+greet\s+text\s+\d{4}-/);
    const del = await runCli(['input', 'delete', 'greet'], env);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, 'Deleted "greet" from app myapp.\n');
    assert.match((await runCli(['input', 'list'], env)).stdout, /^no inputs/);
    const gone = await runCli(['input', 'delete', 'greet'], env);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no input "greet" in any of your apps \(myapp\); nothing was deleted/);
  });

  it('model get shows the type, the latest version, params and concepts', async () => {
    const got = await runCli(['model', 'get', 'clarifai/main/models/general-image-detection'], env);
    assert.equal(got.code, 0, got.stderr);
    assert.match(
      got.stdout,
      /^model_url\s+https:\/\/clarifai\.com\/clarifai\/main\/models\/general-image-detection\n/,
    );
    assert.match(got.stdout, /\ntype\s+visual-detector \(takes image\)\n/);
    assert.match(got.stdout, /\nversion\s+[0-9a-f]+ \(latest\)/);
    assert.match(got.stdout, /\nparams\s+.*min_score=0\.3/);
    assert.match(got.stdout, /\nconcepts\s+80: person, bicycle/);
    const typo = await runCli(['model', 'get', 'clarifai/main/models/general-image-detector'], env);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /did you mean clarifai\/main\/models\/general-image-detection\?/);
  });

  it('refuses a base_url without a scheme, saying what to write', async () => {
    const pat = /pat: (\S+)/.exec(readFileSync(bootstrap, 'utf8'))![1]!;
    const dir = mkdtempSync(join(tmpdir(), 'sibyl-ctx-'));
    const port = new URL(served.url).port;
    writeFileSync(join(dir, 'login.yaml'), `user_id: admin\npat: ${pat}\nbase_url: 127.0.0.1:${port}\n`);
    const login = await runCli(['login', '--config', join(dir, 'login.yaml')], env);
    assert.equal(login.code, 2);
    assert.match(
      login.stderr,
      new RegExp(
        `base_url in .*login\\.yaml "127\\.0\\.0\\.1:${port}" has no scheme: write http://127\\.0\\.0\\.1:${port}`,
      ),
    );
    const viaEnv = await runCli(['model', 'list'], { ...env, CLARIFAI_API_BASE: `127.0.0.1:${port}` });
    assert.equal(viaEnv.code, 2);
    assert.match(viaEnv.stderr, /CLARIFAI_API_BASE "127\.0\.0\.1:\d+" has no scheme/);
  });

  it('logout of another context says the truth: commands still go to the current one', async () => {
    const out = await runCli(['logout', '--context', 'one'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      /^Logged out of context "one" \(removed from .*\)\. Commands now go to http:\/\/127\.0\.0\.1:\d+ \(context "two" in .*\)\.\n$/,
    );
    assert.match((await runCli(['whoami'], env)).stdout, /Context:\s+two @ /);
  });

  it('a stopped server is answered with what to do next', async () => {
    await served.stop();
    const res = await runCli(['model', 'list'], env);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /^error: cannot reach http:\/\/127\.0\.0\.1:(\d+): connection refused; the address comes from context "two" in .*; is the server running\? start it with `clarifai serve --port \1`, or `clarifai logout` to use the embedded engine\n$/,
    );
    const out = await runCli(['logout'], env);
    assert.match(out.stdout, /Logged out of context "two".*Commands now use the embedded engine \(data in /);
    assert.equal((await runCli(['config', 'current-context'], env)).stdout, '');
    const who = await runCli(['whoami'], env);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /Context:\s+none: the embedded engine/);
  });
});

describe('help', () => {
  const env = isolatedEnv();
  const COMMANDS = [
    [],
    ['help'],
    ['login'],
    ['logout'],
    ['whoami'],
    ['model'],
    ['model', 'predict'],
    ['model', 'get'],
    ['model', 'upload'],
    ['model', 'list'],
    ['input'],
    ['input', 'upload'],
    ['input', 'list'],
    ['input', 'delete'],
    ['config'],
    ['config', 'get-contexts'],
    ['config', 'use-context'],
    ['config', 'current-context'],
    ['config', 'delete-context'],
    ['config', 'view'],
    ['serve'],
  ];

  it('every command has -h, help <command...> and an Examples section', async () => {
    for (const cmd of COMMANDS) {
      const short = await runCli([...cmd, '-h'], env);
      assert.equal(short.code, 0, `${cmd.join(' ')} -h: ${short.stderr}`);
      assert.match(short.stdout, new RegExp(`^Usage: clarifai${cmd.map((c) => ` ${c}`).join('')}`));
      assert.match(short.stdout, /\nExamples:\n {2}clarifai /, cmd.join(' '));
      const viaHelp = await runCli(['help', ...cmd], env);
      assert.equal(viaHelp.stdout, short.stdout, `help ${cmd.join(' ')}`);
    }
  });

  it('the documented predict options are all there, --help among them', async () => {
    const help = (await runCli(['model', 'predict', '--help'], env)).stdout;
    for (const flag of [
      '--config',
      '--model_id',
      '--user_id',
      '--app_id',
      '--model_url',
      '--file_path',
      '--url',
      '--bytes',
      '--input_id',
      '--input_type',
      '-cc_id, --compute_cluster_id',
      '-np_id, --nodepool_id',
      '-dpl_id, --deployment_id',
      '--inference_params',
      '--output_config',
      '--help',
    ])
      assert.ok(help.includes(flag), flag);
  });

  it('an unknown command in help is refused with a suggestion', async () => {
    const res = await runCli(['help', 'model', 'predcit'], env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /clarifai model has no command "predcit"; did you mean predict\?/);
  });
});

describe('a data directory that cannot be used', () => {
  it('fails at once with its path and the reason', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sibyl-dd-')), 'a-file');
    writeFileSync(file, 'x');
    const started = Date.now();
    const proc = await runCli(['model', 'list'], isolatedEnv({ SIBYL_HOME: '/proc/nope' }));
    assert.equal(proc.code, 2);
    assert.equal(
      proc.stderr,
      'error: cannot use the data directory /proc/nope: /proc does not allow creating directories in it\n',
    );
    assert.ok(Date.now() - started < 5000);
    const asFile = await runCli(['model', 'list'], isolatedEnv({ SIBYL_HOME: file }));
    assert.equal(
      asFile.stderr,
      `error: cannot use the data directory ${file}: it is a file, not a directory\n`,
    );
    const below = await runCli(['serve', '--port', '0', '--data-dir', join(file, 'data')], isolatedEnv());
    assert.equal(below.code, 2);
    assert.equal(
      below.stderr,
      `error: cannot use the data directory ${join(file, 'data')}: ${file} is a file, not a directory\n`,
    );
    const serve = await runCli(['serve', '--port', '0', '--data-dir', file], isolatedEnv());
    assert.equal(serve.code, 2);
    assert.doesNotMatch(serve.stderr, /EEXIST/);
  });
});
