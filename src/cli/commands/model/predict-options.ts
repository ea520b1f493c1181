import { SibylError } from '../../../core/errors.js';
import type { ModelRef } from '../../../core/urls.js';
import { parseModelUrl } from '../../../core/urls.js';
import type { InferenceParams, InputType, OutputConfig } from '../../../core/wire.js';
import type { RunnerOptions } from '../../../sdk/model.js';
import { CliUsageError } from '../../errors.js';
import { inputTypeOption } from '../../inputs.js';
import { looksLikeModelRef, parseModelRef } from '../../model-ref.js';
import { readYamlMapping } from '../../yaml-file.js';
import type { NamedInputs } from './predict-named.js';
import { parseNamedInputs } from './predict-named.js';

/** The options of `clarifai model predict`, by their documented names. */
export const PREDICT_KEYS = [
  'model_id',
  'user_id',
  'app_id',
  'model_url',
  'file_path',
  'url',
  'bytes',
  'input_id',
  'input_type',
  'compute_cluster_id',
  'nodepool_id',
  'deployment_id',
  'inference_params',
  'output_config',
  'input_list',
  // Clarifai's CLI 11.x read these from the YAML too
  'inputs',
  'method',
  'deployment_user_id',
] as const;

export type PredictKey = (typeof PREDICT_KEYS)[number];
export type PredictFlags = Partial<Record<PredictKey, unknown>> & {
  config?: string;
  /** -i KEY=VALUE, repeated (Clarifai's current CLI). */
  input?: string[];
};

export type InputSourceOption =
  | { kind: 'file_path'; value: string }
  | { kind: 'url'; value: string }
  | { kind: 'bytes'; value: string }
  | { kind: 'input_id'; value: string };

export interface PredictPlan {
  ref: ModelRef;
  /** From the flags, in order; positional inputs come in `words`. */
  sources: InputSourceOption[];
  /** Positional inputs (after the model, when the model was the first word). */
  words: string[];
  inputList?: string;
  inputType?: InputType;
  params: InferenceParams;
  outputConfig: OutputConfig;
  runner: RunnerOptions;
  /** -i and --inputs: named inputs and params, mapped once the model is known. */
  named?: NamedInputs;
  /** --method, checked against the model's methods once it is known. */
  method?: string;
}

/** Reads the `--config` YAML; its keys are option names. */
export async function readPredictConfig(path: string): Promise<PredictFlags> {
  return (await readYamlMapping(path, {
    label: '--config',
    keys: PREDICT_KEYS,
    shape: 'of option names to values',
  })) as PredictFlags;
}

/** Options that answer one question together: a flag for one of them replaces all of them from the YAML. */
const GROUPS: readonly (readonly PredictKey[])[] = [
  ['model_url', 'model_id', 'user_id', 'app_id'],
  ['file_path', 'url', 'bytes', 'input_id', 'input_list'],
  ['compute_cluster_id', 'nodepool_id', 'deployment_id', 'deployment_user_id'],
];

/**
 * Flags given on the command line win over the YAML, by group: `--file_path` on the command line
 * replaces the YAML's `bytes`, and the three ids replace its `model_url`, rather than clashing.
 */
export function mergeFlags(fromFile: PredictFlags, fromCli: PredictFlags): PredictFlags {
  const out: Record<string, unknown> = { ...fromFile };
  const given = (k: string) => (fromCli as Record<string, unknown>)[k] !== undefined;
  for (const group of GROUPS) if (group.some(given)) for (const k of group) delete out[k];
  for (const [k, v] of Object.entries(fromCli)) if (v !== undefined) out[k] = v;
  return out as PredictFlags;
}

/**
 * Applies the documented rules and returns what to send, or throws one clear usage error. `words`
 * are the positional arguments: the model first (as Clarifai's current CLI takes it) unless a flag
 * names it, then inputs.
 */
export function planPredict(f: PredictFlags, words: readonly string[] = []): PredictPlan {
  const str = (k: PredictKey): string | undefined => {
    const v = f[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'object')
      throw new CliUsageError(`--${k} must be text, not a ${Array.isArray(v) ? 'list' : 'mapping'}`);
    return String(v);
  };
  const list = (k: 'file_path' | 'url'): string[] => {
    const v = f[k];
    if (v === undefined || v === null) return [];
    const all = Array.isArray(v) ? v : [v];
    return all.map((x) => {
      if (typeof x === 'object' && x !== null) throw new CliUsageError(`--${k} must be text, not a mapping`);
      return String(x);
    });
  };
  const named = ['model_url', 'model_id', 'user_id', 'app_id'].some((k) => f[k as PredictKey] !== undefined);
  let rest = [...words];
  let ref: ModelRef;
  if (!named && rest.length > 0 && looksLikeModelRef(rest[0]!)) {
    ref = parseModelRef(rest[0]!);
    rest = rest.slice(1);
  } else if (!named && rest.length > 0) {
    throw new CliUsageError(
      `"${rest[0]}" is not a model: name it first as user_id/app_id/models/model_id (or its URL), or with --model_url`,
    );
  } else {
    ref = modelRef(str);
  }
  const inputList = str('input_list');
  const namedInputs = parseNamedInputs(f.inputs, f.input ?? []);
  const method = str('method');
  if (method === '') throw new CliUsageError('--method must not be empty');
  return {
    ref,
    sources: inputSources(str, list, rest.length > 0 || inputList !== undefined),
    words: rest,
    ...(inputList !== undefined ? { inputList } : {}),
    ...inputType(str('input_type')),
    params: jsonObject(
      f.inference_params,
      'inference_params',
      'e.g. \'{"temperature": 0.7, "max_tokens": 200}\'',
    ),
    outputConfig: jsonObject(
      f.output_config,
      'output_config',
      'e.g. \'{"max_concepts": 3}\'',
    ) as OutputConfig,
    runner: runner(str),
    ...(namedInputs ? { named: namedInputs } : {}),
    ...(method !== undefined ? { method } : {}),
  };
}

