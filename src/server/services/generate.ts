import { InvalidArgumentError, PredictionError, SibylError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { isGenerative } from '../../core/model-types.js';
import { StatusCode } from '../../core/status.js';
import type { ModelRef } from '../../core/urls.js';
import type { MultiOutputResponse, Output } from '../../core/wire.js';
import type { Caller, ServiceContext } from './context.js';
import { toWireModel } from './models.js';
import { echoInput, preparePrediction, runPrediction } from './predict.js';
import { ok } from './reply.js';

/**
 * POST .../outputs/generate (GenerateModelOutputs): a generative model's output as a stream of
 * MultiOutputResponse messages, each holding the new text only in `outputs[0].data.text.raw`; the
 * last one carries the token counts. Everything a caller can get wrong is refused when the promise
 * settles, before the first message, so REST still answers it with its HTTP status; an error after
 * the stream has begun becomes the last message's status. Other models answer with their whole
 * prediction as the only message.
 */
export async function generateOutputs(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
  body: unknown,
  reqId: string,
  signal?: AbortSignal,
): Promise<AsyncIterable<MultiOutputResponse>> {
  const prepared = await preparePrediction(ctx, caller, ref, body, signal);
  const { model, version, spec, opts, inputs, engineInputs } = prepared;
  if (!isGenerative(spec.modelTypeId)) {
    const whole = await runPrediction(ctx, prepared, reqId, signal);
    return (async function* () {
      yield whole;
    })();
  }
  if (engineInputs.length !== 1) {
    throw new InvalidArgumentError(
      `generate streams one input at a time; got ${engineInputs.length} (predict with POST .../outputs takes up to 128)`,
      StatusCode.INPUT_INVALID_ARGUMENT,
      'Invalid input argument',
    );
  }
  const chunks = ctx.engine.generate(spec, engineInputs[0]!, { ...opts, ...(signal ? { signal } : {}) });
  const outputId = newId();
  const createdAt = new Date().toISOString();
  const head = (): Omit<Output, 'data'> => ({ id: outputId, status: ok(reqId), created_at: createdAt });
  return (async function* () {
    let first = true;
    try {
      for await (const chunk of chunks) {
        const output: Output = { ...head(), data: chunk.data };
        if (first) {
          // the model and the input once, not with every token
          output.model = toWireModel(model, version);
          output.input = echoInput(inputs[0]!);
          first = false;
        }
        if (chunk.usage) {
          output.prompt_tokens = chunk.usage.promptTokens;
          output.completion_tokens = chunk.usage.completionTokens;
        }
        yield { status: ok(reqId), outputs: [output] };
      }
    } catch (error) {
      const failure =
        error instanceof SibylError ? error : new PredictionError(`generation failed: ${String(error)}`);
      const status = {
        code: failure.code,
        description: failure.description,
        ...(failure.details ? { details: failure.details } : {}),
        req_id: reqId,
      };
      yield { status, outputs: [{ ...head(), status, data: {} }] };
    }
  })();
}
