/**
 * Compute orchestration as a user runs it on one machine: `clarifai serve`, a compute cluster with
 * a runners nodepool and a deployment on it, and `clarifai runner` processes serving that
 * nodepool. The documented `--deployment_id` and `-cc_id/-np_id` commands run verbatim and are
 * answered by the runners; killing a runner under load loses no prediction; a runner that joins
 * later gets work; selectors naming a missing or someone else's resource get Clarifai's status.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StatusCode } from '../../src/core/status.js';
import { conceptNames, isolatedEnv, PHOTOS, RECOGNITION_URL, runCli } from '../helpers/cli.js';
import { bootstrapPat, startClarifai, startServe, type Served, type Started } from '../helpers/serve.js';

const MODEL = { user_id: 'clarifai', app_id: 'main', id: 'general-image-recognition' };
const DOGS = join(PHOTOS, 'dogs.jpg');

describe('deployments answered by runner processes', () => {
  const env = isolatedEnv();
  let served: Served;
  let pat: string;
  const runners: Started[] = [];

  async function api(method: string, path: string, body?: unknown, key = pat) {
    const res = await fetch(`${served.url}${path}`, {
      method,
      headers: {
        authorization: `Key ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { http: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  async function startRunner(name: string): Promise<Started> {
    const runner = await startClarifai(
      [
        'runner',
        '-cc_id',
        'edge',
        '-np_id',
        'cpu',
        '--api-url',
        served.url,
        '--concurrency',
        '2',
        '--verbose',
        '--runner_id',
        name,
      ],
      { ...env, CLARIFAI_PAT: pat },
      new RegExp(`runner ${name} serving nodepool edge/cpu`),
    );
    runners.push(runner);
    return runner;
  }

  const itemsServed = (r: Started) =>
    (r.output().match(/^item \S+ clarifai\/main\/general-image-recognition: 10000/gm) ?? []).length;

  const predictBody = (selector: Record<string, unknown>) => ({
    inputs: [{ data: { image: { base64: readFileSync(DOGS).toString('base64') } } }],
    runner_selector: selector,
  });

  before(async () => {
    const dataDir = join(env.SIBYL_HOME!, 'server');
    served = await startServe(['--data-dir', dataDir, '--quiet'], env);
    pat = bootstrapPat(served);
    const login = await runCli(['login', '--config', join(dataDir, 'bootstrap.yaml')], env);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(
      (await api('POST', '/v2/users/me/compute_clusters', { compute_clusters: [{ id: 'edge' }] })).http,
      200,
    );
    const pool = await api('POST', '/v2/users/me/compute_clusters/edge/nodepools', {
      nodepools: [{ id: 'cpu' }],
    });
    assert.equal(pool.http, 200, JSON.stringify(pool.body));
    const dep = await api('POST', '/v2/users/me/deployments', {
      deployments: [
        { id: 'dogs', worker: { model: MODEL }, nodepools: [{ id: 'cpu', compute_cluster: { id: 'edge' } }] },
      ],
    });
    assert.equal(dep.http, 200, JSON.stringify(dep.body));
  });

  after(async () => {
    await Promise.all(runners.map((r) => r.kill()));
    await served?.stop();
  });

  it('with no live runner a deployment is refused within seconds, with a way forward', async () => {
    const res = await api('POST', '/v2/users/me/deployments/dogs/outputs', {
      ...predictBody({}),
      runner_selector: undefined,
    });
    // the nodepool has no runner: the one pool hands over to nobody, so the caller is told
    assert.equal(res.http, 503, JSON.stringify(res.body));
    assert.equal(res.body.status.code, StatusCode.RUNNER_NEEDS_RETRY);
    assert.match(res.body.status.details, /nodepool .*edge\/cpu has no live runner.*clarifai runner/);
  });

  it('a runner registers over REST too (POST .../runners is PostRunners, declared before PatchRunners)', async () => {
    const path = '/v2/users/me/compute_clusters/edge/nodepools/cpu/runners';
    const made = await api('POST', path, { runners: [{ id: 'rest-made', description: 'by curl' }] });
    assert.equal(made.http, 200, JSON.stringify(made.body));
    assert.equal(made.body.runners[0].id, 'rest-made');
    const gone = await api('DELETE', path, { ids: ['rest-made'] });
    assert.equal(gone.http, 200, JSON.stringify(gone.body));
  });

  it('the documented --deployment_id and -cc_id/-np_id commands are answered by the runners', async () => {
    const first = await startRunner('box-1');
    await startRunner('box-2');
    const byDeployment = await runCli(
      ['model', 'predict', '--model_url', RECOGNITION_URL, '--file_path', DOGS, '--deployment_id', 'dogs'],
      env,
    );
    assert.equal(byDeployment.code, 0, byDeployment.stderr);
    assert.equal(conceptNames(byDeployment.stdout)[0], 'dog');
    const byPool = await runCli(
      [
        'model',
        'predict',
        '--model_url',
        RECOGNITION_URL,
        '--file_path',
        DOGS,
        '-cc_id',
        'edge',
        '-np_id',
        'cpu',
      ],
      env,
    );
    assert.equal(byPool.code, 0, byPool.stderr);
    assert.equal(conceptNames(byPool.stdout)[0], 'dog');
    const local = await runCli(
      ['model', 'predict', '--model_url', RECOGNITION_URL, '--file_path', DOGS],
      env,
    );
    assert.deepEqual(
      conceptNames(byDeployment.stdout),
      conceptNames(local.stdout),
      'a runner answers as this server',
    );
    const total = runners.reduce((n, r) => n + itemsServed(r), 0);
    assert.equal(total, 2, `the two routed predictions ran on runners:\n${first.output()}`);
  });

  it('killing a runner under load loses no prediction, and a runner that joins later gets work', async () => {
    const [box1] = runners;
    const before = runners.map(itemsServed);
    const load = Array.from({ length: 24 }, () =>
      api('POST', '/v2/users/me/deployments/dogs/outputs', predictBody({})),
    );
    await new Promise((r) => setTimeout(r, 300));
    await box1!.kill(); // SIGKILL: its items in flight are lost on its side
    const results = await Promise.all(load);
    for (const res of results) {
      assert.equal(res.http, 200, JSON.stringify(res.body.status));
      assert.equal(res.body.outputs[0].data.concepts[0].name, 'dog');
    }
    const late = await startRunner('box-3');
    await runners[1]!.stop();
    const more = await Promise.all(
      Array.from({ length: 4 }, () => api('POST', '/v2/users/me/deployments/dogs/outputs', predictBody({}))),
    );
    for (const res of more) assert.equal(res.http, 200, JSON.stringify(res.body.status));
    assert.equal(itemsServed(late), 4, 'the runner that joined took the work');
    assert.ok(runners.map(itemsServed).reduce((a, b) => a + b, 0) >= before.reduce((a, b) => a + b, 0) + 28);
  });

  it('a failover deployment goes on to the next nodepool; a spread one shares the work', async () => {
    assert.equal(
      (await api('POST', '/v2/users/me/compute_clusters/edge/nodepools', { nodepools: [{ id: 'idle' }] }))
        .http,
      200,
    );
    const made = await api('POST', '/v2/users/me/deployments', {
      deployments: [
        {
          id: 'fallback',
          worker: { model: MODEL },
          // no runner serves edge/idle: this server's own workers answer
          nodepools: [
            { id: 'idle', compute_cluster: { id: 'edge' } },
            { id: 'local', compute_cluster: { id: 'local' } },
          ],
        },
        {
          id: 'spread',
          worker: { model: MODEL },
          scheduling_choice: 2,
          nodepools: [
            { id: 'cpu', compute_cluster: { id: 'edge' } },
            { id: 'local', compute_cluster: { id: 'local' } },
          ],
        },
      ],
    });
    assert.equal(made.http, 200, JSON.stringify(made.body));
    const before = runners.reduce((n, r) => n + itemsServed(r), 0);
    const fallback = await api('POST', '/v2/users/me/deployments/fallback/outputs', predictBody({}));
    assert.equal(fallback.http, 200, JSON.stringify(fallback.body.status));
    assert.equal(fallback.body.outputs[0].data.concepts[0].name, 'dog');
    assert.equal(
      runners.reduce((n, r) => n + itemsServed(r), 0),
      before,
      'no runner was asked',
    );
    const spread = await Promise.all(
      Array.from({ length: 16 }, () =>
        api('POST', '/v2/users/me/deployments/spread/outputs', predictBody({})),
      ),
    );
    for (const res of spread) assert.equal(res.http, 200, JSON.stringify(res.body.status));
    const onRunners = runners.reduce((n, r) => n + itemsServed(r), 0) - before;
    assert.ok(onRunners > 0 && onRunners < 16, `runners took ${onRunners} of 16; the rest ran here`);
  });

  it('a runner whose key is revoked is cut off within a beat, not at its next reconnect', async () => {
    const made = await api('POST', '/v2/users/me/keys', { keys: [{ description: 'runner key' }] });
    assert.equal(made.http, 200, JSON.stringify(made.body));
    const token = (made.body.keys[0] as { id: string }).id;
    const runner = await startClarifai(
      ['runner', '-cc_id', 'edge', '-np_id', 'cpu', '--api-url', served.url, '--runner_id', 'revoked'],
      { ...env, CLARIFAI_PAT: token },
      /runner revoked serving nodepool edge\/cpu/,
    );
    runners.push(runner);
    assert.equal((await api('DELETE', `/v2/users/me/keys/${encodeURIComponent(token)}`)).http, 200);
    const code = await Promise.race([
      runner.exited,
      new Promise((r) => setTimeout(() => r('still running'), 15_000)),
    ]);
    assert.equal(code, 1, `exit ${String(code)}:\n${runner.output()}`);
    assert.match(runner.output(), /revoked|key/i);
    assert.ok(!runner.output().includes(token), 'the token is never printed');
  });

  it('selectors naming a missing or foreign resource get Clarifai status codes', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [
        { deployment: { id: 'nope' } },
        StatusCode.DEPLOYMENT_DOES_NOT_EXIST,
        /deployment "nope" does not exist/,
      ],
      [
        { nodepool: { id: 'cpu', compute_cluster: { id: 'nope' } } },
        StatusCode.COMPUTE_CLUSTER_DOES_NOT_EXIST,
        /compute cluster "nope"/,
      ],
      [
        { nodepool: { id: 'gpu', compute_cluster: { id: 'edge' } } },
        StatusCode.NODEPOOL_DOES_NOT_EXIST,
        /nodepool "gpu" does not exist in compute cluster "edge"/,
      ],
    ];
    for (const [selector, code, details] of cases) {
      const res = await api(
        'POST',
        '/v2/users/clarifai/apps/main/models/general-image-recognition/outputs',
        predictBody(selector),
      );
      assert.equal(res.http, 404, JSON.stringify(res.body));
      assert.equal(res.body.status.code, code);
      assert.match(res.body.status.details, details);
    }
    // another user's deployment is "does not exist" too, never "not yours"
    const made = await api('POST', '/v2/users', { user: { id: 'mallory' }, key: { description: 'mallory' } });
    assert.equal(made.http, 200, JSON.stringify(made.body));
    const key = made.body.key.id as string;
    const own = await api('POST', '/v2/users/me/deployments/dogs/outputs', predictBody({}), key);
    assert.equal(own.body.status.code, StatusCode.DEPLOYMENT_DOES_NOT_EXIST);
    const foreign = await api(
      'POST',
      '/v2/users/clarifai/apps/main/models/general-image-recognition/outputs',
      predictBody({ deployment: { id: 'dogs', user_id: 'admin' } }),
      key,
    );
    assert.equal(foreign.http, 404);
    assert.equal(foreign.body.status.code, StatusCode.DEPLOYMENT_DOES_NOT_EXIST);
    assert.match(foreign.body.status.details, /deployment "dogs" does not exist for user "admin"/);
    const cli = await runCli(
      ['model', 'predict', '--model_url', RECOGNITION_URL, '--file_path', DOGS, '--deployment_id', 'nope'],
      env,
    );
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /deployment "nope" does not exist/);
  });
});
