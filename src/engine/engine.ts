import os from 'node:os';
import { InvalidArgumentError, LimitError, SibylError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import { MAX_INPUTS_PER_REQUEST, type Data } from '../core/wire.js';
import { checkTextLimits } from './limits.js';
import { findFfmpeg } from './media/ffmpeg.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from './media/image-limits.js';
import { videoNeedsFfmpeg } from './media/video.js';
import { applyResolvedOutputConfig, checkSelectedConcepts, resolveOutputConfig } from './output-config.js';
import { validateParams } from './params.js';
import { BUILT_IN_MODELS } from './registry.js';
import { missingRequirement } from './requirements.js';
import { findRuntime, runtimeKinds } from './runtimes/index.js';
import { Scheduler, type SchedulerStatus } from './scheduler.js';
import { modelName, type ModelSpec } from './spec.js';
import { generationStream } from './generation-stream.js';
import type { EngineInput, GenerateChunk, PredictOptions, TokenUsage } from './types.js';
import { fromWireError } from './worker/errors.js';

export type Stage = 'load' | 'decode' | 'predict' | 'postprocess';

/** One stage of one batch (or a model load), for metrics and logs. */
export interface StageTiming {
  /** `user/app/model`. */
  model: string;
  stage: Stage;
  ms: number;
  /** How many inputs the stage handled (0 for a load). */
  inputs: number;
}

export interface EngineOptions {
  /** Images with more pixels (width x height) are refused before decoding. Default 40 million. */
  maxImagePixels?: number;
  /** Called after every stage; must not throw. */
  onTiming?: (timing: StageTiming) => void;
  /** Warm each model up after loading it (see LoadOptions). Default true. */
  warmUp?: boolean;
  /** Worker threads that run models, started on demand. Default: one per core. */
  workers?: number;
  /**
   * Inputs waiting per model version. Past it, predict refuses at once with
   * MODEL_BUSY_PLEASE_RETRY (HTTP 429 with a Retry-After from the work ahead) instead of queueing
   * without bound. Default 512: a few minutes of work for the CPU models on two cores.
   */
  maxQueuedInputs?: number;
  /** Estimated bytes of models kept loaded; past it the least recently used unload. Default: half the RAM. */
  memoryBudgetBytes?: number;
  /** Unload a model nobody has used for this long (0: never). Default 5 minutes. */
  idleUnloadMs?: number;
  /** Dynamic batching across requests per the models' settings. Default true. */
  batching?: boolean;
  /**
   * One extra thread for cheap models (a few ms per input) when every worker is busy, so a text
   * request does not wait for an image batch to finish. Default true.
   */
  expressLane?: boolean;
}

export interface Engine {
  /** The built-in models' specs (the server writes them into the store). */
  builtins(): readonly ModelSpec[];
  /**
   * Everything a caller can get wrong, checked before any work (a URL input is downloaded only
   * after this passes): the runtime exists, input count and types, params, output_config.
   */
  check(spec: ModelSpec, inputTypes: readonly EngineInput['type'][], opts?: PredictOptions): void;
  /** One `data` per input, in order; the first failed input fails the call. Loads on first use. */
  predict(spec: ModelSpec, inputs: readonly EngineInput[], opts?: PredictOptions): Promise<Data[]>;
  /** One result per input, in order: its data (and token usage), or the error of that input alone. */
  predictEach(
    spec: ModelSpec,
    inputs: readonly EngineInput[],
    opts?: PredictOptions,
  ): Promise<(Prediction | SibylError)[]>;
  /**
   * Streams one input's generation, checked like predict before anything runs (a bad param
   * throws here, not at the first pull). Stopping the loop or firing `opts.signal` stops the model.
   */
  generate(spec: ModelSpec, input: EngineInput, opts?: PredictOptions): AsyncIterable<GenerateChunk>;
  /** Checks a model version's files with its runtime, in a worker; returns the spec to store. */
  validate(spec: ModelSpec): Promise<ModelSpec>;
  /** Loads a model on a worker ahead of its first predict. */
  load(spec: ModelSpec): Promise<void>;
  /** Workers, loaded models and queues, for `model list` and metrics. */
  status(): SchedulerStatus;
  /** Stops the workers; pending work fails with TRY_AGAIN. */
  close(): Promise<void>;
}

/** One input's prediction: its v2 data, and for generation the tokens it read and wrote. */
export interface Prediction {
  data: Data;
  usage?: TokenUsage;
}

export const DEFAULT_MAX_QUEUED_INPUTS = 512;
export const DEFAULT_IDLE_UNLOAD_MS = 5 * 60_000;

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism());
}

/**
 * The engine: everything a caller could get wrong (input types and count, params, output_config,
 * an unknown runtime) is checked here, on the calling thread, before any input is decoded or
 * queued; then the scheduler runs the inputs on worker threads, and output_config is applied to
 * what comes back.
 */
