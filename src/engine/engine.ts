import { InvalidArgumentError, LimitError, PredictionError, SibylError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import { MAX_INPUTS_PER_REQUEST, type Data, type InferenceParams } from '../core/wire.js';
import { applyResolvedOutputConfig, resolveOutputConfig } from './output-config.js';
import { validateParams } from './params.js';
import { BUILT_IN_MODELS, findBuiltInModel } from './registry.js';
import type { DecodedInput, EngineInput, LoadedModel, ModelDefinition, PredictOptions } from './types.js';

export type Stage = 'load' | 'decode' | 'predict' | 'postprocess';

/** One stage of one predict call (or a model load), for metrics and logs. */
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
  /**
   * Inputs accepted but not yet answered, across all callers. Past it, predict refuses at once with
   * MODEL_BUSY_PLEASE_RETRY (HTTP 429 with Retry-After) instead of queueing without bound.
   * Default 512: a few minutes of work for the CPU models on two cores.
   */
  maxPendingInputs?: number;
}

export interface Engine {
  /** The built-in models, whether loaded or not. */
  models(): readonly ModelDefinition[];
  find(userId: string, appId: string, modelId: string): ModelDefinition | undefined;
  /** One `data` per input, in order. Loads the model on first use. */
  predict(def: ModelDefinition, inputs: readonly EngineInput[], opts?: PredictOptions): Promise<Data[]>;
  /** Loads a model ahead of its first predict (e.g. at server start). */
  load(def: ModelDefinition): Promise<void>;
  /** Unloads every model; a later predict loads again. */
  close(): Promise<void>;
}

/**
 * Inputs are decoded and run this many at a time, so a 128-image request holds at most a few
 * decoded images in memory (a 40-megapixel photo is 120 MB as RGB).
 */
const CHUNK = 4;

export const DEFAULT_MAX_PENDING_INPUTS = 512;

export function createEngine(options: EngineOptions = {}): Engine {
  const loaded = new Map<string, Promise<LoadedModel>>();
  const report = options.onTiming ?? (() => undefined);
  const maxPending = options.maxPendingInputs ?? DEFAULT_MAX_PENDING_INPUTS;
  let pending = 0;

  async function timed<T>(
    def: ModelDefinition,
    stage: Stage,
    inputs: number,
    work: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const result = await work();
    report({ model: name(def), stage, ms: performance.now() - started, inputs });
    return result;
  }

  /** Memoised per model version; a failed load is forgotten so the next call retries it. */
  function loadModel(def: ModelDefinition): Promise<LoadedModel> {
    const key = `${name(def)}@${def.versionId}`;
    let promise = loaded.get(key);
    if (!promise) {
      promise = timed(def, 'load', 0, () => def.load({ warmUp: options.warmUp ?? true })).catch(
        (error: unknown) => {
          if (loaded.get(key) === promise) loaded.delete(key);
          throw asSibylError(error, `model ${def.id} could not be loaded`);
        },
      );
      loaded.set(key, promise);
    }
    return promise;
  }

  async function decode(def: ModelDefinition, input: EngineInput): Promise<DecodedInput> {
    if (input.type === 'text') return { type: 'text', text: input.text };
    if (input.type === 'image') {
      // Imported on first use: sharp takes ~0.3 s to import and text-only use never needs it.
      const { decodeImage } = await import('./media/image.js');
      const image = await decodeImage(input.bytes, {
        ...(options.maxImagePixels !== undefined ? { maxPixels: options.maxImagePixels } : {}),
        ...(def.imageSize !== undefined ? { maxSide: def.imageSize } : {}),
      });
      return { type: 'image', image };
    }
    throw new PredictionError(`this engine cannot decode ${input.type} inputs yet`);
  }

  async function runChunk(
    def: ModelDefinition,
    chunk: readonly EngineInput[],
    params: InferenceParams,
  ): Promise<Data[]> {
    const decoded = await timed(def, 'decode', chunk.length, () =>
      Promise.all(chunk.map((input) => decode(def, input))),
    );
    const model = await loadModel(def);
    const data = await timed(def, 'predict', chunk.length, async () => {
      try {
        return await model.predict(decoded, params);
      } catch (error) {
        throw asSibylError(error, `model ${def.id} failed`);
      }
    });
    if (data.length !== chunk.length) {
      throw new PredictionError(`model ${def.id} returned ${data.length} outputs for ${chunk.length} inputs`);
    }
    return data;
  }

  return {
    models: () => Object.values(BUILT_IN_MODELS),
    find: findBuiltInModel,

    async predict(def, inputs, opts = {}) {
      checkInputs(def, inputs);
      // Everything the caller could get wrong is checked before any decoding or inference.
      const params = validateParams(def, opts.params);
      const outputConfig = resolveOutputConfig(opts.outputConfig);
      if (pending + inputs.length > maxPending) {
        throw new LimitError(
          StatusCode.MODEL_BUSY_PLEASE_RETRY,
          'Model busy, please retry',
          `${pending} inputs are waiting and this request adds ${inputs.length}; the engine queues at most ${maxPending}`,
        );
      }
      pending += inputs.length;
      try {
        const results: Data[] = [];
        for (let start = 0; start < inputs.length; start += CHUNK) {
          const data = await runChunk(def, inputs.slice(start, start + CHUNK), params);
          results.push(
            ...(await timed(def, 'postprocess', data.length, () =>
              Promise.resolve(data.map((d) => applyResolvedOutputConfig(d, outputConfig))),
            )),
          );
        }
        return results;
      } finally {
        pending -= inputs.length;
      }
    },

    async load(def) {
      await loadModel(def);
    },

    async close() {
      const models = [...loaded.values()];
      loaded.clear();
      // A model that never loaded has nothing to free; one that fails to unload must not stop the rest.
      await Promise.allSettled(models.map(async (promise) => (await promise).unload()));
    },
  };
}

function checkInputs(def: ModelDefinition, inputs: readonly EngineInput[]): void {
  if (inputs.length === 0) throw new InvalidArgumentError('no inputs given; send at least one');
  if (inputs.length > MAX_INPUTS_PER_REQUEST) {
    throw new LimitError(
      StatusCode.REQUEST_TOO_LARGE,
      'Too many inputs',
      `${inputs.length} inputs in one request; the limit is ${MAX_INPUTS_PER_REQUEST}`,
    );
  }
  inputs.forEach((input, i) => {
    if (input.type !== def.inputType) {
      const which = inputs.length > 1 ? ` (input ${i})` : '';
      throw new InvalidArgumentError(
        `model ${def.id} takes ${def.inputType} inputs, got ${input.type}${which}`,
        StatusCode.INPUT_INVALID_ARGUMENT,
        'Invalid input argument',
      );
    }
  });
}

function name(def: ModelDefinition): string {
  return `${def.userId}/${def.appId}/${def.id}`;
}

/** Errors we raised on purpose pass through; anything else is a model failure, with its cause kept. */
function asSibylError(error: unknown, context: string): SibylError {
  if (error instanceof SibylError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new PredictionError(`${context}: ${message}`, { cause: error });
}
