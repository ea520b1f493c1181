/**
 * Model folders end to end, as a user runs them: real ONNX and tfjs folders built in code are
 * uploaded with `clarifai model upload` to the embedded engine and to `clarifai serve`, then
 * predicted through the CLI and the SDK; a second upload makes a second version that answers with
 * its own weights; a broken folder is refused with its reason; `serve --models` serves folders in
 * place.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { ModelUploads, V2Client } from '../../src/sdk/client.js';
import { ApiError } from '../../src/sdk/errors.js';
import { Model } from '../../src/sdk/index.js';
import { HttpTransport } from '../../src/sdk/transport.js';
import { conceptNames, isolatedEnv, runCli } from '../helpers/cli.js';
import {
  brokenFolder,
  onnxClassifierFolder,
  onnxDetectorFolder,
  RGB,
  solidPng,
  tfjsClassifierFolder,
  VARIANT_ANSWER,
} from '../helpers/model-folders.js';
import { openAiModelFolder } from '../helpers/llm-folders.js';
import { startServe, type Served } from '../helpers/serve.js';

const work = mkdtempSync(join(tmpdir(), 'sibyl-upload-'));
const photo: Record<string, string> = {};

before(async () => {
  for (const colour of ['red', 'green', 'blue'] as const) {
    photo[colour] = join(work, `${colour}.png`);
    writeFileSync(photo[colour], await solidPng(RGB[colour]));
  }
});

const url = (user: string, app: string, model: string, version?: string) =>
  `https://clarifai.com/${user}/${app}/models/${model}${version ? `/versions/${version}` : ''}`;

function uploadedVersion(stdout: string): string {
  const m = /^Uploaded (\S+) version ([0-9a-f]{32}) /m.exec(stdout);
  assert.ok(m, `upload output: ${stdout}`);
  return m[2]!;
}

async function topConcept(env: Record<string, string>, args: string[]): Promise<string> {
  const res = await runCli(['model', 'predict', ...args], env);
  assert.equal(res.code, 0, res.stderr);
  return conceptNames(res.stdout)[0]!;
}

describe('clarifai model upload on the embedded engine', () => {
  const env = isolatedEnv();
  const colours = url('admin', 'demo', 'colours');
  let v1 = '';

  it('uploads an ONNX folder and predicts with it', async () => {
    const dir = await onnxClassifierFolder(join(work, 'onnx-v1'), {
      model: { user_id: 'admin', app_id: 'demo', id: 'colours' },
    });
    const res = await runCli(['model', 'upload', dir], env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(
      res.stdout,
      /^Uploaded admin\/demo\/colours version [0-9a-f]{32} \(visual-classifier, 3 files/m,
    );
    v1 = uploadedVersion(res.stdout);
    assert.equal(await topConcept(env, ['--model_url', colours, '--file_path', photo.red!]), 'red');
    assert.equal(
      await topConcept(env, [
        '--model_id',
        'colours',
        '--user_id',
        'admin',
        '--app_id',
        'demo',
        '--file_path',
        photo.blue!,
      ]),
      'blue',
    );
  });

  it('makes a second version on a second upload; each version answers with its own weights', async () => {
    const dir = await onnxClassifierFolder(join(work, 'onnx-v2'), {
      variant: true,
      model: { user_id: 'admin', app_id: 'demo', id: 'colours' },
    });
    const res = await runCli(['model', 'upload', dir], env);
    assert.equal(res.code, 0, res.stderr);
    const v2 = uploadedVersion(res.stdout);
    assert.notEqual(v2, v1);
    assert.equal(
      await topConcept(env, ['--model_url', colours, '--file_path', photo.red!]),
      VARIANT_ANSWER.red,
    );
    assert.equal(
      await topConcept(env, ['--model_url', url('admin', 'demo', 'colours', v2), '--file_path', photo.red!]),
      VARIANT_ANSWER.red,
    );
    assert.equal(
      await topConcept(env, ['--model_url', url('admin', 'demo', 'colours', v1), '--file_path', photo.red!]),
      'red',
    );
  });

  it('uploads a tfjs layers folder under another user, public, and predicts by ids', async () => {
    const dir = await tfjsClassifierFolder(join(work, 'tfjs'), {
      model: { user_id: 'acme', app_id: 'vision', id: 'colours-tfjs', visibility: 'public' },
    });
    const res = await runCli(['model', 'upload', dir], env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(
      await topConcept(env, [
        '--model_id',
        'colours-tfjs',
        '--user_id',
        'acme',
        '--app_id',
        'vision',
        '--file_path',
        photo.green!,
      ]),
      'green',
    );
  });

  it('refuses a broken folder with its reason, registering nothing', async () => {
    const broken = await brokenFolder(join(work, 'broken'), 'labels-mismatch');
    const res = await runCli(['model', 'upload', broken.dir], env);
    assert.equal(res.code, 2, res.stdout + res.stderr);
    assert.match(res.stderr, broken.reason);
    assert.equal(res.stderr.trim().split('\n').length, 1, 'one line, no stack');
    const missing = await runCli(['model', 'upload', join(work, 'no-such-folder')], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /model folder .*no-such-folder does not exist/);
    const list = await runCli(['model', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /admin\/demo\/models\/colours\s+visual-classifier\s+image\s+private\s+yes/);
    assert.doesNotMatch(list.stdout, /broken/);
  });
});

describe('clarifai model upload to `clarifai serve`, and serve --models', () => {
  const env = isolatedEnv();
  const dataDir = join(work, 'served-data');
  let served: Served;
  let pat = '';

  before(async () => {
    const models = join(work, 'repository');
    await onnxDetectorFolder(join(models, 'boxes'), {
      layout: 'rows',
      model: { user_id: 'admin', app_id: 'repo', id: 'colour-boxes' },
    });
    served = await startServe(['--data-dir', dataDir, '--models', models, '--workers', '2'], env);
    const login = await runCli(['login', '--config', join(dataDir, 'bootstrap.yaml')], env);
    assert.equal(login.code, 0, login.stderr);
    pat = /pat: ['"]?([^'"\n]+)/.exec(readFileSync(join(dataDir, 'bootstrap.yaml'), 'utf8'))![1]!;
  });
  after(() => served.stop());

  it('serves the folders under --models in place', async () => {
    assert.match(served.output(), /Serving model folder admin\/repo\/colour-boxes \(version [0-9a-f]{32}\)/);
    const res = await runCli(
      [
        'model',
        'predict',
        '--model_url',
        url('admin', 'repo', 'colour-boxes'),
        '--file_path',
        photo.red!,
        '-o',
        'json',
      ],
      env,
    );
    assert.equal(res.code, 0, res.stderr);
    const regions = JSON.parse(res.stdout).outputs[0].data.regions as {
      data: { concepts: { name: string }[] };
    }[];
    assert.ok(regions.length >= 1);
    assert.equal(regions[0]!.data.concepts[0]!.name, 'red');
  });

  it('uploads through the server and predicts through the CLI and the SDK', async () => {
    const dir = await onnxClassifierFolder(join(work, 'served-onnx'), {
      model: { user_id: 'admin', app_id: 'demo', id: 'colours' },
    });
    const res = await runCli(['model', 'upload', dir], env);
    assert.equal(res.code, 0, res.stderr);
    uploadedVersion(res.stdout);
    assert.equal(
      await topConcept(env, ['--model_url', url('admin', 'demo', 'colours'), '--file_path', photo.blue!]),
      'blue',
    );

    const model = new Model({ url: url('admin', 'demo', 'colours'), authConfig: { pat, base: served.url } });
    const outputs = await model.predictByFilepath({ filepath: photo.green!, inputType: 'image' });
    assert.equal(outputs[0]!.data.concepts![0]!.name, 'green');
  });

  it('lists which models are loaded', async () => {
    const list = await runCli(['model', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /admin\/demo\/models\/colours\s+visual-classifier\s+image\s+private\s+yes\s+1 worker/,
    );
    assert.match(
      list.stdout,
      /clarifai\/main\/models\/general-image-detection\s+visual-detector\s+image\s+public\s+MIT\s+yes\s+no/,
    );
  });

  it("refuses a model on a remote engine from anyone but an admin: it would send the server's keys", async () => {
    const made = await new V2Client(new HttpTransport(served.url), pat).call<{ key: { id: string } }>(
      'POST',
      '/v2/users',
      { user: { id: 'mallory' }, key: { description: 'mallory' } },
    );
    const dir = await openAiModelFolder(join(work, 'exfiltrate'), {
      userId: 'mallory',
      appId: 'tools',
      id: 'leak',
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'x',
      apiKeyEnv: 'DATABASE_URL',
    });
    const uploads = new ModelUploads(new V2Client(new HttpTransport(served.url), made.key.id));
    const config = readFileSync(join(dir, 'config.yaml'));
    const { upload } = await uploads.start({ userId: 'mallory', appId: 'tools', modelId: 'leak' }, [
      { path: 'config.yaml', size: config.length },
    ]);
    await uploads.putFile('mallory', upload.id, 'config.yaml', {
      bytes: config.length,
      open: () => Readable.from([config]),
    });
    await assert.rejects(uploads.commit('mallory', upload.id), (error: unknown) => {
      assert.ok(error instanceof ApiError, String(error));
      assert.equal(error.httpStatus, 403);
      assert.match(error.message, /uploading a model with runtime "openai" needs an admin's key/);
      return true;
    });
  });

  it('refuses a broken folder at upload, not at first prediction', async () => {
    const broken = await brokenFolder(join(work, 'served-broken'), 'wrong-input-size');
    const res = await runCli(['model', 'upload', broken.dir], env);
    assert.equal(res.code, 2, res.stdout + res.stderr);
    assert.match(res.stderr, broken.reason);
  });

  it('names the upload size limit, and refuses a file longer than declared', async () => {
    const uploads = new ModelUploads(new V2Client(new HttpTransport(served.url), pat));
    const ref = { userId: 'admin', appId: 'demo', modelId: 'huge' };
    await assert.rejects(
      uploads.start(ref, [{ path: 'config.yaml', size: 9 * 1024 ** 3 }]),
      (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.httpStatus, 413);
        assert.match(
          error.message,
          /the folder holds 9 GiB; this server takes model uploads of at most 8 GiB/,
        );
        return true;
      },
    );
    await assert.rejects(uploads.start(ref, [{ path: '../config.yaml', size: 1 }]), /no "\.\."/);
    const { upload } = await uploads.start(ref, [{ path: 'config.yaml', size: 4 }]);
    const body = Buffer.from('model: too long');
    await assert.rejects(
      uploads.putFile('admin', upload.id, 'config.yaml', {
        bytes: body.length,
        open: () => Readable.from([body]),
      }),
      /larger than the 4 bytes declared/,
    );
    await uploads.cancel('admin', upload.id);
  });
});
