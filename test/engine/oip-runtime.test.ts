/**
 * The `oip` runtime against a real Sibyl serving the Open Inference Protocol on loopback (the
 * chain Sibyl -> OIP -> Sibyl answers as the model does locally), a down engine, and a generic
 * Triton-style tensor model (one FP32 [N,K] output plus the folder's labels) answered by a small
 * handwritten OIP responder in this file.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SibylError } from '../../src/core/errors.js';
import type { Concept, Data } from '../../src/core/wire.js';
import { createEngine, type Engine, type EngineInput, type ModelSpec } from '../../src/engine/index.js';
import { OipRuntime } from '../../src/engine/runtimes/oip.js';
import { decodeBytes, encodeFp32, joinBody, splitBody } from '../../src/engine/runtimes/oip-tensors.js';
import { buildApp } from '../../src/server/app.js';
import { ensureAdminUser } from '../../src/server/bootstrap.js';
import { syncBuiltinModels } from '../../src/server/builtins.js';
import { openStore, type Store } from '../../src/store/index.js';

const DOGS = new Uint8Array(await readFile(new URL('../fixtures/photos/dogs.jpg', import.meta.url)));
const FRENCH = "Bonjour tout le monde, je m'appelle Marie et j'habite à Paris depuis dix ans.";
const KEY_ENV = 'SIBYL_OIP_RUNTIME_TEST_KEY';

let store: Store;
let remote: Engine;
let app: FastifyInstance;
let oipBase: string;
let key: string;
let local: Engine;
let responder: Server;
let responderUrl: string;
let seen: { headers: IncomingMessage['headers']; body: Buffer }[] = [];
let answer: (req: { headers: IncomingMessage['headers']; body: Buffer }, res: ServerResponse) => void;

before(async () => {
  // the remote Sibyl: built-in models served over OIP under /oip
  store = await openStore({ sqlitePath: ':memory:' });
  remote = createEngine({ workers: 1, warmUp: false });
  await syncBuiltinModels(store, remote);
  key = (await store.pats.create(await ensureAdminUser(store), 'tests')).token;
  app = buildApp({ store, engine: remote, logError: () => undefined });
  await app.listen({ port: 0, host: '127.0.0.1' });
  oipBase = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/oip`;
  // worker threads copy the environment when they start: the key is there before the first one
  process.env[KEY_ENV] = key;
  local = createEngine({ workers: 1, warmUp: false });

  responder = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const req = { headers: raw.headers, body: Buffer.concat(chunks) };
      seen.push(req);
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => responder.listen(0, '127.0.0.1', resolve));
  responderUrl = `http://127.0.0.1:${(responder.address() as AddressInfo).port}`;
});

after(async () => {
  delete process.env[KEY_ENV];
  responder?.closeAllConnections();
  await new Promise((resolve) => responder?.close(resolve));
  await local?.close();
  const closing = app?.close();
  app?.server.closeAllConnections();
  await closing;
  await remote?.close();
  await store?.close();
});

function builtin(id: string): ModelSpec {
  return remote.builtins().find((m) => m.id === id)!;
}

/** A local model folder's spec that runs `model` on the remote Sibyl through the oip runtime. */
function chained(id: string, runtime: Record<string, unknown> = {}): ModelSpec {
  const b = builtin(id);
  return {
    userId: 'me',
    appId: 'chain',
    id: `oip-${id}`,
    versionId: 'v1',
    name: b.name,
    modelTypeId: b.modelTypeId,
    description: '',
    inputType: b.inputType,
    params: b.params,
    runtime: { kind: 'oip', base_url: oipBase, model: id, api_key_env: KEY_ENV, ...runtime },
    batching: { max_batch_size: 4, max_wait_ms: 0 },
  };
}

const plain = (concepts: Concept[] | undefined) =>
  (concepts ?? []).map(({ id, name, value }) => ({ id, name, value }));

