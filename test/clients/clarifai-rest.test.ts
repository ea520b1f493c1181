/**
 * Clarifai's older official JavaScript SDK (`clarifai` 2.9.1, REST over axios), unchanged, against
 * a Sibyl server on loopback. It uses Clarifai's short routes (`/v2/models/{id}/outputs`,
 * `/v2/inputs`) unless given a user and app, then the `/v2/users/{u}/apps/{a}/...` forms; both are
 * driven here. Real models on a real photo; results equal Sibyl's own SDK through REST.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Model as SibylModel } from '../../src/sdk/index.js';
import { StatusCode } from '../../src/core/status.js';
import type { Sibyl } from './server.js';
import { startSibyl } from './server.js';

const require = createRequire(import.meta.url);
const DOGS = readFileSync(fileURLToPath(new URL('../fixtures/photos/dogs.jpg', import.meta.url)));

/* The SDK is untyped JavaScript; these are the parts the tests touch. */
interface Concept {
  id: string;
  name: string;
  value: number;
}
interface PredictResponse {
  status: { code: number };
  outputs: Array<{ data: { concepts: Concept[] } }>;
}
interface SdkModel {
  id: string;
  versionId?: string;
  appId?: string;
  predict(inputs: unknown, config?: Record<string, unknown>): Promise<PredictResponse>;
  getVersions(): Promise<{ model_versions: Array<{ id: string }> }>;
}
interface SdkInput {
  id: string;
  rawData: { status: { code: number } };
}
interface ClarifaiApp {
  models: {
    predict(
      model: string | Record<string, unknown>,
      inputs: unknown,
      config?: Record<string, unknown>,
    ): Promise<PredictResponse>;
    get(id: string): Promise<SdkModel>;
    list(options?: { page: number; perPage: number }): Promise<{ length: number; [i: number]: SdkModel }>;
  };
  inputs: {
    create(inputs: unknown): Promise<{ length: number; [i: number]: SdkInput }>;
    list(options?: { page: number; perPage: number }): Promise<{ length: number; [i: number]: SdkInput }>;
    get(id: string): Promise<SdkInput>;
    delete(id: string | string[]): Promise<{ status: number; data: { status: { code: number } } }>;
  };
}
interface AxiosFailure {
  response?: { status: number; data: { status: { code: number; details?: string } } };
}

const Clarifai = require('clarifai') as { App: new (opts: Record<string, unknown>) => ClarifaiApp };

function items<T>(list: { length: number; [i: number]: T }): T[] {
  return Array.from({ length: list.length }, (_, i) => list[i]!);
}

