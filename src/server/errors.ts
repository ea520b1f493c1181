import {
  AuthError,
  BusyError,
  InvalidArgumentError,
  LimitError,
  NotFoundError,
  PredictionError,
  SibylError,
  ThrottledError,
} from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import type { Status } from '../core/wire.js';

/** The longest path segment (an id) the router matches; longer ones answer 414. */
export const MAX_PATH_SEGMENT = 128;

/** The longest request path (with its query string) answered; longer ones answer 414. */
export const MAX_URL_LENGTH = 8192;

export interface ErrorReply {
  httpStatus: number;
  status: Status;
  retryAfterSeconds?: number;
}

/**
 * The one place an error becomes a v2 `status` and an HTTP status. Unknown errors are answered
 * as an internal error without their message (it may hold paths or secrets) and are logged.
 */
export function toErrorReply(err: unknown, reqId: string, bodyLimit?: number): ErrorReply {
  if (err == null) return reply(500, StatusCode.INTERNAL_ERROR, 'Internal error', undefined, reqId);
  if (err instanceof SibylError) {
    const status: Status = { code: err.code, description: err.description, req_id: reqId };
    if (err.details) status.details = err.details;
    return { httpStatus: httpStatusFor(err), status, ...retryAfter(err) };
  }
  const fastifyCode = (err as { code?: string; statusCode?: number }).code;
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply(
      413,
      StatusCode.RPC_MAX_MESSAGE_SIZE_EXCEEDED,
      'Request too large',
      `the request body exceeds the server limit${bodyLimit ? ` of ${formatBytes(bodyLimit)}` : ''}`,
      reqId,
    );
  }
  if (
    fastifyCode === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    (err instanceof SyntaxError && /JSON/.test(err.message))
  ) {
    return reply(
      400,
      StatusCode.CONN_BAD_REQUEST_FORMAT,
      'Bad request format',
      'the body is not valid JSON',
      reqId,
    );
  }
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return reply(
      415,
      StatusCode.CONN_BAD_REQUEST_FORMAT,
      'Unsupported media type',
      'send a JSON body with content-type application/json',
      reqId,
    );
  }
  if (fastifyCode === 'FST_ERR_BAD_URL') {
    return reply(
      400,
      StatusCode.CONN_BAD_REQUEST_FORMAT,
      'Bad request format',
      'the URL path is not valid percent-encoded UTF-8',
      reqId,
    );
  }
  if (fastifyCode === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply(
      414,
      StatusCode.CONN_INVALID_REQUEST,
      'URI too long',
      `a path segment is longer than ${MAX_PATH_SEGMENT} characters (ids have at most 128)`,
      reqId,
    );
  }
  if (fastifyCode === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return reply(
      400,
      StatusCode.CONN_BAD_REQUEST_FORMAT,
      'Bad request format',
      'send a JSON body with content-type application/json',
      reqId,
    );
  }
  const code = (err as { statusCode?: number }).statusCode;
  if (typeof code === 'number' && code >= 400 && code < 500) {
    return reply(code, StatusCode.CONN_INVALID_REQUEST, 'Invalid request', (err as Error).message, reqId);
  }
  return reply(500, StatusCode.INTERNAL_ERROR, 'Internal error', undefined, reqId);
}

function httpStatusFor(err: SibylError): number {
  if (err instanceof AuthError) return 401;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof InvalidArgumentError) return 400;
  if (err instanceof PredictionError) return 500;
  if (err instanceof LimitError) return err.code === StatusCode.INPUT_OVER_LIMIT ? 413 : 429;
  switch (err.code) {
    case StatusCode.CONN_KEY_INVALID:
    case StatusCode.CONN_KEY_NOT_FOUND:
      return 401;
    case StatusCode.CONN_INSUFFICIENT_SCOPES:
    case StatusCode.MODEL_PERMISSION_DENIED:
      return 403;
    case StatusCode.MODEL_DOES_NOT_EXIST:
    case StatusCode.INPUT_DOES_NOT_EXIST:
    case StatusCode.CONN_DOES_NOT_EXIST:
    case StatusCode.NODEPOOL_DOES_NOT_EXIST:
    case StatusCode.COMPUTE_CLUSTER_DOES_NOT_EXIST:
    case StatusCode.DEPLOYMENT_DOES_NOT_EXIST:
    case StatusCode.RUNNER_DOES_NOT_EXIST:
      return 404;
    case StatusCode.RUNNER_PERMISSION_DENIED:
      return 403;
    case StatusCode.RUNNER_NEEDS_RETRY:
      return 503;
    case StatusCode.RUNNER_PROCESSING_FAILED:
      return 502;
    case StatusCode.INPUT_DUPLICATE:
      return 409;
    case StatusCode.MODEL_BUSY_PLEASE_RETRY:
      return 429;
    case StatusCode.MODEL_NOT_DEPLOYED:
      return 503;
    case StatusCode.MODEL_LOADING:
    case StatusCode.MODEL_DEPLOYING:
    case StatusCode.TRY_AGAIN:
      return 503;
    case StatusCode.INPUT_CONNECTION_FAILED:
      return 502;
    case StatusCode.NOT_IMPLEMENTED:
      return 501;
    case StatusCode.MODEL_PREDICTION_FAILED:
    case StatusCode.INTERNAL_ERROR:
      return 500;
    default:
      return 400;
  }
}

function retryAfter(err: SibylError): { retryAfterSeconds?: number } {
  const busy: number[] = [
    StatusCode.MODEL_BUSY_PLEASE_RETRY,
    StatusCode.MODEL_LOADING,
    StatusCode.MODEL_DEPLOYING,
    StatusCode.TRY_AGAIN,
    StatusCode.RUNNER_NEEDS_RETRY,
  ];
  if (err instanceof BusyError || err instanceof ThrottledError)
    return { retryAfterSeconds: err.retryAfterSeconds };
  return busy.includes(err.code) ? { retryAfterSeconds: 1 } : {};
}

function reply(
  httpStatus: number,
  code: number,
  description: string,
  details: string | undefined,
  reqId: string,
): ErrorReply {
  const status: Status = { code, description, req_id: reqId };
  if (details) status.details = details;
  return { httpStatus, status };
}

function formatBytes(n: number): string {
  if (n >= 1048576) return `${+(n / 1048576).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * The raw HTTP answer to a connection-level error from Node's HTTP parser (before any route or
 * request id exists): a v2 `status` naming the limit, then the connection closes.
 */
export function clientErrorResponse(err: NodeJS.ErrnoException): string {
  let out: ErrorReply;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    out = reply(
      431,
      StatusCode.CONN_BAD_REQUEST_FORMAT,
      'Request header fields too large',
      'the request line and headers exceed the server limit of 16 KiB',
      '',
    );
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    out = reply(
      408,
      StatusCode.CONN_BAD_REQUEST_FORMAT,
      'Request timeout',
      'the request was not received in time (see the server request timeout)',
      '',
    );
  } else {
    out = reply(400, StatusCode.CONN_BAD_REQUEST_FORMAT, 'Bad request format', 'malformed HTTP request', '');
  }
  delete out.status.req_id;
  const body = JSON.stringify({ status: out.status });
  const text = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
  return (
    `HTTP/1.1 ${out.httpStatus} ${text[out.httpStatus as 400 | 408 | 431]}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Connection: close\r\n\r\n${body}`
  );
}