async function failure(promise: Promise<unknown>): Promise<SibylError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SibylError, `expected a SibylError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

describe('oip runtime against a Sibyl OIP server', () => {
  it('an image through the chain gives the concepts of predicting locally', async () => {
    const input: EngineInput = { type: 'image', bytes: DOGS };
    const [here] = await remote.predict(builtin('general-image-recognition'), [input]);
    const [there] = await local.predict(chained('general-image-recognition'), [input]);
    assert.equal(there!.concepts![0]!.name, 'dog', 'the dog is found');
    assert.deepEqual(plain(there!.concepts), plain(here!.concepts));
    const opts = { outputConfig: { max_concepts: 50, min_value: 0.001 } };
    const [hereMore] = await remote.predict(builtin('general-image-recognition'), [input], opts);
    const [thereMore] = await local.predict(chained('general-image-recognition'), [input], opts);
    assert.deepEqual(plain(thereMore!.concepts), plain(hereMore!.concepts));
  });

  it('a text through the chain gives the concepts of predicting locally', async () => {
    const inputs: EngineInput[] = [
      { type: 'text', text: FRENCH },
      { type: 'text', text: 'The quick brown fox jumps over the lazy dog near the river bank.' },
    ];
    const here = await remote.predict(builtin('language-identification'), inputs);
    const there = await local.predict(chained('language-identification'), inputs);
    assert.equal(there[0]!.concepts![0]!.id, 'fr');
    assert.deepEqual(
      there.map((d) => plain(d.concepts)),
      here.map((d) => plain(d.concepts)),
    );
  });

  it('detections through the chain give the local boxes and names', async () => {
    const input: EngineInput = { type: 'image', bytes: DOGS };
    const boxes = (d: Data | undefined) =>
      (d?.regions ?? []).map((r) => ({
        box: r.region_info.bounding_box,
        concepts: plain(r.data.concepts),
      }));
    const [here] = await remote.predict(builtin('general-image-detection'), [input]);
    const [there] = await local.predict(chained('general-image-detection'), [input]);
    assert.ok(boxes(here).length > 0, 'the local model finds something');
    assert.deepEqual(boxes(there), boxes(here));
  });

  it('a down engine and a refused key give clear errors naming the engine, never the key', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise((resolve) => down.close(resolve));
    const runtime = new OipRuntime({ [KEY_ENV]: key });
    const spec = chained('language-identification', { base_url: `http://127.0.0.1:${port}`, retries: 0 });
    const model = await runtime.load(spec, {});
    const err = await failure(model.predict!([{ type: 'text', text: 'hello' }], {}));
    assert.match(
      err.details ?? '',
      new RegExp(
        `remote engine http://127.0.0.1:${port} \\(model "language-identification"\\) is unreachable`,
      ),
    );
    assert.ok(!(err.details ?? '').includes(key));

    const wrong = await new OipRuntime({ [KEY_ENV]: 'wrong-key-1234' }).load(
      chained('language-identification'),
      {},
    );
    const refused = await failure(wrong.predict!([{ type: 'text', text: 'hello' }], {}));
    assert.match(refused.details ?? '', /refused the key in env var SIBYL_OIP_RUNTIME_TEST_KEY \(401\)/);
    assert.ok(!(refused.details ?? '').includes('wrong-key-1234'));

    const missing = await new OipRuntime({ [KEY_ENV]: key }).load(
      chained('language-identification', { model: 'nope' }),
      {},
    );
    const notFound = await failure(missing.predict!([{ type: 'text', text: 'hello' }], {}));
    assert.match(notFound.details ?? '', /answered 404: no model "nope" here/);
  });

  it('validate checks the settings without calling the engine', async () => {
    const runtime = new OipRuntime({ [KEY_ENV]: key });
    const offline = chained('language-identification', { base_url: 'http://127.0.0.1:9' });
    assert.equal(await runtime.validate(offline), offline);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ base_url: 'ftp://x' }, /base_url/],
      [{ colour: 'red' }, /colour/],
      [{ output: 'probs' }, /runtime.output/],
      [{ api_key_env: 'UNSET_OIP_KEY_VAR' }, /UNSET_OIP_KEY_VAR, which is not set/],
    ];
    for (const [settings, message] of bad) {
      await assert.rejects(runtime.validate(chained('language-identification', settings)), message);
    }
    const vad = { ...chained('language-identification'), modelTypeId: 'audio-to-segments' };
    await assert.rejects(runtime.validate(vad), /cannot run on runtime kind oip/);
  });
});

