import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../../../core/errors.js';
import type { Caller } from '../../services/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/** The authenticated caller; the auth hook guarantees it on every /v2 route but health. */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new Error('route reached without authentication');
  return req.caller;
}

/** Clarifai's paging query: page from 1, per_page from 1 to 1000 (default 128). */
export function paging(query: unknown): { page: number; perPage: number } {
  const q = (query ?? {}) as Record<string, string | undefined>;
  const num = (name: string, dflt: number, max: number): number => {
    const raw = q[name];
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(
        `query parameter ${name} must be an integer from 1 to ${max}; got "${raw}"`,
      );
    }
    return n;
  };
  return { page: num('page', 1, 1_000_000), perPage: num('per_page', 128, 1000) };
}

export type Params<K extends string> = { [P in K]: string };

/**
 * Fires when the client goes away before its answer is sent, so queued work for it is dropped.
 * The response's close (not the request's, which closes once the body is read) tells it.
 */
export function abandonSignal(reply: FastifyReply): AbortSignal {
  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  return abort.signal;
}
