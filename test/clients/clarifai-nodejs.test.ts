/**
 * Clarifai's official Node SDK (`clarifai-nodejs` 0.4.0, gRPC), unchanged, against a Sibyl server
 * on loopback: the base URL a user has (`http://127.0.0.1:<port>`) and the server's PAT.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { App, Input, Model, User } from 'clarifai-nodejs';
import resources from 'clarifai-nodejs-grpc/proto/clarifai/api/resources_pb';

import { BUILT_IN_MODELS } from '../../src/engine/registry.js';
import type { Sibyl } from './server.js';
import { startSibyl } from './server.js';

const DOGS_PATH = fileURLToPath(new URL('../fixtures/photos/dogs.jpg', import.meta.url));
const DOGS = readFileSync(DOGS_PATH);
const ENGLISH = 'The quick brown fox jumps over the lazy dog while the children watch from the garden.';
const MODELS = 'https://clarifai.com/clarifai/main/models';

interface ConceptObject {
  name: string;
  value: number;
}
interface OutputObject {
  data?: { conceptsList: ConceptObject[]; regionsList: Array<{ data?: { conceptsList: ConceptObject[] } }> };
}

describe('clarifai-nodejs against a Sibyl server', () => {
  let sibyl: Sibyl;
  let photos: http.Server;
  let photoUrl: string;
  let authConfig: { pat: string; base: string; userId: string; appId: string };

  before(async () => {
    sibyl = await startSibyl();
    authConfig = { pat: sibyl.pat, base: sibyl.url, userId: sibyl.userId, appId: 'default' };
    photos = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(DOGS));
    await new Promise<void>((resolve) => photos.listen(0, '127.0.0.1', resolve));
    photoUrl = `http://127.0.0.1:${(photos.address() as AddressInfo).port}/dogs.jpg`;
  });
  after(async () => {
    await new Promise<void>((resolve) => (photos ? photos.close(() => resolve()) : resolve()));
    await sibyl?.close();
  });

  const model = (id: string) =>
    new Model({ url: `${MODELS}/${id}`, authConfig: { pat: sibyl.pat, base: sibyl.url } });

  it('predictByBytes finds the dog, at most max_concepts of them', async () => {
    const outputs = (await model('general-image-recognition').predictByBytes({
      inputBytes: DOGS,
      inputType: 'image',
      outputConfig: new resources.OutputConfig().setMaxConcepts(3),
    })) as OutputObject[];
    const concepts = outputs[0]!.data!.conceptsList;
    assert.equal(concepts[0]!.name, 'dog');
    assert.ok(concepts.length <= 3, `${concepts.length} concepts`);
  });

  it('predictByFilepath on the detector with inferenceParams (min_score 0.5) and an output config', async () => {
    const outputs = (await model('general-image-detection').predictByFilepath({
      filepath: DOGS_PATH,
      inputType: 'image',
      inferenceParams: { min_score: 0.5 },
      outputConfig: new resources.OutputConfig().setMaxConcepts(1),
    })) as OutputObject[];
    const regions = outputs[0]!.data!.regionsList;
    assert.ok(regions.length >= 1, 'regions found');
    for (const r of regions) assert.ok(r.data!.conceptsList[0]!.value >= 0.5);
    assert.ok(regions.some((r) => r.data!.conceptsList[0]!.name === 'dog'));
  });

  it('predictByBytes on text: language identification says en, as Sibyl REST does', async () => {
    const outputs = (await model('language-identification').predictByBytes({
      inputBytes: Buffer.from(ENGLISH),
      inputType: 'text',
    })) as OutputObject[];
    const grpcConcepts = outputs[0]!.data!.conceptsList;
    assert.equal(grpcConcepts[0]!.name, 'en');
    const rest = await fetch(
      `${sibyl.url}/v2/users/clarifai/apps/main/models/language-identification/outputs`,
      {
        method: 'POST',
        headers: { authorization: `Key ${sibyl.pat}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ data: { text: { raw: ENGLISH } } }] }),
      },
    );
    const body = (await rest.json()) as { outputs: Array<{ data: { concepts: ConceptObject[] } }> };
    assert.deepEqual(
      grpcConcepts.map((c) => [c.name, c.value]),
      body.outputs[0]!.data.concepts.map((c) => [c.name, c.value]),
    );
  });

  it('predictByUrl fetches an allowed URL', async () => {
    const outputs = (await model('general-image-recognition').predictByUrl({
      url: photoUrl,
      inputType: 'image',
      outputConfig: new resources.OutputConfig().setMaxConcepts(2),
    })) as OutputObject[];
    assert.equal(outputs[0]!.data!.conceptsList[0]!.name, 'dog');
  });

  it('loadInfo reads the model', async () => {
    const m = model('general-image-recognition');
    await m.loadInfo();
    assert.equal(m.modelInfo.getId(), 'general-image-recognition');
    assert.ok(m.modelInfo.getModelVersion()?.getId());
  });

  it("an app's model list", async () => {
    const app = new App({ authConfig: { ...authConfig, userId: 'clarifai', appId: 'main' } });
    const ids: string[] = [];
    for await (const page of app.listModels({ perPage: 2 })) ids.push(...page.map((m) => m.id));
    // every built-in model, however many there are
    assert.deepEqual(
      ids.sort(),
      Object.values(BUILT_IN_MODELS)
        .map((m) => m.id)
        .sort(),
    );
  });

  it('input upload from bytes, the listing shows it, and the user lists the app', async () => {
    const input = new Input({ authConfig });
    await input.uploadFromBytes({
      inputId: 'from-sdk',
      textBytes: Buffer.from('hello from clarifai-nodejs'),
    });
    const listed = await fetch(`${sibyl.url}/v2/users/me/apps/default/inputs`, {
      headers: { authorization: `Key ${sibyl.pat}` },
    });
    const body = (await listed.json()) as { inputs: Array<{ id: string; status: { code: number } }> };
    const found = body.inputs.find((i) => i.id === 'from-sdk');
    assert.equal(found?.status.code, 30000);

    const user = new User(authConfig);
    const apps: string[] = [];
    for await (const page of user.listApps({ pageNo: 1, perPage: 10 }))
      apps.push(...(page ?? []).map((a) => a.id));
    assert.ok(apps.includes('default'), apps.join(' '));
  });

  it('a wrong PAT fails at once with the auth status (no retries)', async () => {
    const started = Date.now();
    const wrong = new Model({
      url: `${MODELS}/general-image-recognition`,
      authConfig: { pat: 'sbl_not_a_key', base: sibyl.url },
    });
    await assert.rejects(wrong.predictByBytes({ inputBytes: DOGS, inputType: 'image' }), /11008/);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });
});
