import { InvalidArgumentError, SibylError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { ModelRef } from '../../core/urls.js';
import type { Input, MultiOutputResponse, Output } from '../../core/wire.js';
import type { Caller, ServiceContext } from './context.js';
import type { EngineInput, ModelSpec, PredictOptions } from '../../engine/index.js';
import type { ModelRecord, ModelVersionRecord } from '../../store/index.js';
import { engineSpecOf } from './engine-spec.js';
import { toEngineInputs } from './media.js';
import { resolveModel, toWireModel } from './models.js';
import { ok } from './reply.js';
import { isObject, parseInputs, parsePredictSettings, type ParsedInput } from './request-shape.js';

/** A predict request checked and its inputs fetched: what predict and generate both start from. */
export interface PreparedPrediction {
  model: ModelRecord;
  version: ModelVersionRecord;
  spec: ModelSpec;
  opts: PredictOptions;
  /** The inputs as the caller sent them (echoed in outputs). */
  inputs: Input[];
  engineInputs: EngineInput[];
}

/**
 * Parses a PostModelOutputsRequest, finds the model version it names, checks everything the caller
 * could get wrong, and only then downloads URL inputs.
 */
export async function preparePrediction(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
  body: unknown,
  signal?: AbortSignal,
  routed = false,
): Promise<PreparedPrediction> {
  const inputs = parseInputs(body);
  const settings = parsePredictSettings(body as Record<string, unknown>);
  // PostModelOutputs routes a selector (server/compute/route.ts); nothing else may drop one silently
  if (settings.runnerSelector && !routed) {
    throw new InvalidArgumentError(
      'runner_selector is taken by PostModelOutputs and GenerateModelOutputs only (POST .../outputs)',
    );
  }
  const target = ref.versionId || !settings.versionId ? ref : { ...ref, versionId: settings.versionId };
  const { model, version } = await resolveModel(ctx, caller, target);

  const spec = engineSpecOf(ctx, model, version);
  checkPrompts(spec, inputs);
  const opts: PredictOptions = {};
  if (settings.params) opts.params = settings.params;
  if (settings.outputConfig) opts.outputConfig = settings.outputConfig as Record<string, unknown>;
  // Everything the caller could get wrong is refused before any URL is downloaded.
  ctx.engine.check(
    spec,
    inputs.map((p) => p.source.type),
    opts,
  );
  const engineInputs = await toEngineInputs(
    ctx,
    inputs.map((p) => p.source),
    signal,
  );
  return { model, version, spec, opts, inputs: inputs.map((p) => p.input), engineInputs };
}

/** POST .../models/{model_id}[/versions/{version_id}]/outputs */
export async function predict(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
  body: unknown,
  reqId: string,
  signal?: AbortSignal,
): Promise<MultiOutputResponse> {
  return runPrediction(ctx, await preparePrediction(ctx, caller, ref, body, signal), reqId, signal);
}

/** Runs a prepared prediction: one output per input, MIXED_STATUS when only some failed. */
export async function runPrediction(
  ctx: ServiceContext,
  prepared: PreparedPrediction,
  reqId: string,
  signal?: AbortSignal,
): Promise<MultiOutputResponse> {
  const { model, version, spec, opts, inputs, engineInputs } = prepared;
  const results = await ctx.engine.predictEach(spec, engineInputs, {
    ...opts,
    ...(signal ? { signal } : {}),
  });
  const failures = results.filter((r): r is SibylError => r instanceof SibylError);
  // A request whose every input failed fails as a whole, with the first reason, as before.
  if (failures.length === results.length) throw failures[0]!;

  const createdAt = new Date().toISOString();
  const wireModel = toWireModel(model, version);
  const outputs: Output[] = results.map((result, i) => ({
    id: newId(),
    status:
      result instanceof SibylError
        ? {
            code: result.code,
            description: result.description,
            ...(result.details ? { details: result.details } : {}),
          }
        : { code: StatusCode.SUCCESS, description: 'Ok' },
    created_at: createdAt,
    model: wireModel,
    input: echoInput(inputs[i]!),
    data: result instanceof SibylError ? {} : result.data,
    ...(result instanceof SibylError || !result.usage
      ? {}
      : { prompt_tokens: result.usage.promptTokens, completion_tokens: result.usage.completionTokens }),
  }));
  const status =
    failures.length > 0
      ? { code: StatusCode.MIXED_STATUS, description: 'Mixed Success', req_id: reqId }
      : ok(reqId);
  return { status, outputs };
}

/**
 * A text beside an image is a multimodal model's prompt; any other model would drop it without a
 * word, so such an input is refused, naming both parts.
 */
function checkPrompts(spec: ModelSpec, inputs: readonly ParsedInput[]): void {
  if (spec.modelTypeId.startsWith('multimodal-')) return;
  const i = inputs.findIndex((p) => p.source.prompt !== undefined);
  if (i < 0) return;
  throw new InvalidArgumentError(
    `inputs[${i}].data holds ${inputs[i]!.source.type} and text; model ${spec.id} (${spec.modelTypeId}) takes one ${spec.inputType} per input; ` +
      'a text beside an image is only for multimodal-to-text models',
    StatusCode.INPUT_INVALID_ARGUMENT,
    'Invalid input argument',
  );
}

/** The input as the caller sent it, without echoing bulky base64 back. */
export function echoInput(input: Input): Input {
  const data: Input['data'] = {};
  for (const [key, media] of Object.entries(input.data)) {
    if (isObject(media) && typeof media.base64 === 'string') {
      const rest = { ...media };
      delete rest.base64;
      (data as Record<string, unknown>)[key] = rest;
    } else {
      (data as Record<string, unknown>)[key] = media;
    }
  }
  return { id: input.id ?? newId(), data };
}
