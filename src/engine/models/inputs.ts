import type { DecodedImage, DecodedInput } from '../types.js';

/**
 * The engine only hands a model inputs of its declared type; these guards turn a broken promise
 * into a plain error rather than a crash deep in a runtime.
 */
export function imageOf(input: DecodedInput): DecodedImage {
  if (input.type !== 'image') throw new Error(`expected a decoded image, got ${input.type}`);
  return input.image;
}

export function textOf(input: DecodedInput): string {
  if (input.type !== 'text') throw new Error(`expected text, got ${input.type}`);
  return input.text;
}
