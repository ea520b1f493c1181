/**
 * Two API instances on one Postgres answer the same deployment with runners behind them: the work
 * queue is in the database, so a prediction sent to one instance is run by a runner connected to
 * the other. Runs when SIBYL_TEST_DATABASE_URL names a Postgres (always in CI).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { isolatedEnv, PHOTOS } from '../helpers/cli.js';
import { bootstrapPat, startClarifai, startServe, type Served, type Started } from '../helpers/serve.js';
import { describePostgres, dropPostgresDatabase, freshPostgresDatabase } from '../helpers/store-backends.js';

const DOGS = readFileSync(join(PHOTOS, 'dogs.jpg')).toString('base64');

describePostgres('two API instances on one Postgres, runners behind each', (baseUrl) => {
  const env = isolatedEnv();
  const apis: Served[] = [];
  const runners: Started[] = [];
  let database: { url: string; name: string };
  let pat: string;

  async function call(api: Served, method: string, path: string, body?: unknown) {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Key ${pat}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { http: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  const predict = (api: Served) =>
    call(api, 'POST', '/v2/users/me/deployments/shared/outputs', {
      inputs: [{ data: { image: { base64: DOGS } } }],
    });

  const served = (r: Started) => (r.output().match(/^item .*: 10000 in/gm) ?? []).length;

  before(async () => {
    database = await freshPostgresDatabase(baseUrl);
    for (const name of ['a', 'b']) {
      const dataDir = join(env.SIBYL_HOME!, name);
      apis.push(await startServe(['--data-dir', dataDir, '--database-url', database.url, '--quiet'], env));
    }
    pat = bootstrapPat(apis[0]!);
    const [a] = apis;
    assert.equal(
      (await call(a!, 'POST', '/v2/users/me/compute_clusters', { compute_clusters: [{ id: 'dc' }] })).http,
      200,
    );
    assert.equal(
      (await call(a!, 'POST', '/v2/users/me/compute_clusters/dc/nodepools', { nodepools: [{ id: 'pool' }] }))
        .http,
      200,
    );
    const dep = await call(a!, 'POST', '/v2/users/me/deployments', {
      deployments: [
        {
          id: 'shared',
          worker: { model: { id: 'general-image-recognition', user_id: 'clarifai', app_id: 'main' } },
          nodepools: [{ id: 'pool', compute_cluster: { id: 'dc' } }],
        },
      ],
    });
    assert.equal(dep.http, 200, JSON.stringify(dep.body));
    for (const [i, api] of apis.entries()) {
      const id = `near-${'ab'[i]}`;
      runners.push(
        await startClarifai(
          ['runner', '-cc_id', 'dc', '-np_id', 'pool', '--api-url', api.url, '--runner_id', id, '--verbose'],
          { ...env, CLARIFAI_PAT: pat },
          new RegExp(`runner ${id} serving nodepool dc/pool`),
        ),
      );
    }
  });

  after(async () => {
    await Promise.all(runners.map((r) => r.kill()));
    await Promise.all(apis.map((a) => a.stop()));
    if (database) await dropPostgresDatabase(baseUrl, database.name);
  });

  it('both instances answer the deployment', async () => {
    const results = await Promise.all(apis.flatMap((api) => Array.from({ length: 6 }, () => predict(api))));
    for (const res of results) {
      assert.equal(res.http, 200, JSON.stringify(res.body.status));
      assert.equal(res.body.outputs[0].data.concepts[0].name, 'dog');
    }
    assert.equal(served(runners[0]!) + served(runners[1]!), 12);
  });

  it("a prediction sent to one instance is run by the other's runner", async () => {
    await runners[0]!.kill(); // the runner connected to instance a is gone
    const before = served(runners[1]!);
    const results = await Promise.all(Array.from({ length: 4 }, () => predict(apis[0]!)));
    for (const res of results) assert.equal(res.http, 200, JSON.stringify(res.body.status));
    assert.equal(served(runners[1]!), before + 4, "instance b's runner took instance a's work");
  });
});
