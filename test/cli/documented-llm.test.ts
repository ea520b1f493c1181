/**
 * The documented text-generation and speech commands, typed verbatim, answered through two
 * `clarifai serve` instances on loopback: A serves a GGUF model (the tiny llama built in code, on
 * real llama.cpp); B registers it, with `clarifai model upload`, as remote `openai` models under
 * Clarifai's public ids (anthropic/completion/claude-v2, meta/Llama-2/llama2-7b-chat) pointing at A's
 * /v1, plus whisper under openai/whisper pointing at a transcription engine. The CLI, the SDK and the
 * official `openai` client then work against both.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';

import { Model } from '../../src/sdk/index.js';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { listen, serveDir, type TestServer } from '../helpers/http.js';
import { ggufModelFolder, openAiModelFolder } from '../helpers/llm-folders.js';
import { bootstrapPat, startServe, type Served } from '../helpers/serve.js';

const TWEET = 'Human: Write a tweet on future of AI\\nAssistant:';
const CLAUDE = ['--model_id', 'claude-v2', '--user_id', 'anthropic', '--app_id', 'completion'];
const LLAMA = ['--model_id', 'llama2-7b-chat', '--user_id', 'meta', '--app_id', 'Llama-2'];
const WHISPER_URL = 'https://clarifai.com/openai/whisper/models/whisper-large-v2';
const FIXED = '{"temperature":0,"seed":5,"max_tokens":16}';

/** A one-second 16 kHz mono 16-bit WAV of a tone: what the documented whisper command sends. */
function toneWav(): Buffer {
  const rate = 16000;
  const samples = Buffer.alloc(rate * 2);
  for (let i = 0; i < rate; i++)
    samples.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples]);
}

/**
 * A speech engine of the team's (outside the product, so scripted): its OpenAI-compatible
 * transcription route answers with the size of the WAV it was sent and the route it was sent to.
 */
function transcriptionEngine(): Promise<TestServer> {
  return listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      const route = (req.url ?? '').split('/').pop();
      const wav = body.includes('RIFF') && body.includes('WAVEfmt');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: `${route} of a ${wav ? 'wav' : 'mystery'} file` }));
    });
  });
}

