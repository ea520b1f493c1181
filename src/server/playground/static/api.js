// The v2 calls the page makes: same origin, the key in the Authorization header only.
/* global sessionStorage */

const PAT_KEY = 'sibyl.playground.pat';

/** The key lives in this tab's session storage: gone when the tab closes, never in a URL or cookie. */
export const session = {
  get: () => sessionStorage.getItem(PAT_KEY),
  set: (pat) => sessionStorage.setItem(PAT_KEY, pat),
  clear: () => sessionStorage.removeItem(PAT_KEY),
};

/** A failed call, carrying the v2 status (code, description, details, req_id) when the server sent one. */
export class ApiError extends Error {
  constructor(message, { status, httpStatus, body } = {}) {
    super(message);
    this.status = status;
    this.httpStatus = httpStatus;
    this.body = body;
  }
}

/**
 * Calls the v2 API. Resolves with `{ body, httpStatus, ms }` for any answer with a v2 status that
 * is not a whole failure (SUCCESS and MIXED_STATUS alike); rejects with an ApiError otherwise.
 */
export async function call(pat, method, path, body) {
  const started = performance.now();
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: {
        Authorization: `Key ${pat}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError('The server did not answer. Is `clarifai serve` still running?');
  }
  const ms = performance.now() - started;
  let json;
  try {
    json = await res.json();
  } catch {
    throw new ApiError(`The server answered HTTP ${res.status} without a JSON body.`, {
      httpStatus: res.status,
    });
  }
  const status = json && typeof json === 'object' ? json.status : undefined;
  if (!res.ok || !status || (status.code !== 10000 && status.code !== 10010)) {
    const text = status
      ? [status.description, status.details].filter(Boolean).join(': ')
      : `HTTP ${res.status}`;
    throw new ApiError(text, { status, httpStatus: res.status, body: json });
  }
  return { body: json, httpStatus: res.status, ms };
}

/** True when the key itself was refused: the page then asks to sign in again. */
export function isKeyError(err) {
  return (
    err instanceof ApiError && (err.httpStatus === 401 || [11008, 11009, 11007].includes(err.status?.code))
  );
}

/** Every model the key can use, all pages of GET /v2/models. */
export async function listModels(pat) {
  const perPage = 500;
  const models = [];
  for (let page = 1; page <= 20; page++) {
    const { body } = await call(pat, 'GET', `/v2/models?per_page=${perPage}&page=${page}`);
    const batch = Array.isArray(body.models) ? body.models : [];
    models.push(...batch);
    if (batch.length < perPage) break;
  }
  return models;
}

/** The REST path of a model's outputs (its latest version, as the commands shown use). */
export function outputsPath(model) {
  const seg = (s) => encodeURIComponent(s);
  return `/v2/users/${seg(model.user_id)}/apps/${seg(model.app_id)}/models/${seg(model.id)}/outputs`;
}
