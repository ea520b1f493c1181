/**
 * The v2 REST app end to end: buildApp over a real in-memory store and the real engine (real
 * weights, real photos), driven with fastify's inject. URL inputs are served by a real HTTP server
 * on 127.0.0.1. One engine is shared by every app built here and loaded once for the file.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import type { FastifyInstance } from 'fastify';

import { StatusCode } from '../../src/core/status.js';
import type { Input, Output, Status, User, WireModel } from '../../src/core/wire.js';
import { MAX_INPUTS_PER_REQUEST, Visibility } from '../../src/core/wire.js';
import { createEngine, findBuiltInModel, type Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { ensureAdminUser } from '../../src/server/bootstrap.js';
import { syncBuiltinModels } from '../../src/server/builtins.js';
import { openStore, type Store } from '../../src/store/index.js';

const PHOTOS = fileURLToPath(new URL('../fixtures/photos/', import.meta.url));

function photo(name: string): Buffer {
  const path = PHOTOS + name;
  if (!existsSync(path)) throw new Error(`missing ${path}: run bash scripts/fetch-photos.sh`);
  return readFileSync(path);
}

const DOGS = photo('dogs.jpg');
const CAT = photo('chelsea.png');
const DOGS_B64 = DOGS.toString('base64');

const RECOGNITION = '/v2/users/clarifai/apps/main/models/general-image-recognition';
const DETECTION = '/v2/users/clarifai/apps/main/models/general-image-detection';
const LANGUAGE = '/v2/users/clarifai/apps/main/models/language-identification';
const ENGLISH = 'The quick brown fox jumps over the lazy dog while the children watch from the garden.';

/** Bob's private model, created through the store. */
const BOB_APP = 'vault';
const BOB_MODEL = 'secret-classifier';
const BOB_VERSION = 'bob-version-1';

/** Every JSON body the v2 API answers with, loosely: each test reads the fields it expects. */
interface Reply {
  status: Status;
  outputs?: Output[];
  model?: WireModel;
  models?: WireModel[];
  user?: User;
  input?: Input;
  inputs?: Input[];
}

interface Answer {
  http: number;
  body: Reply;
  raw: string;
  headers: Record<string, unknown>;
}

interface CallOptions {
  /** A PAT sent as `Key <pat>`; omit for no Authorization header. */
  key?: string;
  /** A full Authorization header value, when `key` is not enough. */
  authorization?: string;
  body?: unknown;
  /** Sent verbatim as application/json. */
  rawBody?: string;
}

async function call(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  opts: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.key !== undefined) headers.authorization = `Key ${opts.key}`;
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  let payload: string | undefined;
  if (opts.rawBody !== undefined) payload = opts.rawBody;
  else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const res = await app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
  return { http: res.statusCode, body: res.json<Reply>(), raw: res.body, headers: res.headers };
}

/** Asserts an error answer: HTTP status, v2 status code, and (optionally) text in its details. */
function assertError(res: Answer, http: number, code: number, ...details: Array<string | RegExp>): void {
  assert.equal(res.http, http, `expected HTTP ${http}, got ${res.http}: ${res.raw}`);
  assert.equal(res.body.status.code, code, `expected status ${code}: ${res.raw}`);
  assert.equal(typeof res.body.status.description, 'string');
  assert.ok(res.body.status.req_id, 'an error carries the request id');
  for (const d of details) {
    const text = res.body.status.details ?? '';
    if (typeof d === 'string')
      assert.ok(text.includes(d), `details should mention ${JSON.stringify(d)}: ${text}`);
    else assert.match(text, d);
  }
}

function assertOk(res: Answer): void {
  assert.equal(res.http, 200, res.raw);
  assert.equal(res.body.status.code, StatusCode.SUCCESS, res.raw);
}

function imageInput(base64 = DOGS_B64, id?: string): Input {
  return { ...(id ? { id } : {}), data: { image: { base64 } } };
}

function textInput(raw: string): Input {
  return { data: { text: { raw } } };
}

function outputsOf(res: Answer): Output[] {
  assertOk(res);
  assert.ok(res.body.outputs, res.raw);
  return res.body.outputs;
}

function conceptsOf(res: Answer, i = 0): Array<{ name: string; value: number }> {
  const concepts = outputsOf(res)[i]?.data.concepts;
  assert.ok(concepts, `output ${i} has concepts: ${res.raw}`);
  return concepts;
}

let store: Store;
let engine: Engine;
/** The server as `clarifai serve` builds it: private URLs refused. */
let app: FastifyInstance;
/** Same store and engine, but URL inputs may reach loopback. */
let privateUrlApp: FastifyInstance;
/** The embedded transport's app: no Authorization header means the admin user. */
let localApp: FastifyInstance;
let adminId: string;
let adminKey: string;
let bobKey: string;
/** A plain (non-admin) user: admins may act on any user's resources, so privacy is proven with eve. */
let eveKey: string;
let recognitionVersion: string;
let photoServer: http.Server;
let photoBase: string;

