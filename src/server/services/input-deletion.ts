import { InvalidArgumentError } from '../../core/errors.js';
import type { BaseResponse } from '../../core/wire.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';
import { ownerFor } from './access.js';

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
  const owner = await ownerFor(ctx, caller, userId);
  if (ids.length === 0) throw new InvalidArgumentError('"ids" must list at least one input id');
  await ctx.store.inputs.deleteMany(owner, appId, ids);
  return { status: ok(reqId) };
}
