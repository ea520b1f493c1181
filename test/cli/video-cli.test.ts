/**
 * `clarifai model predict --input_type video --file_path x.mp4`, as a user types it: on the
 * embedded engine and through `clarifai serve` after login (one frame line per sampled second), and
 * over REST a request holding a video and a non-video answers MIXED_STATUS, each input alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StatusCode } from '../../src/core/status.js';
import type { MultiOutputResponse } from '../../src/core/wire.js';
import { isolatedEnv, PHOTOS, RECOGNITION_URL, runCli } from '../helpers/cli.js';
import { startServe, type Served } from '../helpers/serve.js';
import { FFMPEG, IN_CI, makeStillsVideo, NO_FFMPEG } from '../helpers/video.js';

const skip = FFMPEG ? false : NO_FFMPEG;

describe('video inputs through the CLI and clarifai serve', { skip }, () => {
  let dir: string;
  let mp4: string;
  let served: Served;
  const env = isolatedEnv();

  before(async () => {
    if (!FFMPEG) return;
    dir = mkdtempSync(join(tmpdir(), 'sibyl-video-cli-'));
    mp4 = makeStillsVideo(dir).mp4;
    served = await startServe(['--data-dir', join(dir, 'data'), '--quiet'], env);
  });
  after(async () => {
    await served?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const predictVideo = (target: Record<string, string>, ...extra: string[]) =>
    runCli(
      [
        'model',
        'predict',
        '--model_url',
        RECOGNITION_URL,
        '--input_type',
        'video',
        '--file_path',
        mp4,
        ...extra,
      ],
      target,
    );

  it('prints one line per sampled frame on the embedded engine', async () => {
    const res = await predictVideo(isolatedEnv());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^3 frames:\nframe 0 @ 0\.000 s: dog [0-9.]+/m);
    assert.match(res.stdout, /^frame 1 @ 1\.000 s: cat [0-9.]+/m);
    assert.match(res.stdout, /^frame 2 @ 2\.000 s: cup [0-9.]+/m);
  });

  it('answers the same through clarifai serve, with data.frames in -o json', async () => {
    const login = await runCli(['login', '--config', join(dir, 'data', 'bootstrap.yaml')], env);
    assert.equal(login.code, 0, login.stderr);
    const text = await predictVideo(env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^frame 2 @ 2\.000 s: cup /m);
    const json = await predictVideo(
      env,
      '-o',
      'json',
      '--output_config',
      '{"sample_ms":500,"max_concepts":2}',
    );
    assert.equal(json.code, 0, json.stderr);
    const res = JSON.parse(json.stdout) as MultiOutputResponse;
    const frames = res.outputs[0]!.data!.frames!;
    assert.deepEqual(
      frames.map((f) => f.frame_info),
      [0, 1, 2, 3, 4, 5].map((index) => ({ index, time: index * 500 })),
    );
    assert.deepEqual(
      frames.map((f) => f.data.concepts![0]!.name),
      ['dog', 'dog', 'cat', 'cat', 'cup', 'cup'],
    );
    assert.ok(frames.every((f) => f.data.concepts!.length <= 2));
  });

  it('fails a non-video alone over REST: MIXED_STATUS, the video still answered', async () => {
    const pat = /pat: (\S+)/.exec(readFileSync(join(dir, 'data', 'bootstrap.yaml'), 'utf8'))![1]!;
    const video = (file: string) => ({ data: { video: { base64: readFileSync(file).toString('base64') } } });
    const reply = await fetch(
      `${served.url}/v2/users/clarifai/apps/main/models/general-image-recognition/outputs`,
      {
        method: 'POST',
        headers: { authorization: `Key ${pat}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [video(mp4), video(join(PHOTOS, 'dogs.jpg'))] }),
      },
    );
    const res = (await reply.json()) as MultiOutputResponse;
    assert.equal(res.status.code, StatusCode.MIXED_STATUS, JSON.stringify(res.status));
    assert.equal(res.outputs[0]!.data!.frames!.length, 3);
    assert.equal(res.outputs[1]!.status!.code, StatusCode.INPUT_INVALID_ARGUMENT);
    assert.match(res.outputs[1]!.status!.details!, /the input is an image, not a video/);
  });
});

if (!FFMPEG && IN_CI) {
  it('has ffmpeg in CI', () => assert.fail(NO_FFMPEG));
}
