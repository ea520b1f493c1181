import type { Status } from '../../core/wire.js';
import { StatusCode } from '../../core/status.js';

export function ok(reqId: string): Status {
  return { code: StatusCode.SUCCESS, description: 'Ok', req_id: reqId };
}
