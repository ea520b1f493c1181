import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isValidId } from '../core/ids.js';
import { INPUT_TYPES, type InputType } from '../core/wire.js';
import { ConfigReader, folderError } from './config-reader.js';
import { folderParams } from './folder-params.js';
import { modelTypeParams } from './generation-params.js';
import { existingFile } from './folder-paths.js';
import { runtimeKinds, findRuntime } from './runtimes/index.js';
import {
  checkSpec,
  NO_BATCHING,
  MAX_BATCH_SIZE,
  MAX_BATCH_WAIT_MS,
  type InputLimits,
  type ModelSpec,
} from './spec.js';
import { findTask } from './tasks/index.js';
import { readLabelsFile } from './tasks/labels.js';
import { imageSizeOf, readPreprocess } from './tasks/preprocess.js';

export { listFolderFiles } from './folder-paths.js';

/** A model folder's config, as Clarifai's own upload folders name theirs. */
export const CONFIG_FILE = 'config.yaml';

export type FolderVisibility = 'private' | 'public';

const TOP_KEYS = ['model', 'runtime', 'batching', 'params', 'limits'];
/** Keys of Clarifai's own upload configs that mean nothing here; accepted so those folders load. */
const CLARIFAI_KEYS = ['build_info', 'inference_compute_info', 'checkpoints'];
const MODEL_KEYS = [
  'id',
  'user_id',
  'app_id',
  'model_type_id',
  'description',
  'visibility',
  'name',
  'input_type',
];
const ID_KEYS = ['id', 'user_id', 'app_id'] as const;

/**
 * Reads a model folder (config.yaml, labels) into the spec of a new version `versionId`, which the
 * caller assigns. Checks everything that needs no weights loaded: keys and their values, the
 * runtime kind, that the named files exist in the folder. The runtime's `validate` then checks
 * the weights themselves.
 */
export async function readModelFolder(dir: string, versionId: string): Promise<ModelSpec> {
  const folder = path.resolve(dir);
  const top = await readConfig(folder);
  const model = top.child('model');
  model.allowOnly(MODEL_KEYS);
  const ids = Object.fromEntries(ID_KEYS.map((key) => [key, requiredId(model, key)])) as Record<
    (typeof ID_KEYS)[number],
    string
  >;
  const modelTypeId = model.requiredString('model_type_id');
  readVisibility(model);
  const task = findTask(modelTypeId);
  const runtime = top.child('runtime');
  const kind = runtime.requiredString('kind');
  if (!findRuntime(kind)) throw runtime.error('kind', `one of ${runtimeKinds().join(', ')}`, kind);

  const spec: Record<string, unknown> = {
    userId: ids.user_id,
    appId: ids.app_id,
    id: ids.id,
    versionId,
    name: model.string('name') ?? ids.id,
    modelTypeId,
    description: model.string('description') ?? '',
    inputType: inputTypeOf(model, modelTypeId, task?.inputType),
    params: folderParams(top.child('params'), task?.params ?? modelTypeParams(modelTypeId)),
    runtime: runtime.block,
    batching: readBatching(top.child('batching')),
    folder,
  };
  const limits = readLimits(top.child('limits'));
  if (limits) spec.limits = limits;
  const file = runtime.string('file');
  if (file !== undefined) await existingFile({ folder }, file, 'runtime.file');
  const labels = runtime.string('labels');
  if (labels !== undefined) {
    spec.concepts = await readLabelsFile(await existingFile({ folder }, labels, 'runtime.labels'), labels);
  }
  if (runtime.has('preprocess')) spec.imageSize = imageSizeOf(readPreprocess(runtime));
  return checkSpec(spec);
}

/** The config's `model.visibility` (private unless it says public), for the version's model. */
export async function readFolderVisibility(dir: string): Promise<FolderVisibility> {
  return readVisibility((await readConfig(path.resolve(dir))).child('model'));
}

