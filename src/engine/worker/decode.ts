import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedInput, EngineInput } from '../types.js';

/** Turns fetched bytes into what a model's hooks take, inside the worker thread. */
export async function decodeInput(
  spec: ModelSpec,
  input: EngineInput,
  maxImagePixels: number,
): Promise<DecodedInput> {
  if (input.type === 'text') return { type: 'text', text: input.text };
  if (input.type === 'image') {
    // Imported on first use: sharp takes ~0.3 s to import and text-only workers never need it.
    const { decodeImage } = await import('../media/image.js');
    const image = await decodeImage(input.bytes, {
      maxPixels: maxImagePixels,
      ...(spec.imageSize !== undefined ? { maxSide: spec.imageSize } : {}),
    });
    return { type: 'image', image };
  }
  throw new InvalidArgumentError(
    `this engine cannot decode ${input.type} inputs yet`,
    StatusCode.INPUT_INVALID_ARGUMENT,
    'Invalid input argument',
  );
}
