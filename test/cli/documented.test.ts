/**
 * The commands of Clarifai's "Inference From AI Models" page, typed as a user would, with
 * sample URLs swapped for a loopback server of real photos. First on the embedded engine
 * (no login), then through `clarifai serve` after `clarifai login --config <data dir>/bootstrap.yaml`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  conceptNames,
  DETECTION_URL,
  isolatedEnv,
  PHOTOS,
  RECOGNITION_URL,
  ROOT,
  runCli,
} from '../helpers/cli.js';
import { BUILT_IN_MODELS } from '../../src/engine/registry.js';
import type { TestServer } from '../helpers/http.js';
import { serveDir } from '../helpers/http.js';

const TWEET = 'Human: Write a tweet on future of AI\\nAssistant:';
const LANG = ['--model_id', 'language-identification', '--user_id', 'clarifai', '--app_id', 'main'];

let photos: TestServer;
before(async () => (photos = await serveDir(PHOTOS)));
after(() => photos.close());

/** The predictions both targets must answer alike; returns the concept lists for comparison. */
async function documentedPredictions(env: Record<string, string>): Promise<Record<string, string[]>> {
  const seen: Record<string, string[]> = {};
  const byUrl = await runCli(
    [
      'model',
      'predict',
      '--model_url',
      RECOGNITION_URL,
      '--url',
      `${photos.url}/dogs.jpg`,
      '--input_type',
      'image',
      '--output_config',
      '{"max_concepts":3}',
    ],
    env,
  );
  assert.equal(byUrl.code, 0, byUrl.stderr);
  seen.url = conceptNames(byUrl.stdout);
  assert.equal(seen.url[0], 'dog');
  assert.ok(seen.url.length <= 3, byUrl.stdout);

  const byFile = await runCli(
    ['model', 'predict', '--model_url', RECOGNITION_URL, '--file_path', join(PHOTOS, 'astronaut.png')],
    env,
  );
  assert.equal(byFile.code, 0, byFile.stderr);
  seen.file = conceptNames(byFile.stdout);
  assert.equal(seen.file[0], 'person');

  const byBytes = await runCli(['model', 'predict', ...LANG, '--bytes', TWEET, '--input_type', 'text'], env);
  assert.equal(byBytes.code, 0, byBytes.stderr);
  seen.bytes = conceptNames(byBytes.stdout);
  assert.equal(seen.bytes[0], 'en');

  const dir = mkdtempSync(join(tmpdir(), 'sibyl-yaml-'));
  writeFileSync(
    join(dir, 'predict_by_yaml.yaml'),
    'model_url: "https://clarifai.com/clarifai/main/models/language-identification"\n' +
      'bytes: "Bonjour tout le monde, je voudrais un café au lait s\'il vous plaît."\ninput_type: "text"\n',
  );
  const byYaml = await runCli(['model', 'predict', '--config', join(dir, 'predict_by_yaml.yaml')], env);
  assert.equal(byYaml.code, 0, byYaml.stderr);
  seen.yaml = conceptNames(byYaml.stdout);
  assert.equal(seen.yaml[0], 'fr');

  const upload = await runCli(
    ['input', 'upload', '--file_path', join(PHOTOS, 'dogs.jpg'), '--input_id', 'four-dogs'],
    env,
  );
  assert.equal(upload.code, 0, upload.stderr);
  assert.equal(upload.stdout.trim(), 'four-dogs');
  const byInput = await runCli(
    ['model', 'predict', '--model_url', DETECTION_URL, '--input_id', 'four-dogs', '-o', 'json'],
    env,
  );
  assert.equal(byInput.code, 0, byInput.stderr);
  const regions = JSON.parse(byInput.stdout).outputs[0].data.regions as {
    data: { concepts: { name: string }[] };
  }[];
  assert.ok(regions.filter((r) => r.data.concepts[0]?.name === 'dog').length >= 4);
  seen.input = regions.map((r) => r.data.concepts[0]!.name);
  return seen;
}

async function expectOneLineError(
  args: string[],
  env: Record<string, string>,
  code: number,
  pattern: RegExp,
): Promise<void> {
  const res = await runCli(args, env);
  assert.equal(res.code, code, `${args.join(' ')}\n${res.stdout}${res.stderr}`);
  assert.match(res.stderr, pattern);
  assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
  assert.doesNotMatch(res.stderr, /\n\s+at /);
}

