import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError, ConnectionError, Model, UsageError } from '../../src/sdk/index.js';
import { isolatedEnv, PHOTOS, RECOGNITION_URL, runCli } from '../helpers/cli.js';
import type { RecordedRequest } from '../helpers/http.js';
import { fakeClarifai } from '../helpers/http.js';

const DOG_OUTPUT = {
  id: 'out1',
  status: { code: 10000, description: 'Ok' },
  created_at: '2026-01-01T00:00:00Z',
  data: {
    concepts: [
      { id: 'ai_dog', name: 'dog', value: 0.99, app_id: 'main' },
      { id: 'ai_pet', name: 'pet', value: 0.9 },
    ],
  },
};

/** Answers predicts with a dog, users/me with "alice", and a bad key with Clarifai's 401. */
function clarifaiReply(req: RecordedRequest): { status: number; body: unknown } {
  if (req.headers.authorization !== 'Key good-pat') {
    return {
      status: 401,
      body: { status: { code: 11008, description: 'API key is invalid', req_id: 'req-401' } },
    };
  }
  if (req.url === '/v2/users/me')
    return { status: 200, body: { status: { code: 10000, description: 'Ok' }, user: { id: 'alice' } } };
  if (req.url.endsWith('/outputs'))
    return {
      status: 200,
      body: { status: { code: 10000, description: 'Ok', req_id: 'req-1' }, outputs: [DOG_OUTPUT] },
    };
  if (req.url.includes('/models/')) {
    return {
      status: 200,
      body: {
        status: { code: 10000, description: 'Ok' },
        model: { id: 'general-image-recognition', model_type_id: 'visual-classifier' },
      },
    };
  }
  return {
    status: 404,
    body: { status: { code: 11101, description: 'Resource does not exist', req_id: 'req-404' } },
  };
}

describe('the SDK speaks Clarifai v2 JSON', () => {
  let api: Awaited<ReturnType<typeof fakeClarifai>>;
  before(async () => (api = await fakeClarifai(clarifaiReply)));
  after(() => api.close());

  const model = (extra: Record<string, unknown> = {}) =>
    new Model({
      url: RECOGNITION_URL,
      authConfig: { pat: 'good-pat', userId: 'alice', base: api.url },
      ...extra,
    });

  it('predictByUrl posts to the model route with Key auth, the url passed through, and output_info', async () => {
    api.requests.length = 0;
    const outputs = await model().predictByUrl({
      url: 'https://samples.clarifai.com/dog2.jpeg',
      inputType: 'image',
      outputConfig: { max_concepts: 3 },
      inferenceParams: { temperature: 0.2 },
    });
    assert.equal(outputs[0]?.data.concepts?.[0]?.name, 'dog');
    const req = api.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v2/users/clarifai/apps/main/models/general-image-recognition/outputs');
    assert.equal(req.headers.authorization, 'Key good-pat');
    assert.deepEqual(req.body, {
      inputs: [{ data: { image: { url: 'https://samples.clarifai.com/dog2.jpeg' } } }],
      model: {
        model_version: { output_info: { output_config: { max_concepts: 3 }, params: { temperature: 0.2 } } },
      },
    });
  });

  it('predictByBytes sends text as text.raw and images as base64; versions go in the route', async () => {
    api.requests.length = 0;
    await model().predictByBytes({ inputBytes: Buffer.from('Human: hi\\nAssistant:'), inputType: 'text' });
    assert.deepEqual((api.requests[0]!.body as { inputs: unknown }).inputs, [
      { data: { text: { raw: 'Human: hi\\nAssistant:' } } },
    ]);
    const versioned = new Model({
      url: `${RECOGNITION_URL}/versions/v9`,
      authConfig: { pat: 'good-pat', base: api.url },
    });
    await versioned.predictByFilepath({ filepath: join(PHOTOS, 'puppy.jpg'), inputType: 'image' });
    const req = api.requests[1]!;
    assert.equal(
      req.url,
      '/v2/users/clarifai/apps/main/models/general-image-recognition/versions/v9/outputs',
    );
    const b64 = (req.body as { inputs: { data: { image: { base64: string } } }[] }).inputs[0]!.data.image
      .base64;
    assert.equal(Buffer.from(b64, 'base64').subarray(0, 3).toString('hex'), 'ffd8ff');
  });

  it('sends runner_selector for a nodepool or a deployment, owned by the caller', async () => {
    api.requests.length = 0;
    await model({ computeClusterId: 'cc1', nodepoolId: 'np1' }).predictByBytes({
      inputBytes: 'x',
      inputType: 'text',
    });
    await model().predictByBytes({ inputBytes: 'x', inputType: 'text', deploymentId: 'dep1' });
    assert.deepEqual((api.requests[0]!.body as { runner_selector: unknown }).runner_selector, {
      nodepool: { id: 'np1', compute_cluster: { id: 'cc1', user_id: 'alice' } },
    });
    assert.deepEqual((api.requests[1]!.body as { runner_selector: unknown }).runner_selector, {
      deployment: { id: 'dep1', user_id: 'alice' },
    });
    await assert.rejects(
      model({ computeClusterId: 'cc1' }).predictByBytes({ inputBytes: 'x', inputType: 'text' }),
      UsageError,
    );
  });

  it('throws typed errors carrying code, description and req_id', async () => {
    const bad = new Model({ url: RECOGNITION_URL, authConfig: { pat: 'wrong', base: api.url } });
    await assert.rejects(bad.predictByBytes({ inputBytes: 'x', inputType: 'text' }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 11008);
      assert.equal(err.httpStatus, 401);
      assert.equal(err.reqId, 'req-401');
      assert.equal(err.description, 'API key is invalid');
      return true;
    });
    const nowhere = new Model({ url: RECOGNITION_URL, authConfig: { pat: 'p', base: 'http://127.0.0.1:2' } });
    await assert.rejects(nowhere.predictByBytes({ inputBytes: 'x', inputType: 'text' }), ConnectionError);
    await assert.rejects(
      model().predictByBytes({ inputBytes: 'x', inputType: 'pdf' as never }),
      /one of text, image, video, audio/,
    );
    await assert.rejects(
      model().predict({ inputs: Array.from({ length: 129 }, () => ({ data: { text: { raw: 'x' } } })) }),
      /at most 128/,
    );
  });

  it("passes the caller's abort through unchanged", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      model().predictByBytes({ inputBytes: 'x', inputType: 'text', signal: controller.signal }),
      (err: unknown) =>
        err instanceof Error && err.name === 'AbortError' && !(err instanceof ConnectionError),
    );
  });

  it('reads CLARIFAI_PAT, CLARIFAI_USER_ID and CLARIFAI_API_BASE when authConfig leaves them out', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      CLARIFAI_PAT: 'good-pat',
      CLARIFAI_USER_ID: 'clarifai',
      CLARIFAI_API_BASE: api.url,
    });
    try {
      const m = new Model({ modelId: 'general-image-recognition', authConfig: { appId: 'main' } });
      assert.equal(m.ref.userId, 'clarifai');
      const outputs = await m.predictByBytes({ inputBytes: 'x', inputType: 'text' });
      assert.equal(outputs.length, 1);
    } finally {
      for (const k of ['CLARIFAI_PAT', 'CLARIFAI_USER_ID', 'CLARIFAI_API_BASE'])
        if (saved[k] === undefined) delete process.env[k];
    }
  });
});

