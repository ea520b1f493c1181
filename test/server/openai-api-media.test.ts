/**
 * Images and audio on the OpenAI-compatible API (/v1), through the official `openai` client: a
 * multimodal-to-text and an audio-to-text model run on the `openai` runtime, whose remote engine
 * is a small fake on loopback that answers with what it was sent, so the test sees the image,
 * the prompt and the audio settings arrive.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import OpenAI, { toFile } from 'openai';
import { stringify } from 'yaml';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { registerModelFolders } from '../../src/server/model-folders.js';
import { parseMultipart } from '../../src/server/routes/openai/multipart.js';
import { openStore, type Store } from '../../src/store/index.js';
import { listen, type TestServer } from '../helpers/http.js';
import { solidPng } from '../helpers/model-folders.js';

const VISION = 'alice/main/vision';
const WHISPER = 'alice/main/whisper';
const WAV = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '), Buffer.alloc(28)]);

let root: string;
let store: Store;
let engine: Engine;
let app: FastifyInstance;
let remote: TestServer;
let base: string;
let alice: OpenAI;

async function body(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** What the fake engine says it saw in a chat: each text part, and each image's type and size. */
function describeMessages(messages: { role: string; content: unknown }[]): string {
  return messages
    .map((m) => {
      const parts =
        typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content as never[]);
      const seen = parts.map((p: { type: string; text?: string; image_url?: { url: string } }) => {
        if (p.type === 'text') return `"${p.text}"`;
        const [head, data] = p.image_url!.url.split(',');
        return `${head} ${Buffer.from(data!, 'base64').length} bytes`;
      });
      return `${m.role}: ${seen.join(' + ')}`;
    })
    .join('; ');
}

before(async () => {
  remote = await listen((req, res) => {
    void body(req).then((raw) => {
      if (req.url === '/v1/chat/completions') {
        const request = JSON.parse(raw.toString()) as { messages: { role: string; content: unknown }[] };
        const said = describeMessages(request.messages);
        const events = [
          { choices: [{ index: 0, delta: { content: said.slice(0, 10) } }] },
          { choices: [{ index: 0, delta: { content: said.slice(10) }, finish_reason: 'stop' }] },
          { choices: [], usage: { prompt_tokens: 21, completion_tokens: 4 } },
        ];
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // the engine breaking mid-answer: two pieces, then the stream ends without a finish reason
        if (said.includes('"break"')) {
          const piece = (content: string) =>
            `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
          return void res.end(piece('one ') + piece('two '));
        }
        res.end(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n');
        return;
      }
      const form = parseMultipart(raw, req.headers['content-type'] ?? '');
      const { language = '-', temperature = '-' } = form.fields;
      const file = form.files.file!;
      const text = `${req.url} ${file.filename} ${file.bytes.length} bytes, language ${language}, temperature ${temperature}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text }));
    });
  });
  root = await mkdtemp(path.join(tmpdir(), 'sibyl-openai-media-'));
  for (const [id, type] of [
    ['vision', 'multimodal-to-text'],
    ['whisper', 'audio-to-text'],
  ] as const) {
    const folder = path.join(root, id);
    await mkdir(folder, { recursive: true });
    const config = {
      model: { id, user_id: 'alice', app_id: 'main', model_type_id: type },
      runtime: { kind: 'openai', base_url: `${remote.url}/v1`, model: `remote-${id}`, retries: 0 },
    };
    await writeFile(path.join(folder, 'config.yaml'), stringify(config));
  }
  store = await openStore({ sqlitePath: ':memory:' });
  engine = createEngine({ workers: 1, warmUp: false });
  await store.users.create({ id: 'alice' });
  await registerModelFolders(store, engine, root);
  const key = (await store.pats.create('alice', 'tests')).token;
  app = buildApp({ store, engine, logError: () => undefined });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  alice = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0 });
});

after(async () => {
  // the client may hold a connection it opened and never used, which close() would wait out
  const closing = app?.close();
  app?.server.closeAllConnections();
  await closing;
  await engine?.close();
  await store?.close();
  await remote?.close();
  await rm(root, { recursive: true, force: true });
});

