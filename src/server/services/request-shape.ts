import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { InferenceParams, Input, InputType, OutputConfig, RunnerSelector } from '../../core/wire.js';
import { INPUT_TYPES, MAX_INPUTS_PER_REQUEST } from '../../core/wire.js';

/**
 * Structural checks on request bodies, shared by every transport. Messages name the field path
 * and what is allowed, so a client author can fix the request from the error alone.
 */

export interface InputSource {
  type: InputType;
  raw?: string;
  url?: string;
  base64?: string;
  /** A media input's accompanying text (Clarifai's multimodal inputs: an image and its prompt). */
  prompt?: string;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(details: string, code: number = StatusCode.CONN_INVALID_REQUEST): InvalidArgumentError {
  return new InvalidArgumentError(details, code);
}

/** An input as sent, with its one media source already picked out. */
export interface ParsedInput {
  input: Input;
  source: InputSource;
}

export function parseInputs(body: unknown): ParsedInput[] {
  if (!isObject(body)) throw bad('the body must be a JSON object with an "inputs" list');
  const inputs = body.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw bad('"inputs" must be a non-empty list');
  if (inputs.length > MAX_INPUTS_PER_REQUEST) {
    throw bad(
      `"inputs" has ${inputs.length} items; at most ${MAX_INPUTS_PER_REQUEST} are allowed per request`,
    );
  }
  return inputs.map((input, i) => {
    if (!isObject(input)) throw bad(`inputs[${i}] must be an object`, StatusCode.INPUT_INVALID_ARGUMENT);
    if (input.id !== undefined && (typeof input.id !== 'string' || input.id === '')) {
      throw bad(`inputs[${i}].id must be a non-empty string`, StatusCode.INPUT_INVALID_ARGUMENT);
    }
    const parsed = input as unknown as Input;
    return { input: parsed, source: inputSource(parsed, `inputs[${i}]`) };
  });
}

/** The one media field of an input and where its content is. */
export function inputSource(input: Input, where: string): InputSource {
  const data: unknown = input.data;
  if (!isObject(data)) throw bad(`${where}.data must be an object`, StatusCode.INPUT_INVALID_ARGUMENT);
  let present = INPUT_TYPES.filter((t) => data[t] !== undefined);
  // a media item with a text beside it is one multimodal input: the text is its prompt
  let prompt: string | undefined;
  if (present.length === 2 && present.includes('text')) {
    const text = data.text;
    if (!isObject(text) || typeof text.raw !== 'string' || text.raw === '') {
      throw bad(
        `${where}.data.text beside ${present.find((t) => t !== 'text')} must have a non-empty raw (the prompt)`,
        StatusCode.INPUT_INVALID_ARGUMENT,
      );
    }
    prompt = text.raw;
    present = present.filter((t) => t !== 'text');
  }
  if (present.length !== 1) {
    throw bad(
      `${where}.data must hold exactly one of ${INPUT_TYPES.join(', ')} (a media item may have a text beside it); found ${present.length === 0 ? 'none' : present.join(', ')}`,
      StatusCode.INPUT_INVALID_ARGUMENT,
    );
  }
  const type = present[0]!;
  const media = data[type];
  if (!isObject(media))
    throw bad(`${where}.data.${type} must be an object`, StatusCode.INPUT_INVALID_ARGUMENT);
  const keys = (type === 'text' ? ['raw', 'url', 'base64'] : ['url', 'base64']).filter(
    (k) => typeof media[k] === 'string' && media[k] !== '',
  );
  if (keys.length !== 1) {
    const allowed = type === 'text' ? 'raw, url or base64' : 'url or base64';
    throw bad(
      `${where}.data.${type} must have exactly one non-empty ${allowed}`,
      StatusCode.INPUT_INVALID_ARGUMENT,
    );
  }
  const key = keys[0] as 'raw' | 'url' | 'base64';
  return { type, [key]: media[key] as string, ...(prompt !== undefined ? { prompt } : {}) };
}

export interface PredictSettings {
  outputConfig?: OutputConfig;
  params?: InferenceParams;
  versionId?: string;
  runnerSelector?: RunnerSelector;
}

/** Reads `model.model_version.output_info` (or the older `model.output_info`) and `runner_selector`. */
export function parsePredictSettings(body: Record<string, unknown>): PredictSettings {
  const out: PredictSettings = {};
  const model = body.model;
  if (model !== undefined && model !== null) {
    if (!isObject(model)) throw bad('"model" must be an object');
    const version = model.model_version;
    if (version !== undefined && !isObject(version)) throw bad('"model.model_version" must be an object');
    const info = (version as Record<string, unknown> | undefined)?.output_info ?? model.output_info;
    if (info !== undefined) {
      if (!isObject(info)) throw bad('"output_info" must be an object');
      if (info.output_config !== undefined) {
        if (!isObject(info.output_config)) throw bad('"output_info.output_config" must be an object');
        out.outputConfig = info.output_config as OutputConfig;
      }
      if (info.params !== undefined) {
        if (!isObject(info.params)) throw bad('"output_info.params" must be an object');
        out.params = info.params;
      }
    }
    const versionId = (version as Record<string, unknown> | undefined)?.id;
    if (typeof versionId === 'string' && versionId !== '') out.versionId = versionId;
  }
  const selector = body.runner_selector;
  if (selector !== undefined && selector !== null) {
    if (!isObject(selector)) throw bad('"runner_selector" must be an object');
    out.runnerSelector = selector as RunnerSelector;
  }
  return out;
}
