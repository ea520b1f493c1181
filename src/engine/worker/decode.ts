import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { maxPixelsFor } from '../limits.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedInput, EngineInput } from '../types.js';

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
  if (encoded) {
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
