import { LimitError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import { modelName, type ModelSpec } from './spec.js';
import type { EngineInput } from './types.js';

/**
 * A model's input limits (spec.limits), checked as early as each can be: text length here, on the
 * caller's thread before anything is queued; pixels and duration by the decoders, from the header,
 * before any pixel or sample is decoded (`maxPixelsFor`, `worker/decode.ts`). Each refusal names the model and the limit.
 */
export function checkTextLimits(spec: ModelSpec, inputs: readonly EngineInput[]): void {
  const max = spec.limits?.maxTextChars;
  if (max === undefined) return;
  inputs.forEach((input, i) => {
    // a media input's prompt is text the model reads too
    const text = input.text;
    if (text === undefined || text.length <= max) return;
    const which = inputs.length > 1 ? ` (input ${i})` : '';
    throw new LimitError(
      StatusCode.INPUT_OVER_LIMIT,
      'Text too long',
      `the text${which} is ${text.length} characters; model ${modelName(spec)} accepts at most ${max} characters (its input limit maxTextChars)`,
    );
  });
}

/** The pixels an image may have for this model: its own limit where tighter than the engine's. */
export function maxPixelsFor(spec: ModelSpec, engineMaxPixels: number): number {
  return Math.min(engineMaxPixels, spec.limits?.maxPixels ?? Infinity);
}
