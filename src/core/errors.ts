import { DEFAULT_DESCRIPTIONS, StatusCode } from './status.js';

/**
 * The one error type every layer below the CLI throws. It carries a v2 status code, so the
 * server maps it to a wire `status` (and an HTTP status) in exactly one place, and the SDK
 * rebuilds the same shape from a response.
 */
export class SibylError extends Error {
  readonly code: number;
  readonly description: string;
  readonly details: string | undefined;

  constructor(code: number, description?: string, details?: string, options?: { cause?: unknown }) {
    const text = description ?? DEFAULT_DESCRIPTIONS[code] ?? 'Error';
    super(details ? `${text}: ${details}` : text, options);
    this.name = new.target.name;
    this.code = code;
    this.description = text;
    this.details = details;
  }
}

/** The request itself is malformed or names something unknown (HTTP 400). */
export class InvalidArgumentError extends SibylError {
  constructor(details: string, code: number = StatusCode.CONN_INVALID_REQUEST, description?: string) {
    super(code, description ?? DEFAULT_DESCRIPTIONS[code] ?? 'Invalid request', details);
  }
}

/** A thing the caller may not see does not exist for them (HTTP 404). */
export class NotFoundError extends SibylError {
  constructor(code: number, description: string, details?: string) {
    super(code, description, details);
  }
}

/** Missing or wrong credentials (HTTP 401). */
export class AuthError extends SibylError {
  constructor(details: string, code: number = StatusCode.CONN_KEY_INVALID) {
    super(code, DEFAULT_DESCRIPTIONS[code] ?? 'API key is invalid', details);
  }
}

/** A limit was exceeded (HTTP 413 or 429, depending on the code). */
export class LimitError extends SibylError {}

/** Too much work is waiting: come back later (HTTP 429 with Retry-After). */
export class BusyError extends LimitError {
  constructor(
    details: string,
    /** When a retry has a fair chance, from the work ahead of it. */
    readonly retryAfterSeconds: number,
  ) {
    super(StatusCode.MODEL_BUSY_PLEASE_RETRY, 'Model busy, please retry', details);
  }
}

/** A key sent more requests than its rate allows (HTTP 429 with Retry-After). */
export class ThrottledError extends LimitError {
  constructor(
    details: string,
    /** When the key has a request to spend again. */
    readonly retryAfterSeconds: number,
  ) {
    super(StatusCode.CONN_THROTTLED, 'Too many requests', details);
  }
}

/** The model ran and failed, or a runtime could not load (HTTP 500/503). */
export class PredictionError extends SibylError {
  constructor(details: string, options?: { cause?: unknown }) {
    super(StatusCode.MODEL_PREDICTION_FAILED, 'Model prediction failed', details, options);
  }
}
