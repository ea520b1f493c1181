/**
 * `clarifai model local-runner MODEL_PATH` as a user runs it against `clarifai serve` on loopback:
 * it creates the compute cluster, nodepool, model (uploaded from the folder) and deployment that
 * Clarifai's command uses, prints the predict command to try, and the command it prints, run
 * verbatim but for the input, is answered by the runner from the folder. A second start finds
 * everything in place. Every process is stopped in `after`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { onnxClassifierFolder, RGB, solidPng } from '../helpers/model-folders.js';
import { freePort, startCli, type Proc } from '../helpers/process-group.js';
import { rest, startServer } from './processes.js';

describe('clarifai model local-runner', () => {
  const home = mkdtempSync(join(tmpdir(), 'sibyl-local-runner-'));
  const procs: Proc[] = [];
  let server: Awaited<ReturnType<typeof startServer>>;
  let env: Record<string, string>;
  let folder: string;
  let red: string;

  before(async () => {
    env = isolatedEnv();
    server = await startServer(await freePort(), join(home, 'server'), env);
    procs.push(server);
    env = { ...env, CLARIFAI_PAT: server.pat, CLARIFAI_API_BASE: server.url };
    folder = await onnxClassifierFolder(join(home, 'colour'), {
      model: { user_id: 'admin', app_id: 'models' },
    });
    red = join(home, 'red.png');
    writeFileSync(red, await solidPng(RGB.red));
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  const start = (): Proc => {
    const p = startCli(
      ['model', 'local-runner', folder, '--verbose', '--data-dir', join(home, 'runner')],
      env,
    );
    procs.push(p);
    return p;
  };

  it('creates what it needs, prints the command to try, and answers it from the folder', async () => {
    const p = start();
    const tryIt = await p.waitFor(/try it: (clarifai model predict .*)\n/, 60_000);
    await p.waitFor(/runner \S+ serving nodepool local-runner-compute-cluster\/local-runner-nodepool at /);
    for (const what of [
      'compute cluster local-runner-compute-cluster: created',
      'nodepool local-runner-nodepool: created',
      'model admin/models/colour-classifier: uploaded from',
      'deployment local-runner-deployment: created',
    ])
      assert.ok(p.output().includes(what), `"${what}" in:\n${p.output()}`);
    const printed = tryIt[1]!.split(' ').slice(1);
    assert.deepEqual(printed.slice(-2), ['--file_path', 'FILE']);
    const r = await runCli([...printed.slice(0, -1), red], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split('\n')[1] ?? '', /^red\b/);
    await p.waitFor(/item \S+ admin\/models\/colour-classifier: 10000/);
    p.signal('SIGTERM');
    assert.equal(await p.exited, 0, p.output());
    const dep = await rest(server, 'GET', '/v2/users/admin/deployments/local-runner-deployment');
    assert.equal(dep.status.code, 10000, 'the deployment stays for the next start');
  });

  it('a second start finds the cluster, nodepool, model and deployment in place', async () => {
    const p = start();
    await p.waitFor(/serving nodepool local-runner-compute-cluster\/local-runner-nodepool/, 60_000);
    for (const what of ['compute cluster', 'nodepool', 'model admin/models/colour-classifier', 'deployment'])
      assert.match(p.output(), new RegExp(`^${what}[^\\n]*: ready$`, 'm'));
    assert.doesNotMatch(p.output(), /created|uploaded/);
    p.signal('SIGTERM');
    assert.equal(await p.exited, 0, p.output());
  });

  it('a folder without config.yaml: one line, exit 2', async () => {
    const r = await runCli(['model', 'local-runner', home], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is not a model folder: it has no config\.yaml/);
  });
});
