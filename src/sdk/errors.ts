import { SibylError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';

/** The server answered with a non-success v2 status. */
export class ApiError extends SibylError {
  readonly httpStatus: number;
  readonly reqId: string | undefined;

  constructor(opts: {
    httpStatus: number;
    code: number;
    description: string;
    details?: string;
    reqId?: string;
  }) {
    super(opts.code, opts.description, opts.details);
    this.httpStatus = opts.httpStatus;
    this.reqId = opts.reqId;
  }
}

/** The server could not be reached, or answered with something that is not v2 JSON. */
export class ConnectionError extends SibylError {
  readonly base: string;
  /** `what` is the headline: "cannot reach <base>" unless the server answered something odd. */
  constructor(base: string, details: string, options?: { cause?: unknown; what?: string }) {
    super(StatusCode.FAILURE, options?.what ?? `cannot reach ${base}`, details, options);
    this.base = base;
  }
}

/** The caller used the SDK wrongly (missing ids, bad option combination); nothing was sent. */
export class UsageError extends SibylError {
  constructor(details: string) {
    super(StatusCode.CONN_INVALID_REQUEST, 'Invalid request', details);
    this.message = details;
  }
}
