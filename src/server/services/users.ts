import { InvalidArgumentError, NotFoundError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { SingleUserResponse } from '../../core/wire.js';
import type { UserRecord } from '../../store/index.js';
import { isAdmin, ownerFor, userNotFound } from './access.js';
import type { Caller, ServiceContext } from './context.js';
import { createdKey, newKeyOf, type WireKey } from './keys.js';
import { ok } from './reply.js';

/**
 * A key acts only for its own user: "me" or the caller's own id. Any other user id is answered
 * like a user that does not exist. (Admins go through access.ts's ownerFor.)
 */
export function ownUserId(caller: Caller, userId: string): string {
  if (userId === 'me' || userId === caller.userId) return caller.userId;
  throw userNotFound(userId);
}

function toWireUser(user: UserRecord): SingleUserResponse['user'] {
  const wire: SingleUserResponse['user'] = { id: user.id, created_at: user.createdAt };
  // Clarifai's User has first and last names, not one full name
  const [first, ...rest] = user.fullName.trim().split(/\s+/);
  if (first) wire.first_name = first;
  if (rest.length > 0) wire.last_name = rest.join(' ');
  return wire;
}

export async function getUser(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  reqId: string,
): Promise<SingleUserResponse> {
  const id = await ownerFor(ctx, caller, userId);
  const user = await ctx.store.users.get(id);
  if (!user)
    throw new NotFoundError(StatusCode.USER_DOES_NOT_EXIST, 'User does not exist', `no user "${id}"`);
  return { status: ok(reqId), user: toWireUser(user) };
}

/**
 * POST /v2/users (Sibyl's; Clarifai's public API has no such route): an admin creates a user,
 * `{"user": {"id", "first_name"?, "last_name"?}, "key"?: {"description", "scopes", "expires_at"}}`.
 * With `key`, the user's first PAT is made and its token returned once, in `key.id`.
 */
export async function postUsers(
  ctx: ServiceContext,
  caller: Caller,
  body: unknown,
  reqId: string,
): Promise<{ status: ReturnType<typeof ok>; user: SingleUserResponse['user']; key?: WireKey }> {
  if (!(await isAdmin(ctx, caller))) {
    throw new SibylError(
      StatusCode.CONN_INSUFFICIENT_SCOPES,
      'Insufficient scopes',
      'creating users needs an admin user\'s key with the "admin" scope',
    );
  }
  const b = isRecord(body) ? body : {};
  const u = isRecord(b.user)
    ? b.user
    : Array.isArray(b.users) && isRecord(b.users[0])
      ? b.users[0]
      : undefined;
  if (!u || typeof u.id !== 'string' || u.id === '') {
    throw new InvalidArgumentError(
      'the body must be {"user": {"id": "...", "first_name"?, "last_name"?}, "key"?: {...}}',
    );
  }
  const fullName =
    typeof u.full_name === 'string'
      ? u.full_name
      : [u.first_name, u.last_name].filter((x): x is string => typeof x === 'string' && x !== '').join(' ');
  // the key is checked before the user is written, so a bad key leaves no user behind
  const keySpec = isRecord(b.key) ? newKeyOf(undefined, b.key, new Date()) : undefined;
  if (keySpec?.scopes.includes('admin') && u.is_admin !== true) {
    throw new InvalidArgumentError('only an admin user\'s key may have the "admin" scope');
  }
  const user = await ctx.store.users.create({ id: u.id, fullName, isAdmin: u.is_admin === true });
  const out: { status: ReturnType<typeof ok>; user: SingleUserResponse['user']; key?: WireKey } = {
    status: ok(reqId),
    user: toWireUser(user),
  };
  if (keySpec) out.key = createdKey(await ctx.store.pats.create(user.id, keySpec));
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
