import { editDistance } from '../core/edit-distance.js';
import { StatusCode } from '../core/status.js';
import type { ModelRef } from '../core/urls.js';
import type { V2Client } from '../sdk/client.js';
import { ApiError } from '../sdk/errors.js';

/**
 * The candidates close enough to a typo to suggest (a third of the letters may differ), keeping
 * only the nearest: one good guess reads better than a list of loose ones.
 */
export function closest(word: string, candidates: readonly string[], max = 3): string[] {
  const w = word.toLowerCase();
  const near = candidates
    .map((c) => ({ c, d: editDistance(w, c.toLowerCase()) }))
    .filter(({ c, d }) => d <= Math.max(2, Math.floor(Math.max(c.length, w.length) / 3)));
  const best = Math.min(...near.map((n) => n.d));
  return near
    .filter((n) => n.d === best)
    .slice(0, max)
    .map(({ c }) => c);
}

const SHOWN = 8;

/**
 * A "model does not exist" answer rewritten for a person: the models closest to the one asked
 * for, else a short list of those there are (the full list is `clarifai model list`). Any other
 * error, or a listing that fails, leaves the error as it was.
 */
export async function withModelSuggestions(err: unknown, client: V2Client, ref: ModelRef): Promise<unknown> {
  if (!(err instanceof ApiError) || err.code !== StatusCode.MODEL_DOES_NOT_EXIST) return err;
  if (ref.versionId && /version/i.test(err.description)) return err;
  let names: string[];
  try {
    const res = await client.listModels({ perPage: 500 });
    names = res.models.map((m) => `${m.user_id}/${m.app_id}/models/${m.id}`);
  } catch {
    return err;
  }
  const asked = `${ref.userId}/${ref.appId}/models/${ref.modelId}`;
  const near = closest(asked, names);
  const byId =
    near.length > 0
      ? near
      : closest(
          ref.modelId,
          names.map((n) => n.split('/')[3]!),
        );
  const suggestions =
    near.length > 0 ? near : names.filter((n) => byId.includes(n.split('/')[3]!)).slice(0, 3);
  const list = `${names.slice(0, SHOWN).join(', ')}${names.length > SHOWN ? `, and ${names.length - SHOWN} more` : ''}`;
  const hosted = /Clarifai's cloud/.test(err.details ?? '')
    ? " To use Clarifai's hosted models, log in to Clarifai's cloud (base_url https://api.clarifai.com) with a PAT from clarifai.com."
    : '';
  const details =
    suggestions.length > 0
      ? `no model ${asked} here; did you mean ${suggestions.join(' or ')}? (\`clarifai model list\` shows all ${names.length})`
      : `no model ${asked} here. Available models: ${list || 'none'} (\`clarifai model list\`).${hosted}`;
  return new ApiError({
    httpStatus: err.httpStatus,
    code: err.code,
    description: err.description,
    details,
    ...(err.reqId ? { reqId: err.reqId } : {}),
  });
}
