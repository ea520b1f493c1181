import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { BaseResponse } from '../../core/wire.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';
import { ownUserId } from './users.js';

/**
 * DELETE .../inputs/{input_id} and DELETE .../inputs {"ids": [...]}: removes the caller's own
 * inputs, all or nothing: when any id is missing nothing is deleted and the missing ids are named.
 */
export async function deleteInputs(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  ids: readonly string[],
  reqId: string,
): Promise<BaseResponse> {
  const owner = ownUserId(caller, userId);
  if (ids.length === 0) throw new InvalidArgumentError('"ids" must list at least one input id');
  const unique = [...new Set(ids)];
  // TODO(lead): move into InputsRepo as `deleteMany`; the store is being rewritten, so this stays
  // a single query here until then.
  const db = ctx.store.db;
  await db.transaction().execute(async (trx) => {
    const found = await trx
      .selectFrom('inputs')
      .select('id')
      .where('user_id', '=', owner)
      .where('app_id', '=', appId)
      .where('id', 'in', unique)
      .execute();
    const have = new Set(found.map((r) => r.id));
    const missing = unique.filter((id) => !have.has(id));
    if (missing.length > 0) {
      throw new NotFoundError(
        StatusCode.INPUT_DOES_NOT_EXIST,
        'Input does not exist',
        `no input ${missing.map((m) => `"${m}"`).join(', ')} in app "${appId}"`,
      );
    }
    await trx
      .deleteFrom('inputs')
      .where('user_id', '=', owner)
      .where('app_id', '=', appId)
      .where('id', 'in', unique)
      .execute();
  });
  return { status: ok(reqId) };
}