describe('oip runtime against a generic tensor model', () => {
  const spec: ModelSpec = {
    userId: 'me',
    appId: 'app',
    id: 'triton-colours',
    versionId: 'v1',
    name: 'colours',
    modelTypeId: 'visual-classifier',
    description: '',
    inputType: 'image',
    params: {},
    concepts: ['red', 'green', 'blue'],
    runtime: { kind: 'oip', base_url: '', model: 'colours', version: '3', retries: 0 },
    batching: { max_batch_size: 4, max_wait_ms: 0 },
  };

  it('reads one FP32 [N,K] output with the labels as concepts, JSON and binary answers', async () => {
    const scores = [0.7, 0.2, 0.1, 0.05, 0.15, 0.8];
    const runtime = new OipRuntime({});
    const model = await runtime.load({ ...spec, runtime: { ...spec.runtime, base_url: responderUrl } }, {});
    for (const binary of [false, true]) {
      seen = [];
      answer = (_req, res) => {
        const output = { name: 'probs', datatype: 'FP32', shape: [2, 3] };
        if (!binary) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ model_name: 'colours', outputs: [{ ...output, data: scores }] }));
          return;
        }
        const bytes = encodeFp32(scores);
        const { body, headerLength } = joinBody(
          { model_name: 'colours', outputs: [{ ...output, parameters: { binary_data_size: bytes.length } }] },
          [bytes],
        );
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(headerLength),
        });
        res.end(body);
      };
      const png = new Uint8Array([1, 2, 3, 4, 5]);
      const data = await model.predict!(
        [
          { type: 'encoded', media: 'image', bytes: DOGS },
          { type: 'encoded', media: 'image', bytes: png },
        ],
        {},
      );
      assert.deepEqual(
        data.map((d) => d.concepts!.map((c) => [c.name, Math.round(c.value * 100) / 100])),
        [
          [
            ['red', 0.7],
            ['green', 0.2],
            ['blue', 0.1],
          ],
          [
            ['red', 0.05],
            ['green', 0.15],
            ['blue', 0.8],
          ],
        ],
      );
      // what the engine was sent: the binary extension, both files whole, to the version's path
      const req = seen[0]!;
      const { json, binary: tail } = splitBody(
        req.body,
        req.headers['inference-header-content-length'] as string,
      );
      const input = (
        json as {
          inputs: { name: string; datatype: string; shape: number[]; parameters: Record<string, number> }[];
        }
      ).inputs[0]!;
      assert.deepEqual([input.name, input.datatype, input.shape], ['image', 'BYTES', [2]]);
      assert.equal(input.parameters.binary_data_size, tail.length);
      const files = decodeBytes(tail, 'sent');
      assert.deepEqual(
        files.map((f) => f.length),
        [DOGS.length, png.length],
      );
      assert.ok(Buffer.from(DOGS).equals(files[0]!));
      assert.equal(req.headers.authorization, undefined, 'no api_key_env: no key sent');
    }
  });

  it('an answer that fits neither the contract nor the labels is refused, naming the engine', async () => {
    const model = await new OipRuntime({}).load(
      { ...spec, runtime: { ...spec.runtime, base_url: responderUrl } },
      {},
    );
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ outputs: [{ name: 'probs', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
      );
    };
    const err = await failure(model.predict!([{ type: 'encoded', media: 'image', bytes: DOGS }], {}));
    assert.match(
      err.details ?? '',
      new RegExp(
        `remote engine ${responderUrl} \\(model "colours"\\) sent output "probs" as FP32 \\[1,4\\]; the model's 3 labels need a numeric \\[1, 3\\]`,
      ),
    );
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"outputs": [{"name": "probs"}]}');
    };
    const malformed = await failure(model.predict!([{ type: 'encoded', media: 'image', bytes: DOGS }], {}));
    assert.match(
      malformed.details ?? '',
      /not an OIP inference response: outputs\[0\].datatype must be one of/,
    );
  });
});
