import type { Concept, Data, InferenceParams, Region } from '../../core/wire.js';
import { ConfigReader, folderError } from '../config-reader.js';
import { conceptId } from '../models/coco-labels.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedInput, LoadedModel, LoadOptions, Runtime } from '../types.js';
import { OipClient, type OipTarget, type ReadTensor } from './oip-client.js';
import { oipKindOf, type OipKind } from './oip-contract.js';
import { readEngineTarget } from './openai.js';

const SETTINGS = [
  'kind',
  'base_url',
  'model',
  'version',
  'api_key_env',
  'timeout_ms',
  'retries',
  'input',
  'output',
  'labels',
  'max_concepts',
];
/** Concepts asked of the engine per input when the model has no labels to count. */
const DEFAULT_MAX_CONCEPTS = 200;

interface Settings {
  kind: OipKind;
  target: OipTarget;
  /** A generic tensor model's output to read as concept scores (with the folder's labels). */
  output?: string;
  maxConcepts: number;
}

/**
 * Models served by a remote Open Inference Protocol v2 engine (Triton, KServe, MLServer, another
 * Sibyl): `runtime: {kind: oip, base_url: http://host:port[/prefix], model, version?,
 * api_key_env?, timeout_ms?, retries?, input?, output?, labels?, max_concepts?}`. Inputs go as one
 * BYTES tensor (media as binary data, texts as strings); outputs are read by Sibyl's contract
 * (oip-contract.ts), or, for a generic tensor model, one FP32 [N,K] output with `labels` naming
 * its K concepts. The engine is asked for every concept (up to the labels' count, else
 * `max_concepts`, default 200) and this engine's output_config is applied to them, so a chain
 * Sibyl -> OIP -> Sibyl answers as the remote model does locally. Neither validate nor load calls
 * the engine: a model may be registered while its engine is down.
 */
export class OipRuntime implements Runtime {
  /** The environment the key is read from (the process's; tests pass their own). */
  constructor(private readonly env: Readonly<Record<string, string | undefined>> = process.env) {}

  async validate(spec: ModelSpec): Promise<ModelSpec> {
    readSettings(spec, this.env);
    return spec;
  }

  async load(spec: ModelSpec, _opts?: LoadOptions): Promise<LoadedModel> {
    const settings = readSettings(spec, this.env);
    const client = new OipClient(settings.target);
    return {
      bytes: 0,
      encodedInputs: spec.inputType !== 'text',
      unload: () => Promise.resolve(),
      predict: async (batch: DecodedInput[], params: InferenceParams, signal?: AbortSignal) => {
        const parameters: Record<string, unknown> = { ...params };
        if (settings.kind === 'concepts' && !settings.output) parameters.max_concepts = settings.maxConcepts;
        const tensors = await client.infer(batch, parameters, signal);
        return toData(client, settings, spec, tensors, batch.length);
      },
    };
  }
}

function readSettings(spec: ModelSpec, env: Readonly<Record<string, string | undefined>>): Settings {
  const kind = oipKindOf(spec.modelTypeId);
  if (!kind)
    throw folderError(
      `config.yaml model.model_type_id ${JSON.stringify(spec.modelTypeId)} cannot run on runtime kind oip; ` +
        'allowed: classifiers (*-classifier), detectors (*-detector), *-to-text and embedders (*-embedder)',
    );
  const runtime = new ConfigReader(spec.runtime, 'runtime');
  runtime.allowOnly(SETTINGS);
  const target = readEngineTarget(
    runtime,
    env,
    'http://127.0.0.1:8000 (Triton) or http://127.0.0.1:8080/oip (Sibyl)',
  );
  const version = runtime.string('version');
  const input = runtime.string('input') ?? spec.inputType;
  const output = runtime.string('output');
  if (output !== undefined && (kind !== 'concepts' || !spec.concepts))
    throw runtime.error(
      'output',
      'set only for a classifier with labels (a generic FP32 [N,K] output)',
      output,
    );
  const maxConcepts =
    runtime.number('max_concepts', { min: 1, max: 100_000, integer: true }) ??
    spec.concepts?.length ??
    DEFAULT_MAX_CONCEPTS;
  return {
    kind,
    target: { ...target, input, ...(version !== undefined ? { version } : {}) },
    ...(output !== undefined ? { output } : {}),
    maxConcepts,
  };
}

