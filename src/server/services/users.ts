import { NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { SingleUserResponse } from '../../core/wire.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';

/**
 * A key acts only for its own user: "me" or the caller's own id. Any other user id is answered
 * like a user that does not exist.
 */
export function ownUserId(caller: Caller, userId: string): string {
  if (userId === 'me' || userId === caller.userId) return caller.userId;
  throw new NotFoundError(
    StatusCode.USER_DOES_NOT_EXIST,
    'User does not exist',
    `no user "${userId}" for this key`,
  );
}

export async function getUser(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  reqId: string,
): Promise<SingleUserResponse> {
  const id = ownUserId(caller, userId);
  const user = await ctx.store.users.get(id);
  if (!user)
    throw new NotFoundError(StatusCode.USER_DOES_NOT_EXIST, 'User does not exist', `no user "${id}"`);
  const wire: SingleUserResponse['user'] = { id: user.id, created_at: user.createdAt };
  // Clarifai's User has first and last names, not one full name
  const [first, ...rest] = user.fullName.trim().split(/\s+/);
  if (first) wire.first_name = first;
  if (rest.length > 0) wire.last_name = rest.join(' ');
  return { status: ok(reqId), user: wire };
}
