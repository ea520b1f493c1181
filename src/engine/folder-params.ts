import { folderError, found, isPlainObject, type ConfigReader } from './config-reader.js';
import type { ParamSpec } from './types.js';
import { describe, fits } from './params.js';

const PARAM_TYPES = ['number', 'integer', 'string', 'boolean', 'strings'] as const;
const LONG_FORM_KEYS = ['type', 'description', 'default', 'min', 'max', 'enum'];

/**
 * A folder's inference params: its task's (a detector's min_score...) plus config.yaml `params:`.
 * A plain value there sets the default (`min_score: 0.6`; a new name gets its type from the value);
 * a mapping declares a param fully (`top_k: {type: integer, default: 40, min: 1}`).
 */
export function folderParams(
  block: ConfigReader,
  taskParams: Readonly<Record<string, ParamSpec>>,
): Record<string, ParamSpec> {
  const params: Record<string, ParamSpec> = { ...taskParams };
  for (const [name, value] of Object.entries(block.block)) {
    const where = block.where(name);
    const known = taskParams[name];
    if (isPlainObject(value)) {
      params[name] = longForm(block.child(name), known);
    } else if (known) {
      if (!fits(known, value))
        throw folderError(`config.yaml ${where} must be ${describe(known)}, got ${found(value)}`);
      params[name] = { ...known, default: value as ParamSpec['default'] };
    } else {
      params[name] = {
        type: inferType(value, where),
        description: `Set in the model's config.yaml.`,
        default: value as ParamSpec['default'],
      };
    }
  }
  return params;
}

function inferType(value: unknown, where: string): ParamSpec['type'] {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== ''))
    return 'strings';
  // numbers are numbers even when whole: `temperature: 1` must still accept 0.7
  if (typeof value === 'number' && Number.isFinite(value)) return 'number';
  throw folderError(
    `config.yaml ${where} must be a number, a string, true/false, a list of strings, or a mapping with ${LONG_FORM_KEYS.join(', ')}; got ${found(value)}`,
  );
}

function longForm(block: ConfigReader, known: ParamSpec | undefined): ParamSpec {
  block.allowOnly(LONG_FORM_KEYS);
  const type = block.oneOf('type', PARAM_TYPES) ?? known?.type;
  if (type === undefined) throw block.error('type', `one of ${PARAM_TYPES.join(', ')}`, undefined);
  if (known && type !== known.type) throw block.error('type', `${known.type}, as the task declares it`, type);
  const spec: ParamSpec = { type, description: block.string('description') ?? known?.description ?? '' };
  const min = block.number('min') ?? known?.min;
  const max = block.number('max') ?? known?.max;
  if (min !== undefined) spec.min = min;
  if (max !== undefined) spec.max = max;
  const values = block.block.enum;
  if (values !== undefined) {
    if (
      type !== 'string' ||
      !Array.isArray(values) ||
      !values.every((v) => typeof v === 'string') ||
      values.length === 0
    )
      throw block.error('enum', 'a list of strings (for a string param)', values);
    spec.enum = values;
  }
  const fallback = block.block.default ?? known?.default;
  if (fallback !== undefined) {
    if (!fits(spec, fallback)) throw block.error('default', describe(spec), fallback);
    spec.default = fallback as ParamSpec['default'];
  }
  return spec;
}
