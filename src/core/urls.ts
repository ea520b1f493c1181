import { InvalidArgumentError } from './errors.js';
import { StatusCode } from './status.js';

export interface ModelRef {
  userId: string;
  appId: string;
  modelId: string;
  versionId?: string;
}

const URL_SHAPE = 'https://<host>/<user_id>/<app_id>/models/<model_id>[/versions/<version_id>]';

/**
 * Parses a Clarifai model URL such as https://clarifai.com/clarifai/main/models/general-image-recognition.
 * The host is not used to pick a server (requests go to the configured base), so any http(s) host is accepted.
 */
export function parseModelUrl(input: string): ModelRef {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw badUrl(input, 'it is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw badUrl(input, 'it must start with https://');
  let parts: string[];
  try {
    parts = url.pathname
      .split('/')
      .filter((p) => p.length > 0)
      .map(decodeURIComponent);
  } catch {
    throw badUrl(input, 'it has an invalid %-escape');
  }
  const [userId, appId, models, modelId, versions, versionId, ...rest] = parts;
  if (!userId || !appId || models !== 'models' || !modelId) throw badUrl(input, 'the path does not match');
  if (versions === undefined) return { userId, appId, modelId };
  if (versions !== 'versions' || !versionId || rest.length > 0)
    throw badUrl(input, 'the path does not match');
  return { userId, appId, modelId, versionId };
}

/** The canonical web URL of a model, for display. */
export function modelUrl(ref: ModelRef, host = 'https://clarifai.com'): string {
  const base = `${host}/${ref.userId}/${ref.appId}/models/${ref.modelId}`;
  return ref.versionId ? `${base}/versions/${ref.versionId}` : base;
}

function badUrl(input: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `invalid model URL "${input}": ${why}; expected ${URL_SHAPE}`,
    StatusCode.CONN_INVALID_REQUEST,
    'Invalid model URL',
  );
}
