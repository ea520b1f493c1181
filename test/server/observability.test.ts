/**
 * Observability on a real loopback server: GET /metrics (Prometheus text, parsed here line by
 * line; an admin key unless --metrics-public), GET /ready (503 until the parts still starting are
 * done, and while draining), and the JSON request log (one object per request whose req_id is the
 * answer's status.req_id, never a key). First an app built here over an in-memory store and the
 * real engine, so its readiness and users are under the test's control; then `clarifai serve
 * --log-format json --metrics-public` as a user starts it, with a gRPC call. No timing assertions.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import grpcPkg from 'clarifai-nodejs-grpc';
import resources from 'clarifai-nodejs-grpc/proto/clarifai/api/resources_pb';
import service from 'clarifai-nodejs-grpc/proto/clarifai/api/service_pb';
import serviceGrpc from 'clarifai-nodejs-grpc/proto/clarifai/api/service_grpc_pb';
import type * as grpcJs from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';

import { StatusCode } from '../../src/core/status.js';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { buildApp, startDraining } from '../../src/server/app.js';
import { ensureAdminUser } from '../../src/server/bootstrap.js';
import { syncBuiltinModels } from '../../src/server/builtins.js';
import { Metrics } from '../../src/server/metrics.js';
import { jsonRequestLine } from '../../src/server/request-log.js';
import { Readiness } from '../../src/server/routes/observability.js';
import { openStore, type Store } from '../../src/store/index.js';
import { isolatedEnv, PHOTOS, runCli } from '../helpers/cli.js';
import { startServe, type Served } from '../helpers/serve.js';

const { grpc } = grpcPkg as unknown as { grpc: typeof grpcJs };

const DOGS_B64 = readFileSync(join(PHOTOS, 'dogs.jpg')).toString('base64');
const RECOGNITION = 'clarifai/main/general-image-recognition';
const LANGUAGE = 'clarifai/main/language-identification';
const ENGLISH = 'The quick brown fox jumps over the lazy dog while the children watch from the garden.';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the text exposition format: every line is `# HELP name text`,
 * `# TYPE name counter|gauge|histogram`, or `name{k="v",...} value`; anything else throws.
 */
