/**
 * `clarifai computecluster|nodepool|deployment` typed as a user would, with Clarifai-style YAML
 * configs, on the embedded engine and against a real `clarifai serve` logged in with its
 * bootstrap.yaml: clusters, a runners nodepool and an endpoint nodepool made, listed (the built-in
 * local/local first), a model deployed on them, deletes of things in use refused with the reason,
 * then everything deleted in order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { startServe, type Served } from '../helpers/serve.js';

const MODEL = 'clarifai/main/models/language-identification';

/** Clarifai's example configs (tests/compute_orchestration/configs), aimed at this machine. */
function writeConfigs(dir: string): { cc: string; np: string; dp: string; bad: string } {
  const files = {
    cc: join(dir, 'compute_cluster.yaml'),
    np: join(dir, 'nodepool.yaml'),
    dp: join(dir, 'deployment.yaml'),
    bad: join(dir, 'bad.yaml'),
  };
  writeFileSync(
    files.cc,
    `compute_cluster:
  id: "lab"
  description: "My lab cluster"
  cloud_provider:
      id: "local"
  region: "us-east-1"
  managed_by: "me"
  cluster_type: "dedicated"
  visibility:
    gettable: 10
`,
  );
  writeFileSync(
    files.np,
    `nodepool:
  id: "gpus"
  compute_cluster:
    id: "lab"
  description: "First nodepool in the lab"
  instance_types:
    - id: "g5.xlarge"
      compute_info:
        cpu_limit: "8"
        num_accelerators: 1
  node_capacity_type:
    capacity_types:
      - 1
  max_instances: 2
  min_instances: 0
`,
  );
  writeFileSync(
    files.dp,
    `deployment:
  id: "lang"
  description: "language id on the lab"
  autoscale_config:
    min_replicas: 0
    max_replicas: 1
    traffic_history_seconds: 100
  worker:
    model:
      id: "language-identification"
      user_id: "clarifai"
      app_id: "main"
  scheduling_choice: 4
  nodepools:
    - id: "gpus"
      compute_cluster:
          id: "lab"
    - id: "local"
      compute_cluster:
          id: "local"
`,
  );
  writeFileSync(files.bad, `nodepools:\n  id: x\n`);
  return files;
}

