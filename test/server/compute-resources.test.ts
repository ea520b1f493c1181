/**
 * Compute clusters, nodepools, deployments and runners as Clarifai resources, on a real server
 * (startServer on 127.0.0.1) over REST and over gRPC with the official V2Client of
 * clarifai-nodejs-grpc, on SQLite and on Postgres: alice builds a cluster, an endpoint nodepool, a
 * runners nodepool, a deployment and a runner; the built-in local/local pool is listed first and
 * cannot be written; bad endpoints, missing models and nodepools, and deletes of things still in
 * use are refused with Clarifai's codes and a message naming what is wrong; bob sees none of it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';

import grpcPkg from 'clarifai-nodejs-grpc';
import serviceGrpc from 'clarifai-nodejs-grpc/proto/clarifai/api/service_grpc_pb';
import type * as grpcJs from '@grpc/grpc-js';

import { StatusCode } from '../../src/core/status.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { fromMessage, toMessage } from '../../src/server/proto/json.js';
import { loadRestSchema } from '../../src/server/proto/schema.js';
import { SERVED_RPCS } from '../../src/server/services/v2-rpcs.js';
import { openStore, type Store } from '../../src/store/index.js';
import { describeEachBackend } from '../helpers/store-backends.js';
import { seedTenants, type Tenants } from '../helpers/tenancy.js';

const { grpc } = grpcPkg as unknown as { grpc: typeof grpcJs };
const schema = loadRestSchema(SERVED_RPCS);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Client = InstanceType<typeof serviceGrpc.V2Client>;

interface Reply {
  http?: number;
  code: number;
  details: string;
  body: Json;
}

describeEachBackend('compute resources over REST and gRPC', (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-compute-'));
  let store: Store | undefined;
  let server: RunningServer | undefined;
  let client: Client | undefined;
  let t: Tenants;

  async function rest(method: string, path: string, key: string, body?: unknown): Promise<Reply> {
    const res = await fetch(new URL(path, server!.url), {
      method,
      headers: { authorization: `Key ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as Json;
    return { http: res.status, code: json.status?.code, details: json.status?.details ?? '', body: json };
  }

  /** One unary call through the official client: the canonical message in, the canonical reply out. */
  async function rpc(name: string, msg: Json, key: string): Promise<Reply> {
    const shape = schema.rpcs.get(name)!;
    const reqType = schema.root.lookupType(shape.requestType);
    const resType = schema.root.lookupType(shape.responseType);
    const methods = serviceGrpc.V2Service as unknown as Record<
      string,
      { requestType: { deserializeBinary(b: Uint8Array): unknown } }
    >;
    const method = name[0]!.toLowerCase() + name.slice(1);
    const request = methods[method]!.requestType.deserializeBinary(
      reqType.encode(toMessage(reqType, msg)).finish(),
    );
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Key ${key}`);
    const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!.bind(client);
    const bytes = await new Promise<Uint8Array>((resolve, reject) =>
      fn(request, metadata, (err: Error | null, res: { serializeBinary(): Uint8Array }) =>
        err ? reject(err) : resolve(res.serializeBinary()),
      ),
    );
    const body = fromMessage(resType, resType.decode(bytes)) as Json;
    return { code: body.status?.code, details: body.status?.details ?? '', body };
  }

  function ok(r: Reply, what: string): Json {
    assert.equal(r.code, StatusCode.SUCCESS, `${what}: ${JSON.stringify(r.body).slice(0, 400)}`);
    return r.body;
  }

  function refused(r: Reply, code: number, pattern: RegExp, what: string): void {
    assert.equal(r.code, code, `${what}: ${JSON.stringify(r.body).slice(0, 400)}`);
    assert.match(r.details, pattern, what);
  }

  before(async () => {
    const location = await backend.fresh(true);
    store = await openStore(location);
    t = await seedTenants(store);
    await store.apps.create('bob', { id: 'bob-app' });
    const bobModel = { userId: 'bob', appId: 'bob-app', id: 'bob-private', modelTypeId: 'text-classifier' };
    await store.models.create(bobModel);
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: 'dataDir' in location ? location.dataDir : dataDir,
      ...('postgresUrl' in location ? { databaseUrl: location.postgresUrl } : {}),
      allowPrivateUrls: false,
      engine: { workers: 1 },
    });
    client = new serviceGrpc.V2Client(server.url.slice('http://'.length), grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    try {
      await server?.close();
    } finally {
      await store?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('clusters: created over REST and gRPC, listed after the built-in local one, paged', async () => {
    const key = t.aliceKey;
    let body = ok(
      await rest('POST', '/v2/users/me/compute_clusters', key, {
        compute_clusters: [
          { id: 'cc1', description: 'first', cloud_provider: { id: 'local' }, region: 'here' },
        ],
      }),
      'post cc1',
    );
    assert.equal(body.compute_clusters[0].user_id, 'alice');
    ok(
      await rpc(
        'PostComputeClusters',
        { user_app_id: { user_id: 'alice' }, compute_clusters: [{ id: 'cc2' }] },
        key,
      ),
      'gRPC post cc2',
    );
    body = ok(await rest('GET', '/v2/users/alice/compute_clusters', key), 'list');
    assert.deepEqual(
      body.compute_clusters.map((c: Json) => c.id),
      ['local', 'cc1', 'cc2', 'secret-cluster'],
    );
    body = ok(await rest('GET', '/v2/users/me/compute_clusters?page=2&per_page=2', key), 'page 2');
    assert.deepEqual(
      body.compute_clusters.map((c: Json) => c.id),
      ['cc2', 'secret-cluster'],
    );
    body = ok(
      await rpc('GetComputeCluster', { user_app_id: { user_id: 'me' }, compute_cluster_id: 'cc1' }, key),
      'gRPC get',
    );
    assert.equal(body.compute_cluster.description, 'first');
    assert.equal(body.compute_cluster.region, 'here');
    body = ok(
      await rest('PATCH', '/v2/users/me/compute_clusters', key, {
        compute_clusters: [{ id: 'cc2', description: 'second' }],
      }),
      'patch',
    );
    assert.equal(body.compute_clusters[0].description, 'second');
    refused(
      await rest('POST', '/v2/users/me/compute_clusters', key, { compute_clusters: [{ id: 'cc1' }] }),
      StatusCode.COMPUTE_CLUSTER_INVALID_ARGUMENT,
      /"cc1" of user "alice" already exists/,
      'a taken id',
    );
  });

  it('the built-in local/local pool: listed, readable, never written', async () => {
    const key = t.aliceKey;
    let body = ok(await rest('GET', '/v2/users/me/compute_clusters/local', key), 'get local');
    assert.equal(body.compute_cluster.id, 'local');
    body = ok(
      await rest('GET', '/v2/users/me/compute_clusters/local/nodepools/local', key),
      'get local/local',
    );
    assert.equal(body.nodepool.metadata.sibyl.kind, 'local');
    body = ok(await rest('GET', '/v2/users/me/nodepools', key), 'all nodepools');
    assert.equal(body.nodepools[0].id, 'local');
    assert.equal(body.nodepools[0].compute_cluster.id, 'local');
    refused(
      await rest('POST', '/v2/users/me/compute_clusters', key, { compute_clusters: [{ id: 'local' }] }),
      StatusCode.COMPUTE_CLUSTER_INVALID_ARGUMENT,
      /"local" is built in .*cannot be created, changed or deleted/,
      'create local',
    );
    refused(
      await rest('DELETE', '/v2/users/me/compute_clusters', key, { ids: ['local'] }),
      StatusCode.COMPUTE_CLUSTER_INVALID_REQUEST,
      /built in/,
      'delete local',
    );
    refused(
      await rest('POST', '/v2/users/me/compute_clusters/local/nodepools', key, { nodepools: [{ id: 'x' }] }),
      StatusCode.NODEPOOL_INVALID_REQUEST,
      /built in/,
      'a nodepool in local',
    );
    refused(
      await rest('DELETE', '/v2/users/me/compute_clusters/local/nodepools', key, { ids: ['local'] }),
      StatusCode.NODEPOOL_INVALID_REQUEST,
      /built in/,
      'delete local/local',
    );
  });

  it('nodepools: runners by default, endpoints validated strictly', async () => {
    const key = t.aliceKey;
    const endpoint = {
      protocol: 'oip',
      base_url: 'http://127.0.0.1:8081',
      model: 'resnet',
      api_key_env: 'OIP_KEY',
    };
    const ext = { id: 'ext', metadata: { team: 'x', sibyl: { kind: 'endpoint', endpoint } } };
    // an endpoint makes the server call out with a key from its own environment: admins only
    refused(
      await rest('POST', '/v2/users/me/compute_clusters/cc1/nodepools', key, { nodepools: [ext] }),
      StatusCode.CONN_INSUFFICIENT_SCOPES,
      /nodepool "ext" with an endpoint needs an admin's key/,
      "alice's endpoint",
    );
    let body = ok(
      await rest('POST', '/v2/users/me/compute_clusters/cc1/nodepools', key, {
        nodepools: [{ id: 'pool', min_instances: 1, max_instances: 2 }],
      }),
      'post nodepools',
    );
    assert.deepEqual(body.nodepools[0].metadata, { sibyl: { kind: 'runners' } });
    body = ok(
      await rest('POST', '/v2/users/alice/compute_clusters/cc1/nodepools', t.adminKey, { nodepools: [ext] }),
      "an admin makes alice's endpoint nodepool",
    );
    assert.deepEqual(body.nodepools[0].metadata, { team: 'x', sibyl: { kind: 'endpoint', endpoint } });
    body = ok(
      await rpc('ListNodepools', { user_app_id: { user_id: 'alice' }, compute_cluster_id: 'cc1' }, key),
      'gRPC list',
    );
    assert.deepEqual(
      body.nodepools.map((n: Json) => n.id),
      ['ext', 'pool'],
    );
    assert.equal(body.nodepools[0].metadata.sibyl.endpoint.base_url, 'http://127.0.0.1:8081');
    const bad: [Json, RegExp][] = [
      [
        { protocol: 'grpc', base_url: 'http://h' },
        /protocol must be one of oip, openai, clarifai; got "grpc"/,
      ],
      [
        { protocol: 'oip', base_url: 'h:8081/v2' },
        /base_url must be an absolute http:\/\/ or https:\/\/ URL/,
      ],
      [{ protocol: 'oip', base_url: 'ftp://h' }, /base_url must be an absolute http/],
      [{ protocol: 'openai', base_url: 'http://h', api_key: 'sk-123' }, /never holds a key.*api_key_env/],
      [{ protocol: 'openai', base_url: 'http://h', token: 'sk-123' }, /never holds a key.*api_key_env/],
      [
        { protocol: 'openai', base_url: 'http://h', api_key_env: 'sk-123' },
        /api_key_env must be the NAME of an environment variable/,
      ],
      [
        { protocol: 'clarifai', base_url: 'https://api.clarifai.com', model: 'gpt' },
        /USER\/APP\/models\/MODEL/,
      ],
      [
        { protocol: 'oip', base_url: 'http://h', port: 1 },
        /endpoint\.port is not a field of an endpoint; allowed: protocol, base_url, model, api_key_env/,
      ],
    ];
    for (const [e, pattern] of bad) {
      const r = await rest('POST', '/v2/users/me/compute_clusters/cc1/nodepools', key, {
        nodepools: [{ id: 'bad', metadata: { sibyl: { kind: 'endpoint', endpoint: e } } }],
      });
      refused(r, StatusCode.NODEPOOL_INVALID_ARGUMENT, pattern, JSON.stringify(e));
      assert.ok(!JSON.stringify(r.body).includes('sk-123') || /api_key_env/.test(r.details), 'no key echoed');
    }
    refused(
      await rest('POST', '/v2/users/me/compute_clusters/cc1/nodepools', key, {
        nodepools: [{ id: 'bad', metadata: { sibyl: { kind: 'endpoint' } } }],
      }),
      StatusCode.NODEPOOL_INVALID_ARGUMENT,
      /endpoint is required for kind "endpoint"/,
      'endpoint kind without endpoint',
    );
    refused(
      await rest('POST', '/v2/users/me/compute_clusters/nope/nodepools', key, { nodepools: [{ id: 'p' }] }),
      StatusCode.COMPUTE_CLUSTER_DOES_NOT_EXIST,
      /compute cluster "nope" does not exist for user "alice"/,
      'missing cluster',
    );
    refused(
      await rest('GET', '/v2/users/me/compute_clusters/cc1/nodepools/nope', key),
      StatusCode.NODEPOOL_DOES_NOT_EXIST,
      /nodepool "nope" does not exist in compute cluster "cc1" of user "alice"/,
      'missing nodepool',
    );
    body = ok(
      await rest('PATCH', '/v2/users/alice/compute_clusters/cc1/nodepools', t.adminKey, {
        nodepools: [
          {
            id: 'ext',
            description: 'external',
            metadata: { sibyl: { endpoint: { ...endpoint, protocol: 'openai' } } },
          },
        ],
      }),
      'patch',
    );
    assert.equal(body.nodepools[0].metadata.sibyl.endpoint.protocol, 'openai');
  });

  it('deployments: a visible model on existing nodepools of the owner, listed by nodepool', async () => {
    const key = t.aliceKey;
    const model = { id: 'secret-model', app_id: 'secret-app', user_id: 'alice' };
    const on = [
      { id: 'pool', compute_cluster: { id: 'cc1' } },
      { id: 'local', compute_cluster: { id: 'local', user_id: 'alice' } },
    ];
    let body = ok(
      await rest('POST', '/v2/users/me/deployments', key, {
        deployments: [
          {
            id: 'dep',
            worker: { model },
            nodepools: on,
            scheduling_choice: 'RANDOM',
            autoscale_config: { min_replicas: 1, max_replicas: 3 },
          },
        ],
      }),
      'post',
    );
    const dep = body.deployments[0];
    assert.equal(dep.scheduling_choice, 2);
    assert.equal(dep.deploy_latest_version, true);
    assert.deepEqual(dep.autoscale_config, { min_replicas: 1, max_replicas: 3 });
    assert.deepEqual(
      dep.nodepools.map((n: Json) => `${n.compute_cluster.id}/${n.id}`),
      ['cc1/pool', 'local/local'],
    );
    body = ok(
      await rpc('GetDeployment', { user_app_id: { user_id: 'me' }, deployment_id: 'dep' }, key),
      'gRPC get',
    );
    assert.equal(body.deployment.worker.model.id, 'secret-model');
    body = ok(
      await rest('GET', '/v2/users/me/deployments?nodepool_id=pool&compute_cluster_id=cc1', key),
      'by nodepool',
    );
    assert.deepEqual(
      body.deployments.map((d: Json) => d.id),
      ['dep'],
    );
    body = ok(await rest('GET', '/v2/users/me/deployments?nodepool_id=ext', key), 'none on ext');
    assert.deepEqual(body.deployments ?? [], []);
    const attempt = (d: Json): Promise<Reply> =>
      rest('POST', '/v2/users/me/deployments', key, {
        deployments: [{ id: 'd2', worker: { model }, nodepools: on, ...d }],
      });
    refused(
      await attempt({ worker: { model: { id: 'bob-private', app_id: 'bob-app', user_id: 'bob' } } }),
      StatusCode.MODEL_DOES_NOT_EXIST,
      /no model bob\/bob-app\/bob-private/,
      "bob's private model",
    );
    refused(
      await attempt({ nodepools: [{ id: 'nope', compute_cluster: { id: 'cc1' } }] }),
      StatusCode.NODEPOOL_DOES_NOT_EXIST,
      /nodepool "nope" does not exist in compute cluster "cc1"/,
      'missing nodepool',
    );
    refused(
      await attempt({
        nodepools: [{ id: 'secret-nodepool', compute_cluster: { id: 'secret-cluster', user_id: 'bob' } }],
      }),
      StatusCode.DEPLOYMENT_INVALID_ARGUMENT,
      /only its owner's nodepools/,
      "another user's nodepool",
    );
    refused(
      await attempt({ autoscale_config: { min_replicas: 3, max_replicas: 1 } }),
      StatusCode.DEPLOYMENT_INVALID_ARGUMENT,
      /min_replicas \(3\) must not exceed max_replicas \(1\)/,
      'min > max',
    );
    refused(
      await attempt({ worker: undefined }),
      StatusCode.DEPLOYMENT_INVALID_ARGUMENT,
      /worker\.model is required/,
      'no model',
    );
    body = ok(
      await rest('PATCH', '/v2/users/me/deployments', key, {
        deployments: [{ id: 'dep', nodepools: [on[1]] }],
      }),
      'patch',
    );
    assert.deepEqual(
      body.deployments[0].nodepools.map((n: Json) => n.id),
      ['local'],
    );
    ok(
      await rest('PATCH', '/v2/users/me/deployments', key, { deployments: [{ id: 'dep', nodepools: on }] }),
      'patch back',
    );
  });

  it('runners: registered in a runners nodepool only; PatchRunners over gRPC', async () => {
    const key = t.aliceKey;
    const path = '/v2/users/me/compute_clusters/cc1/nodepools/pool/runners';
    const worker = { model: { id: 'secret-model', user_id: 'alice', app_id: 'secret-app' } };
    // over gRPC: REST's POST on this route is PostRunners' and PatchRunners' both (see the report)
    const where = { user_app_id: { user_id: 'me' }, compute_cluster_id: 'cc1', nodepool_id: 'pool' };
    let body = ok(
      await rpc('PostRunners', { ...where, runners: [{ description: 'laptop', worker }] }, key),
      'post',
    );
    const id = body.runners[0].id as string;
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(body.runners[0].nodepool.compute_cluster.id, 'cc1');
    body = ok(await rest('GET', `/v2/users/me/runners/${id}`, key), 'get short');
    assert.deepEqual(body.runner.worker, worker);
    body = ok(
      await rpc(
        'PatchRunners',
        {
          user_app_id: { user_id: 'me' },
          compute_cluster_id: 'cc1',
          nodepool_id: 'pool',
          runners: [{ id, description: 'desk' }],
        },
        key,
      ),
      'gRPC patch',
    );
    assert.equal(body.runners[0].description, 'desk');
    body = ok(await rest('GET', path, key), 'list in the nodepool');
    assert.deepEqual(
      body.runners.map((r: Json) => r.id),
      [id],
    );
    body = ok(await rest('GET', '/v2/users/me/runners?nodepool_id=ext', key), 'none in ext');
    assert.deepEqual(body.runners ?? [], []);
    refused(
      await rest('GET', `/v2/users/me/compute_clusters/cc1/nodepools/ext/runners/${id}`, key),
      StatusCode.RUNNER_DOES_NOT_EXIST,
      /runner ".*" does not exist for user "alice"/,
      'in another nodepool',
    );
    refused(
      await rpc('PostRunners', { ...where, nodepool_id: 'ext', runners: [{}] }, key),
      StatusCode.RUNNER_INVALID_REQUEST,
      /forwards to an external endpoint; runners register only in a nodepool of kind "runners"/,
      'endpoint pool',
    );
    refused(
      await rpc(
        'PostRunners',
        { ...where, compute_cluster_id: 'local', nodepool_id: 'local', runners: [{}] },
        key,
      ),
      StatusCode.RUNNER_INVALID_REQUEST,
      /built-in nodepool local\/local/,
      'local pool',
    );
    ok(
      await rpc(
        'DeleteRunners',
        { user_app_id: { user_id: 'me' }, compute_cluster_id: 'cc1', nodepool_id: 'pool', ids: [id] },
        key,
      ),
      'delete',
    );
    body = ok(await rest('GET', '/v2/users/me/runners', key), 'list after');
    assert.deepEqual(
      body.runners?.map((r: Json) => r.id),
      ['secret-runner'],
    );
  });

  it("bob neither sees nor deletes alice's compute resources", async () => {
    const pairs: [string, string, string][] = [
      ['GET', '/v2/users/alice/compute_clusters/cc1', '/v2/users/alice/compute_clusters/zz1'],
      [
        'GET',
        '/v2/users/alice/compute_clusters/cc1/nodepools/pool',
        '/v2/users/alice/compute_clusters/zz1/nodepools/pool',
      ],
      ['GET', '/v2/users/alice/deployments/dep', '/v2/users/alice/deployments/zzz'],
      ['GET', '/v2/users/alice/nodepools', '/v2/users/alice/nodepools'],
      ['GET', '/v2/users/alice/deployments', '/v2/users/alice/deployments'],
    ];
    for (const [method, real, missing] of pairs) {
      const a = await rest(method, real, t.bobKey);
      const m = await rest(method, missing, t.bobKey);
      assert.equal(a.http, 404, `${real}: ${a.details}`);
      assert.equal(a.code, m.code, real);
      assert.equal(a.details.replace(/cc1|dep\b/g, 'X'), m.details.replace(/zz1|zzz/g, 'X'), real);
    }
    for (const [path, ids] of [
      ['/v2/users/alice/compute_clusters', ['cc2']],
      ['/v2/users/alice/deployments', ['dep']],
      ['/v2/users/alice/compute_clusters/cc1/nodepools', ['ext']],
    ] as const) {
      const r = await rest('DELETE', path, t.bobKey, { ids });
      assert.equal(r.http, 404, `${path}: ${r.details}`);
    }
    const r = await rpc(
      'DeleteComputeClusters',
      { user_app_id: { user_id: 'alice' }, ids: ['cc2'] },
      t.bobKey,
    );
    assert.equal(r.code, StatusCode.USER_DOES_NOT_EXIST);
    ok(await rest('GET', '/v2/users/alice/compute_clusters/cc2', t.aliceKey), 'cc2 is still there');
    const own = ok(await rest('GET', '/v2/users/me/compute_clusters', t.bobKey), "bob's own list");
    assert.deepEqual(
      own.compute_clusters.map((c: Json) => c.id),
      ['local'],
    );
    // an admin acts for alice
    ok(await rest('GET', '/v2/users/alice/deployments/dep', t.adminKey), 'admin reads');
  });

  it('deletes in use are refused, naming what uses them; in order they go', async () => {
    const key = t.aliceKey;
    refused(
      await rest('DELETE', '/v2/users/me/compute_clusters', key, { ids: ['cc1'] }),
      StatusCode.COMPUTE_CLUSTER_INVALID_REQUEST,
      /compute cluster "cc1" still has nodepools "ext", "pool": delete them first/,
      'cluster with nodepools',
    );
    refused(
      await rest('DELETE', '/v2/users/me/compute_clusters/cc1/nodepools', key, { ids: ['pool'] }),
      StatusCode.NODEPOOL_INVALID_REQUEST,
      /nodepool "pool" of compute cluster "cc1" is used by deployments "dep"/,
      'nodepool a deployment names',
    );
    ok(await rest('DELETE', '/v2/users/me/deployments', key, { ids: ['dep'] }), 'delete deployment');
    refused(
      await rest('GET', '/v2/users/me/deployments/dep', key),
      StatusCode.DEPLOYMENT_DOES_NOT_EXIST,
      /deployment "dep" does not exist for user "alice"/,
      'gone',
    );
    ok(
      await rpc(
        'DeleteNodepools',
        { user_app_id: { user_id: 'me' }, compute_cluster_id: 'cc1', ids: ['pool', 'ext'] },
        key,
      ),
      'nodepools',
    );
    ok(await rest('DELETE', '/v2/users/me/compute_clusters', key, { ids: ['cc1', 'cc2'] }), 'clusters');
    const body = ok(await rest('GET', '/v2/users/me/compute_clusters', key), 'list');
    assert.deepEqual(
      body.compute_clusters.map((c: Json) => c.id),
      ['local', 'secret-cluster'],
    );
  });
});
