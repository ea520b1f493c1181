import { NotFoundError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { AppRecord, Scope } from '../../store/index.js';
import type { Caller, ServiceContext } from './context.js';

/**
 * Who may touch what. A key acts for its own user; a key with the `admin` scope whose user is an
 * admin acts for any user. Another user's private resource answers exactly like a missing one
 * (never 403, which would say it exists); only a missing scope answers 403, and that depends on
 * the key and the RPC alone.
 */

export function hasScope(caller: Caller, scope: Scope): boolean {
  return caller.scopes === undefined || caller.scopes.includes(scope) || caller.scopes.includes('admin');
}

/** Refuses a key that has none of the scopes given (one scope, or a list of which any will do). */
export function requireScope(caller: Caller, scope: Scope | readonly Scope[], what: string): void {
  const any = typeof scope === 'string' ? [scope] : scope;
  if (any.some((s) => hasScope(caller, s))) return;
  const wanted = any.map((s) => `"${s}"`).join(' or ');
  throw new SibylError(
    StatusCode.CONN_INSUFFICIENT_SCOPES,
    'Insufficient scopes',
    `${what} needs a key with the ${wanted} scope; this key has ${caller.scopes?.map((s) => `"${s}"`).join(', ') || 'none'}`,
  );
}

/** True when the caller may act on every user's resources. */
export async function isAdmin(ctx: ServiceContext, caller: Caller): Promise<boolean> {
  if (caller.scopes !== undefined && !caller.scopes.includes('admin')) return false;
  return (await ctx.store.users.get(caller.userId))?.isAdmin === true;
}

/**
 * Refuses a caller who is not an admin, saying what needs one and why. For settings that make
 * this server act with what only its operator holds: calling out to an address with a key read
 * from the server's environment (endpoint nodepools, models on a remote engine).
 */
export async function requireAdmin(ctx: ServiceContext, caller: Caller, what: string): Promise<void> {
  if (await isAdmin(ctx, caller)) return;
  throw new SibylError(
    StatusCode.CONN_INSUFFICIENT_SCOPES,
    'Insufficient scopes',
    `${what} needs an admin's key: this server would call that engine with a key from its own environment`,
  );
}

export function userNotFound(userId: string): NotFoundError {
  return new NotFoundError(
    StatusCode.USER_DOES_NOT_EXIST,
    'User does not exist',
    `no user "${userId}" for this key`,
  );
}

export function appNotFound(userId: string, appId: string): NotFoundError {
  return new NotFoundError(
    StatusCode.APP_DOES_NOT_EXIST,
    'App does not exist',
    `no app "${appId}" of user "${userId}" for this key`,
  );
}

/** The user whose resources a request may write: the caller's own, or any existing one for an admin. */
export async function ownerFor(ctx: ServiceContext, caller: Caller, userId: string): Promise<string> {
  if (userId === 'me' || userId === caller.userId) return caller.userId;
  if (await isAdmin(ctx, caller)) {
    if (await ctx.store.users.get(userId)) return userId;
  }
  throw userNotFound(userId);
}

/** True when the caller owns userId's resources (or is an admin). */
export async function actsFor(ctx: ServiceContext, caller: Caller, userId: string): Promise<boolean> {
  return userId === caller.userId || (await isAdmin(ctx, caller));
}

/**
 * An app the caller may read: its own (or any, for an admin), or another user's public one;
 * anything else reads as missing. `owns` says whether the caller may also write to it.
 */
export async function readableApp(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
): Promise<{ app: AppRecord; owns: boolean }> {
  const owner = userId === 'me' ? caller.userId : userId;
  const app = await ctx.store.apps.get(owner, appId);
  if (!app) throw appNotFound(userId, appId);
  if (await actsFor(ctx, caller, owner)) return { app, owns: true };
  if (app.visibility === 'public') return { app, owns: false };
  throw appNotFound(userId, appId);
}
