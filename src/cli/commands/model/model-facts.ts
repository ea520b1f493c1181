import { inputTypeOfModelType } from '../../../core/media-types.js';
import { isGenerative } from '../../../core/model-types.js';
import type { InputType, ModelTypeField, WireModel } from '../../../core/wire.js';
import { CliUsageError } from '../../errors.js';

/**
 * What Clarifai's current CLI calls a model's methods and their signatures, worked out from what
 * every v2 server says about a model (its type and its version's output_info), so `--info`,
 * `-i`/`--inputs`, `--method` and `--chat` agree on one description.
 */

/** predict: PostModelOutputs, the answer whole; generate: GenerateModelOutputs, streamed. */
export type Method = 'predict' | 'generate';

export interface ParamFact {
  name: string;
  /** As Clarifai's signatures write it: int, float, str, bool, list[str]. */
  type: string;
  default?: unknown;
  /** "0..2", or the allowed values. */
  allowed?: string;
  description?: string;
}

export interface ModelFacts {
  model: WireModel;
  typeId: string;
  /** What one input may carry; empty when the type does not say (any). */
  inputs: InputType[];
  /** The output as a return type: list[Concept], str... */
  output: string;
  methods: Method[];
  params: ParamFact[];
}

export function modelFacts(model: WireModel): ModelFacts {
  const typeId = model.model_type_id ?? '';
  const one = inputTypeOfModelType(typeId);
  // an image with its prompt beside it is one multimodal input
  const inputs: InputType[] = typeId === 'multimodal-to-text' ? ['text', 'image'] : one ? [one] : [];
  return {
    model,
    typeId,
    inputs,
    output: outputOf(typeId),
    methods: isGenerative(typeId) ? ['predict', 'generate'] : ['predict'],
    params: paramsOf(model),
  };
}

function outputOf(typeId: string): string {
  if (typeId.endsWith('-to-text')) return 'str';
  if (typeId.endsWith('-classifier')) return 'list[Concept]';
  if (typeId.endsWith('-detector') || typeId.endsWith('-segmenter')) return 'list[Region]';
  if (typeId.endsWith('-embedder')) return 'list[Embedding]';
  if (typeId.endsWith('-to-segments')) return 'list[TimeSegment]';
  return 'Output';
}

/**
 * The version's params: each as its `output_info.params_specs` describes it (Clarifai's
 * ModelTypeField, which Sibyl's servers and Clarifai's send), with the version's own default; a
 * param known only by its default (a server that sends no specs) takes its type from that value.
 */
function paramsOf(model: WireModel): ParamFact[] {
  const info = model.model_version?.output_info ?? model.output_info;
  const defaults: Record<string, unknown> = { ...(info?.params ?? {}) };
  const out: ParamFact[] = [];
  for (const field of info?.params_specs ?? []) {
    const name = field.path;
    const fact: ParamFact = { name, type: fieldType(field) };
    if (field.description) fact.description = field.description;
    const def = Object.hasOwn(defaults, name) ? defaults[name] : field.default_value;
    if (def !== undefined) fact.default = def;
    const allowed = field.model_type_enum_options?.length
      ? field.model_type_enum_options.map((o) => o.id).join(' | ')
      : range(field);
    if (allowed) fact.allowed = allowed;
    out.push(fact);
    delete defaults[name];
  }
  for (const [name, def] of Object.entries(defaults)) out.push({ name, type: valueType(def), default: def });
  return out;
}

/** As Clarifai's signatures write it; a NUMBER whose range steps by 1 is a whole number. */
function fieldType(field: ModelTypeField): string {
  switch (field.field_type) {
    case 'NUMBER':
      return field.model_type_range_info?.step === 1 ? 'int' : 'float';
    case 'BOOLEAN':
      return 'bool';
    case 'ARRAY_OF_STRINGS':
      return 'list[str]';
    case 'STRING':
    case 'ENUM':
      return 'str';
    default:
      return 'any';
  }
}

function range(field: ModelTypeField): string | undefined {
  const r = field.model_type_range_info;
  if (r?.min === undefined && r?.max === undefined) return undefined;
  if (field.field_type === 'ARRAY_OF_STRINGS') return `up to ${r.max}`;
  return `${r.min ?? ''}..${r.max ?? ''}`;
}

/** A param known only by its default: a number is a float, as config.yaml's `temperature: 1` still takes 0.7. */
function valueType(v: unknown): string {
  if (typeof v === 'number') return 'float';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list[str]';
  return 'any';
}

/** The input arguments of a method, as Clarifai's signatures name them. */
export function inputArgs(facts: ModelFacts): string[] {
  const text = isGenerative(facts.typeId) ? 'prompt' : 'text';
  if (facts.inputs.length === 0) return ['input: Text | Image | Audio | Video'];
  return facts.inputs.map((t) =>
    t === 'text' ? `${text}: str` : `${t}: ${t[0]!.toUpperCase()}${t.slice(1)}`,
  );
}

/** A method refused by name, with the model's own. */
export function checkMethod(facts: ModelFacts, method: string): Method {
  if ((facts.methods as string[]).includes(method)) return method as Method;
  throw new CliUsageError(
    `model ${facts.model.id} (${facts.typeId || 'no type'}) has no method "${method}"; its methods: ${facts.methods.join(', ')}${facts.methods.includes('generate') ? '' : ' (generate is for text-generation models: text-to-text, multimodal-to-text)'}`,
  );
}