function modelRef(str: (k: PredictKey) => string | undefined): ModelRef {
  const url = str('model_url');
  const ids = { model_id: str('model_id'), user_id: str('user_id'), app_id: str('app_id') };
  const given = Object.entries(ids)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => `--${k}`);
  if (url !== undefined) {
    if (given.length > 0)
      throw new CliUsageError(
        `give either --model_url or --model_id/--user_id/--app_id, not both (got --model_url and ${given.join(', ')})`,
      );
    try {
      return parseModelUrl(url);
    } catch (err) {
      throw new CliUsageError(err instanceof SibylError && err.details ? err.details : String(err));
    }
  }
  if (given.length === 0)
    throw new CliUsageError('name the model with --model_url, or with --model_id, --user_id and --app_id');
  const missing = Object.entries(ids)
    .filter(([, v]) => v === undefined)
    .map(([k]) => `--${k}`);
  if (missing.length > 0)
    throw new CliUsageError(
      `--model_id, --user_id and --app_id go together: missing ${missing.join(', ')} (or use --model_url)`,
    );
  return { userId: ids.user_id!, appId: ids.app_id!, modelId: ids.model_id! };
}

/**
 * The inputs the flags name. --bytes and --input_id stand alone, as in Clarifai's CLI; files and
 * URLs may repeat and mix with positional inputs and --input_list. None at all is allowed here:
 * the command then reads piped stdin, or says what to give.
 */
function inputSources(
  str: (k: PredictKey) => string | undefined,
  list: (k: 'file_path' | 'url') => string[],
  others: boolean,
): InputSourceOption[] {
  const single = (['bytes', 'input_id'] as const).filter((k) => str(k) !== undefined);
  const many = (['file_path', 'url'] as const).filter((k) => list(k).length > 0);
  if (single.length > 0 && (single.length > 1 || many.length > 0 || others)) {
    const got = [...many, ...single].map((k) => `--${k}`);
    if (others) got.push('other inputs');
    throw new CliUsageError(
      `give exactly one input: --file_path, --url, --bytes or --input_id (got ${got.join(' and ')}); --bytes and --input_id cannot be combined with other inputs`,
    );
  }
  if (single.length === 1) {
    const kind = single[0]!;
    const value = str(kind)!;
    if (value === '' && kind !== 'bytes') throw new CliUsageError(`--${kind} must not be empty`);
    return [{ kind, value }];
  }
  const out: InputSourceOption[] = [];
  for (const kind of ['file_path', 'url'] as const) {
    for (const value of list(kind)) {
      if (value === '') throw new CliUsageError(`--${kind} must not be empty`);
      out.push({ kind, value });
    }
  }
  return out;
}

function inputType(value: string | undefined): { inputType?: InputType } {
  const type = inputTypeOption(value);
  return type ? { inputType: type } : {};
}

function jsonObject(v: unknown, name: string, example: string): Record<string, unknown> {
  if (v === undefined || v === null || v === '') return {};
  if (typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  if (typeof v !== 'string') throw new CliUsageError(`--${name} must be a JSON object, ${example}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    throw new CliUsageError(
      `--${name} is not valid JSON (${(err as Error).message}); expected a JSON object, ${example}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliUsageError(`--${name} must be a JSON object, ${example}`);
  }
  return parsed as Record<string, unknown>;
}

function runner(str: (k: PredictKey) => string | undefined): RunnerOptions {
  const cc = str('compute_cluster_id');
  const np = str('nodepool_id');
  const dpl = str('deployment_id');
  if (dpl !== undefined && (cc !== undefined || np !== undefined)) {
    throw new CliUsageError(
      'give --deployment_id alone, or --compute_cluster_id with --nodepool_id, not both',
    );
  }
  if ((cc === undefined) !== (np === undefined)) {
    throw new CliUsageError(
      '--compute_cluster_id and --nodepool_id go together: give both, or --deployment_id',
    );
  }
  const r: RunnerOptions = {};
  const owner = str('deployment_user_id');
  if (owner) r.runnerUserId = owner;
  if (cc) r.computeClusterId = cc;
  if (np) r.nodepoolId = np;
  if (dpl) r.deploymentId = dpl;
  return r;
}
