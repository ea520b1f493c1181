import { InvalidArgumentError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';

/**
 * A mistake in a model folder: what the file or setting holds, and what is allowed. Refused at
 * upload (MODEL_INVALID_ARGUMENT) so the user fixes the folder, never at first prediction.
 */
export function folderError(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, StatusCode.MODEL_INVALID_ARGUMENT, 'Invalid model folder');
}

type Plain = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What was found, for messages: `"nhcw"`, `[224]`, `nothing`. */
export function found(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/**
 * Reads one block of a model's config (`runtime`, `runtime.preprocess`, `batching`...) with
 * messages that name the file and the full key, so `config.yaml runtime.preprocess.layout must be
 * nchw or nhwc, got "nhcw"` points the user at the exact line. Specs read back from storage go
 * through the same reader, so a stored spec is held to the rules its folder was.
 */
export class ConfigReader {
  readonly block: Plain;

  constructor(
    block: unknown,
    readonly path: string,
    readonly file = 'config.yaml',
  ) {
    if (block !== undefined && !isPlainObject(block)) throw this.error('', 'a mapping of keys', block);
    this.block = block ?? {};
  }

  error(key: string, want: string, value: unknown): InvalidArgumentError {
    return folderError(`${this.file} ${this.where(key)} must be ${want}, got ${found(value)}`);
  }

  where(key: string): string {
    return key === '' ? this.path : this.path === '' ? key : `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.block[key] !== undefined && this.block[key] !== null;
  }

  /** Unknown keys are refused: a misspelt `preproces` would otherwise be ignored without a word. */
  allowOnly(keys: readonly string[]): void {
    for (const key of Object.keys(this.block)) {
      if (!keys.includes(key)) {
        throw folderError(
          `${this.file} has an unknown key ${this.where(key)}; allowed in ${this.path || 'the file'}: ${keys.join(', ')}`,
        );
      }
    }
  }

  child(key: string): ConfigReader {
    return new ConfigReader(this.block[key], this.where(key), this.file);
  }

  string(key: string): string | undefined {
    const value = this.block[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value === '') throw this.error(key, 'a non-empty string', value);
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined) throw this.error(key, 'a non-empty string', undefined);
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T;
  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined;
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T | undefined {
    const value = this.block[key];
    if (value === undefined || value === null) return fallback;
    if (!allowed.includes(value as T)) throw this.error(key, `one of ${allowed.join(', ')}`, value);
    return value as T;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.block[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') throw this.error(key, 'true or false', value);
    return value;
  }

  number(key: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
    const value = this.block[key];
    if (value === undefined || value === null) return undefined;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!opts.integer || Number.isInteger(value)) &&
      (opts.min === undefined || value >= opts.min) &&
      (opts.max === undefined || value <= opts.max);
    if (!ok) throw this.error(key, numberWords(opts), value);
    return value;
  }

  /** A list of `length` numbers, e.g. per-channel means; one number stands for all of them. */
  numbers(key: string, length: number, opts: { positive?: boolean } = {}): number[] | undefined {
    const value = this.block[key];
    if (value === undefined || value === null) return undefined;
    const list = typeof value === 'number' ? Array<number>(length).fill(value) : value;
    const ok =
      Array.isArray(list) &&
      list.length === length &&
      list.every((v) => typeof v === 'number' && Number.isFinite(v) && (!opts.positive || v > 0));
    if (!ok) throw this.error(key, `a list of ${length} numbers${opts.positive ? ' above 0' : ''}`, value);
    return list as number[];
  }
}

function numberWords(opts: { min?: number; max?: number; integer?: boolean }): string {
  const kind = opts.integer ? 'an integer' : 'a number';
  if (opts.min !== undefined && opts.max !== undefined) return `${kind} from ${opts.min} to ${opts.max}`;
  if (opts.min !== undefined) return `${kind} >= ${opts.min}`;
  if (opts.max !== undefined) return `${kind} <= ${opts.max}`;
  return kind;
}
