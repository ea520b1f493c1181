import { PredictionError, SibylError } from '../../../core/errors.js';
import { StatusCode } from '../../../core/status.js';
import { toErrorReply } from '../../errors.js';
import { OpenAiParamError } from '../../services/openai-models.js';

/**
 * Errors on /v1 in OpenAI's shape, `{error: {message, type, param, code}}`. The HTTP status and
 * the message come from the server's one mapping (errors.ts), so /v1 and /v2 never disagree on
 * what an error is; only the envelope differs. OpenAI clients pick their error class from the
 * status (401 AuthenticationError, 404 NotFoundError, 429 RateLimitError...).
 */

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface OpenAiErrorReply {
  httpStatus: number;
  body: OpenAiErrorBody;
  retryAfterSeconds?: number;
  /** Unexpected, or a crashing model: worth a stack in the log. */
  log: boolean;
}

function typeFor(httpStatus: number): string {
  if (httpStatus === 401) return 'authentication_error';
  if (httpStatus === 403) return 'permission_error';
  if (httpStatus === 404) return 'not_found_error';
  if (httpStatus === 429) return 'rate_limit_error';
  if (httpStatus >= 500) return 'server_error';
  return 'invalid_request_error';
}

function codeFor(httpStatus: number, v2Code: number): string | null {
  if (httpStatus === 401) return 'invalid_api_key';
  if (v2Code === StatusCode.MODEL_DOES_NOT_EXIST) return 'model_not_found';
  if (v2Code === StatusCode.CONN_INSUFFICIENT_SCOPES) return 'insufficient_scopes';
  if (httpStatus === 429) return 'rate_limit_exceeded';
  return null;
}

/** Inference params the engine names in its refusals, as the OpenAI field a client sent. */
const PARAM_FIELDS: Readonly<Record<string, string>> = {
  temperature: 'temperature',
  top_p: 'top_p',
  top_k: 'top_k',
  max_tokens: 'max_tokens',
  stop: 'stop',
  seed: 'seed',
  system_prompt: 'messages',
  language: 'language',
};

function paramOf(err: unknown, message: string): string | null {
  if (err instanceof OpenAiParamError) return err.param;
  const named = /inference param "(\w+)"/.exec(message)?.[1];
  return named !== undefined ? (PARAM_FIELDS[named] ?? null) : null;
}

export function toOpenAiError(err: unknown, reqId: string, bodyLimit?: number): OpenAiErrorReply {
  const out = toErrorReply(err, reqId, bodyLimit);
  const message = out.status.details ?? out.status.description;
  return {
    httpStatus: out.httpStatus,
    body: {
      error: {
        message,
        type: typeFor(out.httpStatus),
        param: paramOf(err, message),
        code: codeFor(out.httpStatus, out.status.code),
      },
    },
    ...(out.retryAfterSeconds !== undefined ? { retryAfterSeconds: out.retryAfterSeconds } : {}),
    log: out.httpStatus >= 500 && !(err instanceof SibylError && !(err instanceof PredictionError)),
  };
}
