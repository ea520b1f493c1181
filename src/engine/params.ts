import { InvalidArgumentError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import type { InferenceParams } from '../core/wire.js';
import type { ModelSpec } from './spec.js';
import type { ParamSpec } from './types.js';

/** Errors about what a caller asked of a model (its params, its output config) share this code. */
export function modelArgumentError(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, StatusCode.MODEL_INVALID_ARGUMENT, 'Invalid model argument');
}

/**
 * Checks inference params against the model's declared schema and fills in defaults. Unknown
 * names are refused rather than ignored: a typo such as `temprature` would otherwise silently do
 * nothing. A `null` value means "use the default", as JSON clients often send explicit nulls.
 */
export function validateParams(def: Pick<ModelSpec, 'id' | 'params'>, params: unknown): InferenceParams {
  if (params === undefined || params === null) params = {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw modelArgumentError(`inference params must be a JSON object, got ${kindOf(params)}`);
  }
  const allowed = Object.keys(def.params);
  const result: InferenceParams = {};
  for (const [name, spec] of Object.entries(def.params)) {
    if (spec.default !== undefined) result[name] = spec.default;
  }
  for (const [name, value] of Object.entries(params)) {
    const spec = def.params[name];
    if (!spec) {
      throw modelArgumentError(
        allowed.length === 0
          ? `model ${def.id} takes no inference params, got "${name}"`
          : `model ${def.id} has no inference param "${name}"; allowed: ${allowed.join(', ')}`,
      );
    }
    if (value === null) continue;
    if (!fits(spec, value)) {
      throw modelArgumentError(
        `inference param "${name}" must be ${describe(spec)}, got ${JSON.stringify(value)}`,
      );
    }
    result[name] = spec.type === 'strings' && typeof value === 'string' ? [value] : value;
  }
  return result;
}

/** A `strings` param holds at most this many (unless its spec's max says otherwise). */
const MAX_STRINGS = 16;

/** Whether a value is allowed by a param's type, enum and range. */
export function fits(spec: ParamSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string' && (!spec.enum || spec.enum.includes(value));
    case 'strings': {
      const list = typeof value === 'string' ? [value] : value;
      return (
        Array.isArray(list) &&
        list.length <= (spec.max ?? MAX_STRINGS) &&
        list.every((v) => typeof v === 'string' && v !== '')
      );
    }
    case 'integer':
    case 'number':
      return (
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (spec.type === 'number' || Number.isInteger(value)) &&
        (spec.min === undefined || value >= spec.min) &&
        (spec.max === undefined || value <= spec.max)
      );
  }
}

/** The allowed values in words, e.g. "an integer from 1 to 100". */
export function describe(spec: ParamSpec): string {
  switch (spec.type) {
    case 'boolean':
      return 'true or false';
    case 'string':
      return spec.enum ? `one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}` : 'a string';
    case 'strings':
      return `a non-empty string or a list of at most ${spec.max ?? MAX_STRINGS} non-empty strings`;
    case 'integer':
    case 'number':
      return `${spec.type === 'integer' ? 'an integer' : 'a number'}${range(spec.min, spec.max)}`;
  }
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
