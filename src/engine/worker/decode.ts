import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { maxPixelsFor } from '../limits.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedInput, EngineInput } from '../types.js';
import type Sharp from 'sharp';
import { requireCjs } from '../../core/cjs.js';

/** One sampled frame of a video input, decoded as the model takes images. */
export interface DecodedFrame {
  index: number;
  /** Milliseconds into the video. */
  time: number;
  input: DecodedInput;
}

/**
 * Turns fetched bytes into what a model's hooks take, inside the worker thread. A model that wants
 * media as it came (`encoded`: a remote engine decodes it itself) gets the bytes untouched.
 */
export async function decodeInput(
  spec: ModelSpec,
  input: EngineInput,
  maxImagePixels: number,
  encoded = false,
  /** Stops a decode that runs a program (ffmpeg for compressed audio). */
  signal?: AbortSignal,
): Promise<DecodedInput> {
  if (input.type === 'text') return { type: 'text', text: input.text };
  if (encoded && input.type !== 'video') {
    return {
      type: 'encoded',
      media: input.type,
      bytes: input.bytes,
      ...(input.text !== undefined ? { text: input.text } : {}),
    };
  }
  if (input.type === 'image') {
    // Imported on first use: sharp takes ~0.3 s to import and text-only workers never need it.
    const { decodeImage } = await import('../media/image.js');
    const image = await decodeImage(input.bytes, {
      maxPixels: maxPixelsFor(spec, maxImagePixels),
      ...(spec.imageSize !== undefined ? { maxSide: spec.imageSize } : {}),
    });
    return { type: 'image', image };
  }
  if (input.type === 'audio') {
    // WAV is parsed in code; other formats need ffmpeg, spawned only then (media/audio.ts).
    const { decodeAudio } = await import('../media/audio.js');
    const audio = await decodeAudio(input.bytes, {
      ...(spec.audioSampleRate !== undefined ? { sampleRate: spec.audioSampleRate } : {}),
      ...(spec.limits?.maxAudioSeconds !== undefined ? { maxSeconds: spec.limits.maxAudioSeconds } : {}),
      ...(signal ? { signal } : {}),
    });
    return { type: 'audio', audio };
  }
  throw new InvalidArgumentError(
    `this engine cannot decode ${input.type} inputs yet`,
    StatusCode.INPUT_INVALID_ARGUMENT,
    'Invalid input argument',
  );
}

/**
 * A video input to an image model: its frames sampled every `input.sampleMs` through ffmpeg
 * (media/video.ts), each shrunk to the model's image size. A model that wants media as it came
 * gets each frame as a JPEG, with the input's text beside it.
 */
export async function decodeVideoFrames(
  spec: ModelSpec,
  input: Extract<EngineInput, { type: 'video' }>,
  encoded = false,
  signal?: AbortSignal,
): Promise<DecodedFrame[]> {
  const { decodeVideo } = await import('../media/video.js');
  const frames = await decodeVideo(input.bytes, {
    ...(input.sampleMs !== undefined ? { sampleMs: input.sampleMs } : {}),
    ...(spec.imageSize !== undefined ? { maxSide: spec.imageSize } : {}),
    ...(spec.limits?.maxVideoSeconds !== undefined ? { maxSeconds: spec.limits.maxVideoSeconds } : {}),
    ...(signal ? { signal } : {}),
  });
  if (!encoded)
    return frames.map((f) => ({ index: f.index, time: f.time, input: { type: 'image', image: f.image } }));
  const sharp = requireCjs('sharp') as typeof Sharp;
  return Promise.all(
    frames.map(async (f) => {
      const { width, height, rgb } = f.image;
      const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer();
      const frame: DecodedInput = {
        type: 'encoded',
        media: 'image',
        bytes: new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength),
        ...(input.text !== undefined ? { text: input.text } : {}),
      };
      return { index: f.index, time: f.time, input: frame };
    }),
  );
}
