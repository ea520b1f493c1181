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

/** True for models whose text `.../outputs/generate` streams piece by piece. */
export function isGenerating(model) {
  return ['text-to-text', 'multimodal-to-text'].includes(model?.model_type_id);
}

/**
 * POST `${path}/generate`: newline-delimited JSON, one `{"result": MultiOutputResponse}` a line.
 * Calls `onMessage(result)` for each line as it arrives and resolves with `{ httpStatus, ms }`
 * when the stream ends. A request refused before the stream (a normal v2 error, HTTP 4xx/5xx)
 * rejects with an ApiError, as `call` does; an error mid-stream is the last message's status, so
 * it reaches `onMessage` like any other. Aborting `signal` rejects with its AbortError and closes
 * the connection, which stops the generation on the server.
 */
export async function generate(pat, path, body, { signal, onMessage }) {
  const started = performance.now();
  let res;
  try {
    res = await fetch(`${path}/generate`, {
      method: 'POST',
      headers: { Authorization: `Key ${pat}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError('The server did not answer. Is `clarifai serve` still running?');
  }
  if (!res.ok || !res.body) {
    let json;
    try {
      json = await res.json();
    } catch {
      throw new ApiError(`The server answered HTTP ${res.status} without a JSON body.`, {
        httpStatus: res.status,
      });
    }
    const status = json?.status;
    const text = status
      ? [status.description, status.details].filter(Boolean).join(': ')
      : `HTTP ${res.status}`;
    throw new ApiError(text, { status, httpStatus: res.status, body: json });
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  const emit = (line) => {
    if (line.trim() === '') return;
    let parsed;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new ApiError('The stream held a line that is not JSON.', { httpStatus: res.status });
    }
    if (parsed && typeof parsed === 'object' && parsed.result) onMessage(parsed.result);
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      emit(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
  emit(pending + decoder.decode());
  return { httpStatus: res.status, ms: performance.now() - started };
}
