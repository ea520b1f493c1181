import { InvalidArgumentError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import { INPUT_TYPES, type InputType } from '../core/wire.js';
import type { ParamSpec } from './types.js';

/** Which runtime runs a model, and that runtime's own settings (file names, preprocessing...). */
export interface RuntimeSettings {
  kind: string;
  [setting: string]: unknown;
}

/** Dynamic batching: inputs of several requests run together, waiting at most max_wait_ms. */
export interface BatchingSettings {
  max_batch_size: number;
  max_wait_ms: number;
}

export const NO_BATCHING: BatchingSettings = { max_batch_size: 1, max_wait_ms: 0 };
export const MAX_BATCH_SIZE = 128;
export const MAX_BATCH_WAIT_MS = 1000;

/**
 * A model version as plain, serialisable data: stored with the version, sent to worker threads,
 * the same shape for built-in, uploaded and remote models. The engine finds loaded models by
 * `versionKey`, never by model id alone, so each version runs with its own settings and files.
 */
export interface ModelSpec {
  userId: string;
  appId: string;
  id: string;
  versionId: string;
  name: string;
  modelTypeId: string;
  description: string;
  inputType: InputType;
  params: Record<string, ParamSpec>;
  /** The concept names the model can output, when it has a fixed label set. */
  concepts?: string[];
  /** For image models: the largest side the model looks at; images are shrunk to it when decoded. */
  imageSize?: number;
  /** For audio models: the sample rate audio is decoded and resampled to (default 16000). */
  audioSampleRate?: number;
  /** The weights' licence, as the model's description states it (ModelVersion.license on the wire). */
  licence?: string;
  /**
   * A program the runtime runs that may not be installed (Debian's pocketsphinx): without it the
   * model is listed as unavailable with the install command, and predicting refuses with it.
   */
  requires?: { command: string; install: string };
  /** The largest input the model accepts; past it a request is refused before any work, naming the limit. */
  limits?: InputLimits;
  runtime: RuntimeSettings;
  batching: BatchingSettings;
  /** Absolute path of the version's files (model folders); absent for built-in models. */
  folder?: string;
}

/**
 * Per-model input limits, as data: the engine refuses past them (LimitError, HTTP 413) before
 * decoding where it can (text length on the caller's thread, pixels and duration from the header).
 */
export interface InputLimits {
  /** Characters of text (as JavaScript counts them: UTF-16 code units). */
  maxTextChars?: number;
  /** Seconds of audio, read from the header before any sample is decoded. */
  maxAudioSeconds?: number;
  /** Seconds of video. */
  maxVideoSeconds?: number;
  /** Pixels of an image (width x height, before any resizing), read from the header. */
  maxPixels?: number;
}

const LIMIT_KEYS = ['maxTextChars', 'maxAudioSeconds', 'maxVideoSeconds', 'maxPixels'] as const;

/** The limits in words, for a model's description: " Input limit: 100000 characters of text; ..." */
export function describeLimits(limits: InputLimits): string {
  const parts = [
    limits.maxTextChars !== undefined ? `${limits.maxTextChars} characters of text` : undefined,
    limits.maxPixels !== undefined ? `${limits.maxPixels / 1e6} megapixels per image` : undefined,
    limits.maxAudioSeconds !== undefined ? `${limits.maxAudioSeconds} seconds of audio` : undefined,
    limits.maxVideoSeconds !== undefined ? `${limits.maxVideoSeconds} seconds of video` : undefined,
  ].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? ` Input limit: ${parts.join(', ')}; larger inputs are refused.` : '';
}

export function modelName(spec: Pick<ModelSpec, 'userId' | 'appId' | 'id'>): string {
  return `${spec.userId}/${spec.appId}/${spec.id}`;
}

/** Loaded models are keyed by version: two versions of one model are two models to the engine. */
export function versionKey(spec: Pick<ModelSpec, 'userId' | 'appId' | 'id' | 'versionId'>): string {
  return `${modelName(spec)}@${spec.versionId}`;
}

/**
 * Checks a spec read back from storage or built from a folder's config. Names the first field
 * that is wrong, so a corrupt row or a bad config is explained rather than crashing a worker.
 */
export function checkSpec(value: unknown): ModelSpec {
  const bad = (field: string, want: string) =>
    new InvalidArgumentError(`model spec: ${field} must be ${want}`, StatusCode.MODEL_INVALID_ARGUMENT);
  if (typeof value !== 'object' || value === null) throw bad('the spec', 'an object');
  const s = value as Record<string, unknown>;
  for (const field of ['userId', 'appId', 'id', 'versionId', 'modelTypeId'] as const) {
    if (typeof s[field] !== 'string' || s[field] === '') throw bad(field, 'a non-empty string');
  }
  if (!INPUT_TYPES.includes(s.inputType as InputType)) throw bad('inputType', INPUT_TYPES.join(', '));
  const runtime = s.runtime as Record<string, unknown> | undefined;
  if (typeof runtime !== 'object' || runtime === null || typeof runtime.kind !== 'string')
    throw bad('runtime.kind', 'a string');
  const batching = (s.batching ?? NO_BATCHING) as Record<string, unknown>;
  const size = batching.max_batch_size;
  const wait = batching.max_wait_ms;
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > MAX_BATCH_SIZE)
    throw bad('batching.max_batch_size', `an integer from 1 to ${MAX_BATCH_SIZE}`);
  if (typeof wait !== 'number' || !(wait >= 0) || wait > MAX_BATCH_WAIT_MS)
    throw bad('batching.max_wait_ms', `a number from 0 to ${MAX_BATCH_WAIT_MS}`);
  if (s.params !== undefined && (typeof s.params !== 'object' || s.params === null))
    throw bad('params', 'an object');
  if (s.limits !== undefined) {
    if (typeof s.limits !== 'object' || s.limits === null) throw bad('limits', 'an object');
    const limits = s.limits as Record<string, unknown>;
    for (const [key, value] of Object.entries(limits)) {
      if (!(LIMIT_KEYS as readonly string[]).includes(key))
        throw bad(`limits.${key}`, `one of ${LIMIT_KEYS.join(', ')}`);
      if (typeof value !== 'number' || !(value > 0)) throw bad(`limits.${key}`, 'a positive number');
    }
  }
  return {
    ...(s as unknown as ModelSpec),
    name: typeof s.name === 'string' ? s.name : (s.id as string),
    description: typeof s.description === 'string' ? s.description : '',
    params: (s.params ?? {}) as Record<string, ParamSpec>,
    batching: { max_batch_size: size as number, max_wait_ms: wait },
  };
}