describe('clarifai 2.9.1 (REST) against a Sibyl server', () => {
  let sibyl: Sibyl;
  let app: ClarifaiApp;
  const dogs = DOGS.toString('base64');

  before(async () => {
    sibyl = await startSibyl();
    app = new Clarifai.App({ apiKey: sibyl.pat, apiEndpoint: sibyl.url });
  });
  after(() => sibyl?.close());

  it('models.predict by id (POST /v2/models/{id}/outputs) finds the dog, maxConcepts honoured', async () => {
    const res = await app.models.predict('general-image-recognition', { base64: dogs }, { maxConcepts: 3 });
    assert.equal(res.status.code, StatusCode.SUCCESS);
    const concepts = res.outputs[0]!.data.concepts;
    assert.equal(concepts[0]!.name, 'dog');
    assert.equal(concepts.length, 3);
    // the same as Sibyl's own SDK gets
    const own = await new SibylModel({
      url: 'https://clarifai.com/clarifai/main/models/general-image-recognition',
      authConfig: { pat: sibyl.pat, base: sibyl.url },
    }).predictByBytes({ inputBytes: DOGS, inputType: 'image', outputConfig: { max_concepts: 3 } });
    assert.deepEqual(
      concepts.map((c) => [c.name, c.value]),
      own[0]!.data!.concepts!.map((c) => [c.name, c.value]),
    );
  });

  it('models.get (GET /v2/models/{id}) and predict on that version', async () => {
    const model = await app.models.get('general-image-detection');
    assert.equal(model.id, 'general-image-detection');
    assert.equal(model.appId, 'main');
    assert.ok(model.versionId, 'the model version is known');
    const res = await model.predict({ base64: dogs }); // POST /v2/models/{id}/versions/{v}/outputs
    assert.equal(res.status.code, StatusCode.SUCCESS);
    const versions = await model.getVersions();
    assert.ok(versions.model_versions.some((v) => v.id === model.versionId));
  });

  it('models.list (GET /v2/models) lists the built-in models', async () => {
    const ids = items(await app.models.list({ page: 1, perPage: 50 })).map((m) => m.id);
    for (const id of ['general-image-recognition', 'general-image-detection', 'language-identification']) {
      assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
    }
  });

  it('inputs.create, list, get and delete (/v2/inputs): stored inputs report INPUT_SUCCESS', async () => {
    const created = items(
      await app.inputs.create([
        { base64: dogs, id: 'dogs-a' },
        { base64: dogs, id: 'dogs-b' },
      ]),
    );
    assert.deepEqual(created.map((i) => i.id).sort(), ['dogs-a', 'dogs-b']);
    const listed = items(await app.inputs.list({ page: 1, perPage: 20 }));
    assert.deepEqual(listed.map((i) => i.id).sort(), ['dogs-a', 'dogs-b']);
    assert.ok(listed.every((i) => i.rawData.status.code === StatusCode.INPUT_DOWNLOAD_SUCCESS));
    assert.equal((await app.inputs.get('dogs-a')).id, 'dogs-a');
    const one = await app.inputs.delete('dogs-a'); // DELETE /v2/inputs/{id}
    assert.equal(one.data.status.code, StatusCode.SUCCESS);
    const many = await app.inputs.delete(['dogs-b']); // DELETE /v2/inputs {"ids": [...]}
    assert.equal(many.data.status.code, StatusCode.SUCCESS);
    assert.equal((await app.inputs.list()).length, 0);
  });

  it('with userId and appId it uses the /v2/users/{u}/apps/{a} routes', async () => {
    const scoped = new Clarifai.App({
      apiKey: sibyl.pat,
      apiEndpoint: sibyl.url,
      userId: 'clarifai',
      appId: 'main',
    });
    // 2.9.1 predicts on images (or video) only, so an image model it is
    const res = await scoped.models.predict('general-image-detection', { base64: dogs });
    assert.equal(res.status.code, StatusCode.SUCCESS);
    const regions = (res.outputs[0]!.data as unknown as { regions: Array<{ data: { concepts: Concept[] } }> })
      .regions;
    assert.ok(regions.some((r) => r.data.concepts[0]!.name === 'dog'));
    const ids = items(await scoped.models.list()).map((m) => m.id);
    assert.ok(ids.includes('general-image-recognition'));
  });

  it('a wrong key is refused with 401 and CONN_KEY_INVALID; an unknown model 404', async () => {
    const wrong = new Clarifai.App({ apiKey: 'sbl_wrong', apiEndpoint: sibyl.url });
    const err = (await wrong.models.predict('general-image-recognition', { base64: dogs }).then(
      () => assert.fail('predict with a wrong key succeeded'),
      (e: unknown) => e,
    )) as AxiosFailure;
    assert.equal(err.response?.status, 401);
    assert.equal(err.response?.data.status.code, StatusCode.CONN_KEY_INVALID);
    const missing = (await app.models.get('no-such-model').then(
      () => assert.fail('an unknown model was found'),
      (e: unknown) => e,
    )) as AxiosFailure;
    assert.equal(missing.response?.status, 404);
    assert.equal(missing.response?.data.status.code, StatusCode.MODEL_DOES_NOT_EXIST);
  });
});