describe('documented commands on the embedded engine (no login)', () => {
  const env = isolatedEnv();

  it('run and give real concepts', async () => {
    await documentedPredictions(env);
  });

  it('text-generation and audio models from the page answer "no such model here"', async () => {
    const missing =
      /no model .* here\. Available models: .*clarifai\/main\/models\/general-image-recognition.*Clarifai's cloud/;
    await expectOneLineError(
      [
        'model',
        'predict',
        '--model_id',
        'claude-v2',
        '--user_id',
        'anthropic',
        '--app_id',
        'completion',
        '--bytes',
        TWEET,
        '--input_type',
        'text',
      ],
      env,
      1,
      missing,
    );
    await expectOneLineError(
      [
        'model',
        'predict',
        '--model_id',
        'llama2-7b-chat',
        '--user_id',
        'meta',
        '--app_id',
        'Llama-2',
        '--url',
        `${photos.url}/prompt.txt`,
        '--input_type',
        'text',
      ],
      env,
      1,
      missing,
    );
    await expectOneLineError(
      [
        'model',
        'predict',
        '--model_url',
        'https://clarifai.com/openai/whisper/models/whisper-large-v2',
        '--url',
        `${photos.url}/record.wav`,
        '--input_type',
        'audio',
        '--inference_params',
        '{"task":"transcribe"}',
      ],
      env,
      1,
      missing,
    );
  });

  it('bad input ends in one clear line with exit 2', async () => {
    await expectOneLineError(
      ['model', 'predict', '--model_url', RECOGNITION_URL],
      env,
      2,
      /exactly one input/,
    );
    await expectOneLineError(
      ['model', 'predict', '--model_url', RECOGNITION_URL, '--file_path', '/nope.jpg'],
      env,
      2,
      /cannot read --file_path \/nope\.jpg: no such file/,
    );
    await expectOneLineError(
      ['model', 'predict', '--model_url', RECOGNITION_URL, '--bytes', 'x', '--output_config', '{max'],
      env,
      2,
      /--output_config is not valid JSON/,
    );
    await expectOneLineError(
      ['model', 'predict', '--model_url', RECOGNITION_URL, '--bytes', 'x', '--input_type', 'text'],
      env,
      2,
      /takes image inputs, got text/,
    );
    await expectOneLineError(
      [
        'model',
        'predict',
        '--model_url',
        RECOGNITION_URL,
        '--file_path',
        join(PHOTOS, 'dogs.jpg'),
        '--output_config',
        '{"max_concepts":-1}',
      ],
      env,
      2,
      /max_concepts/,
    );
    await expectOneLineError(
      [
        'model',
        'predict',
        '--model_url',
        RECOGNITION_URL,
        '--file_path',
        join(PHOTOS, 'dogs.jpg'),
        '--inference_params',
        '{"temperature":1}',
      ],
      env,
      2,
      /temperature/,
    );
    await expectOneLineError(
      ['model', 'predict', '--model_url', 'https://clarifai.com/clarifai/main', '--bytes', 'x'],
      env,
      2,
      /invalid model URL/,
    );
    await expectOneLineError(['model', 'predict', '--bogus'], env, 2, /unknown option '--bogus'/);
    await expectOneLineError(
      ['model', 'predict', '--model_url', 'https://clarifai.com/%ZZ/main/models/x', '--bytes', 'x'],
      env,
      2,
      /invalid %-escape/,
    );
    assert.equal((await runCli(['input', 'upload', '--bytes', 'hi', '--input_id', 'dup'], env)).code, 0);
    await expectOneLineError(
      ['input', 'upload', '--bytes', 'hi', '--input_id', 'dup'],
      env,
      2,
      /Input already exists/,
    );
    await expectOneLineError(
      [
        'model',
        'predict',
        '--model_url',
        RECOGNITION_URL,
        '--file_path',
        join(PHOTOS, 'dogs.jpg'),
        '-dpl_id',
        'gpu-dep',
      ],
      env,
      1,
      /deployment "gpu-dep" does not exist/,
    );
  });
});

describe('the same commands through `clarifai serve` after `clarifai login`', () => {
  let server: ChildProcess;
  let serverOut = '';
  let dataDir: string;
  const env = isolatedEnv();

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sibyl-serve-'));
    server = spawn(
      process.execPath,
      [join(ROOT, 'bin/clarifai.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--allow-private-urls'],
      { env },
    );
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => {
        serverOut += d.toString();
        if (serverOut.includes('clarifai login --config')) resolve();
      });
      server.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
  });
  after(() => {
    server.kill('SIGTERM');
  });

  it('writes bootstrap.yaml (0600) that logs in as the admin', async () => {
    const file = join(dataDir, 'bootstrap.yaml');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(
      readFileSync(file, 'utf8'),
      /user_id: admin\npat: sbl_\S+\nbase_url: http:\/\/127\.0\.0\.1:\d+/,
    );
    const login = await runCli(['login', '--config', file], env);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Logged in to http:\/\/127\.0\.0\.1:\d+ as admin/);
  });

  it('gives the same concepts as the embedded engine', async () => {
    const served = await documentedPredictions(env);
    const embedded = await documentedPredictions(isolatedEnv());
    assert.deepEqual(served, embedded);
  });

  it('a wrong PAT gives a clear auth error', async () => {
    const base = /base_url: (\S+)/.exec(readFileSync(join(dataDir, 'bootstrap.yaml'), 'utf8'))![1]!;
    const wrong = isolatedEnv({ CLARIFAI_PAT: 'sbl_not-a-real-key', CLARIFAI_API_BASE: base });
    await expectOneLineError(
      ['model', 'predict', '--model_url', RECOGNITION_URL, '--file_path', join(PHOTOS, 'dogs.jpg')],
      wrong,
      1,
      /API key is invalid.*\[11008\]/,
    );
  });

  it('logs one line per request, without keys', () => {
    assert.match(
      serverOut,
      /POST \/v2\/users\/clarifai\/apps\/main\/models\/general-image-recognition\/outputs 200 [\d.]+ms req_id=[0-9a-f]{32}/,
    );
    assert.match(serverOut, /GET \/v2\/users\/me 200/);
    assert.match(serverOut, / 401 /);
    assert.doesNotMatch(serverOut, /sbl_/);
  });

  it('logout returns to the embedded engine', async () => {
    const out = await runCli(['logout'], env);
    assert.equal(out.code, 0);
    assert.match(out.stdout, /embedded engine/);
    const list = await runCli(['model', 'list', '-o', 'json'], env);
    assert.equal(JSON.parse(list.stdout).models.length, Object.keys(BUILT_IN_MODELS).length);
  });
});