export function createEngine(options: EngineOptions = {}): Engine {
  const report = options.onTiming ?? (() => undefined);
  const scheduler = new Scheduler({
    workers: options.workers ?? defaultWorkers(),
    maxQueuedInputs: options.maxQueuedInputs ?? DEFAULT_MAX_QUEUED_INPUTS,
    memoryBudgetBytes: options.memoryBudgetBytes ?? Math.floor(os.totalmem() / 2),
    idleUnloadMs: options.idleUnloadMs ?? DEFAULT_IDLE_UNLOAD_MS,
    batching: options.batching ?? true,
    expressLane: options.expressLane ?? true,
    maxImagePixels: options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS,
    warmUp: options.warmUp ?? true,
    onRun: (spec, inputs, t) => {
      const model = modelName(spec);
      report({ model, stage: 'decode', ms: t.decodeMs, inputs });
      report({ model, stage: 'predict', ms: t.predictMs, inputs });
    },
    onLoad: (spec, ms) => report({ model: modelName(spec), stage: 'load', ms, inputs: 0 }),
  });

  async function predictEach(
    spec: ModelSpec,
    inputs: readonly EngineInput[],
    opts: PredictOptions = {},
  ): Promise<(Prediction | SibylError)[]> {
    checkRuntime(spec);
    checkInputs(
      spec,
      inputs.map((input) => input.type),
      { videoFrames: true },
    );
    checkTextLimits(spec, inputs);
    const params = validateParams(spec, opts.params);
    const outputConfig = resolveOutputConfig(opts.outputConfig);
    checkSelectedConcepts(outputConfig, spec);
    const { sampleMs } = outputConfig;
    const queued =
      sampleMs === undefined ? inputs : inputs.map((i) => (i.type === 'video' ? { ...i, sampleMs } : i));
    const outcomes = await scheduler.submit(spec, queued, params, opts.signal);
    const started = performance.now();
    const results = outcomes.map((outcome) => {
      if (outcome instanceof SibylError) return outcome;
      if ('error' in outcome) return fromWireError(outcome.error);
      const data = applyResolvedOutputConfig(outcome.data, outputConfig);
      return outcome.usage ? { data, usage: outcome.usage } : { data };
    });
    report({
      model: modelName(spec),
      stage: 'postprocess',
      ms: performance.now() - started,
      inputs: inputs.length,
    });
    return results;
  }

  return {
    builtins: () => Object.values(BUILT_IN_MODELS),
    check(spec, inputTypes, opts = {}) {
      checkRuntime(spec);
      checkInputs(spec, inputTypes, { videoFrames: true });
      validateParams(spec, opts.params);
      checkSelectedConcepts(resolveOutputConfig(opts.outputConfig), spec);
    },
    predictEach,
    async predict(spec, inputs, opts) {
      const results = await predictEach(spec, inputs, opts);
      const failed = results.find((r) => r instanceof SibylError);
      if (failed) throw failed;
      return (results as Prediction[]).map((r) => r.data);
    },
    generate(spec, input, opts = {}) {
      checkRuntime(spec);
      checkInputs(spec, [input.type]);
      checkTextLimits(spec, [input]);
      const params = validateParams(spec, opts.params);
      return generationStream(
        (onChunk, signal) => scheduler.generate(spec, input, params, signal, onChunk),
        opts.signal,
      );
    },
    validate(spec) {
      checkRuntime(spec);
      return scheduler.validate(spec);
    },
    load(spec) {
      checkRuntime(spec);
      return scheduler.load(spec);
    },
    status: () => scheduler.status(),
    close: () => scheduler.close(),
  };
}

function checkRuntime(spec: ModelSpec): void {
  if (!findRuntime(spec.runtime.kind)) {
    throw new InvalidArgumentError(
      `model ${modelName(spec)} needs runtime "${spec.runtime.kind}", which this engine does not have; it has: ${runtimeKinds().join(', ')}`,
      StatusCode.MODEL_INVALID_ARGUMENT,
    );
  }
  // A runtime that runs an installed program (pocketsphinx) cannot work without it: say so, with
  // the install command, before anything is queued. MODEL_NOT_DEPLOYED: the server, not the
  // caller, must change (HTTP 503). The PATH lookup is cached for a few seconds (requirements.ts).
  const missing = missingRequirement(spec);
  if (missing) {
    throw new SibylError(
      StatusCode.MODEL_NOT_DEPLOYED,
      'Model not available',
      `model ${modelName(spec)} ${missing}`,
    );
  }
}

/**
 * Input count and types. With `videoFrames` (predict), a video is taken by every image model: its
 * frames are sampled (output_config.sample_ms) and run one by one, answering `data.frames`. That
 * needs ffmpeg, so without it the video is refused here, before anything is downloaded or queued.
 */
function checkInputs(
  spec: ModelSpec,
  inputs: readonly EngineInput['type'][],
  opts: { videoFrames?: boolean } = {},
): void {
  if (inputs.length === 0) throw new InvalidArgumentError('no inputs given; send at least one');
  if (inputs.length > MAX_INPUTS_PER_REQUEST) {
    throw new LimitError(
      StatusCode.REQUEST_TOO_LARGE,
      'Too many inputs',
      `${inputs.length} inputs in one request; the limit is ${MAX_INPUTS_PER_REQUEST}`,
    );
  }
  inputs.forEach((type, i) => {
    if (opts.videoFrames && type === 'video' && spec.inputType === 'image') {
      if (!findFfmpeg()) throw videoNeedsFfmpeg();
      return;
    }
    if (type !== spec.inputType) {
      const which = inputs.length > 1 ? ` (input ${i})` : '';
      throw new InvalidArgumentError(
        `model ${spec.id} takes ${spec.inputType} inputs, got ${type}${which}`,
        StatusCode.INPUT_INVALID_ARGUMENT,
        'Invalid input argument',
      );
    }
  });
}