before(async () => {
  store = await openStore({ sqlitePath: ':memory:' });
  engine = createEngine();
  await syncBuiltinModels(store, engine);
  adminId = await ensureAdminUser(store);
  adminKey = (await store.pats.create(adminId, 'tests')).token;

  await store.users.create({ id: 'bob', fullName: 'Bob' });
  bobKey = (await store.pats.create('bob', 'bob tests')).token;
  await store.users.create({ id: 'eve' });
  eveKey = (await store.pats.create('eve', 'eve tests')).token;
  await store.apps.ensure('bob', BOB_APP);
  await store.models.create({
    userId: 'bob',
    appId: BOB_APP,
    id: BOB_MODEL,
    modelTypeId: 'visual-classifier',
    visibility: 'private',
    versionId: BOB_VERSION,
  });

  const def = findBuiltInModel('clarifai', 'main', 'general-image-recognition');
  assert.ok(def, 'general-image-recognition is built in');
  recognitionVersion = def.versionId;

  app = buildApp({ store, engine });
  privateUrlApp = buildApp({ store, engine, service: { allowPrivateUrls: true } });
  localApp = buildApp({ store, engine, localUserId: adminId });

  photoServer = http.createServer((req, res) => {
    if (req.url === '/dogs.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(DOGS);
    } else if (req.url === '/english.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(ENGLISH);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
    }
  });
  await new Promise<void>((resolve) => photoServer.listen(0, '127.0.0.1', resolve));
  photoBase = `http://127.0.0.1:${(photoServer.address() as AddressInfo).port}`;
});

after(async () => {
  await Promise.all([app?.close(), privateUrlApp?.close(), localApp?.close()]);
  await new Promise<void>((resolve) => (photoServer ? photoServer.close(() => resolve()) : resolve()));
  await engine?.close();
  await store?.close();
});

describe('health', () => {
  for (const path of ['/health', '/v2/healthz', '/health?probe=1', '/health/', '/v2/healthz/']) {
    it(`GET ${path} answers without a key`, async () => {
      const res = await call(app, 'GET', path);
      assertOk(res);
    });
  }

  it('a trailing slash does not make a /v2 route public', async () => {
    assertError(await call(app, 'GET', '/v2/users/me/'), 401, StatusCode.CONN_KEY_NOT_FOUND);
    assertError(await call(app, 'GET', '/v2/models/'), 401, StatusCode.CONN_KEY_NOT_FOUND);
  });
});

describe('authentication', () => {
  /** [registered pattern, concrete URL, method]: every /v2 route the app serves. */
  const routes: Array<[string, string, 'GET' | 'POST']> = [
    ['/v2/users/:user_id', '/v2/users/me', 'GET'],
    ['/v2/models', '/v2/models', 'GET'],
    ['/v2/users/:user_id/apps/:app_id/models', '/v2/users/clarifai/apps/main/models', 'GET'],
    ['/v2/users/:user_id/apps/:app_id/models/:model_id', RECOGNITION, 'GET'],
    [
      '/v2/users/:user_id/apps/:app_id/models/:model_id/versions/:version_id',
      `${RECOGNITION}/versions/v1`,
      'GET',
    ],
    ['/v2/users/:user_id/apps/:app_id/models/:model_id/outputs', `${RECOGNITION}/outputs`, 'POST'],
    [
      '/v2/users/:user_id/apps/:app_id/models/:model_id/versions/:version_id/outputs',
      `${RECOGNITION}/versions/v1/outputs`,
      'POST',
    ],
    ['/v2/users/:user_id/apps/:app_id/inputs', '/v2/users/me/apps/default/inputs', 'POST'],
    ['/v2/users/:user_id/apps/:app_id/inputs', '/v2/users/me/apps/default/inputs', 'GET'],
    ['/v2/users/:user_id/apps/:app_id/inputs/:input_id', '/v2/users/me/apps/default/inputs/abc', 'GET'],
  ];
  const body = { inputs: [textInput('hello')] };

  it('the route list above names real routes', () => {
    for (const [pattern, , method] of routes)
      assert.ok(app.hasRoute({ method, url: pattern }), `${method} ${pattern}`);
  });

  for (const [, url, method] of routes) {
    it(`${method} ${url} without a key -> 401 CONN_KEY_NOT_FOUND`, async () => {
      const res = await call(app, method, url, method === 'POST' ? { body } : {});
      assertError(res, 401, StatusCode.CONN_KEY_NOT_FOUND, 'Authorization: Key');
    });
  }

  it('a well-formed but unknown key -> 401 CONN_KEY_INVALID, the key never echoed', async () => {
    const fake = `sbl_${'A'.repeat(43)}`;
    for (const [, url, method] of routes) {
      const res = await call(app, method, url, { key: fake, ...(method === 'POST' ? { body } : {}) });
      assertError(res, 401, StatusCode.CONN_KEY_INVALID);
      assert.ok(!res.raw.includes(fake), `the key leaked: ${res.raw}`);
      assert.ok(!res.raw.includes('AAAAAAAA'), `part of the key leaked: ${res.raw}`);
    }
  });

  it('malformed keys and headers -> 401 CONN_KEY_INVALID, never echoed', async () => {
    const secret = 'hunter2-very-secret-token-xyz';
    for (const authorization of [
      `Key ${secret}`,
      `Bearer ${secret}`,
      `Basic ${secret}`,
      secret,
      `Key ${adminKey}x`,
      'Key',
    ]) {
      const res = await call(app, 'GET', '/v2/users/me', { authorization });
      assertError(res, 401, StatusCode.CONN_KEY_INVALID);
      assert.ok(!res.raw.includes(secret), `the key leaked: ${res.raw}`);
      assert.ok(!res.raw.includes(adminKey), `the key leaked: ${res.raw}`);
    }
  });

  it('an empty Authorization header counts as no key', async () => {
    assertError(
      await call(app, 'GET', '/v2/users/me', { authorization: '' }),
      401,
      StatusCode.CONN_KEY_NOT_FOUND,
    );
  });

  it('accepts `Key`, `Bearer`, and either in any case', async () => {
    for (const authorization of [
      `Key ${adminKey}`,
      `Bearer ${adminKey}`,
      `key ${adminKey}`,
      `BEARER ${adminKey}`,
      `  Key   ${adminKey}  `,
    ]) {
      const res = await call(app, 'GET', '/v2/users/me', { authorization });
      assertOk(res);
      assert.equal(res.body.user?.id, adminId);
    }
  });

  it('an unknown route with a key -> 404 with a v2 status', async () => {
    for (const [method, url] of [
      ['GET', '/v2/no-such-thing'],
      ['DELETE', '/v2/users/me'], // DELETE /v2/models is DeleteModels: NOT_IMPLEMENTED (grpc-web.test.ts)
      ['GET', '/nothing'],
    ] as const) {
      const res = await call(app, method, url, { key: adminKey });
      assertError(res, 404, StatusCode.CONN_INVALID_REQUEST, 'no route');
    }
  });
});

