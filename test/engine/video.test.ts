/**
 * Video inputs to image models: a video made in the test from still photos (dogs, a cat, a cup of
 * coffee, one second each) is sampled every output_config.sample_ms by ffmpeg, and each frame gets
 * the model's own answer, as `data.frames[]` with frame_info {index, time}.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError, LimitError, type SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import type { Data, Frame } from '../../src/core/wire.js';
import {
  createEngine,
  findBuiltInModel,
  type Engine,
  type ModelSpec,
  type Prediction,
} from '../../src/engine/index.js';
import { decodeVideo } from '../../src/engine/media/video.js';
import { PHOTOS } from '../helpers/cli.js';
import { FFMPEG, IN_CI, makeStillsVideo, NO_FFMPEG, STILLS } from '../helpers/video.js';

const skip = FFMPEG ? false : NO_FFMPEG;

function refused(pattern: RegExp, kind: new (...args: never[]) => SibylError = InvalidArgumentError) {
  return (error: unknown) => error instanceof kind && pattern.test(error.message);
}

const top = (data: Data) => data.concepts?.[0]?.name;
const times = (frames: Frame[]) => frames.map((f) => f.frame_info.time);

describe('video inputs to image models', { skip }, () => {
  let dir: string;
  let files: { mp4: string; webm: string };
  let engine: Engine;
  let recognition: ModelSpec;

  before(async () => {
    if (!FFMPEG) return;
    dir = mkdtempSync(join(tmpdir(), 'sibyl-video-'));
    files = makeStillsVideo(dir);
    engine = createEngine({ workers: 1 });
    recognition = findBuiltInModel('clarifai', 'main', 'general-image-recognition')!;
    await engine.load(recognition);
  });
  after(async () => {
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const video = (file: string) => ({ type: 'video' as const, bytes: readFileSync(file) });

  it('answers the stills themselves with dog, cat and cup first', async () => {
    const images = STILLS.map(([name]) => ({
      type: 'image' as const,
      bytes: readFileSync(join(PHOTOS, name)),
    }));
    const data = await engine.predict(recognition, images);
    assert.deepEqual(
      data.map(top),
      STILLS.map(([, concept]) => concept),
    );
  });

  for (const kind of ['mp4', 'webm'] as const) {
    it(`gives one frame result per second of a ${kind} (sample_ms 1000), each the still's own answer`, async () => {
      const [data] = await engine.predict(recognition, [video(files[kind])], {
        outputConfig: { sample_ms: 1000, max_concepts: 3 },
      });
      const frames = data!.frames!;
      assert.deepEqual(Object.keys(data!), ['frames']);
      assert.deepEqual(
        frames.map((f) => f.frame_info),
        [0, 1, 2].map((i) => ({ index: i, time: i * 1000 })),
      );
      assert.deepEqual(
        frames.map((f) => top(f.data)),
        STILLS.map(([, concept]) => concept),
      );
      // output_config applies to each frame
      assert.ok(frames.every((f) => f.data.concepts!.length <= 3));
    });
  }

  it('samples twice as often at sample_ms 500, and every second by default', async () => {
    const [half] = await engine.predict(recognition, [video(files.mp4)], {
      outputConfig: { sample_ms: 500 },
    });
    const [byDefault] = await engine.predict(recognition, [video(files.mp4)]);
    assert.deepEqual(times(half!.frames!), [0, 500, 1000, 1500, 2000, 2500]);
    assert.deepEqual(
      half!.frames!.map((f) => top(f.data)),
      ['dog', 'dog', 'cat', 'cat', 'cup', 'cup'],
    );
    assert.deepEqual(times(byDefault!.frames!), [0, 1000, 2000]);
  });

  it('refuses a file that is not a video with a 4xx naming what it is, alone among its neighbours', async () => {
    const jpeg = { type: 'video' as const, bytes: readFileSync(join(PHOTOS, 'dogs.jpg')) };
    const junk = {
      type: 'video' as const,
      bytes: Buffer.from('\x00\x01 not a video at all \x02'.repeat(20)),
    };
    const results = await engine.predictEach(recognition, [jpeg, junk, video(files.mp4)]);
    assert.ok(refused(/the input is an image, not a video; send it as data.image/)(results[0]));
    assert.ok(refused(/not a video ffmpeg can read here/)(results[1]));
    assert.equal((results[0] as SibylError).code, StatusCode.INPUT_INVALID_ARGUMENT);
    assert.equal(((results[2] as { data: Data }).data.frames ?? []).length, 3);
  });

  it('checks sample_ms and refuses video for models that take no images', async () => {
    await assert.rejects(
      engine.predict(recognition, [video(files.mp4)], { outputConfig: { sample_ms: 10 } }),
      /output_config.sample_ms must be from 100 to 60000/,
    );
    const language = findBuiltInModel('clarifai', 'main', 'language-identification')!;
    assert.throws(() => engine.check(language, ['video']), /takes text inputs, got video/);
  });

  it('stops at its limits: frame count and duration', async () => {
    const bytes = readFileSync(files.mp4);
    await assert.rejects(
      decodeVideo(bytes, { sampleMs: 500, maxFrames: 4 }),
      refused(/more than 4 frames at sample_ms 500/, LimitError),
    );
    await assert.rejects(decodeVideo(bytes, { maxSeconds: 2 }), refused(/longer than 2 s/, LimitError));
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(decodeVideo(bytes, { signal: abort.signal }), { name: 'AbortError' });
  });

  it('hands a remote multimodal model each frame as a JPEG beside the prompt', async () => {
    const seen: { content: { type: string; text?: string; image_url?: { url: string } }[] }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { messages: (typeof seen)[number][] };
        seen.push(body.messages[0]!);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const event = (e: unknown) => res.write(`data: ${JSON.stringify(e)}\n\n`);
        event({ choices: [{ index: 0, delta: { content: `frame ${seen.length}` }, finish_reason: 'stop' }] });
        event({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } });
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const remote: ModelSpec = {
      userId: 'me',
      appId: 'app',
      id: 'remote-vision',
      versionId: 'v1',
      name: 'remote vision',
      modelTypeId: 'multimodal-to-text',
      description: '',
      inputType: 'image',
      params: {},
      runtime: {
        kind: 'openai',
        base_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
        model: 'vision',
      },
      batching: { max_batch_size: 2, max_wait_ms: 0 },
    };
    try {
      const [result] = await engine.predictEach(remote, [{ ...video(files.webm), text: 'What is this?' }]);
      const { data, usage } = result as Prediction;
      assert.deepEqual(
        data.frames!.map((f) => [f.frame_info.time, f.data.text?.raw]),
        [
          [0, 'frame 1'],
          [1000, 'frame 2'],
          [2000, 'frame 3'],
        ],
      );
      assert.deepEqual(usage, { promptTokens: 15, completionTokens: 6 });
      assert.equal(seen.length, 3);
      for (const message of seen) {
        assert.deepEqual(message.content[0], { type: 'text', text: 'What is this?' });
        assert.match(message.content[1]!.image_url!.url, /^data:image\/jpeg;base64,/);
      }
    } finally {
      server.close();
    }
  });

  it('says to install ffmpeg when it is not on PATH, before anything is queued', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      assert.throws(
        () => engine.check(recognition, ['video']),
        refused(/^Invalid input argument: video needs ffmpeg: install it with `apt-get install ffmpeg`$/),
      );
    } finally {
      process.env.PATH = path;
    }
  });
});

// in CI (which installs it) a missing ffmpeg fails rather than skips
if (!FFMPEG && IN_CI) {
  it('has ffmpeg in CI', () => assert.fail(NO_FFMPEG));
}