function parseProm(text: string): Sample[] {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const samples: Sample[] = [];
  const typed = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        assert.match(meta[3]!, /^(counter|gauge|histogram)$/, line);
        typed.add(meta[2]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    let at = 0;
    while (at < body.length) {
      labelRe.lastIndex = at;
      const l = labelRe.exec(body);
      assert.ok(l, `bad labels in ${JSON.stringify(line)}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      at = labelRe.lastIndex;
    }
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value), `bad value in ${JSON.stringify(line)}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(m[1]!) || typed.has(family), `${m[1]} has no # TYPE line before it`);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `match`. */
function total(samples: Sample[], name: string, match: Record<string, string>): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

interface Answer {
  http: number;
  body: { status?: { code: number; req_id?: string; details?: string } } & Record<string, unknown>;
  text: string;
  contentType: string | null;
}

async function call(
  base: string,
  method: string,
  path: string,
  key?: string,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers.authorization = `Key ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: Answer['body'] = {};
  try {
    parsed = JSON.parse(text) as Answer['body'];
  } catch {
    /* /metrics is text */
  }
  return { http: res.status, body: parsed, text, contentType: res.headers.get('content-type') };
}

describe('an app with metrics, readiness and the JSON request log', () => {
  let store: Store;
  let engine: Engine;
  let app: FastifyInstance;
  let base: string;
  let adminKey: string;
  let bobKey: string;
  let eveKey: string;
  const metrics = new Metrics();
  const readiness = new Readiness(['engine']);
  const lines: string[] = [];

  before(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    engine = createEngine({ workers: 1, onTiming: metrics.onTiming });
    await syncBuiltinModels(store, engine);
    adminKey = (await store.pats.create(await ensureAdminUser(store), 'tests')).token;
    await store.users.create({ id: 'bob' });
    bobKey = (await store.pats.create('bob', 'bob')).token;
    await store.users.create({ id: 'eve' });
    eveKey = (await store.pats.create('eve', 'eve')).token;
    await store.apps.ensure('bob', 'vault');
    await store.models.create({
      userId: 'bob',
      appId: 'vault',
      id: 'secret-classifier',
      modelTypeId: 'visual-classifier',
      visibility: 'private',
      versionId: 'bob-version-1',
    });
    app = buildApp({
      store,
      engine,
      metrics,
      readiness,
      requestLog: (rec) => lines.push(jsonRequestLine(rec)),
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app?.close();
    await engine?.close();
    await store?.close();
  });

  const scrape = async (): Promise<Sample[]> => {
    const res = await call(base, 'GET', '/metrics', adminKey);
    assert.equal(res.http, 200, res.text);
    return parseProm(res.text);
  };
  /** The JSON log line of the request whose answer carried this req_id. */
  const logOf = (reqId: string | undefined): Record<string, unknown> => {
    assert.ok(reqId, 'the answer has a req_id');
    const found = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.req_id === reqId);
    assert.ok(found, `a log line with req_id ${reqId}`);
    return found;
  };

  it('/ready answers 503 naming what is still starting, without a key; then 200', async () => {
    const notYet = await call(base, 'GET', '/ready');
    assert.equal(notYet.http, 503);
    assert.equal(notYet.body.status?.code, StatusCode.TRY_AGAIN);
    assert.match(notYet.body.status?.details ?? '', /engine/);
    readiness.done('engine');
    const ready = await call(base, 'GET', '/ready');
    assert.equal(ready.http, 200);
    assert.equal(ready.body.status?.code, StatusCode.SUCCESS);
    assert.equal((await call(base, 'GET', '/health')).http, 200);
  });

  it('/metrics needs an admin key: none is 401, a plain user is 403', async () => {
    const none = await call(base, 'GET', '/metrics');
    assert.equal(none.http, 401);
    assert.equal(none.body.status?.code, StatusCode.CONN_KEY_NOT_FOUND);
    const plain = await call(base, 'GET', '/metrics', eveKey);
    assert.equal(plain.http, 403);
    assert.equal(plain.body.status?.code, StatusCode.CONN_INSUFFICIENT_SCOPES);
    const admin = await call(base, 'GET', '/metrics', adminKey);
    assert.equal(admin.http, 200);
    assert.match(admin.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    parseProm(admin.text);
  });

  it('request counts go up by exactly the requests made, by route pattern and v2 code', async () => {
    const first = await call(
      base,
      'GET',
      `/v2/users/clarifai/apps/main/models/language-identification`,
      eveKey,
    );
    assert.equal(first.http, 200);
    const route = logOf(first.body.status?.req_id).route as string;
    assert.equal(route.includes('language-identification'), false, 'the route is the pattern, not the URL');
    const missing = await call(base, 'GET', '/v2/users/bob/apps/vault/models/secret-classifier', eveKey);
    assert.equal(missing.http, 404);
    const s1 = await scrape();
    const ok = { transport: 'http', method: 'GET', route, code: String(StatusCode.SUCCESS) };
    const notFound = { transport: 'http', method: 'GET', route, status: '404' };
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await call(base, 'GET', `/v2/users/clarifai/apps/main/models/ocr-english`, eveKey)).http,
        200,
      );
    }
    for (let i = 0; i < 2; i++) {
      assert.equal(
        (await call(base, 'GET', `/v2/users/bob/apps/vault/models/no-such-${i}`, eveKey)).http,
        404,
      );
    }
    const s2 = await scrape();
    const delta = (name: string, match: Record<string, string>) =>
      total(s2, name, match) - total(s1, name, match);
    assert.equal(delta('sibyl_requests_total', ok), 3);
    assert.equal(delta('sibyl_requests_total', notFound), 2);
    const perRoute = { transport: 'http', method: 'GET', route };
    assert.equal(delta('sibyl_request_duration_seconds_count', perRoute), 5);
    assert.equal(delta('sibyl_request_duration_seconds_bucket', { ...perRoute, le: '+Inf' }), 5);
    assert.equal(delta('sibyl_errors_total', { transport: 'http', status: '404' }), 2);
    // the scrape in between counted itself once
    assert.equal(delta('sibyl_requests_total', { route: '/metrics', status: '200' }), 1);
  });

  it('a predict on general-image-recognition shows its model label, stage histograms and batch size', async () => {
    const res = await call(
      base,
      'POST',
      `/v2/users/clarifai/apps/main/models/general-image-recognition/outputs`,
      eveKey,
      {
        inputs: [{ data: { image: { base64: DOGS_B64 } } }],
      },
    );
    assert.equal(res.http, 200, res.text);
    const s = await scrape();
    for (const stage of ['load', 'decode', 'predict', 'postprocess']) {
      const count = total(s, 'sibyl_inference_stage_duration_seconds_count', { model: RECOGNITION, stage });
      assert.ok(count >= 1, `${stage} timed`);
      const inf = total(s, 'sibyl_inference_stage_duration_seconds_bucket', {
        model: RECOGNITION,
        stage,
        le: '+Inf',
      });
      assert.equal(inf, count);
    }
    assert.ok(total(s, 'sibyl_inference_batch_size_count', { model: RECOGNITION }) >= 1);
    assert.ok(total(s, 'sibyl_inference_batch_size_sum', { model: RECOGNITION }) >= 1);
    assert.ok(total(s, 'sibyl_model_loaded_bytes', { model: RECOGNITION }) > 0);
    assert.equal(total(s, 'sibyl_engine_max_workers', {}), 1);
    assert.ok(s.some((x) => x.name === 'sibyl_engine_workers'));
    assert.equal(total(s, 'sibyl_url_downloads_active', {}), 0);
    assert.equal(total(s, 'sibyl_url_downloads_waiting', {}), 0);
    const line = logOf(res.body.status?.req_id);
    assert.equal(line.user_id, 'eve');
    assert.equal(line.code, StatusCode.SUCCESS);
  });

  it("neither metrics nor logs hold a key, a query string or another user's private model", async () => {
    // a key in the query string, a private model asked for by someone else, a model that is not there
    await call(base, 'GET', `/v2/users/me?key=${bobKey}&per_page=5`, eveKey);
    await call(base, 'POST', '/v2/users/bob/apps/vault/models/secret-classifier/outputs', eveKey, {
      inputs: [{ data: { image: { base64: DOGS_B64 } } }],
    });
    await call(base, 'POST', '/v2/users/clarifai/apps/main/models/made-up-model-x/outputs', adminKey, {
      inputs: [{ data: { text: { raw: 'hi' } } }],
    });
    await call(base, 'GET', '/nowhere/at-all', eveKey);
    const text = (await call(base, 'GET', '/metrics', adminKey)).text;
    const s = parseProm(text);
    for (const secret of [
      adminKey,
      bobKey,
      eveKey,
      'secret-classifier',
      'vault',
      'made-up-model-x',
      'nowhere',
    ]) {
      assert.equal(text.includes(secret), false, `metrics mention ${secret}`);
    }
    assert.ok(total(s, 'sibyl_requests_total', { route: 'unmatched', status: '404' }) >= 1);
    const models = new Set(s.flatMap((x) => (x.labels.model !== undefined ? [x.labels.model] : [])));
    assert.ok(
      [...models].every((m) => m.startsWith('clarifai/main/')),
      [...models].join(', '),
    );
    const log = lines.join('\n');
    for (const key of [adminKey, bobKey, eveKey]) assert.equal(log.includes(key), false, 'a key in the log');
    assert.equal(log.includes('per_page'), false, 'a query string in the log');
  });

  it("every JSON log line parses, with the answer's req_id and the request shape", async () => {
    const res = await call(
      base,
      'GET',
      `/v2/users/clarifai/apps/main/models/${LANGUAGE.split('/')[2]}`,
      bobKey,
    );
    const line = logOf(res.body.status?.req_id);
    assert.deepEqual(Object.keys(line).sort(), [
      'code',
      'level',
      'method',
      'ms',
      'path',
      'req_id',
      'route',
      'status',
      'time',
      'transport',
      'user_id',
    ]);
    assert.equal(line.path, '/v2/users/clarifai/apps/main/models/language-identification');
    assert.equal(line.user_id, 'bob');
    assert.equal(line.transport, 'http');
    assert.equal(line.level, 'info');
    assert.equal(line.status, 200);
    for (const l of lines) {
      const o = JSON.parse(l) as Record<string, unknown>;
      assert.equal(typeof o.req_id, 'string');
      assert.equal(typeof o.route, 'string');
      assert.equal(typeof o.ms, 'number');
      assert.ok(!String(o.path).includes('?'));
      assert.ok(['info', 'warn', 'error'].includes(o.level as string));
    }
  });

  it('/ready answers 503 while draining', async () => {
    startDraining(app);
    const res = await call(base, 'GET', '/ready');
    assert.equal(res.http, 503);
    assert.equal(res.body.status?.code, StatusCode.TRY_AGAIN);
    assert.match(res.body.status?.details ?? '', /shutting down/);
  });
});

describe('clarifai serve --log-format json --metrics-public', () => {
  let served: Served;
  let pat: string;
  const env = isolatedEnv();
  before(async () => {
    served = await startServe(['--log-format', 'json', '--metrics-public', '--workers', '1'], env);
    const file = /log in with:\n\s+clarifai login --config (\S+)/.exec(served.output())![1]!;
    pat = (parse(readFileSync(file, 'utf8')) as { pat: string }).pat;
  });
  after(async () => {
    await served?.stop();
  });

  /** Every JSON line the server printed so far (each must parse). */
  const jsonLines = () =>
    served
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  /** The log line with this req_id, once the child's stdout has carried it here. */
  const lineOf = async (reqId: string | undefined): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 250; i++) {
      const found = jsonLines().find((l) => l.req_id === reqId);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`no log line with req_id ${reqId}:\n${served.output()}`);
  };

  it('a gRPC predict is counted by its RPC name and logged as one JSON line with its req_id', async () => {
    assert.equal((await call(served.url, 'GET', '/ready')).http, 200);
    const client = new serviceGrpc.V2Client(
      served.url.replace('http://', ''),
      grpc.credentials.createInsecure(),
    );
    try {
      const request = new service.PostModelOutputsRequest()
        .setUserAppId(new resources.UserAppIDSet().setUserId('clarifai').setAppId('main'))
        .setModelId('language-identification')
        .setInputsList([
          new resources.Input().setData(new resources.Data().setText(new resources.Text().setRaw(ENGLISH))),
        ]);
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Key ${pat}`);
      const reply = await new Promise<{ status: { code: number; reqId: string } }>((resolve, reject) =>
        client.postModelOutputs(request, metadata, (err, res) =>
          err
            ? reject(err)
            : resolve(res.toObject() as unknown as { status: { code: number; reqId: string } }),
        ),
      );
      assert.equal(reply.status.code, StatusCode.SUCCESS);
      // without a key: --metrics-public
      const res = await call(served.url, 'GET', '/metrics');
      assert.equal(res.http, 200, res.text);
      const s = parseProm(res.text);
      const rpc = { transport: 'grpc', route: 'PostModelOutputs', code: String(StatusCode.SUCCESS) };
      assert.equal(total(s, 'sibyl_requests_total', rpc), 1);
      assert.ok(
        total(s, 'sibyl_inference_stage_duration_seconds_count', { model: LANGUAGE, stage: 'predict' }) >= 1,
      );
      const line = await lineOf(reply.status.reqId);
      assert.equal(line.transport, 'grpc');
      assert.equal(line.route, 'PostModelOutputs');
      assert.equal(line.method, 'POST');
      assert.equal(line.code, StatusCode.SUCCESS);
      assert.equal(line.user_id, 'admin');
    } finally {
      client.close();
    }
    const rest = await call(served.url, 'GET', '/v2/users/me', pat);
    assert.equal(rest.http, 200);
    const restLine = await lineOf(rest.body.status?.req_id);
    assert.equal(restLine.route, '/v2/users/:p0');
    assert.equal(restLine.path, '/v2/users/me');
    assert.equal(served.output().includes(pat), false, 'the PAT in the output');
  });

  it('--log-format other than text or json is refused before anything starts', async () => {
    const res = await runCli(['serve', '--port', '0', '--log-format', 'xml'], isolatedEnv());
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /--log-format must be one of text, json/);
  });
});
