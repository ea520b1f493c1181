import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { TEXT_GENERATION_PARAMS, TRANSCRIPTION_PARAMS } from '../../src/engine/generation-params.js';
import { findRuntime } from '../../src/engine/runtimes/index.js';
import { SseParser } from '../../src/engine/runtimes/openai-http.js';
import { OpenAiRuntime, type OpenAiModel } from '../../src/engine/runtimes/openai.js';
import type { ModelSpec } from '../../src/engine/spec.js';
import type { DecodedInput, GenerateChunk, LoadedModel } from '../../src/engine/types.js';

// A scripted OpenAI-compatible engine on 127.0.0.1: each test sets how it answers and reads back
// what it was sent.

interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  at: number;
}
type Handler = (req: Seen, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

const KEY = 'sk-test-secret-1234';
const ENV = { ENGINE_KEY: KEY };
let server: Server;
let baseUrl: string;
let handle: Handler;
let seen: Seen[];
const loaded: LoadedModel[] = [];

before(async () => {
  server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const req = { url: raw.url ?? '', headers: raw.headers, body: Buffer.concat(chunks), at: Date.now() };
      seen.push(req);
      void Promise.resolve(handle(req, res, raw)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

after(async () => {
  await Promise.all(loaded.map((m) => m.unload()));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  handle = (_req, res) => json(res, 500, { error: { message: 'no script for this test' } });
});

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function bodyOf(req: Seen): Record<string, unknown> {
  return JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
}

function chatAnswer(text: string, finish = 'stop') {
  return {
    id: 'cmpl-1',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }],
    usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
  };
}

function spec(modelTypeId: string, runtime: Record<string, unknown> = {}): ModelSpec {
  return {
    userId: 'me',
    appId: 'app',
    id: `remote-${modelTypeId}`,
    versionId: 'v1',
    name: 'remote',
    modelTypeId,
    description: '',
    inputType:
      modelTypeId === 'audio-to-text' ? 'audio' : modelTypeId === 'multimodal-to-text' ? 'image' : 'text',
    params: modelTypeId === 'audio-to-text' ? { ...TRANSCRIPTION_PARAMS } : { ...TEXT_GENERATION_PARAMS },
    runtime: { kind: 'openai', base_url: baseUrl, model: 'tiny-llm', api_key_env: 'ENGINE_KEY', ...runtime },
    batching: { max_batch_size: 4, max_wait_ms: 0 },
  };
}

async function load(modelTypeId: string, runtime: Record<string, unknown> = {}): Promise<OpenAiModel> {
  const model = (await new OpenAiRuntime(ENV).load(spec(modelTypeId, runtime), {})) as OpenAiModel;
  loaded.push(model);
  return model;
}

const text = (t: string): DecodedInput => ({ type: 'text', text: t });

async function failure(promise: Promise<unknown>): Promise<SibylError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SibylError, `expected a SibylError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

async function collect(chunks: AsyncIterable<GenerateChunk>): Promise<GenerateChunk[]> {
  const all: GenerateChunk[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

function sse(res: ServerResponse, events: unknown[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const event of events)
    res.write(`data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`);
  res.end();
}

const delta = (content: string, finish: string | null = null) => ({
  choices: [{ index: 0, delta: { content }, finish_reason: finish }],
});

describe('openai runtime: text generation', () => {
  it('is in the RUNTIMES table', async () => {
    assert.ok((await findRuntime('openai')!()) instanceof OpenAiRuntime);
  });

  it('predicts with a chat request that carries the params, the system prompt and the key', async () => {
    handle = (_req, res) => json(res, 200, chatAnswer('Paris.'));
    const model = await load('text-to-text');
    const params = {
      max_tokens: 32,
      stop: ['\n\n'],
      seed: 42,
      temperature: 0.2,
      top_k: 5,
      system_prompt: 'Be brief.',
    };
    assert.deepEqual(await model.predict!([text('Capital of France?')], params), [
      { text: { raw: 'Paris.' } },
    ]);
    const outputs = await model.predictOutputs!([text('Capital of France?')], params);
    assert.deepEqual(outputs[0]!.usage, { promptTokens: 7, completionTokens: 3 });
    assert.equal(outputs[0]!.finishReason, 'stop');

    assert.equal(seen[0]!.url, '/v1/chat/completions');
    assert.equal(seen[0]!.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(bodyOf(seen[0]!), {
      model: 'tiny-llm',
      temperature: 0.2,
      max_tokens: 32,
      top_k: 5,
      seed: 42,
      stop: ['\n\n'],
      stream: false,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Capital of France?' },
      ],
    });
  });

  it('sends a batch at once: the engine batches it', async () => {
    const waiting: ServerResponse[] = [];
    handle = (req, res) => {
      waiting.push(res);
      // answers only when both inputs are in: one at a time would never finish
      if (waiting.length === 2) waiting.forEach((r, i) => json(r, 200, chatAnswer(`answer ${i}`)));
    };
    const model = await load('text-to-text');
    const out = await model.predict!([text('a'), text('b')], { max_tokens: 8 });
    assert.deepEqual(out, [{ text: { raw: 'answer 0' } }, { text: { raw: 'answer 1' } }]);
    assert.equal(seen.length, 2);
  });

  it('streams deltas, then the usage and finish reason', async () => {
    handle = (_req, res) =>
      sse(res, [
        { choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] },
        delta('Hel'),
        delta('lo, '),
        delta('world', 'length'),
        { choices: [], usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } },
        '[DONE]',
      ]);
    const model = await load('text-to-text');
    const chunks = await collect(model.generate!(text('Say hello'), { max_tokens: 3 }));
    assert.equal(chunks.map((c) => c.data.text?.raw ?? '').join(''), 'Hello, world');
    const last = chunks.at(-1)!;
    assert.deepEqual(last.usage, { promptTokens: 4, completionTokens: 3 });
    assert.equal(last.finishReason, 'length');
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === undefined && c.finishReason === undefined));
    const body = bodyOf(seen[0]!);
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.max_tokens, 3);
  });

  it('takes a whole answer from an engine that does not stream', async () => {
    handle = (_req, res) => json(res, 200, chatAnswer('all at once'));
    const model = await load('text-to-text');
    const chunks = await collect(model.generate!(text('hi'), {}));
    assert.equal(chunks.map((c) => c.data.text?.raw).join(''), 'all at once');
    assert.deepEqual(chunks.at(-1)!.usage, { promptTokens: 7, completionTokens: 3 });
  });

  it('reads server-sent events split anywhere, even inside a character', () => {
    const bytes = new TextEncoder().encode('data: {"a":"é"}\r\n\r\n: comment\n\ndata: [DONE]\n\n');
    const parser = new SseParser();
    const events = [...bytes].flatMap((b) => parser.push(Uint8Array.of(b)));
    assert.deepEqual([...events, ...parser.push(undefined)], ['{"a":"é"}', '[DONE]']);
  });

  it('uses /completions with the template filled in when a prompt_template is given', async () => {
    handle = (_req, res) =>
      json(res, 200, { choices: [{ index: 0, text: ' 4', finish_reason: 'stop' }], usage: null });
    const model = await load('text-to-text');
    const out = await model.predict!([text('2+2=')], { prompt_template: '<s>[INST] {{prompt}} [/INST]' });
    assert.deepEqual(out, [{ text: { raw: ' 4' } }]);
    assert.equal(seen[0]!.url, '/v1/completions');
    assert.equal(bodyOf(seen[0]!).prompt, '<s>[INST] 2+2= [/INST]');
    assert.equal(bodyOf(seen[0]!).messages, undefined);
  });

  it('sends an image as a data URL with its type in one user message', async () => {
    handle = (_req, res) => json(res, 200, chatAnswer('A red square.'));
    const model = await load('multimodal-to-text');
    assert.equal(model.encodedInputs, true);
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 9, 9]);
    const input = (bytes: Uint8Array): DecodedInput => ({
      type: 'encoded',
      media: 'image',
      bytes,
      text: 'What?',
    });
    assert.deepEqual(await model.predict!([input(png)], {}), [{ text: { raw: 'A red square.' } }]);
    await model.predict!([input(jpeg)], {});
    const content = (i: number) => (bodyOf(seen[i]!).messages as { content: unknown }[])[0]!.content;
    assert.deepEqual(content(0), [
      { type: 'text', text: 'What?' },
      {
        type: 'image_url',
        image_url: { url: `data:image/png;base64,${Buffer.from(png).toString('base64')}` },
      },
    ]);
    assert.match(JSON.stringify(content(1)), /data:image\/jpeg;base64,/);
    const bmp = Uint8Array.from([0x42, 0x4d, 0, 0]);
    const error = await failure(model.predict!([input(bmp)], {}));
    assert.equal(error.code, StatusCode.INPUT_INVALID_ARGUMENT);
    assert.equal(seen.length, 2);
  });
});

describe('openai runtime: embeddings and transcription', () => {
  it('returns one embedding per input in input order, by the answer index', async () => {
    handle = (_req, res) =>
      json(res, 200, {
        object: 'list',
        data: [
          { object: 'embedding', index: 1, embedding: [0, 1, 0] },
          { object: 'embedding', index: 0, embedding: [1, 0, 0] },
        ],
        usage: { prompt_tokens: 4, total_tokens: 4 },
      });
    const model = await load('text-embedder');
    const out = await model.predict!([text('first'), text('second')], {});
    assert.deepEqual(out, [
      { embeddings: [{ vector: [1, 0, 0], num_dimensions: 3 }] },
      { embeddings: [{ vector: [0, 1, 0], num_dimensions: 3 }] },
    ]);
    assert.equal(seen[0]!.url, '/v1/embeddings');
    assert.deepEqual(bodyOf(seen[0]!).input, ['first', 'second']);
  });

  it('posts audio as multipart form data, to the route of the task', async () => {
    handle = (_req, res) => json(res, 200, { text: 'hello there' });
    const model = await load('audio-to-text');
    assert.equal(model.encodedInputs, true);
    const wav = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '), Buffer.alloc(16)]);
    const audio: DecodedInput = { type: 'encoded', media: 'audio', bytes: new Uint8Array(wav) };
    assert.deepEqual(await model.predict!([audio], { task: 'translate', language: 'fr', temperature: 0 }), [
      { text: { raw: 'hello there' } },
    ]);
    await model.predict!([audio], { task: 'transcribe' });
    assert.equal(seen[0]!.url, '/v1/audio/translations');
    assert.equal(seen[1]!.url, '/v1/audio/transcriptions');
    const form = await new Response(seen[0]!.body, {
      headers: { 'content-type': String(seen[0]!.headers['content-type']) },
    }).formData();
    assert.equal(form.get('model'), 'tiny-llm');
    assert.equal(form.get('language'), 'fr');
    assert.equal(form.get('temperature'), '0');
    const file = form.get('file') as File;
    assert.equal(file.name, 'audio.wav');
    assert.equal(file.type, 'audio/wav');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), wav);
    const second = await new Response(seen[1]!.body, {
      headers: { 'content-type': String(seen[1]!.headers['content-type']) },
    }).formData();
    assert.equal(second.get('language'), null);
  });
});

describe('openai runtime: retries and errors', () => {
  it('retries a 503 and then succeeds', async () => {
    handle = (_req, res) =>
      seen.length < 3 ? json(res, 503, { error: { message: 'loading' } }) : json(res, 200, chatAnswer('ok'));
    const model = await load('text-to-text');
    assert.deepEqual(await model.predict!([text('hi')], {}), [{ text: { raw: 'ok' } }]);
    assert.equal(seen.length, 3);
  });

  it('retries a stream that failed before it started', async () => {
    handle = (_req, res) =>
      seen.length < 2 ? json(res, 502, { error: 'bad gateway' }) : sse(res, [delta('ok', 'stop'), '[DONE]']);
    const model = await load('text-to-text');
    const chunks = await collect(model.generate!(text('hi'), {}));
    assert.equal(chunks.map((c) => c.data.text?.raw).join(''), 'ok');
    assert.equal(seen.length, 2);
  });

  it('waits as long as Retry-After says', async () => {
    handle = (_req, res) =>
      seen.length === 1
        ? json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' })
        : json(res, 200, chatAnswer('ok'));
    const model = await load('text-to-text');
    await model.predict!([text('hi')], {});
    assert.equal(seen.length, 2);
    assert.ok(seen[1]!.at - seen[0]!.at >= 900, `retried after ${seen[1]!.at - seen[0]!.at} ms`);
  });

  it('gives up on 429s with a busy error once the retries are spent', async () => {
    handle = (_req, res) =>
      json(res, 429, { error: { message: 'rate limited' } }, { 'retry-after-ms': '10' });
    const model = await load('text-to-text', { retries: 1 });
    const error = await failure(model.predict!([text('hi')], {}));
    assert.equal(error.code, StatusCode.MODEL_BUSY_PLEASE_RETRY);
    assert.match(error.message, /answered 429: rate limited \(after 2 attempts\)/);
    assert.equal(seen.length, 2);
  });

  it('does not retry a 400 and passes on what the engine said', async () => {
    handle = (_req, res) =>
      json(res, 400, {
        error: { message: "This model's maximum context length is 2048 tokens", type: 'invalid' },
      });
    const model = await load('text-to-text');
    const error = await failure(model.predict!([text('long')], {}));
    assert.equal(seen.length, 1);
    assert.equal(error.code, StatusCode.MODEL_INVALID_ARGUMENT);
    assert.equal(
      error.details,
      `remote engine ${baseUrl} (model "tiny-llm") answered 400: This model's maximum context length is 2048 tokens`,
    );
  });

  it('says a 404 is the model the engine does not have', async () => {
    handle = (_req, res) =>
      json(res, 404, { error: { message: 'model "tiny-llm" not found, try pulling it first' } });
    const model = await load('text-to-text');
    const error = await failure(model.predict!([text('hi')], {}));
    assert.equal(seen.length, 1);
    assert.match(error.message, /answered 404: model "tiny-llm" not found/);
  });

  it('names the env var of a refused key, never the key', async () => {
    handle = (req, res) =>
      json(res, 401, {
        error: { message: `Incorrect API key provided: ${String(req.headers.authorization).slice(7)}` },
      });
    const model = await load('text-to-text');
    const error = await failure(model.predict!([text('hi')], {}));
    assert.equal(seen.length, 1);
    assert.match(
      error.message,
      /refused the key in env var ENGINE_KEY \(401\): Incorrect API key provided: \*\*\*/,
    );
    assert.ok(!error.message.includes(KEY) && !JSON.stringify(error).includes(KEY));
    const streamed = await failure(collect(model.generate!(text('hi'), {})));
    assert.ok(!streamed.message.includes(KEY));
  });

  it('names an engine that is not there by its URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const model = await load('text-to-text', { base_url: `http://127.0.0.1:${port}/v1`, retries: 1 });
    const error = await failure(model.predict!([text('hi')], {}));
    assert.equal(error.code, StatusCode.MODEL_NOT_DEPLOYED);
    assert.match(
      error.message,
      new RegExp(
        `remote engine http://127\\.0\\.0\\.1:${port}/v1 \\(model "tiny-llm"\\) is unreachable: .*ECONNREFUSED`,
      ),
    );
  });

  it('says when the engine took too long', async () => {
    handle = () => undefined; // never answers
    const model = await load('text-to-text', { timeout_ms: 200, retries: 0 });
    const error = await failure(model.predict!([text('hi')], {}));
    assert.match(error.message, /remote engine .* \(model "tiny-llm"\) timed out after 200 ms/);
  });

  it('stops a stream when the caller aborts, closing the connection', async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    handle = (_req, res) => {
      res.on('close', () => closed());
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(delta('first'))}\n\n`);
      // then nothing more: a long generation
    };
    const model = await load('text-to-text');
    const abort = new AbortController();
    const pieces: string[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of model.generate!(text('write a novel'), {}, abort.signal)) {
          pieces.push(chunk.data.text?.raw ?? '');
          abort.abort();
        }
      })(),
    );
    assert.deepEqual(pieces, ['first']);
    assert.match(error.message, /cancelled/);
    await connectionClosed;
  });

  it('stops waiting between retries when the caller aborts', async () => {
    handle = (_req, res) => json(res, 503, { error: 'busy' }, { 'retry-after': '20' });
    const model = await load('text-to-text', { timeout_ms: 30_000 });
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 100);
    const error = await failure(model.predict!([text('hi')], {}, abort.signal));
    assert.match(error.message, /cancelled/);
    assert.ok(Date.now() - started < 10_000, 'finished');
    assert.equal(seen.length, 1);
  });
});

describe('openai runtime: settings', () => {
  const runtime = new OpenAiRuntime(ENV);
  const refused = async (modelTypeId: string, runtimeSettings: Record<string, unknown>, words: RegExp) => {
    const error = await failure(runtime.validate(spec(modelTypeId, runtimeSettings)));
    assert.equal(error.code, StatusCode.MODEL_INVALID_ARGUMENT);
    assert.match(error.message, words);
  };

  it('accepts good settings without calling the engine', async () => {
    await runtime.validate(
      spec('text-to-text', { base_url: 'http://127.0.0.1:1/v1', timeout_ms: 5000, retries: 0 }),
    );
    await runtime.validate(spec('text-embedder', { api_key_env: undefined }));
    await runtime.load(spec('audio-to-text', { base_url: 'https://engine.invalid/v1' }), {});
    assert.equal(seen.length, 0);
  });

  it('refuses bad settings by name', async () => {
    await refused('text-to-text', { base_url: undefined }, /runtime\.base_url must be .*got nothing/);
    await refused(
      'text-to-text',
      { base_url: 'ftp://host/v1' },
      /runtime\.base_url must be an http or https URL/,
    );
    await refused('text-to-text', { base_url: 'not a url' }, /runtime\.base_url/);
    await refused('text-to-text', { model: '' }, /runtime\.model must be a non-empty string/);
    await refused('text-to-text', { api_key_env: 'NOT_SET_ANYWHERE' }, /NOT_SET_ANYWHERE, which is not set/);
    await refused('text-to-text', { api_key_env: 'bad name' }, /runtime\.api_key_env must be the name of/);
    await refused('text-to-text', { retries: -1 }, /runtime\.retries must be an integer from 0 to 10/);
    await refused('text-to-text', { timeout_ms: 'soon' }, /runtime\.timeout_ms must be an integer/);
    await refused(
      'text-to-text',
      { base_uri: 'x' },
      /unknown key runtime\.base_uri; allowed in runtime: kind, base_url/,
    );
    await refused(
      'visual-classifier',
      {},
      /model_type_id "visual-classifier" cannot run on runtime kind openai/,
    );
  });

  it('never puts a password from the URL in its message', async () => {
    await refused(
      'text-to-text',
      { base_url: 'http://admin:hunter2@127.0.0.1/v1' },
      /without user or password/,
    );
    const error = await failure(
      runtime.validate(spec('text-to-text', { base_url: 'http://admin:hunter2@h/v1' })),
    );
    assert.ok(!error.message.includes('hunter2'));
  });
});
