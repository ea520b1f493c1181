/**
 * The predict service over the worker-thread engine, through the real app: what is checked before
 * any URL is fetched, per-input outcomes (MIXED_STATUS), and that a version runs its own spec.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
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
});