describe('users', () => {
  it('GET /v2/users/me answers with the key owner', async () => {
    const res = await call(app, 'GET', '/v2/users/me', { key: adminKey });
    assertOk(res);
    assert.equal(res.body.user?.id, adminId);
    assert.ok(res.body.user?.created_at);
  });

  it('GET /v2/users/<own id> works too', async () => {
    const res = await call(app, 'GET', `/v2/users/${adminId}`, { key: adminKey });
    assertOk(res);
    assert.equal(res.body.user?.id, adminId);
  });

  it("another user's id -> 404, whether or not that user exists", async () => {
    for (const other of ['bob', 'clarifai', 'nobody-at-all']) {
      const res = await call(app, 'GET', `/v2/users/${other}`, { key: eveKey });
      assertError(res, 404, StatusCode.USER_DOES_NOT_EXIST);
    }
  });

  it("bob's key is bob", async () => {
    const res = await call(app, 'GET', '/v2/users/me', { key: bobKey });
    assertOk(res);
    assert.equal(res.body.user?.id, 'bob');
    assert.equal(res.body.user?.first_name, 'Bob');
  });
});

describe('models', () => {
  it('GET a built-in model: its fixed version and output info', async () => {
    const res = await call(app, 'GET', RECOGNITION, { key: adminKey });
    assertOk(res);
    const model = res.body.model;
    assert.equal(model?.id, 'general-image-recognition');
    assert.equal(model?.user_id, 'clarifai');
    assert.equal(model?.app_id, 'main');
    assert.equal(model?.visibility?.gettable, Visibility.PUBLIC);
    assert.equal(model?.model_version?.id, recognitionVersion);
    assert.ok(model?.model_version?.output_info?.data?.concepts?.some((c) => c.name === 'dog'));
  });

  it('GET by version id; an unknown version -> 404', async () => {
    assertOk(await call(app, 'GET', `${RECOGNITION}/versions/${recognitionVersion}`, { key: adminKey }));
    assertError(
      await call(app, 'GET', `${RECOGNITION}/versions/no-such-version`, { key: adminKey }),
      404,
      StatusCode.MODEL_DOES_NOT_EXIST,
    );
  });

  it('GET /v2/models lists the built-ins once each, paged', async () => {
    const res = await call(app, 'GET', '/v2/models', { key: adminKey });
    assertOk(res);
    const ids = (res.body.models ?? []).map((m) => `${m.user_id}/${m.app_id}/${m.id}`);
    for (const def of engine.builtins())
      assert.ok(ids.includes(`${def.userId}/${def.appId}/${def.id}`), ids.join(' '));
    assert.equal(new Set(ids).size, ids.length);

    const page2 = await call(app, 'GET', '/v2/models?per_page=1&page=2', { key: adminKey });
    assertOk(page2);
    assert.equal(page2.body.models?.length, 1);
    assert.equal(page2.body.models?.[0]?.id, res.body.models?.[1]?.id);
  });

  it('bad paging -> 400 naming the parameter (0 is the proto3 default: the default page size)', async () => {
    for (const q of ['per_page=-1', 'per_page=1001', 'page=-2', 'page=abc']) {
      assertError(
        await call(app, 'GET', `/v2/models?${q}`, { key: adminKey }),
        400,
        StatusCode.CONN_INVALID_REQUEST,
        q.split('=')[0]!,
      );
    }
  });

  it('a model that does not exist -> 404 21200 listing what is available and pointing at the cloud', async () => {
    const res = await call(app, 'GET', '/v2/users/anthropic/apps/completion/models/claude-v2', {
      key: adminKey,
    });
    assertError(
      res,
      404,
      StatusCode.MODEL_DOES_NOT_EXIST,
      'anthropic/completion/claude-v2',
      'clarifai/main/general-image-recognition',
      'clarifai/main/language-identification',
      "Clarifai's cloud",
    );
    const predicted = await call(
      app,
      'POST',
      '/v2/users/anthropic/apps/completion/models/claude-v2/outputs',
      {
        key: adminKey,
        body: { inputs: [textInput('hello')] },
      },
    );
    assertError(predicted, 404, StatusCode.MODEL_DOES_NOT_EXIST, "Clarifai's cloud");
  });
});

