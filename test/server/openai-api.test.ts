/**
 * The OpenAI-compatible API (/v1) through the official `openai` client against a real server on
 * loopback: a tiny llama GGUF (text-to-text) and an ONNX text embedder, served from model folders.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import OpenAI, { toFile } from 'openai';
import { stringify } from 'yaml';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { BusyError } from '../../src/core/errors.js';
import { buildApp } from '../../src/server/app.js';
import { toOpenAiError } from '../../src/server/routes/openai/errors.js';
import { registerModelFolders } from '../../src/server/model-folders.js';
import { openStore, type Store } from '../../src/store/index.js';
import { writeTinyGguf } from '../helpers/gguf.js';
import { expectedTextEmbedding, onnxTextEmbedderFolder, vocabId } from '../helpers/model-folders.js';

const LLM = 'alice/main/tiny-llm';
const EMBEDDER = 'alice/main/word-embedder';
const PUBLIC_EMBEDDER = 'bob/shared/word-embedder';

let root: string;
let store: Store;
let engine: Engine;
let app: FastifyInstance;
let base: string;
let alice: OpenAI;
let bob: OpenAI;
let aliceKey: string;
let readOnly: OpenAI;

function client(apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0 });
}

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'sibyl-openai-'));
  const models = path.join(root, 'models');
  await onnxTextEmbedderFolder(path.join(models, 'embedder'), {
    model: { user_id: 'alice', app_id: 'main' },
  });
  await onnxTextEmbedderFolder(path.join(models, 'public-embedder'), {
    variant: true,
    model: { user_id: 'bob', app_id: 'shared', visibility: 'public' },
  });
  const llm = path.join(models, 'llm');
  await mkdir(llm, { recursive: true });
  await writeTinyGguf(path.join(llm, 'model.gguf'), { seed: 7, contextLength: 256 });
  const config = {
    model: { id: 'tiny-llm', user_id: 'alice', app_id: 'main', model_type_id: 'text-to-text' },
    runtime: { kind: 'llama-cpp', file: 'model.gguf' },
  };
  await writeFile(path.join(llm, 'config.yaml'), stringify(config));

  store = await openStore({ sqlitePath: ':memory:' });
  engine = createEngine({ workers: 1, warmUp: false });
  for (const id of ['alice', 'bob']) await store.users.create({ id });
  await registerModelFolders(store, engine, models);
  aliceKey = (await store.pats.create('alice', 'tests')).token;
  const bobKey = (await store.pats.create('bob', 'tests')).token;
  const readKey = (await store.pats.create('alice', { description: 'read', scopes: ['read'] })).token;
  app = buildApp({ store, engine, logError: () => undefined });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  alice = client(aliceKey);
  bob = client(bobKey);
  readOnly = client(readKey);
});

after(async () => {
  // the client may hold a connection it opened and never used, which close() would wait out
  const closing = app?.close();
  app?.server.closeAllConnections();
  await closing;
  await engine?.close();
  await store?.close();
  await rm(root, { recursive: true, force: true });
});

async function rejectsWith(
  call: Promise<unknown>,
  cls: new (...args: never[]) => InstanceType<typeof OpenAI.APIError>,
  message: RegExp,
  param?: string,
) {
  await assert.rejects(call, (error: InstanceType<typeof OpenAI.APIError>) => {
    assert.ok(error instanceof cls, `${error.constructor.name}: ${error.message}`);
    assert.match(error.message, message);
    if (param !== undefined) assert.equal(error.param, param);
    return true;
  });
}

describe('models, keys and errors on /v1', () => {
  it('lists the models a key can see, by user/app/model', async () => {
    const ids = (await alice.models.list()).data.map((m) => m.id).sort();
    assert.deepEqual(ids, [LLM, EMBEDDER, PUBLIC_EMBEDDER]);
    const bobs = (await bob.models.list()).data;
    assert.deepEqual(
      bobs.map((m) => [m.id, m.object, m.owned_by]),
      [[PUBLIC_EMBEDDER, 'model', 'bob']],
    );
    assert.ok(bobs[0]!.created > 1_600_000_000);
    assert.equal((await alice.models.retrieve(LLM)).id, LLM);
  });

  it('answers a bad key 401 and an unknown model or route 404, in OpenAI shape', async () => {
    const models = client('not-a-key').models.list();
    await rejectsWith(models, OpenAI.AuthenticationError, /not valid/);
    await rejectsWith(
      bob.chat.completions.create({ model: LLM, messages: [{ role: 'user', content: 'hi' }] }),
      OpenAI.NotFoundError,
      /no model alice\/main\/tiny-llm/,
    );
    await rejectsWith(
      alice.embeddings.create({ model: 'word-embedder', input: 'hello' }),
      OpenAI.NotFoundError,
      /ambiguous.*alice\/main\/word-embedder, bob\/shared\/word-embedder/,
    );
    await rejectsWith(
      alice.embeddings.create({ model: 'nope', input: 'hello' }),
      OpenAI.NotFoundError,
      /no model "nope"/,
    );
    // the app-wide auth hook's refusal, on a route and on no route, in OpenAI's shape
    for (const [route, auth] of [
      ['models', undefined],
      ['models', 'Bearer wrong'],
      ['nothing-here', 'Bearer wrong'],
    ] as const) {
      const res = await fetch(`${base}/v1/${route}`, { headers: auth ? { authorization: auth } : {} });
      assert.equal(res.status, 401);
      const body = (await res.json()) as { error: { type: string; code: string } };
      assert.equal(body.error.type, 'authentication_error');
    }
    const missing = await fetch(`${base}/v1/nothing-here`, {
      headers: { authorization: `Bearer ${aliceKey}` },
    });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { type: string } }).error.type, 'not_found_error');
  });

  it('needs the predict scope to run a model', async () => {
    const call = readOnly.embeddings.create({ model: EMBEDDER, input: 'hello' });
    await rejectsWith(call, OpenAI.PermissionDeniedError, /"predict" scope/);
    assert.equal((await readOnly.models.list()).data.length, 3, 'a read key may list');
  });

  it('refuses what it cannot do by name, with the field in param', async () => {
    const messages = [{ role: 'user' as const, content: 'hi' }];
    await rejectsWith(
      alice.chat.completions.create({ model: LLM, messages, n: 2 }),
      OpenAI.BadRequestError,
      /one choice/,
      'n',
    );
    const tools = [{ type: 'function' as const, function: { name: 'f', parameters: {} } }];
    await rejectsWith(
      alice.chat.completions.create({ model: LLM, messages, tools }),
      OpenAI.BadRequestError,
      /tool calling/,
      'tools',
    );
    const schema = { type: 'json_schema' as const, json_schema: { name: 'x', schema: {} } };
    await rejectsWith(
      alice.chat.completions.create({ model: LLM, messages, response_format: schema }),
      OpenAI.BadRequestError,
      /json_schema/,
      'response_format',
    );
    await rejectsWith(
      alice.chat.completions.create({ model: LLM, messages, temperature: 5 }),
      OpenAI.BadRequestError,
      /temperature/,
      'temperature',
    );
    await rejectsWith(
      alice.chat.completions.create({ model: EMBEDDER, messages }),
      OpenAI.BadRequestError,
      /text-embedder model/,
      'model',
    );
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    const image = [
      { role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: png } }] },
    ];
    await rejectsWith(
      alice.chat.completions.create({ model: LLM, messages: image }),
      OpenAI.BadRequestError,
      /takes text inputs, got image/,
    );
    // harmless fields are accepted
    const ok = await alice.chat.completions.create({
      model: LLM,
      messages,
      n: 1,
      user: 'u',
      frequency_penalty: 0,
      max_tokens: 2,
    });
    assert.equal(ok.usage?.completion_tokens, 2);
  });

  it('reads the audio form (multipart) and refuses a model that does not transcribe', async () => {
    const file = await toFile(Buffer.from('RIFF....WAVE'), 'a.wav', { type: 'audio/wav' });
    const call = alice.audio.transcriptions.create({ model: EMBEDDER, file, language: 'en' });
    await rejectsWith(call, OpenAI.BadRequestError, /serves audio-to-text models/, 'model');
    const form = new FormData();
    form.set('model', EMBEDDER);
    const res = await fetch(`${base}/v1/audio/translations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceKey}` },
      body: form,
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, 'file');
  });

  it('answers a busy model 429 with Retry-After, as a rate limit', () => {
    const out = toOpenAiError(new BusyError('the model has 512 inputs queued', 3), 'req');
    assert.equal(out.httpStatus, 429);
    assert.equal(out.retryAfterSeconds, 3);
    assert.deepEqual(out.body.error, {
      message: 'the model has 512 inputs queued',
      type: 'rate_limit_error',
      param: null,
      code: 'rate_limit_exceeded',
    });
  });
});

describe('embeddings', () => {
  it('embeds one string or several, as floats or base64 (the client default)', async () => {
    const ids = ['[CLS]', 'hello', 'world', '[SEP]'].map(vocabId);
    const one = await alice.embeddings.create({
      model: EMBEDDER,
      input: 'hello world',
      encoding_format: 'float',
    });
    assert.equal(one.object, 'list');
    assert.equal(one.model, EMBEDDER);
    assert.deepEqual(
      one.data.map((d) => [d.object, d.index]),
      [['embedding', 0]],
    );
    closeTo(one.data[0]!.embedding, expectedTextEmbedding(ids));
    const many = await alice.embeddings.create({ model: PUBLIC_EMBEDDER, input: ['hello world', 'red'] });
    assert.deepEqual(
      many.data.map((d) => d.index),
      [0, 1],
    );
    closeTo(many.data[0]!.embedding, expectedTextEmbedding(ids, true));
    closeTo(many.data[1]!.embedding, expectedTextEmbedding(['[CLS]', 'red', '[SEP]'].map(vocabId), true));
    await rejectsWith(
      alice.embeddings.create({ model: EMBEDDER, input: '' }),
      OpenAI.BadRequestError,
      /empty/,
      'input',
    );
  });
});

function closeTo(actual: readonly number[], expected: readonly number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) < 1e-5, `[${i}] ${x} != ${expected[i]}`));
}

describe('chat and completions on a tiny llama', () => {
  const greedy = { temperature: 0, seed: 11, max_tokens: 8 };

  it('answers a chat whole, and the same text streamed, with consistent usage', async () => {
    const messages = [{ role: 'user' as const, content: 'the cat' }];
    const whole = await alice.chat.completions.create({ model: 'tiny-llm', messages, ...greedy });
    assert.equal(whole.object, 'chat.completion');
    assert.equal(whole.model, LLM);
    const choice = whole.choices[0]!;
    assert.equal(choice.message.role, 'assistant');
    assert.notEqual(choice.message.content?.trim(), '');
    const usage = whole.usage!;
    assert.equal(usage.completion_tokens, 8, 'max_tokens honoured');
    assert.equal(choice.finish_reason, 'length');
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);

    const stream = await alice.chat.completions.create({
      model: LLM,
      messages,
      ...greedy,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id));
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, choice.message.content);
    assert.ok(chunks.filter((c) => c.choices[0]?.delta.content).length >= 2, 'the text came in pieces');
    assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'length');
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.deepEqual(chunks.at(-1)!.usage, usage);
  });

  it('takes a system prompt, earlier turns, a stop text and max_completion_tokens', async () => {
    const user = { role: 'user' as const, content: 'the sun' };
    const plain = await alice.chat.completions.create({ model: LLM, messages: [user], ...greedy });
    const system = await alice.chat.completions.create({
      model: LLM,
      messages: [{ role: 'system', content: 'Answer briefly.' }, user],
      ...greedy,
    });
    assert.ok(system.usage!.prompt_tokens > plain.usage!.prompt_tokens);
    const turns = await alice.chat.completions.create({
      model: LLM,
      messages: [{ role: 'user', content: 'a tree' }, { role: 'assistant', content: 'the river' }, user],
      ...greedy,
    });
    assert.ok(turns.usage!.prompt_tokens > plain.usage!.prompt_tokens + 4);
    const text = plain.choices[0]!.message.content!;
    const stop = text.trim().split(/\s+/)[2]!;
    const cut = await alice.chat.completions.create({
      model: LLM,
      messages: [user],
      ...greedy,
      stop: [stop],
    });
    assert.equal(cut.choices[0]!.message.content, text.slice(0, text.indexOf(stop)));
    assert.equal(cut.choices[0]!.finish_reason, 'stop');
    const short = await alice.chat.completions.create({
      model: LLM,
      messages: [user],
      temperature: 0,
      max_completion_tokens: 3,
    });
    assert.equal(short.usage?.completion_tokens, 3);
  });

  it('completes a raw prompt without the chat template, whole and streamed', async () => {
    const params = { model: LLM, prompt: 'the dog', temperature: 0, seed: 2, max_tokens: 5 };
    const whole = await alice.completions.create(params);
    assert.equal(whole.object, 'text_completion');
    assert.equal(whole.usage?.completion_tokens, 5);
    assert.equal(whole.choices[0]!.finish_reason, 'length');
    const chat = await alice.chat.completions.create({
      model: LLM,
      messages: [{ role: 'user', content: 'the dog' }],
      max_tokens: 1,
    });
    assert.ok(whole.usage!.prompt_tokens < chat.usage!.prompt_tokens, 'no chat template around the prompt');
    let text = '';
    for await (const chunk of await alice.completions.create({ ...params, stream: true }))
      text += chunk.choices[0]?.text ?? '';
    assert.equal(text, whole.choices[0]!.text);
  });

  it('streams server-sent events and stops generating when the client goes away', async () => {
    const abort = new AbortController();
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: LLM,
        messages: [{ role: 'user', content: 'the moon' }],
        max_tokens: 200,
        stream: true,
      }),
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^data: \{"id":"chatcmpl-/);
    abort.abort();
    await reader.cancel().catch(() => undefined);
    // the one worker is free again at once: the aborted 200-token generation did not run on
    const started = Date.now();
    const next = await alice.completions.create({ model: LLM, prompt: 'the moon', max_tokens: 2 });
    assert.equal(next.usage?.completion_tokens, 2);
    assert.ok(Date.now() - started < 5000);
  });
});