describe('documented text-generation and speech commands through two servers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-documented-llm-'));
  let samples: TestServer;
  let speech: TestServer;
  let a: Served;
  let b: Served;
  let patA: string;
  let patB: string;
  const envA = isolatedEnv();
  const cli = isolatedEnv();

  before(async () => {
    mkdirSync(join(dir, 'samples'));
    writeFileSync(join(dir, 'samples', 'llama2-prompt3.txt'), 'Write a poem about the sea.\n');
    writeFileSync(join(dir, 'samples', 'record_out.wav'), toneWav());
    writeFileSync(join(dir, 'prompt.txt'), 'Human: Write a tweet on future of AI\nAssistant:');
    samples = await serveDir(join(dir, 'samples'));
    speech = await transcriptionEngine();

    await ggufModelFolder(join(dir, 'a-models', 'llama'), {
      userId: 'meta',
      appId: 'Llama-2',
      id: 'llama2-7b-chat',
    });
    a = await startServe(['--quiet', '--workers', '1', '--models', join(dir, 'a-models')], envA);
    patA = bootstrapPat(a);

    const envB = isolatedEnv({ SIBYL_A_KEY: patA });
    b = await startServe(['--quiet', '--allow-private-urls'], envB);
    patB = bootstrapPat(b);
    const login = await runCli(
      ['login', '--config', /clarifai login --config (\S+)/.exec(b.output())![1]!],
      cli,
    );
    assert.equal(login.code, 0, login.stderr);
    const remote = { baseUrl: `${a.url}/v1`, model: 'meta/Llama-2/llama2-7b-chat', apiKeyEnv: 'SIBYL_A_KEY' };
    await openAiModelFolder(join(dir, 'b', 'claude'), {
      userId: 'anthropic',
      appId: 'completion',
      id: 'claude-v2',
      ...remote,
    });
    await openAiModelFolder(join(dir, 'b', 'llama'), {
      userId: 'meta',
      appId: 'Llama-2',
      id: 'llama2-7b-chat',
      ...remote,
    });
    await openAiModelFolder(join(dir, 'b', 'whisper'), {
      userId: 'openai',
      appId: 'whisper',
      id: 'whisper-large-v2',
      baseUrl: `${speech.url}/v1`,
      model: 'whisper-1',
      modelTypeId: 'audio-to-text',
    });
    for (const name of ['claude', 'llama', 'whisper']) {
      const up = await runCli(['model', 'upload', join(dir, 'b', name)], cli);
      assert.equal(up.code, 0, `${name}: ${up.stdout}${up.stderr}`);
    }
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([samples?.close(), speech?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The text A's own model writes for a prompt with the fixed params: what B must pass on. */
  async function direct(prompt: string): Promise<string> {
    const model = new Model({
      url: 'https://clarifai.com/meta/Llama-2/models/llama2-7b-chat',
      authConfig: { pat: patA, base: a.url },
    });
    const [out] = await model.predictByBytes({
      inputBytes: prompt,
      inputType: 'text',
      inferenceParams: JSON.parse(FIXED),
    });
    return out!.data.text!.raw!;
  }

  it('claude-v2 by ids with --bytes, by --model_url, and by --file_path: the text A writes', async () => {
    const expected = await direct(TWEET);
    assert.ok(expected.trim().length > 0);
    const runs = [
      [...CLAUDE, '--bytes', TWEET, '--input_type', 'text'],
      [
        '--model_url',
        'https://clarifai.com/anthropic/completion/models/claude-v2',
        '--bytes',
        TWEET,
        '--input_type',
        'text',
      ],
    ];
    for (const args of runs) {
      const res = await runCli(['model', 'predict', ...args, '--inference_params', FIXED], cli);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout.trimEnd(), expected.trimEnd(), args.join(' '));
    }
    const byFile = await runCli(
      [
        'model',
        'predict',
        ...CLAUDE,
        '--file_path',
        join(dir, 'prompt.txt'),
        '--input_type',
        'text',
        '--inference_params',
        FIXED,
      ],
      cli,
    );
    assert.equal(byFile.code, 0, byFile.stderr);
    assert.equal(
      byFile.stdout.trimEnd(),
      (await direct('Human: Write a tweet on future of AI\nAssistant:')).trimEnd(),
    );
  });

  it('the documented commands verbatim (default params) answer with text, exit 0', async () => {
    const documented = [
      [...CLAUDE, '--bytes', TWEET, '--input_type', 'text'],
      [...CLAUDE, '--file_path', join(dir, 'prompt.txt'), '--input_type', 'text'],
      [...LLAMA, '--url', `${samples.url}/llama2-prompt3.txt`, '--input_type', 'text'],
      [
        '--model_url',
        'https://clarifai.com/anthropic/completion/models/claude-v2',
        '--bytes',
        TWEET,
        '--input_type',
        'text',
      ],
      [
        ...CLAUDE,
        '--bytes',
        TWEET,
        '--input_type',
        'text',
        '--inference_params',
        '{"temperature":0.5,"max_tokens":200}',
      ],
    ];
    for (const args of documented) {
      const res = await runCli(['model', 'predict', ...args], cli);
      assert.equal(res.code, 0, `${args.join(' ')}\n${res.stderr}`);
      assert.ok(res.stdout.trim().length > 0, args.join(' '));
    }
    const yaml = join(dir, 'predict_by_yaml.yaml');
    writeFileSync(
      yaml,
      'model_url: "https://clarifai.com/anthropic/completion/models/claude-v2"\nbytes: "Human: Write a tweet on future of AI\\nAssistant:"\ninput_type: "text"\n',
    );
    const byYaml = await runCli(['model', 'predict', '--config', yaml], cli);
    assert.equal(byYaml.code, 0, byYaml.stderr);
    assert.ok(byYaml.stdout.trim().length > 0);
  });

  it('the whisper command: the WAV reaches the transcription route, its text comes back', async () => {
    const whisper = (task: string) =>
      runCli(
        ['model', 'predict', '--model_url', WHISPER_URL, '--url', `${samples.url}/record_out.wav`].concat([
          '--input_type',
          'audio',
          '--inference_params',
          `{"task":"${task}"}`,
        ]),
        cli,
      );
    const res = await whisper('transcribe');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), 'transcriptions of a wav file');
    const translate = await whisper('translate');
    assert.equal(translate.stdout.trim(), 'translations of a wav file', translate.stderr);
  });

  it('the SDK streams claude-v2 through B; the pieces join to what A writes', async () => {
    const claude = new Model({
      url: 'https://clarifai.com/anthropic/completion/models/claude-v2',
      authConfig: { pat: patB, base: b.url },
    });
    const pieces: string[] = [];
    for await (const outputs of claude.generateByBytes({
      inputBytes: TWEET,
      inputType: 'text',
      inferenceParams: JSON.parse(FIXED),
    })) {
      pieces.push(outputs[0]!.data.text?.raw ?? '');
    }
    assert.ok(pieces.length > 1, `pieces: ${pieces.length}`);
    assert.equal(pieces.join(''), await direct(TWEET));
  });

  it('the official openai client chats and streams against both servers', async () => {
    for (const [base, pat, name] of [
      [a.url, patA, 'meta/Llama-2/llama2-7b-chat'],
      [b.url, patB, 'anthropic/completion/claude-v2'],
    ] as const) {
      const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: pat, maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: 'Write a tweet on future of AI' }];
      const whole = await client.chat.completions.create({
        model: name,
        messages,
        temperature: 0,
        seed: 5,
        max_tokens: 12,
      });
      const text = whole.choices[0]!.message.content ?? '';
      assert.ok(text.length > 0, name);
      assert.equal(whole.usage?.completion_tokens, 12, name);
      let streamed = '';
      const stream = await client.chat.completions.create({
        model: name,
        messages,
        temperature: 0,
        seed: 5,
        max_tokens: 12,
        stream: true,
      });
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
      assert.equal(streamed, text, name);
    }
  });

  it('an unreachable engine and a refused key are named', async () => {
    /** Registers a remote claude-* model on B and predicts with it from the CLI. */
    const tryRemote = async (id: string, remote: { baseUrl: string; model: string; apiKeyEnv?: string }) => {
      const folder = join(dir, 'b', id);
      await openAiModelFolder(folder, { userId: 'anthropic', appId: 'completion', id, ...remote });
      assert.equal((await runCli(['model', 'upload', folder], cli)).code, 0);
      const url = `https://clarifai.com/anthropic/completion/models/${id}`;
      return runCli(['model', 'predict', '--model_url', url, '--bytes', 'hi'], cli);
    };
    // a port that was just free: nothing listens there now
    const gone = await listen(() => undefined);
    await gone.close();
    const down = await tryRemote('claude-dead', { baseUrl: `${gone.url}/v1`, model: 'x' });
    assert.notEqual(down.code, 0);
    assert.ok(down.stderr.includes(`remote engine ${gone.url}/v1 (model "x") is unreachable`), down.stderr);

    const refused = await tryRemote('claude-wrong-key', {
      baseUrl: `${a.url}/v1`,
      model: 'meta/Llama-2/llama2-7b-chat',
      apiKeyEnv: 'HOME',
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /refused the key in env var HOME \(401\)/);
    assert.ok(!refused.stderr.includes(process.env.HOME ?? '@@'), 'the key itself is not shown');
  });
});