describe('images in chat', () => {
  it('sends a data: URL image and its text to the model as one input, with the system prompt', async () => {
    const png = await solidPng([255, 0, 0]);
    const url = `data:image/png;base64,${png.toString('base64')}`;
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what colour?' },
          { type: 'image_url', image_url: { url } },
        ],
      },
    ];
    const answer = await alice.chat.completions.create({ model: 'vision', messages });
    const expected = `system: "Be brief."; user: "what colour?" + data:image/png;base64 ${png.length} bytes`;
    assert.equal(answer.choices[0]!.message.content, expected);
    assert.equal(answer.choices[0]!.finish_reason, 'stop');
    assert.deepEqual(answer.usage, { prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 });
    let streamed = '';
    for await (const chunk of await alice.chat.completions.create({ model: VISION, messages, stream: true }))
      streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, expected);
  });

  it('fetches http(s) images only through the safe fetch, which refuses loopback', async () => {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'user', content: [{ type: 'image_url', image_url: { url: `${remote.url}/cat.png` } }] },
    ];
    await assert.rejects(alice.chat.completions.create({ model: VISION, messages }), (error: Error) => {
      assert.ok(error instanceof OpenAI.APIError && error.status === 400, String(error));
      assert.match(error.message, /private|loopback|not allowed/i);
      return true;
    });
  });

  it('refuses an image in an earlier turn, and two images', async () => {
    const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } };
    const early: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'user', content: [image] },
      { role: 'assistant', content: 'red' },
      { role: 'user', content: 'and now?' },
    ];
    await assert.rejects(alice.chat.completions.create({ model: VISION, messages: early }), /last message/);
    const two: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: [image, image] }];
    await assert.rejects(alice.chat.completions.create({ model: VISION, messages: two }), /one image/);
  });

  it('ends a stream that fails midway with an error event, which the client raises', async () => {
    const png = await solidPng([0, 0, 255]);
    const stream = await alice.chat.completions.create({
      model: VISION,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'break' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
          ],
        },
      ],
      stream: true,
    });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
      (error: Error) =>
        error instanceof OpenAI.APIError &&
        /ended its stream before saying why it stopped/.test(error.message),
    );
    // every piece written before the failure reaches the client, then the error
    assert.equal(text, 'one two ');
  });
});

describe('audio', () => {
  it('transcribes and translates a multipart upload, as JSON or text', async () => {
    const file = await toFile(WAV, 'speech.wav', { type: 'audio/wav' });
    const json = await alice.audio.transcriptions.create({
      model: WHISPER,
      file,
      language: 'fr',
      temperature: 0.2,
    });
    assert.equal(
      json.text,
      `/v1/audio/transcriptions audio.wav ${WAV.length} bytes, language fr, temperature 0.2`,
    );
    const text = await alice.audio.translations.create({ model: 'whisper', file, response_format: 'text' });
    assert.equal(
      text as unknown as string,
      `/v1/audio/translations audio.wav ${WAV.length} bytes, language -, temperature -`,
    );
    await assert.rejects(
      alice.audio.transcriptions.create({ model: WHISPER, file, response_format: 'verbose_json' }),
      (error: Error) => error instanceof OpenAI.BadRequestError && error.param === 'response_format',
    );
  });
});

describe('the multipart reader', () => {
  const type = 'multipart/form-data; boundary="b-1"';
  const part = (headers: string, content: string) => `--b-1\r\n${headers}\r\n\r\n${content}\r\n`;

  it('reads fields and files, with quoted names and CRLFs inside the content', () => {
    const raw =
      'preamble\r\n' +
      part('Content-Disposition: form-data; name="model"', 'a/b/c') +
      part(
        'content-disposition: form-data; name="file"; filename="x \\"y\\".wav"\r\nContent-Type: audio/wav',
        'RI\r\nFF',
      ) +
      '--b-1--\r\n';
    const form = parseMultipart(Buffer.from(raw), type);
    assert.deepEqual({ ...form.fields }, { model: 'a/b/c' });
    const file = form.files.file!;
    assert.deepEqual(
      [file.filename, file.contentType, file.bytes.toString()],
      ['x "y".wav', 'audio/wav', 'RI\r\nFF'],
    );
  });

  it('refuses a form it cannot read, by what is wrong', () => {
    const named = part('Content-Disposition: form-data; name="model"', 'm');
    for (const [raw, contentType, why] of [
      [named + '--b-1--', 'multipart/form-data', /no valid boundary/],
      [named, type, /before its closing boundary/],
      [named + named + '--b-1--', type, /"model" is sent twice/],
      [part('Content-Type: text/plain', 'm') + '--b-1--', type, /no content-disposition/],
      ['no boundary here', type, /does not contain the boundary/],
      [
        part('Content-Disposition: form-data; name="big"', 'x'.repeat(70_000)) + '--b-1--',
        type,
        /longer than/,
      ],
    ] as const) {
      assert.throws(() => parseMultipart(Buffer.from(raw), contentType), why);
    }
  });
});
