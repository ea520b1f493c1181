import { SibylError } from '../../../core/errors.js';
import type { ModelRef } from '../../../core/urls.js';
import { parseModelUrl } from '../../../core/urls.js';
import type { InferenceParams, InputType, OutputConfig } from '../../../core/wire.js';
import type { RunnerOptions } from '../../../sdk/model.js';
import { CliUsageError } from '../../errors.js';
import { inputTypeOption } from '../../inputs.js';
import { readYamlMapping } from '../../yaml-file.js';

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
] as const;

export type PredictKey = (typeof PREDICT_KEYS)[number];
export type PredictFlags = Partial<Record<PredictKey, unknown>> & { config?: string };

export type InputSourceOption =
  | { kind: 'file_path'; value: string }
  | { kind: 'url'; value: string }
  | { kind: 'bytes'; value: string }
  | { kind: 'input_id'; value: string };

export interface PredictPlan {
  ref: ModelRef;
  source: InputSourceOption;
  inputType?: InputType;
  params: InferenceParams;
  outputConfig: OutputConfig;
  runner: RunnerOptions;
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
  ['file_path', 'url', 'bytes', 'input_id'],
  ['compute_cluster_id', 'nodepool_id', 'deployment_id'],
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

/** Applies the documented rules and returns what to send, or throws one clear usage error. */
export function planPredict(f: PredictFlags): PredictPlan {
  const str = (k: PredictKey): string | undefined => {
    const v = f[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'object')
      throw new CliUsageError(`--${k} must be text, not a ${Array.isArray(v) ? 'list' : 'mapping'}`);
    return String(v);
  };
  return {
    ref: modelRef(str),
    source: inputSource(str),
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

function inputSource(str: (k: PredictKey) => string | undefined): InputSourceOption {
  const kinds = ['file_path', 'url', 'bytes', 'input_id'] as const;
  const given = kinds.filter((k) => str(k) !== undefined);
  if (given.length !== 1) {
    const what = given.length === 0 ? 'none was given' : `got ${given.map((k) => `--${k}`).join(' and ')}`;
    throw new CliUsageError(`give exactly one input: --file_path, --url, --bytes or --input_id (${what})`);
  }
  const kind = given[0]!;
  const value = str(kind)!;
  if (value === '' && kind !== 'bytes') throw new CliUsageError(`--${kind} must not be empty`);
  return { kind, value } as InputSourceOption;
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
  if (cc) r.computeClusterId = cc;
  if (np) r.nodepoolId = np;
  if (dpl) r.deploymentId = dpl;
  return r;
}