/** The engine's outputs as v2 data per input, by Sibyl's contract or the generic FP32 + labels. */
function toData(
  client: OipClient,
  settings: Settings,
  spec: ModelSpec,
  tensors: Map<string, ReadTensor>,
  n: number,
): Data[] {
  const names = [...tensors.keys()].join(', ') || 'none';
  const need = (name: string, datatype: 'BYTES' | 'FP32', rank: number): ReadTensor => {
    const t = tensors.get(name);
    if (!t) throw client.remoteError(`sent no "${name}" output (its outputs: ${names})`);
    const numeric = datatype === 'FP32' ? t.datatype !== 'BYTES' : t.datatype === 'BYTES';
    if (!numeric || t.shape.length !== rank || t.shape[0] !== n)
      throw client.remoteError(
        `sent output "${name}" as ${t.datatype} ${JSON.stringify(t.shape)}; expected ${datatype} of rank ${rank} with ${n} rows`,
      );
    return t;
  };
  const rows = <T>(t: ReadTensor): T[][] => {
    const width = t.values.length / n;
    return Array.from({ length: n }, (_, i) => t.values.slice(i * width, (i + 1) * width) as T[]);
  };
  switch (settings.kind) {
    case 'concepts': {
      if (settings.output !== undefined || (spec.concepts && !tensors.has('concept_names')))
        return genericConcepts(client, settings, spec, tensors, n);
      const nameRows = rows<string>(need('concept_names', 'BYTES', 2));
      const scoreRows = rows<number>(need('concept_scores', 'FP32', 2));
      const idRows = tensors.has('concept_ids') ? rows<string>(need('concept_ids', 'BYTES', 2)) : undefined;
      return nameRows.map((names, i) => ({
        concepts: names.flatMap((name, j): Concept[] =>
          name === '' ? [] : [{ id: idRows?.[i]![j] || conceptId(name), name, value: scoreRows[i]![j]! }],
        ),
      }));
    }
    case 'regions': {
      const boxes = need('boxes', 'FP32', 3);
      const nameRows = rows<string>(need('box_names', 'BYTES', 2));
      const scoreRows = rows<number>(need('box_scores', 'FP32', 2));
      const r = boxes.shape[1]!;
      const coords = boxes.values as number[];
      return nameRows.map((names, i) => ({
        regions: names.flatMap((name, j): Region[] => {
          const at = (i * r + j) * 4;
          const [top, left, bottom, right] = coords.slice(at, at + 4) as [number, number, number, number];
          if (name === '' && top === 0 && left === 0 && bottom === 0 && right === 0) return []; // padding
          const value = scoreRows[i]![j]!;
          return [
            {
              id: `${i}-${j}`,
              region_info: {
                bounding_box: { top_row: top, left_col: left, bottom_row: bottom, right_col: right },
              },
              data: { concepts: name === '' ? [] : [{ id: conceptId(name), name, value }] },
              value,
            },
          ];
        }),
      }));
    }
    case 'text':
      return (need('text', 'BYTES', 1).values as string[]).map((raw) => ({ text: { raw } }));
    case 'embeddings':
      return rows<number>(need('embeddings', 'FP32', 2)).map((vector) => ({
        embeddings: [{ vector, num_dimensions: vector.length }],
      }));
  }
}

/** A generic tensor model: one numeric [N,K] output whose K columns are the labels' concepts. */
function genericConcepts(
  client: OipClient,
  settings: Settings,
  spec: ModelSpec,
  tensors: Map<string, ReadTensor>,
  n: number,
): Data[] {
  const labels = spec.concepts!;
  let t: ReadTensor | undefined;
  if (settings.output !== undefined) {
    t = tensors.get(settings.output);
    if (!t) throw client.remoteError(`sent no "${settings.output}" output (runtime.output)`);
  } else {
    const numeric = [...tensors.values()].filter((x) => x.datatype !== 'BYTES');
    if (numeric.length !== 1)
      throw client.remoteError(
        `sent ${numeric.length} numeric outputs (${numeric.map((x) => x.name).join(', ') || 'none'}); set runtime.output to the one holding the concept scores`,
      );
    t = numeric[0]!;
  }
  if (t.datatype === 'BYTES' || t.shape.length !== 2 || t.shape[0] !== n || t.shape[1] !== labels.length)
    throw client.remoteError(
      `sent output "${t.name}" as ${t.datatype} ${JSON.stringify(t.shape)}; the model's ${labels.length} labels need a numeric [${n}, ${labels.length}]`,
    );
  const values = t.values as number[];
  return Array.from({ length: n }, (_, i) => ({
    concepts: labels.map((name, j) => ({ id: conceptId(name), name, value: values[i * labels.length + j]! })),
  }));
}
