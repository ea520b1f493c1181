/**
 * The Open Inference Protocol v2 on a real server on loopback: built-in models answered in Sibyl's
 * tensor contract through JSON, base64 and Triton's binary tensor data extension, metadata,
 * health, auth, visibility and bad tensors; and `oipPort`, the plain paths on a port of their own.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { decodeBytes, decodeNumbers, encodeBytes, joinBody } from '../../src/engine/runtimes/oip-tensors.js';
import { buildApp } from '../../src/server/app.js';
import { syncBuiltinModels } from '../../src/server/builtins.js';
import { startServer } from '../../src/server/main.js';
import { registerModelFolders } from '../../src/server/model-folders.js';
import { openStore, type Store } from '../../src/store/index.js';
import { onnxClassifierFolder } from '../helpers/model-folders.js';

const DOGS = await readFile(new URL('../fixtures/photos/dogs.jpg', import.meta.url));
const FRENCH = "Bonjour tout le monde, je m'appelle Marie et j'habite à Paris depuis dix ans.";

let root: string;
let store: Store;
let engine: Engine;
let app: FastifyInstance;
let base: string;
let alice: string;
let bob: string;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'sibyl-oip-'));
  await onnxClassifierFolder(path.join(root, 'models', 'colours'), {
    model: { user_id: 'bob', app_id: 'main', visibility: 'private' },
  });
  store = await openStore({ sqlitePath: ':memory:' });
  engine = createEngine({ workers: 1, warmUp: false });
  await syncBuiltinModels(store, engine);
  for (const id of ['alice', 'bob']) await store.users.create({ id });
  await registerModelFolders(store, engine, path.join(root, 'models'));
  alice = (await store.pats.create('alice', 'tests')).token;
  bob = (await store.pats.create('bob', 'tests')).token;
  app = buildApp({ store, engine, logError: () => undefined });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/oip`;
});

after(async () => {
  const closing = app?.close();
  app?.server.closeAllConnections();
  await closing;
  await engine?.close();
  await store?.close();
  await rm(root, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  bytes: Buffer;
}

async function call(
  url: string,
  init: {
    method?: string;
    key?: string | null;
    body?: unknown;
    raw?: Buffer;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== null) headers.authorization = `Key ${init.key ?? alice}`;
  let body: string | Buffer | undefined;
  if (init.raw) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, {
    method: init.method ?? (body ? 'POST' : 'GET'),
    headers,
    ...(body ? { body } : {}),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const headerLength = res.headers.get('inference-header-content-length');
  const jsonBytes = headerLength !== null ? bytes.subarray(0, Number(headerLength)) : bytes;
  return {
    status: res.status,
    headers: res.headers,
    body: JSON.parse(jsonBytes.toString('utf8')) as Record<string, unknown>,
    bytes,
  };
}

type Out = {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: Record<string, unknown>;
};
const outputs = (r: Reply) => r.body.outputs as Out[];
const output = (r: Reply, name: string) => outputs(r).find((o) => o.name === name)!;

/** The concepts /v2 gives for the same input, to compare with. */
async function v2Concepts(modelPath: string, data: Record<string, unknown>) {
  const res = await fetch(
    `${base.replace(/\/oip$/, '')}/v2/users/clarifai/apps/main/models/${modelPath}/outputs`,
    {
      method: 'POST',
      headers: { authorization: `Key ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ data }] }),
    },
  );
  const json = (await res.json()) as {
    outputs: { data: { concepts: { name: string; value: number; id: string }[] } }[];
  };
  return json.outputs[0]!.data.concepts;
}

describe('OIP server under /oip', () => {
  it('health, server metadata and model metadata', async () => {
    assert.deepEqual((await call(`${base}/v2/health/live`, { key: null })).body, { live: true });
    assert.deepEqual((await call(`${base}/v2/health/ready`, { key: null })).body, { ready: true });
    const server = await call(`${base}/v2`);
    assert.equal(server.status, 200);
    assert.ok((server.body.extensions as string[]).includes('binary_tensor_data'));
    assert.equal(server.body.name, 'sibyl');
    assert.match(String(server.body.version), /^\d+\.\d+\.\d+/);
    const meta = await call(`${base}/v2/models/general-image-recognition`);
    assert.equal(meta.status, 200);
    assert.equal(meta.body.platform, 'sibyl');
    assert.equal(meta.body.name, 'general-image-recognition');
    assert.ok((meta.body.versions as string[]).length >= 1);
    assert.deepEqual(meta.body.inputs, [{ name: 'image', datatype: 'BYTES', shape: [-1] }]);
    assert.deepEqual(
      (meta.body.outputs as Out[]).map((o) => [o.name, o.datatype]),
      [
        ['concept_names', 'BYTES'],
        ['concept_scores', 'FP32'],
        ['concept_ids', 'BYTES'],
      ],
    );
    const full = await call(`${base}/v2/models/clarifai.main.language-identification/ready`);
    assert.deepEqual(full.body, { name: 'clarifai.main.language-identification', ready: true });
  });

  it('classifies an image sent as base64 JSON, the same concepts as /v2', async () => {
    const res = await call(`${base}/v2/models/general-image-recognition/infer`, {
      body: {
        id: 'req-1',
        inputs: [
          {
            name: 'image',
            datatype: 'BYTES',
            shape: [1],
            parameters: { content_type: 'base64' },
            data: [DOGS.toString('base64')],
          },
        ],
        parameters: { max_concepts: 5 },
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.id, 'req-1');
    assert.equal(res.body.model_name, 'general-image-recognition');
    const names = output(res, 'concept_names');
    const scores = output(res, 'concept_scores');
    assert.deepEqual(names.shape, [1, 5]);
    assert.equal(scores.datatype, 'FP32');
    const local = await v2Concepts('general-image-recognition', {
      image: { base64: DOGS.toString('base64') },
    });
    assert.deepEqual(
      names.data,
      local.slice(0, 5).map((c) => c.name),
    );
    assert.deepEqual(
      scores.data,
      local.slice(0, 5).map((c) => c.value),
    );
    assert.match(String(names.data![0]), /dog|retriever|terrier|hound|spaniel/i, 'the dog is found');
  });

  it('takes images through the binary tensor data extension and answers binary outputs', async () => {
    const tensor = encodeBytes([DOGS, DOGS]);
    const { body, headerLength } = joinBody(
      {
        inputs: [
          { name: 'image', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: tensor.length } },
        ],
        outputs: [{ name: 'concept_scores', parameters: { binary_data: true } }, { name: 'concept_names' }],
        parameters: { max_concepts: 3 },
      },
      [tensor],
    );
    const res = await call(`${base}/v2/models/clarifai.main.general-image-recognition/infer`, {
      raw: body,
      headers: {
        'inference-header-content-length': String(headerLength),
        'content-type': 'application/octet-stream',
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(outputs(res).length, 2, 'only the outputs asked for');
    const scores = output(res, 'concept_scores');
    assert.deepEqual(scores.shape, [2, 3]);
    const size = scores.parameters!.binary_data_size as number;
    assert.equal(size, 2 * 3 * 4);
    const tail = res.bytes.subarray(Number(res.headers.get('inference-header-content-length')));
    assert.equal(tail.length, size);
    const values = decodeNumbers(tail, 'FP32', 'scores');
    const names = output(res, 'concept_names').data as string[];
    const local = await v2Concepts('general-image-recognition', {
      image: { base64: DOGS.toString('base64') },
    });
    assert.deepEqual(
      names,
      [...local.slice(0, 3), ...local.slice(0, 3)].map((c) => c.name),
    );
    values.forEach((v, i) => assert.ok(Math.abs(v - local[i % 3]!.value) < 1e-6));
  });

  it('identifies the language of French text, JSON and binary', async () => {
    const json = await call(`${base}/v2/models/language-identification/infer`, {
      body: {
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [FRENCH] }],
        parameters: { max_concepts: 1 },
      },
    });
    assert.equal(json.status, 200, JSON.stringify(json.body));
    assert.deepEqual(output(json, 'concept_ids').data, ['fr']);
    const tensor = encodeBytes([Buffer.from(FRENCH, 'utf8')]);
    const { body, headerLength } = joinBody(
      {
        inputs: [
          { name: 'text', datatype: 'BYTES', shape: [1, 1], parameters: { binary_data_size: tensor.length } },
        ],
        parameters: { binary_data_output: true, max_concepts: 1 },
      },
      [tensor],
    );
    const bin = await call(`${base}/v2/models/language-identification/infer`, {
      raw: body,
      headers: { 'inference-header-content-length': String(headerLength) },
    });
    assert.equal(bin.status, 200, JSON.stringify(bin.body));
    const at = Number(bin.headers.get('inference-header-content-length'));
    const sizes = outputs(bin).map((o) => o.parameters!.binary_data_size as number);
    const ids = bin.bytes.subarray(at + sizes[0]! + sizes[1]!, at + sizes[0]! + sizes[1]! + sizes[2]!);
    assert.deepEqual(
      decodeBytes(ids, 'ids').map((b) => b.toString()),
      ['fr'],
    );
  });

  it('refuses a wrong key (401), an unknown model (404) and bad tensors (400) in OIP error shape', async () => {
    const text = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['hello'] }] };
    const badKey = await call(`${base}/v2/models/language-identification/infer`, {
      key: 'not-a-key',
      body: text,
    });
    assert.equal(badKey.status, 401);
    assert.equal(typeof badKey.body.error, 'string');
    assert.ok(!String(badKey.body.error).includes('not-a-key'), 'the key is not echoed');
    const noKey = await call(`${base}/v2/models/language-identification`, { key: null });
    assert.equal(noKey.status, 401);
    const unknown = await call(`${base}/v2/models/no-such-model/infer`, { body: text });
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.body.error), /no-such-model/);
    const cases: [unknown, RegExp][] = [
      [{ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: ['x'] }] }, /named "text"/],
      [{ inputs: [{ name: 'text', datatype: 'FP32', shape: [1], data: [1] }] }, /is BYTES/],
      [
        { inputs: [{ name: 'text', datatype: 'BYTES', shape: [2], data: ['a'] }] },
        /1 elements but its shape \[2\]/,
      ],
      [
        { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [7] }] },
        /data\[0\] must be a string/,
      ],
      [{ inputs: [] }, /exactly one tensor/],
      [{ ...text, outputs: [{ name: 'boxes' }] }, /no output "boxes"/],
    ];
    for (const [body, message] of cases) {
      const res = await call(`${base}/v2/models/language-identification/infer`, { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(String(res.body.error), message);
    }
    const jsonImage = await call(`${base}/v2/models/general-image-recognition/infer`, {
      body: { inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: ['not base64 flagged'] }] },
    });
    assert.equal(jsonImage.status, 400);
    assert.match(String(jsonImage.body.error), /content_type "base64"/);
    const shortBinary = await call(`${base}/v2/models/language-identification/infer`, {
      raw: Buffer.from(
        JSON.stringify({
          inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 99 } }],
        }),
      ),
      headers: {
        'inference-header-content-length': String(
          JSON.stringify({
            inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 99 } }],
          }).length,
        ),
      },
    });
    assert.equal(shortBinary.status, 400);
    assert.match(String(shortBinary.body.error), /binary_data_size is 99/);
    const badParam = await call(`${base}/v2/models/language-identification/infer`, {
      body: { ...text, parameters: { temperature: 0.5 } },
    });
    assert.equal(badParam.status, 400);
    assert.match(String(badParam.body.error), /temperature/);
  });

  it('runs a named version, and fails a request whose one input is broken, naming the input', async () => {
    const meta = await call(`${base}/v2/models/language-identification`);
    const version = (meta.body.versions as string[])[0]!;
    const text = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [FRENCH] }] };
    const named = await call(`${base}/v2/models/language-identification/versions/${version}/infer`, {
      body: text,
    });
    assert.equal(named.status, 200, JSON.stringify(named.body));
    assert.equal(named.body.model_version, version);
    const missing = await call(`${base}/v2/models/language-identification/versions/nope/infer`, {
      body: text,
    });
    assert.equal(missing.status, 404);
    const tensor = encodeBytes([DOGS, Buffer.from('not an image at all')]);
    const { body, headerLength } = joinBody(
      {
        inputs: [
          { name: 'image', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: tensor.length } },
        ],
      },
      [tensor],
    );
    const broken = await call(`${base}/v2/models/general-image-recognition/infer`, {
      raw: body,
      headers: { 'inference-header-content-length': String(headerLength) },
    });
    assert.equal(broken.status, 400, JSON.stringify(broken.body));
    assert.match(String(broken.body.error), /^input 1: /);
  });

  it("another user's private model is not visible; its owner can run it", async () => {
    const input = {
      inputs: [
        {
          name: 'image',
          datatype: 'BYTES',
          shape: [1],
          parameters: { content_type: 'base64' },
          data: [DOGS.toString('base64')],
        },
      ],
    };
    for (const name of ['colour-classifier', 'bob.main.colour-classifier']) {
      const res = await call(`${base}/v2/models/${name}/infer`, { body: input });
      assert.equal(res.status, 404, name);
      assert.equal((await call(`${base}/v2/models/${name}`)).status, 404);
    }
    const own = await call(`${base}/v2/models/colour-classifier/infer`, { key: bob, body: input });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.deepEqual(output(own, 'concept_names').shape, [1, 3]);
  });
});

describe('serve with oipPort: the plain OIP paths on their own port', () => {
  it('answers /v2/health/live, metadata and infer at the plain paths', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sibyl-oip-port-'));
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      allowPrivateUrls: false,
      grpc: false,
      oipPort: 0,
      engine: { workers: 1 },
    });
    try {
      assert.ok(server.oipUrl, 'the OIP port is reported');
      assert.notEqual(server.oipUrl, server.url);
      const pat = (/pat: (\S+)/.exec(await readFile(server.bootstrap.path, 'utf8')) ?? [])[1]!;
      assert.deepEqual((await call(`${server.oipUrl}/v2/health/ready`, { key: null })).body, { ready: true });
      const meta = await call(`${server.oipUrl}/v2/models/language-identification`, { key: pat });
      assert.equal(meta.status, 200);
      assert.equal(
        (await call(`${server.oipUrl}/v2/models/language-identification`, { key: null })).status,
        401,
      );
      const res = await call(`${server.oipUrl}/v2/models/language-identification/infer`, {
        key: pat,
        body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [FRENCH] }] },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((output(res, 'concept_ids').data as string[])[0], 'fr');
      // the main port keeps Clarifai's /v2 and serves OIP under /oip
      assert.equal((await call(`${server.url}/oip/v2/health/live`, { key: null })).status, 200);
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
