import { SibylError } from '../../core/errors.js';
import type { InferenceParams } from '../../core/wire.js';
import { ConfigReader, folderError } from '../config-reader.js';
import { existingFile } from '../folder-paths.js';
import type { ModelSpec } from '../spec.js';
import { findTask, taskIds } from '../tasks/index.js';
import type { BoundTask } from '../tasks/types.js';
import type { LoadedModel, LoadOptions, ParamSpec } from '../types.js';
import type { TensorModel } from './tensor.js';

/** How one tensor runtime opens a weights file; everything else is shared. */
export interface TensorBackend {
  kind: string;
  /** `runtime` keys of this runtime's own (e.g. onnx `threads`), besides kind and file. */
  settings: readonly string[];
  /** Opens the weights. Throws a plain Error with the library's reason; we add the file name. */
  open(path: string, runtime: ConfigReader): Promise<TensorModel>;
}

interface Prepared {
  model: TensorModel;
  bound: BoundTask;
  file: string;
}

/**
 * Opens the network and binds it to its task. Every setting is checked here, so validate (at
 * upload) and load (in a worker) refuse the same mistakes with the same words.
 */
async function prepare(backend: TensorBackend, spec: ModelSpec): Promise<Prepared> {
  const task = findTask(spec.modelTypeId);
  if (!task) {
    throw folderError(
      `config.yaml model.model_type_id ${JSON.stringify(spec.modelTypeId)} cannot run on runtime kind ` +
        `${backend.kind}; allowed: ${taskIds().join(', ')}`,
    );
  }
  const runtime = new ConfigReader(spec.runtime, 'runtime');
  runtime.allowOnly(['kind', 'file', ...backend.settings, ...task.settings]);
  const file = runtime.requiredString('file');
  const path = await existingFile(spec, file, 'runtime.file');
  let model: TensorModel;
  try {
    model = await backend.open(path, runtime);
  } catch (error) {
    if (error instanceof SibylError) throw error;
    throw folderError(`${file} does not load as a ${backend.kind} model: ${reason(error)}`);
  }
  try {
    return { model, bound: await task.bind({ spec, model, runtime, file }), file };
  } catch (error) {
    await model.dispose();
    throw error;
  }
}

/**
 * Checks a folder completely: settings, files, weights, input against preprocess, labels against
 * output width, and one run on a sample input (which catches what shapes left open). Returns the
 * spec with what was learned (concepts, image size).
 */
export async function validateTensorModel(backend: TensorBackend, spec: ModelSpec): Promise<ModelSpec> {
  const { model, bound, file } = await prepare(backend, spec);
  try {
    await bound.predict([bound.sample], defaults(spec.params));
  } catch (error) {
    if (error instanceof SibylError) throw error;
    throw folderError(`${file} failed on a sample ${bound.sample.type} input: ${reason(error)}`);
  } finally {
    await model.dispose();
  }
  return { ...spec, ...bound.facts };
}

export async function loadTensorModel(
  backend: TensorBackend,
  spec: ModelSpec,
  opts: LoadOptions,
): Promise<LoadedModel> {
  const { model, bound } = await prepare(backend, spec);
  const base = defaults(spec.params);
  let unloaded: Promise<void> | undefined;
  try {
    if (opts.warmUp) await bound.predict([bound.sample], base);
  } catch (error) {
    await model.dispose();
    throw error;
  }
  return {
    predict: (batch, params, signal) => {
      if (unloaded) return Promise.reject(new Error(`model ${spec.id} was unloaded`));
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      return bound.predict(batch, { ...base, ...params });
    },
    bytes: model.bytes,
    unload: () => (unloaded ??= model.dispose()),
  };
}

/** Direct callers (tests, validate) may pass no params; the engine passes validated ones. */
function defaults(params: Record<string, ParamSpec>): InferenceParams {
  const out: InferenceParams = {};
  for (const [name, spec] of Object.entries(params)) if (spec.default !== undefined) out[name] = spec.default;
  return out;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
