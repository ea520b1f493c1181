/**
 * Endpoint nodepools: engines a team already runs, reached through a deployment. Here the engine
 * is another Sibyl: its Open Inference Protocol port (what Triton or KServe would offer) for an
 * image model, and its OpenAI-compatible `/v1` (what vLLM, Ollama or llama.cpp's server would
 * offer) for a text-generation model. Set up and predicted with the CLI as a user types it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conceptNames, isolatedEnv, PHOTOS, RECOGNITION_URL, runCli } from '../helpers/cli.js';
import { ggufModelFolder } from '../helpers/llm-folders.js';
import { bootstrapPat, startServe, type Served } from '../helpers/serve.js';

const DOGS = join(PHOTOS, 'dogs.jpg');

describe('deployments on endpoint nodepools (another Sibyl over OIP and over /v1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-endpoints-'));
  let engine: Served;
  let api: Served;
  let oipUrl: string;
  let env: Record<string, string>;

  const cli = async (args: string[]) => {
    const res = await runCli(args, env);
    assert.equal(res.code, 0, `clarifai ${args.join(' ')}: ${res.stderr}`);
    return res;
  };

  before(async () => {
    await ggufModelFolder(join(dir, 'engine-models', 'tiny-llama'));
    await ggufModelFolder(join(dir, 'api-models', 'tiny-llama'));
    engine = await startServe(
      ['--oip-port', '0', '--workers', '1', '--models', join(dir, 'engine-models')],
      isolatedEnv(),
    );
    oipUrl = /Open Inference Protocol v2 on (http\S+)/.exec(engine.output())![1]!;
    env = isolatedEnv({ SIBYL_ENGINE_KEY: bootstrapPat(engine) });
    api = await startServe(['--quiet', '--workers', '1', '--models', join(dir, 'api-models')], env);
    await cli(['login', '--config', /clarifai login --config (\S+)/.exec(api.output())![1]!]);
    await cli(['computecluster', 'create', 'remote']);
    await cli([
      'nodepool',
      'create',
      'remote',
      'triton',
      '--endpoint',
      `oip=${oipUrl}`,
      '--api-key-env',
      'SIBYL_ENGINE_KEY',
    ]);
    await cli([
      'nodepool',
      'create',
      'remote',
      'vllm',
      '--endpoint',
      `openai=${engine.url}/v1`,
      '--endpoint-model',
      'meta/Llama-2/tiny-llama',
      '--api-key-env',
      'SIBYL_ENGINE_KEY',
    ]);
    await cli([
      'deployment',
      'create',
      'triton',
      'images',
      '--model',
      'clarifai/main/models/general-image-recognition',
    ]);
    await cli(['deployment', 'create', 'vllm', 'chat', '--model', 'meta/Llama-2/models/tiny-llama']);
    await cli([
      'nodepool',
      'create',
      'remote',
      'sibyl',
      '--endpoint',
      `clarifai=${engine.url}`,
      '--api-key-env',
      'SIBYL_ENGINE_KEY',
    ]);
    await cli([
      'deployment',
      'create',
      'sibyl',
      'forwarded',
      '--model',
      'clarifai/main/models/general-image-recognition',
    ]);
  });

  after(async () => {
    await api?.stop();
    await engine?.stop();
  });

  it('an image model answers through the OIP endpoint as it does locally', async () => {
    const routed = await cli([
      'model',
      'predict',
      '--model_url',
      RECOGNITION_URL,
      '--file_path',
      DOGS,
      '--deployment_id',
      'images',
    ]);
    const local = await cli(['model', 'predict', '--model_url', RECOGNITION_URL, '--file_path', DOGS]);
    assert.equal(conceptNames(routed.stdout)[0], 'dog');
    assert.deepEqual(conceptNames(routed.stdout), conceptNames(local.stdout));
  });

  it("another v2 API (a Sibyl, or Clarifai's cloud with a key) answers a forwarded request", async () => {
    const served = () =>
      (
        engine
          .output()
          .match(/POST \/v2\/users\/clarifai\/apps\/main\/models\/general-image-recognition\/outputs 200/g) ??
        []
      ).length;
    const before = served();
    const routed = await cli([
      'model',
      'predict',
      '--model_url',
      RECOGNITION_URL,
      '--file_path',
      DOGS,
      '--deployment_id',
      'forwarded',
    ]);
    assert.equal(conceptNames(routed.stdout)[0], 'dog');
    assert.equal(served(), before + 1, `the other API answered it:\n${engine.output().slice(-1500)}`);
  });

  it('a text-generation model answers through the /v1 endpoint', async () => {
    const before = (engine.output().match(/POST \/v1\/chat\/completions 200/g) ?? []).length;
    const res = await cli([
      'model',
      'predict',
      'meta/Llama-2/models/tiny-llama',
      'Say hello',
      '--deployment_id',
      'chat',
      '--inference_params',
      '{"max_tokens":8,"temperature":0}',
    ]);
    assert.ok(res.stdout.trim().length > 0, 'some text came back');
    const after = (engine.output().match(/POST \/v1\/chat\/completions 200/g) ?? []).length;
    assert.equal(after, before + 1, `the engine answered it:\n${engine.output().slice(-2000)}`);
  });

  it('with the engine gone, the error names the endpoint', async () => {
    await engine.stop();
    const res = await runCli(
      ['model', 'predict', '--model_url', RECOGNITION_URL, '--file_path', DOGS, '--deployment_id', 'images'],
      env,
    );
    assert.notEqual(res.code, 0);
    assert.ok(res.stderr.includes(oipUrl.replace(/\/$/, '')), res.stderr);
  });
});
