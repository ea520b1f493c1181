import { SibylError } from '../core/errors.js';
import type { ModelRef } from '../core/urls.js';
import { parseModelUrl } from '../core/urls.js';
import { CliUsageError } from './errors.js';

/**
 * Whether a positional word names a model, as Clarifai's current CLI takes it: a model URL, or
 * `user_id/app_id/models/model_id[/versions/version_id]`.
 */
export function looksLikeModelRef(word: string): boolean {
  if (/^https?:\/\//i.test(word)) return /\/models\/[^/]+/.test(word);
  return /^[^/\s]+\/[^/\s]+\/models\/[^/\s]+(\/versions\/[^/\s]+)?\/?$/.test(word);
}

/** Parses a model URL or `user/app/models/model`; a bad one is a usage error naming both forms. */
export function parseModelRef(word: string): ModelRef {
  const url = /^https?:\/\//i.test(word) ? word : `https://clarifai.com/${word.replace(/^\/+/, '')}`;
  try {
    return parseModelUrl(url);
  } catch (err) {
    const why = err instanceof SibylError && err.details ? err.details : String(err);
    throw new CliUsageError(
      /^https?:\/\//i.test(word)
        ? why
        : `"${word}" is not a model: give user_id/app_id/models/model_id or a model URL (https://clarifai.com/user_id/app_id/models/model_id)`,
    );
  }
}
