import type { ModelRef } from '../../core/urls.js';
import type { InferenceParams } from '../../core/wire.js';
import { validateParams, type Engine } from '../../engine/index.js';
import type { Caller, ServiceContext } from './context.js';
import { preparePrediction } from './predict.js';

/**
 * Runs one text generation for the OpenAI-compatible API. The request goes through
 * `preparePrediction` like a v2 predict (visibility, params checked by the engine, URL inputs
 * through the safe fetch), then straight to `engine.generate`, so the engine's own finish reason
 * reaches the client (the v2 stream has no field for it).
 */

export interface GenerationCommand {
  ref: ModelRef;
  /** The prompt; with an image it is the text beside it (one multimodal input). */
  text: string;
  /** An image as base64 (from a data: URL) or a URL the server fetches. */
  image?: { base64: string } | { url: string };
  params: InferenceParams;
}

export type FinishReason = 'stop' | 'length';

export interface GenerationUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** A piece of generated text; the last step also says why it stopped and what it cost. */
export interface GenerationStep {
  text: string;
  end?: { finishReason: FinishReason; usage: GenerationUsage };
}

/**
 * Starts a generation and waits for its first piece, so everything that can go wrong before any
 * text (a refused param, a busy model, a prompt too long) rejects this promise and can still be
 * answered with an HTTP status; later failures throw from the iteration.
 */
export async function startGeneration(
  ctx: ServiceContext,
  caller: Caller,
  cmd: GenerationCommand,
  signal?: AbortSignal,
): Promise<AsyncIterable<GenerationStep>> {
  const media = cmd.image ? { image: cmd.image } : { text: { raw: cmd.text } };
  const body = { inputs: [{ data: media }], model: { output_info: { params: cmd.params } } };
  const prepared = await preparePrediction(ctx, caller, cmd.ref, body, signal);
  const fetched = prepared.engineInputs[0]!;
  // v2 inputs hold one media each; the engine's image input carries the prompt beside it
  const input = fetched.type === 'text' || cmd.text === '' ? fetched : { ...fetched, text: cmd.text };
  // the budget in force (the request's or the model's default), to tell a cut-off from a stop
  const maxTokens = validateParams(prepared.spec, prepared.opts.params).max_tokens;
  const chunks = ctx.engine.generate(prepared.spec, input, {
    ...prepared.opts,
    ...(signal ? { signal } : {}),
  });
  const it = steps(chunks, typeof maxTokens === 'number' ? maxTokens : undefined)[Symbol.asyncIterator]();
  const first = await it.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  })();
}

type GenerateChunk = ReturnType<Engine['generate']> extends AsyncIterable<infer C> ? C : never;

async function* steps(
  chunks: AsyncIterable<GenerateChunk>,
  maxTokens?: number,
): AsyncGenerator<GenerationStep> {
  let usage: GenerationUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  let reason: FinishReason | undefined;
  for await (const chunk of chunks) {
    if (chunk.usage) {
      const { promptTokens, completionTokens } = chunk.usage;
      usage = {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      };
    }
    if (chunk.finishReason) reason = chunk.finishReason;
    // each piece goes out as it comes; the end follows in a step of its own, as OpenAI's last
    // chunk (an empty delta with the finish reason) does, so no piece waits for the next one
    const text = chunk.data.text?.raw ?? '';
    if (text !== '') yield { text };
  }
  // a runtime that does not say why it stopped: the token budget spent means it was cut off
  const cut = maxTokens !== undefined && usage.completion_tokens >= maxTokens;
  const finishReason = reason ?? (cut ? 'length' : 'stop');
  yield { text: '', end: { finishReason, usage } };
}

/** The whole generation at once (non-streaming requests). */
export async function collectGeneration(
  stream: AsyncIterable<GenerationStep>,
): Promise<{ text: string; finishReason: FinishReason; usage: GenerationUsage }> {
  let text = '';
  for await (const step of stream) {
    text += step.text;
    if (step.end) return { text, ...step.end };
  }
  throw new Error('generation ended without its last step');
}