function scenario(name: string, envOf: () => Record<string, string>): void {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-compute-cli-'));
  const files = writeConfigs(dir);
  const cli = (...args: string[]) => runCli(args, envOf());

  it(`${name}: clusters and nodepools from Clarifai's YAML and from flags`, async () => {
    let r = await cli('computecluster', 'create', '--config', files.cc);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Created compute cluster lab of user \S+\.\n$/);
    r = await cli('cc', 'c', 'spare', '--description', 'for later');
    assert.equal(r.code, 0, r.stderr);
    r = await cli('cc', 'ls');
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n');
    assert.match(rows[0]!, /^ID\s+USER_ID\s+DESCRIPTION$/);
    assert.deepEqual(
      rows.slice(1, 4).map((l) => l.split(/\s+/)[0]),
      ['local', 'lab', 'spare'],
    );
    assert.match(r.stdout, /lab\s+\S+\s+My lab cluster/);
    r = await cli('cc', 'ls', '--page_no', '2', '--per_page', '2', '-o', 'json');
    assert.deepEqual(
      (JSON.parse(r.stdout) as { compute_clusters: { id: string }[] }).compute_clusters.map((c) => c.id),
      ['spare'],
    );

    r = await cli('nodepool', 'create', '--config', files.np);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created nodepool lab\/gpus \(runners\)\./);
    r = await cli(
      'np',
      'c',
      'lab',
      'triton',
      '--endpoint',
      'oip=http://127.0.0.1:8000',
      '--endpoint-model',
      'resnet',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created nodepool lab\/triton \(endpoint\)\./);
    r = await cli('np', 'c', 'lab', 'bad', '--endpoint', 'oip=host:8000');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /base_url must be an absolute http:\/\/ or https:\/\/ URL; got "host:8000"/);
    r = await cli('np', 'c', 'lab', 'bad', '--endpoint', 'grpc=http://h');
    assert.match(r.stderr, /protocol must be one of oip, openai, clarifai/);
    r = await cli('np', 'c', 'lab', 'bad', '--config', files.bad);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nodepool/);
    r = await cli('np', 'ls');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ID\s+USER_ID\s+COMPUTE_CLUSTER_ID\s+DESCRIPTION\s+KIND\n/);
    assert.match(r.stdout.split('\n')[1]!, /^local\s+\S+\s+local\s/);
    assert.match(r.stdout, /gpus\s+\S+\s+lab\s+First nodepool in the lab\s+runners/);
    assert.match(r.stdout, /triton\s+\S+\s+lab\s+endpoint oip http:\/\/127\.0\.0\.1:8000/);
    r = await cli('np', 'ls', 'lab', '-o', 'json');
    const pools = (JSON.parse(r.stdout) as { nodepools: { id: string; max_instances?: number }[] }).nodepools;
    assert.deepEqual(
      pools.map((p) => p.id),
      ['gpus', 'triton'],
    );
    assert.equal(pools[0]!.max_instances, 2);
  });

  it(`${name}: deployments from YAML and from --model, listed by nodepool`, async () => {
    let r = await cli('deployment', 'create', 'gpus', '--config', files.dp);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Created deployment lang: ${MODEL} on lab/gpus, local/local\\.`));
    r = await cli('dp', 'c', 'local', 'lang-here', '--model', `https://clarifai.com/${MODEL}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /on local\/local\./);
    r = await cli('dp', 'c', 'gpus', 'nothing', '--model', 'clarifai/main/models/no-such-model');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no model clarifai\/main\/no-such-model/);
    r = await cli('dp', 'c', 'nowhere', 'x', '--model', MODEL);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /you have no nodepool "nowhere"/);
    r = await cli('dp', 'ls');
    assert.match(r.stdout, /^ID\s+MODEL_ID\s+MODEL_VERSION\s+NODEPOOL_ID\s+COMPUTE_CLUSTER\n/);
    assert.match(r.stdout, /lang\s+language-identification\s+-\s+gpus\s+lab/);
    assert.match(r.stdout, /lang-here\s+language-identification\s+-\s+local\s+local/);
    r = await cli('dp', 'ls', 'gpus', '-o', 'json');
    const deps = (JSON.parse(r.stdout) as { deployments: { id: string; scheduling_choice?: number }[] })
      .deployments;
    assert.deepEqual(
      deps.map((d) => d.id),
      ['lang'],
    );
    assert.equal(deps[0]!.scheduling_choice, 4);
  });

  it(`${name}: what is in use is not deleted; then everything goes, in order`, async () => {
    let r = await cli('cc', 'rm', 'lab');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /compute cluster "lab" still has nodepools "gpus", "triton": delete them first/);
    r = await cli('np', 'rm', 'lab', 'gpus');
    assert.match(r.stderr, /nodepool "gpus" of compute cluster "lab" is used by deployments "lang"/);
    r = await cli('cc', 'rm', 'local');
    assert.match(r.stderr, /"local" is built in/);
    for (const args of [
      ['deployment', 'delete', 'lang'],
      ['dp', 'rm', 'lang-here'],
      ['nodepool', 'delete', 'lab', 'gpus'],
      ['np', 'rm', 'lab', 'triton'],
      ['computecluster', 'delete', 'lab'],
      ['cc', 'rm', 'spare', '-o', 'json'],
    ]) {
      r = await cli(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(r.stdout, '{"deleted":{"compute_cluster_id":"spare"}}\n');
    r = await cli('dp', 'ls');
    assert.match(r.stdout, /^No deployments found\./);
    r = await cli('cc', 'ls', '-o', 'json');
    assert.deepEqual(
      (JSON.parse(r.stdout) as { compute_clusters: { id: string }[] }).compute_clusters.map((c) => c.id),
      ['local'],
    );
  });
}

describe('compute commands on the embedded engine', () => {
  const env = isolatedEnv();
  scenario('embedded', () => env);
});

describe('compute commands against `clarifai serve`', () => {
  const env = isolatedEnv();
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-compute-serve-'));
  let served: Served | undefined;

  before(async () => {
    served = await startServe(['--data-dir', dataDir, '--quiet'], env);
    const login = await runCli(['login', '--config', join(dataDir, 'bootstrap.yaml')], env);
    assert.equal(login.code, 0, login.stderr);
  });
  after(() => served?.stop());

  scenario('served', () => env);
});
