/**
 * The predict service over the worker-thread engine, through the real app: what is checked before
 * any URL is fetched, per-input outcomes (MIXED_STATUS), and that a version runs its own spec.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { StatusCode } from '../../src/core/status.js';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { ensureAdminUser } from '../../src/server/bootstrap.js';
import { syncBuiltinModels } from '../../src/server/builtins.js';
import { openStore, type Store } from '../../src/store/index.js';
import { listen, type TestServer } from '../helpers/http.js';

const DOGS = (await readFile(new URL('../fixtures/photos/dogs.jpg', import.meta.url))).toString('base64');
const RECOGNITION = '/v2/users/clarifai/apps/main/models/general-image-recognition/outputs';

let store: Store;
let engine: Engine;
let app: FastifyInstance;
let key: string;
let photos: TestServer;
let fetched = 0;

before(async () => {
  store = await openStore({ sqlitePath: ':memory:' });
  engine = createEngine({ workers: 1, warmUp: false });
  await syncBuiltinModels(store, engine);
  const admin = await ensureAdminUser(store);
  key = (await store.pats.create(admin, 'tests')).token;
  app = buildApp({ store, engine, service: { allowPrivateUrls: true } });
  photos = await listen((_req, res) => {
    fetched += 1;
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.from(DOGS, 'base64'));
  });
});

after(async () => {
  await app.close();
  await photos.close();
  await engine.close();
  await store.close();
});

async function post(path: string, body: unknown) {
  const res = await app.inject({
    method: 'POST',
    url: path,
    headers: { authorization: `Key ${key}` },
    payload: body as object,
  });
  return { http: res.statusCode, body: res.json() };
}

describe('predict on the worker-thread engine', () => {
  it('refuses bad params and output_config before downloading any URL input', async () => {
    const url = { inputs: [{ data: { image: { url: `${photos.url}/dogs.jpg` } } }] };
    const badParams = await post(RECOGNITION, {
      ...url,
      model: { model_version: { output_info: { params: { temperature: 1 } } } },
    });
    assert.equal(badParams.http, 400);
    assert.equal(badParams.body.status.code, StatusCode.MODEL_INVALID_ARGUMENT);
    const badConfig = await post(RECOGNITION, {
      ...url,
      model: { output_info: { output_config: { max_concepts: -1 } } },
    });
    assert.equal(badConfig.http, 400);
    const wrongType = await post(RECOGNITION, {
      inputs: [{ data: { text: { url: `${photos.url}/a.txt` } } }],
    });
    assert.equal(wrongType.http, 400);
    assert.match(wrongType.body.status.details, /takes image inputs, got text/);
    assert.equal(fetched, 0, 'no URL was fetched for a request refused up front');
    const good = await post(RECOGNITION, url);
    assert.equal(good.http, 200);
    assert.equal(fetched, 1);
  });

  it('answers MIXED_STATUS when some inputs fail, each output with its own status', async () => {
    const res = await post(RECOGNITION, {
      inputs: [
        { data: { image: { base64: DOGS } } },
        { data: { image: { base64: Buffer.from('no image here').toString('base64') } } },
      ],
    });
    assert.equal(res.http, 200);
    assert.equal(res.body.status.code, StatusCode.MIXED_STATUS);
    assert.equal(res.body.outputs[0].status.code, StatusCode.SUCCESS);
    assert.equal(res.body.outputs[0].data.concepts[0].name, 'dog');
    assert.equal(res.body.outputs[1].status.code, StatusCode.INPUT_INVALID_ARGUMENT);
    assert.match(res.body.outputs[1].status.details, /not a supported image/);
    const allBad = await post(RECOGNITION, {
      inputs: [{ data: { image: { base64: Buffer.from('nope').toString('base64') } } }],
    });
    assert.equal(allBad.http, 400, 'a request whose every input failed fails as a whole');
  });

  it("runs the version a request names, with that version's stored spec", async () => {
    // An older version of the same model whose spec asks for a stricter default min_score.
    const detection = engine.builtins().find((m) => m.id === 'general-image-detection')!;
    const older = await store.models.createVersion('clarifai', 'main', 'general-image-detection', {
      spec: {
        ...detection,
        versionId: undefined,
        params: { ...detection.params, min_score: { ...detection.params.min_score!, default: 0.6 } },
      },
    });
    const base = '/v2/users/clarifai/apps/main/models/general-image-detection';
    const latest = await post(`${base}/versions/${detection.versionId}/outputs`, {
      inputs: [{ data: { image: { base64: DOGS } } }],
    });
    const strict = await post(`${base}/versions/${older.id}/outputs`, {
      inputs: [{ data: { image: { base64: DOGS } } }],
    });
    assert.equal(latest.http, 200);
    assert.equal(strict.http, 200);
    const scores = (r: typeof latest) =>
      (r.body.outputs[0].data.regions as { value: number }[]).map((x) => x.value);
    assert.ok(
      scores(latest).some((v) => v < 0.6),
      'the built-in version keeps regions from 0.3',
    );
    assert.ok(
      scores(strict).every((v) => v >= 0.6),
      'the other version applies its own default',
    );
    assert.ok(scores(strict).length < scores(latest).length);
  });

  it('drops the queued inputs of a client that disconnects', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const send = (inputs: number) => {
      const body = JSON.stringify({
        inputs: Array.from({ length: inputs }, () => ({ data: { image: { base64: DOGS } } })),
      });
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: RECOGNITION,
        headers: { authorization: `Key ${key}`, 'content-type': 'application/json' },
      });
      req.on('error', () => undefined);
      req.end(body);
      return req;
    };
    const queued = () =>
      engine.status().queued.find((q) => q.key.includes('general-image-recognition'))?.inputs ?? 0;
    const first = send(2);
    const gone = send(8);
    const deadline = Date.now() + 10_000;
    while (queued() < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(queued() >= 8, `queued ${queued()}`);
    gone.destroy();
    while (queued() > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(queued() <= 1, `the 8 inputs of the closed request left the queue (queued ${queued()})`);
    await new Promise((resolve) => first.on('response', (res) => res.resume().on('end', resolve)));
  });

  it('answers 429 with a Retry-After worked out from the work ahead when a model queue is full', async () => {
    const small = createEngine({ workers: 1, warmUp: false, maxQueuedInputs: 2 });
    const busyApp = buildApp({ store, engine: small });
    try {
      const one = { inputs: [{ data: { image: { base64: DOGS } } }] };
      const inject = (body: unknown) =>
        busyApp.inject({
          method: 'POST',
          url: RECOGNITION,
          headers: { authorization: `Key ${key}` },
          payload: body as object,
        });
      assert.equal((await inject(one)).statusCode, 200);
      const running = [inject(one), inject({ inputs: [one.inputs[0], one.inputs[0]] })];
      await new Promise((r) => setTimeout(r, 50));
      const refused = await inject(one);
      assert.equal(refused.statusCode, 429, refused.body);
      assert.equal(refused.json().status.code, StatusCode.MODEL_BUSY_PLEASE_RETRY);
      assert.match(refused.json().status.details, /at most 2 may wait/);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      for (const r of await Promise.all(running)) assert.equal(r.statusCode, 200);
    } finally {
      await busyApp.close();
      await small.close();
    }
  });
});