describe('the CLI speaks Clarifai v2 JSON to a remote base', () => {
  let api: Awaited<ReturnType<typeof fakeClarifai>>;
  before(async () => (api = await fakeClarifai(clarifaiReply)));
  after(() => api.close());

  it('logs in with a login.yaml, then predicts by URL with output_config and prints the answer', async () => {
    const env = isolatedEnv();
    const dir = mkdtempSync(join(tmpdir(), 'sibyl-login-'));
    writeFileSync(join(dir, 'login.yaml'), `user_id: "alice"\npat: "good-pat"\nbase_url: "${api.url}"\n`);
    const login = await runCli(['login', '--config', join(dir, 'login.yaml')], env);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /as alice/);
    assert.doesNotMatch(login.stdout + login.stderr, /good-pat/);

    api.requests.length = 0;
    const res = await runCli(
      [
        'model',
        'predict',
        '--model_url',
        RECOGNITION_URL,
        '--url',
        'https://samples.clarifai.com/dog2.jpeg',
        '--input_type',
        'image',
        '--output_config',
        '{"max_concepts":3}',
        '-cc_id',
        'cc1',
        '-np_id',
        'np1',
      ],
      env,
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^dog\s+0\.99/m);
    const req = api.requests.at(-1)!;
    assert.equal(req.url, '/v2/users/clarifai/apps/main/models/general-image-recognition/outputs');
    assert.equal(req.headers.authorization, 'Key good-pat');
    assert.deepEqual(req.body, {
      inputs: [{ data: { image: { url: 'https://samples.clarifai.com/dog2.jpeg' } } }],
      model: { model_version: { output_info: { output_config: { max_concepts: 3 } } } },
      runner_selector: { nodepool: { id: 'np1', compute_cluster: { id: 'cc1', user_id: 'alice' } } },
    });

    const json = await runCli(
      [
        'model',
        'predict',
        '--model_url',
        RECOGNITION_URL,
        '--bytes',
        'hi',
        '--input_type',
        'text',
        '-o',
        'json',
      ],
      env,
    );
    assert.equal(JSON.parse(json.stdout).status.req_id, 'req-1');
  });

  it('a wrong PAT fails login with one clear line and exit 1', async () => {
    const env = isolatedEnv({ CLARIFAI_PAT: 'nope', CLARIFAI_API_BASE: api.url });
    const res = await runCli(['login'], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^error: login failed: .*refused the PAT/);
    assert.equal(res.stderr.trim().split('\n').length, 1);
    assert.doesNotMatch(res.stderr, /nope/);
  });
});