describe('predict', () => {
  describe('image recognition', () => {
    it('base64 dogs.jpg -> dog first, with a full output envelope', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput(DOGS_B64, 'my-dogs')] },
      });
      const [out] = outputsOf(res);
      assert.ok(out);
      assert.equal(outputsOf(res).length, 1);
      assert.equal(out.data.concepts?.[0]?.name, 'dog');
      assert.ok(out.data.concepts![0]!.value > 0 && out.data.concepts![0]!.value <= 1);
      assert.match(out.id, /^[0-9a-f]{32}$/);
      assert.ok(!Number.isNaN(Date.parse(out.created_at)));
      assert.equal(out.status.code, StatusCode.SUCCESS);
      assert.equal(out.model?.id, 'general-image-recognition');
      assert.equal(out.model?.model_version?.id, recognitionVersion);
      // The input is echoed with its id, but not its bulky base64.
      assert.equal(out.input?.id, 'my-dogs');
      assert.ok(out.input?.data.image, 'the image field is echoed');
      assert.equal(out.input?.data.image?.base64, undefined);
      assert.ok(!res.raw.includes(DOGS_B64.slice(0, 200)), 'the base64 must not be echoed');
    });

    it('one output per input, in order', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput(CAT.toString('base64')), imageInput(DOGS_B64)] },
      });
      const outs = outputsOf(res);
      assert.equal(outs.length, 2);
      assert.equal(outs[0]?.data.concepts?.[0]?.name, 'cat');
      assert.equal(outs[1]?.data.concepts?.[0]?.name, 'dog');
      assert.notEqual(outs[0]?.id, outs[1]?.id);
      assert.ok(outs[0]?.input?.id && outs[1]?.input?.id, 'inputs without an id get one');
    });

    it('the versions/<id> route predicts with that version', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/versions/${recognitionVersion}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()] },
      });
      const [out] = outputsOf(res);
      assert.equal(out?.data.concepts?.[0]?.name, 'dog');
      assert.equal(out?.model?.model_version?.id, recognitionVersion);
    });

    it('an unknown version, in the path or the body -> 404', async () => {
      const inPath = await call(app, 'POST', `${RECOGNITION}/versions/no-such-version/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()] },
      });
      assertError(inPath, 404, StatusCode.MODEL_DOES_NOT_EXIST, 'no-such-version');
      const inBody = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()], model: { model_version: { id: 'no-such-version' } } },
      });
      assertError(inBody, 404, StatusCode.MODEL_DOES_NOT_EXIST, 'no-such-version');
    });

    it('without output_config the dogs photo has more than 3 concepts (so the next test means something)', async () => {
      const concepts = conceptsOf(
        await call(app, 'POST', `${RECOGNITION}/outputs`, {
          key: adminKey,
          body: { inputs: [imageInput()] },
        }),
      );
      assert.ok(concepts.length > 3, JSON.stringify(concepts));
      assert.ok(
        concepts.some((c) => c.value < 0.3),
        'some concept is under 0.3',
      );
    });

    it('max_concepts under model.model_version.output_info and under the older model.output_info', async () => {
      for (const model of [
        { model_version: { output_info: { output_config: { max_concepts: 3 } } } },
        { output_info: { output_config: { max_concepts: 3 } } },
      ]) {
        const concepts = conceptsOf(
          await call(app, 'POST', `${RECOGNITION}/outputs`, {
            key: adminKey,
            body: { inputs: [imageInput()], model },
          }),
        );
        assert.ok(
          concepts.length > 0 && concepts.length <= 3,
          `${JSON.stringify(model)}: ${concepts.length} concepts`,
        );
        assert.equal(concepts[0]?.name, 'dog');
      }
    });

    it('select_concepts keeps only the named concepts', async () => {
      const concepts = conceptsOf(
        await call(app, 'POST', `${RECOGNITION}/outputs`, {
          key: adminKey,
          body: {
            inputs: [imageInput()],
            model: {
              model_version: { output_info: { output_config: { select_concepts: [{ name: 'dog' }] } } },
            },
          },
        }),
      );
      assert.deepEqual(
        concepts.map((c) => c.name),
        ['dog'],
      );
    });

    it('min_value drops weaker concepts', async () => {
      const concepts = conceptsOf(
        await call(app, 'POST', `${RECOGNITION}/outputs`, {
          key: adminKey,
          body: { inputs: [imageInput()], model: { output_info: { output_config: { min_value: 0.3 } } } },
        }),
      );
      assert.ok(concepts.length >= 1);
      assert.equal(concepts[0]?.name, 'dog');
      for (const c of concepts) assert.ok(c.value >= 0.3, `${c.name} ${c.value}`);
    });

    it('a bad output_config -> 400 naming the allowed fields', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()], model: { output_info: { output_config: { max_concept: 3 } } } },
      });
      assertError(res, 400, StatusCode.MODEL_INVALID_ARGUMENT, 'max_concept', 'max_concepts');
    });
  });

  describe('image detection', () => {
    it('finds at least four dogs with boxes inside the image', async () => {
      const res = await call(app, 'POST', `${DETECTION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()] },
      });
      const regions = outputsOf(res)[0]?.data.regions ?? [];
      const dogs = regions.filter((r) => r.data.concepts[0]?.name === 'dog');
      assert.ok(
        dogs.length >= 4,
        `${dogs.length} dogs in ${JSON.stringify(regions.map((r) => r.data.concepts[0]?.name))}`,
      );
      for (const r of regions) {
        const b = r.region_info.bounding_box;
        for (const v of [b.top_row, b.left_col, b.bottom_row, b.right_col])
          assert.ok(v >= 0 && v <= 1, JSON.stringify(b));
        assert.ok(b.top_row < b.bottom_row && b.left_col < b.right_col, JSON.stringify(b));
      }
    });

    it('inference params are applied (max_detections)', async () => {
      const res = await call(app, 'POST', `${DETECTION}/outputs`, {
        key: adminKey,
        body: {
          inputs: [imageInput()],
          model: { model_version: { output_info: { params: { max_detections: 2 } } } },
        },
      });
      const regions = outputsOf(res)[0]?.data.regions ?? [];
      assert.ok(regions.length >= 1 && regions.length <= 2, `${regions.length} regions`);
      assert.equal(regions[0]?.data.concepts[0]?.name, 'dog');
    });

    it('an unknown param -> 400 naming the allowed ones', async () => {
      const res = await call(app, 'POST', `${DETECTION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()], model: { output_info: { params: { max_objects: 3 } } } },
      });
      assertError(
        res,
        400,
        StatusCode.MODEL_INVALID_ARGUMENT,
        'max_objects',
        'max_detections',
        'iou_threshold',
      );
    });

    it('a param out of range -> 400', async () => {
      const res = await call(app, 'POST', `${DETECTION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()], model: { output_info: { params: { iou_threshold: 7 } } } },
      });
      assertError(res, 400, StatusCode.MODEL_INVALID_ARGUMENT, 'iou_threshold');
    });
  });

  describe('language identification', () => {
    it('English text.raw -> en', async () => {
      const concepts = conceptsOf(
        await call(app, 'POST', `${LANGUAGE}/outputs`, {
          key: adminKey,
          body: { inputs: [textInput(ENGLISH)] },
        }),
      );
      assert.equal(concepts[0]?.name, 'en');
    });

    it('text sent as base64 works too', async () => {
      const res = await call(app, 'POST', `${LANGUAGE}/outputs`, {
        key: adminKey,
        body: { inputs: [{ data: { text: { base64: Buffer.from(ENGLISH).toString('base64') } } }] },
      });
      assert.equal(conceptsOf(res)[0]?.name, 'en');
    });

    it('the recognition model takes no params at all', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()], model: { output_info: { params: { temperature: 1 } } } },
      });
      assertError(res, 400, StatusCode.MODEL_INVALID_ARGUMENT, 'temperature');
    });
  });

  describe('bad requests', () => {
    it('text sent to an image model -> 400 naming both types', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [textInput(ENGLISH)] },
      });
      assertError(res, 400, StatusCode.INPUT_INVALID_ARGUMENT, /image/, /text/);
    });

    it('an image sent to a text model -> 400 naming both types', async () => {
      const res = await call(app, 'POST', `${LANGUAGE}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()] },
      });
      assertError(res, 400, StatusCode.INPUT_INVALID_ARGUMENT, /image/, /text/);
    });

    it('base64 that is not an image -> 400', async () => {
      const notImage = Buffer.from('this is plain text, not a picture of anything').toString('base64');
      assertError(
        await call(app, 'POST', `${RECOGNITION}/outputs`, {
          key: adminKey,
          body: { inputs: [imageInput(notImage)] },
        }),
        400,
        StatusCode.INPUT_INVALID_ARGUMENT,
      );
    });

    it('a truncated JPEG -> 400, not a server error', async () => {
      const truncated = DOGS.subarray(0, Math.floor(DOGS.length / 3)).toString('base64');
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput(truncated)] },
      });
      assertError(res, 400, StatusCode.INPUT_INVALID_ARGUMENT);
    });

    it('invalid base64 characters -> 400 naming the field', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput('!!!not*base64$$$')] },
      });
      assertError(res, 400, StatusCode.INPUT_INVALID_ARGUMENT, 'inputs[0].data.image.base64');
    });

    it(`more than ${MAX_INPUTS_PER_REQUEST} inputs -> 400 naming the limit, before any work`, async () => {
      const inputs = Array.from({ length: MAX_INPUTS_PER_REQUEST + 1 }, () => textInput('hello'));
      const res = await call(app, 'POST', `${LANGUAGE}/outputs`, { key: adminKey, body: { inputs } });
      assertError(res, 400, StatusCode.CONN_INVALID_REQUEST, String(MAX_INPUTS_PER_REQUEST));
    });

    it(`exactly ${MAX_INPUTS_PER_REQUEST} inputs is fine`, async () => {
      const inputs = Array.from({ length: MAX_INPUTS_PER_REQUEST }, () => textInput(ENGLISH));
      const outs = outputsOf(
        await call(app, 'POST', `${LANGUAGE}/outputs`, { key: adminKey, body: { inputs } }),
      );
      assert.equal(outs.length, MAX_INPUTS_PER_REQUEST);
      assert.ok(outs.every((o) => o.data.concepts?.[0]?.name === 'en'));
    });

    it('no inputs, an empty list, or inputs that is not a list -> 400', async () => {
      for (const body of [{}, { inputs: [] }, { inputs: 'dogs.jpg' }, { inputs: null }, []]) {
        const res = await call(app, 'POST', `${RECOGNITION}/outputs`, { key: adminKey, body });
        assertError(res, 400, StatusCode.CONN_INVALID_REQUEST, 'inputs');
      }
    });

    it('an input with both an image and a text -> 400 naming both', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [{ data: { image: { base64: DOGS_B64 }, text: { raw: 'a dog' } } }] },
      });
      assertError(res, 400, StatusCode.INPUT_INVALID_ARGUMENT, 'inputs[0].data', 'image', 'text');
    });

    it('an input with no media, or media with both url and base64 -> 400', async () => {
      for (const input of [
        { data: {} },
        { data: { image: {} } },
        { data: { image: { url: `${photoBase}/dogs.jpg`, base64: DOGS_B64 } } },
        {},
        'dogs.jpg',
      ]) {
        const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
          key: adminKey,
          body: { inputs: [input] },
        });
        assertError(res, 400, StatusCode.INPUT_INVALID_ARGUMENT, 'inputs[0]');
      }
    });

    it('malformed JSON -> 400 CONN_BAD_REQUEST_FORMAT', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        rawBody: '{"inputs": [',
      });
      assertError(res, 400, StatusCode.CONN_BAD_REQUEST_FORMAT, 'JSON');
    });

    it('a body without a content type -> 415 CONN_BAD_REQUEST_FORMAT', async () => {
      const res = await app.inject({
        method: 'POST',
        url: `${RECOGNITION}/outputs`,
        headers: { authorization: `Key ${adminKey}` },
        payload: JSON.stringify({ inputs: [imageInput()] }),
      });
      assert.equal(res.statusCode, 415, res.body);
      assert.equal(res.json<Reply>().status.code, StatusCode.CONN_BAD_REQUEST_FORMAT);
    });

    it('a text/plain body -> 400 asking for a JSON object', async () => {
      const res = await app.inject({
        method: 'POST',
        url: `${RECOGNITION}/outputs`,
        headers: { authorization: `Key ${adminKey}`, 'content-type': 'text/plain' },
        payload: 'inputs=dogs.jpg',
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json<Reply>().status.details ?? '', /JSON object/);
    });

    it('an empty JSON body -> 400 CONN_BAD_REQUEST_FORMAT', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, { key: adminKey, rawBody: '' });
      assertError(res, 400, StatusCode.CONN_BAD_REQUEST_FORMAT);
    });

    it('model that is not an object -> 400', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()], model: 'general' },
      });
      assertError(res, 400, StatusCode.CONN_INVALID_REQUEST, 'model');
    });
  });

  describe('runner_selector', () => {
    it('a deployment -> 404 naming it', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()], runner_selector: { deployment: { id: 'my-deployment-42' } } },
      });
      assertError(res, 404, StatusCode.DEPLOYMENT_DOES_NOT_EXIST, 'my-deployment-42');
    });

    it('a nodepool in a missing compute cluster -> 404 naming the cluster', async () => {
      const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: {
          inputs: [imageInput()],
          runner_selector: { nodepool: { id: 'pool-7', compute_cluster: { id: 'cluster-9' } } },
        },
      });
      assertError(res, 404, StatusCode.COMPUTE_CLUSTER_DOES_NOT_EXIST, 'cluster-9');
    });
  });
});

describe('privacy: a private model of another user reads as missing', () => {
  const secretPath = `/v2/users/bob/apps/${BOB_APP}/models/${BOB_MODEL}`;
  const missingPath = `/v2/users/bob/apps/${BOB_APP}/models/no-such-model`;

  /** The same error, up to the model id the caller typed. */
  function assertSameAsMissing(secret: Answer, missing: Answer): void {
    assertError(secret, 404, StatusCode.MODEL_DOES_NOT_EXIST);
    assert.equal(secret.http, missing.http);
    assert.equal(secret.body.status.code, missing.body.status.code);
    assert.equal(secret.body.status.description, missing.body.status.description);
    assert.equal(
      secret.body.status.details?.replace(BOB_MODEL, 'X'),
      missing.body.status.details?.replace('no-such-model', 'X'),
    );
  }

  it("another user's GET of bob's private model is answered like a missing model", async () => {
    const secret = await call(app, 'GET', secretPath, { key: eveKey });
    const missing = await call(app, 'GET', missingPath, { key: eveKey });
    assertSameAsMissing(secret, missing);
    // The list of available models in the error does not include it either.
    assert.ok(!(secret.body.status.details ?? '').includes(`bob/${BOB_APP}/${BOB_MODEL},`));
  });

  it('the same through the versions route', async () => {
    const secret = await call(app, 'GET', `${secretPath}/versions/${BOB_VERSION}`, { key: eveKey });
    const missing = await call(app, 'GET', `${missingPath}/versions/${BOB_VERSION}`, { key: eveKey });
    assertSameAsMissing(secret, missing);
  });

  it('absent from the lists another user sees', async () => {
    const all = await call(app, 'GET', '/v2/models', { key: eveKey });
    assertOk(all);
    assert.ok(!all.body.models?.some((m) => m.id === BOB_MODEL));
    const inApp = await call(app, 'GET', `/v2/users/bob/apps/${BOB_APP}/models`, { key: eveKey });
    assertOk(inApp);
    assert.deepEqual(inApp.body.models, []);
  });

  it("another user's predict on it is answered like a missing model", async () => {
    const body = { inputs: [imageInput()] };
    const secret = await call(app, 'POST', `${secretPath}/outputs`, { key: eveKey, body });
    const missing = await call(app, 'POST', `${missingPath}/outputs`, { key: eveKey, body });
    assertSameAsMissing(secret, missing);
    const secretVersion = await call(app, 'POST', `${secretPath}/versions/${BOB_VERSION}/outputs`, {
      key: eveKey,
      body,
    });
    const missingVersion = await call(app, 'POST', `${missingPath}/versions/${BOB_VERSION}/outputs`, {
      key: eveKey,
      body,
    });
    assertSameAsMissing(secretVersion, missingVersion);
  });

  it('bob sees it, in GET and in both lists', async () => {
    const got = await call(app, 'GET', secretPath, { key: bobKey });
    assertOk(got);
    assert.equal(got.body.model?.id, BOB_MODEL);
    assert.equal(got.body.model?.visibility?.gettable, Visibility.PRIVATE);
    assert.equal(got.body.model?.model_version?.id, BOB_VERSION);
    assertOk(await call(app, 'GET', `${secretPath}/versions/${BOB_VERSION}`, { key: bobKey }));

    const all = await call(app, 'GET', '/v2/models', { key: bobKey });
    assertOk(all);
    assert.ok(all.body.models?.some((m) => m.id === BOB_MODEL && m.user_id === 'bob'));
    // Bob sees the public built-ins too.
    assert.ok(all.body.models?.some((m) => m.id === 'general-image-recognition'));

    const inApp = await call(app, 'GET', `/v2/users/bob/apps/${BOB_APP}/models`, { key: bobKey });
    assertOk(inApp);
    assert.deepEqual(
      inApp.body.models?.map((m) => m.id),
      [BOB_MODEL],
    );
  });

  it("the not-found details bob gets list his model; admin's do not", async () => {
    const bobs = await call(app, 'GET', '/v2/users/anthropic/apps/completion/models/claude-v2', {
      key: bobKey,
    });
    assertError(bobs, 404, StatusCode.MODEL_DOES_NOT_EXIST, `bob/${BOB_APP}/${BOB_MODEL}`);
    const admins = await call(app, 'GET', '/v2/users/anthropic/apps/completion/models/claude-v2', {
      key: adminKey,
    });
    assertError(admins, 404, StatusCode.MODEL_DOES_NOT_EXIST);
    assert.ok(!(admins.body.status.details ?? '').includes(BOB_MODEL), admins.body.status.details);
  });
});

describe('inputs', () => {
  const inputsPath = '/v2/users/me/apps/default/inputs';
  let inputId: string;

  it('admin posts an input and gets it back by id', async () => {
    const posted = await call(app, 'POST', inputsPath, {
      key: adminKey,
      body: { inputs: [{ id: 'note-1', data: { text: { raw: 'hello there' } } }] },
    });
    assertOk(posted);
    assert.equal(posted.body.inputs?.length, 1);
    inputId = posted.body.inputs![0]!.id!;
    assert.equal(inputId, 'note-1');

    for (const user of ['me', adminId]) {
      const got = await call(app, 'GET', `/v2/users/${user}/apps/default/inputs/${inputId}`, {
        key: adminKey,
      });
      assertOk(got);
      assert.equal(got.body.input?.id, inputId);
      assert.equal(got.body.input?.data.text?.raw, 'hello there');
      assert.ok(got.body.input?.created_at);
    }
  });

  it('an input without an id gets one, and the list holds both', async () => {
    const posted = await call(app, 'POST', inputsPath, { key: adminKey, body: { inputs: [imageInput()] } });
    assertOk(posted);
    const id = posted.body.inputs?.[0]?.id;
    assert.match(id ?? '', /^[0-9a-f]{32}$/);
    const list = await call(app, 'GET', inputsPath, { key: adminKey });
    assertOk(list);
    const ids = list.body.inputs?.map((i) => i.id) ?? [];
    assert.ok(ids.includes('note-1') && ids.includes(id), ids.join(' '));
  });

  it('a taken id -> 409 INPUT_ALREADY_EXISTS; an invalid id -> 400', async () => {
    const dup = await call(app, 'POST', inputsPath, {
      key: adminKey,
      body: { inputs: [{ id: 'note-1', data: { text: { raw: 'again' } } }] },
    });
    assertError(dup, 409, StatusCode.INPUT_ALREADY_EXISTS);
    const bad = await call(app, 'POST', inputsPath, {
      key: adminKey,
      body: { inputs: [{ id: 'has space', data: { text: { raw: 'x' } } }] },
    });
    assertError(bad, 400, StatusCode.INPUT_INVALID_ARGUMENT, 'has space');
  });

  it('an unknown input -> 404', async () => {
    assertError(
      await call(app, 'GET', `${inputsPath}/no-such-input`, { key: adminKey }),
      404,
      StatusCode.INPUT_DOES_NOT_EXIST,
    );
  });

  it("bob cannot read admin's input", async () => {
    assertError(
      await call(app, 'GET', `/v2/users/${adminId}/apps/default/inputs/${inputId}`, { key: bobKey }),
      404,
      StatusCode.INPUT_DOES_NOT_EXIST,
    );
    assertError(
      await call(app, 'GET', `/v2/users/me/apps/default/inputs/${inputId}`, { key: bobKey }),
      404,
      StatusCode.INPUT_DOES_NOT_EXIST,
    );
    assertError(
      await call(app, 'GET', `/v2/users/${adminId}/apps/default/inputs`, { key: bobKey }),
      404,
      StatusCode.USER_DOES_NOT_EXIST,
    );
  });

  it("bob cannot post into admin's app", async () => {
    const res = await call(app, 'POST', `/v2/users/${adminId}/apps/default/inputs`, {
      key: bobKey,
      body: { inputs: [{ id: 'planted', data: { text: { raw: 'from bob' } } }] },
    });
    assertError(res, 404, StatusCode.USER_DOES_NOT_EXIST);
    assertError(
      await call(app, 'GET', `${inputsPath}/planted`, { key: adminKey }),
      404,
      StatusCode.INPUT_DOES_NOT_EXIST,
    );
  });

  it("bob's own input with the same id lives in bob's app only", async () => {
    const posted = await call(app, 'POST', inputsPath, {
      key: bobKey,
      body: { inputs: [{ id: 'note-1', data: { text: { raw: "bob's note" } } }] },
    });
    assertOk(posted);
    const bobs = await call(app, 'GET', `${inputsPath}/note-1`, { key: bobKey });
    assert.equal(bobs.body.input?.data.text?.raw, "bob's note");
    const admins = await call(app, 'GET', `${inputsPath}/note-1`, { key: adminKey });
    assert.equal(admins.body.input?.data.text?.raw, 'hello there');
  });
});

describe('URL inputs', () => {
  it('by default a loopback URL is refused -> 400 30106 naming --allow-private-urls', async () => {
    const res = await call(app, 'POST', `${RECOGNITION}/outputs`, {
      key: adminKey,
      body: { inputs: [{ data: { image: { url: `${photoBase}/dogs.jpg` } } }] },
    });
    assertError(res, 400, StatusCode.INPUT_INVALID_URL, '--allow-private-urls', '127.0.0.1');
  });

  it('with allowPrivateUrls the same URL predicts dog, and the URL is echoed', async () => {
    const url = `${photoBase}/dogs.jpg`;
    const res = await call(privateUrlApp, 'POST', `${RECOGNITION}/outputs`, {
      key: adminKey,
      body: { inputs: [{ data: { image: { url } } }] },
    });
    const [out] = outputsOf(res);
    assert.equal(out?.data.concepts?.[0]?.name, 'dog');
    assert.equal(out?.input?.data.image?.url, url);
  });

  it('a text URL feeds a text model', async () => {
    const res = await call(privateUrlApp, 'POST', `${LANGUAGE}/outputs`, {
      key: adminKey,
      body: { inputs: [{ data: { text: { url: `${photoBase}/english.txt` } } }] },
    });
    assert.equal(conceptsOf(res)[0]?.name, 'en');
  });

  it('a URL answering 404 -> INPUT_CONNECTION_FAILED (39996)', async () => {
    const res = await call(privateUrlApp, 'POST', `${RECOGNITION}/outputs`, {
      key: adminKey,
      body: { inputs: [{ data: { image: { url: `${photoBase}/missing.jpg` } } }] },
    });
    assert.ok(res.http >= 400, res.raw);
    assert.equal(res.body.status.code, StatusCode.INPUT_CONNECTION_FAILED, res.raw);
    assert.match(res.body.status.details ?? '', /404/);
  });

  it('a URL that is not http(s) -> 400 30106', async () => {
    const res = await call(privateUrlApp, 'POST', `${RECOGNITION}/outputs`, {
      key: adminKey,
      body: { inputs: [{ data: { image: { url: 'file:///etc/passwd' } } }] },
    });
    assertError(res, 400, StatusCode.INPUT_INVALID_URL, 'file');
  });
});

describe('localUserId (the embedded transport)', () => {
  it('no Authorization header acts as the local user', async () => {
    const res = await call(localApp, 'GET', '/v2/users/me');
    assertOk(res);
    assert.equal(res.body.user?.id, adminId);
  });

  it('predicts as the local user', async () => {
    const res = await call(localApp, 'POST', `${LANGUAGE}/outputs`, {
      body: { inputs: [textInput(ENGLISH)] },
    });
    assert.equal(conceptsOf(res)[0]?.name, 'en');
  });

  it('a wrong key is still refused, and not echoed', async () => {
    const fake = `sbl_${'B'.repeat(43)}`;
    const res = await call(localApp, 'GET', '/v2/users/me', { key: fake });
    assertError(res, 401, StatusCode.CONN_KEY_INVALID);
    assert.ok(!res.raw.includes(fake));
  });

  it('a valid key of another user acts as that user', async () => {
    const res = await call(localApp, 'GET', '/v2/users/me', { key: bobKey });
    assertOk(res);
    assert.equal(res.body.user?.id, 'bob');
  });

  it('the app without localUserId still requires a key', async () => {
    assertError(await call(app, 'GET', '/v2/users/me'), 401, StatusCode.CONN_KEY_NOT_FOUND);
  });
});

describe('limits', () => {
  it('a body over bodyLimit -> 413 RPC_MAX_MESSAGE_SIZE_EXCEEDED', async () => {
    const small = buildApp({ store, engine, bodyLimit: 4096 });
    try {
      const res = await call(small, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()] },
      });
      assertError(res, 413, StatusCode.RPC_MAX_MESSAGE_SIZE_EXCEEDED, 'limit');
    } finally {
      await small.close();
    }
  });

  it('a URL download over maxUrlBytes -> 413 REQUEST_TOO_LARGE', async () => {
    const tight = buildApp({ store, engine, service: { allowPrivateUrls: true, maxUrlBytes: 1024 } });
    try {
      const res = await call(tight, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [{ data: { image: { url: `${photoBase}/dogs.jpg` } } }] },
      });
      assertError(res, 413, StatusCode.REQUEST_TOO_LARGE, 'limit');
    } finally {
      await tight.close();
    }
  });

  it('an image over the engine pixel limit -> 413 before any model runs', async () => {
    const strict = createEngine({ maxImagePixels: 10_000 });
    const strictApp = buildApp({ store, engine: strict });
    try {
      const res = await call(strictApp, 'POST', `${RECOGNITION}/outputs`, {
        key: adminKey,
        body: { inputs: [imageInput()] },
      });
      assertError(res, 413, StatusCode.REQUEST_TOO_LARGE, 'pixels');
    } finally {
      await strictApp.close();
      await strict.close();
    }
  });
});