async function readConfig(folder: string): Promise<ConfigReader> {
  let text: string;
  try {
    text = await readFile(path.join(folder, CONFIG_FILE), 'utf8');
  } catch {
    throw folderError(
      `${folder} has no readable ${CONFIG_FILE}; a model folder needs one with a model: block ` +
        '(id, user_id, app_id, model_type_id) and a runtime: block (kind, file...)',
    );
  }
  let doc: unknown;
  try {
    // imported on use: the server imports this file at every start, even with no model folders
    const { parse: parseYaml } = await import('yaml');
    doc = parseYaml(text);
  } catch (error) {
    throw folderError(`${CONFIG_FILE} is not valid YAML: ${(error as Error).message}`);
  }
  const top = new ConfigReader(doc ?? {}, '');
  top.allowOnly([...TOP_KEYS, ...CLARIFAI_KEYS]);
  for (const key of ['model', 'runtime']) {
    if (!top.has(key))
      throw folderError(`${CONFIG_FILE} has no ${key}: block; a model folder needs model: and runtime:`);
  }
  return top;
}

function requiredId(model: ConfigReader, key: string): string {
  const value = model.block[key];
  if (typeof value !== 'string' || !isValidId(value)) {
    throw model.error(
      key,
      'an id: letters, digits, _, - and ., starting with a letter or digit, at most 128 characters',
      value,
    );
  }
  return value;
}

function readVisibility(model: ConfigReader): FolderVisibility {
  return model.oneOf('visibility', ['private', 'public'] as const, 'private');
}

/** The task's input type; else `model.input_type`; else the model type's prefix (text-to-text: text). */
function inputTypeOf(model: ConfigReader, modelTypeId: string, taskInput: InputType | undefined): InputType {
  const explicit = model.oneOf('input_type', INPUT_TYPES);
  if (taskInput !== undefined) {
    if (explicit !== undefined && explicit !== taskInput) {
      throw model.error('input_type', `${taskInput} for a ${modelTypeId} (or left out)`, explicit);
    }
    return taskInput;
  }
  if (explicit !== undefined) return explicit;
  const prefix = modelTypeId.split('-')[0];
  const byPrefix: Record<string, InputType> = {
    text: 'text',
    // a multimodal input is an image with a text beside it (Clarifai's multimodal-to-text)
    multimodal: 'image',
    visual: 'image',
    image: 'image',
    audio: 'audio',
    video: 'video',
  };
  const found = prefix === undefined ? undefined : byPrefix[prefix];
  if (found) return found;
  throw folderError(
    `${CONFIG_FILE} model.model_type_id ${JSON.stringify(modelTypeId)} does not say what it takes; ` +
      `set model.input_type to one of ${INPUT_TYPES.join(', ')}`,
  );
}

/** config.yaml's keys for the spec's input limits (snake_case, like the rest of the file). */
const LIMIT_KEYS = {
  max_text_chars: 'maxTextChars',
  max_pixels: 'maxPixels',
  max_audio_seconds: 'maxAudioSeconds',
  max_video_seconds: 'maxVideoSeconds',
} as const satisfies Record<string, keyof InputLimits>;

/** The folder's `limits:` block: what the model refuses past (413, named), before decoding. */
function readLimits(block: ConfigReader): InputLimits | undefined {
  block.allowOnly(Object.keys(LIMIT_KEYS));
  const limits: InputLimits = {};
  for (const [key, field] of Object.entries(LIMIT_KEYS)) {
    // characters and pixels are counts; seconds may be fractional
    const value = block.number(key, { min: 1, integer: !key.endsWith('_seconds') });
    if (value !== undefined) limits[field] = value;
  }
  return Object.keys(limits).length > 0 ? limits : undefined;
}

function readBatching(block: ConfigReader): ModelSpec['batching'] {
  block.allowOnly(['max_batch_size', 'max_wait_ms']);
  return {
    max_batch_size:
      block.number('max_batch_size', { integer: true, min: 1, max: MAX_BATCH_SIZE }) ??
      NO_BATCHING.max_batch_size,
    max_wait_ms: block.number('max_wait_ms', { min: 0, max: MAX_BATCH_WAIT_MS }) ?? NO_BATCHING.max_wait_ms,
  };
}
