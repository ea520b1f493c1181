import { StatusCode } from '../core/status.js';
import type { RequestRecord } from './metrics.js';

/**
 * `serve --log-format json`: one JSON object per line. A request line holds only what
 * RequestRecord holds (method, route pattern, path without its query, statuses, time, ids): never a
 * header, a key or a body. Server faults are logged apart, at level error, with their stack; a
 * client's mistake has no stack (it is the caller's to fix, and its reason is in the answer).
 */

export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** One request as a JSON line (no trailing newline). */
export function jsonRequestLine(rec: RequestRecord): string {
  const failed =
    rec.code !== undefined && rec.code !== StatusCode.SUCCESS && rec.code !== StatusCode.MIXED_STATUS;
  const level = rec.status >= 500 ? 'error' : rec.status >= 400 || failed ? 'warn' : 'info';
  return JSON.stringify({
    time: new Date().toISOString(),
    level,
    req_id: rec.reqId,
    method: rec.method,
    route: rec.route,
    path: rec.path,
    status: rec.status,
    code: rec.code ?? null,
    ms: Math.round(rec.ms * 10) / 10,
    transport: rec.transport,
    ...(rec.userId !== undefined ? { user_id: rec.userId } : {}),
  });
}

/** A server fault (an unexpected error, a crashed model) as a JSON line, with its stack. */
export function jsonErrorLine(err: unknown, reqId: string): string {
  const e = err instanceof Error ? err : new Error(String(err));
  return JSON.stringify({
    time: new Date().toISOString(),
    level: 'error',
    req_id: reqId,
    msg: e.message,
    error: e.name,
    ...(e.stack ? { stack: e.stack } : {}),
  });
}
