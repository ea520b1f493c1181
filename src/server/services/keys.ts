import { InvalidArgumentError, NotFoundError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { CreatedPat, PatInfo, Scope } from '../../store/index.js';
import { hasScope, ownerFor } from './access.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';
import { parseScopes } from './scopes.js';

/**
 * Clarifai's Key, for a PAT. On creation `id` is the token itself, as on Clarifai (a key's id is
 * what it authenticates with), shown this once; afterwards `id` is the key's public id, which
 * DeleteKey takes (the token works there too). `token_hint` and `last_used_at` are Sibyl's and
 * reach REST clients through `GET /v2/sibyl/users/{user_id}/keys` (the Key message lacks them).
 */
export interface WireKey {
  id: string;
  type: 'personal_access_token';
  description: string;
  scopes: string[];
  created_at: string;
  expires_at?: string;
  token_hint?: string;
  last_used_at?: string;
  key_id?: string;
}

function toWireKey(pat: PatInfo): WireKey {
  const wire: WireKey = {
    id: pat.id,
    type: 'personal_access_token',
    description: pat.description,
    scopes: pat.scopes,
    created_at: pat.createdAt,
    token_hint: pat.display,
  };
  if (pat.expiresAt) wire.expires_at = pat.expiresAt;
  if (pat.lastUsedAt) wire.last_used_at = pat.lastUsedAt;
  return wire;
}

export function createdKey(pat: CreatedPat): WireKey {
  const wire: WireKey = {
    id: pat.token,
    key_id: pat.id,
    type: 'personal_access_token',
    description: pat.description,
    scopes: pat.scopes,
    created_at: pat.createdAt,
  };
  if (pat.expiresAt) wire.expires_at = pat.expiresAt;
  return wire;
}

function keyNotFound(keyId: string): NotFoundError {
  return new NotFoundError(
    StatusCode.CONN_KEY_NOT_FOUND,
    'API key not found',
    `no key "${keyId}" for this user`,
  );
}

/** A timestamp as RFC 3339 text (proto JSON) or {seconds}; must lie in the future. */
function expiryOf(raw: unknown, now: Date): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  let date: Date | undefined;
  if (typeof raw === 'string') date = new Date(raw);
  else if (typeof raw === 'object' && 'seconds' in raw)
    date = new Date(Number((raw as { seconds: unknown }).seconds) * 1000);
  if (!date || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(`expires_at must be an RFC 3339 time such as 2030-01-31T00:00:00Z`);
  }
  if (date.getTime() <= now.getTime())
    throw new InvalidArgumentError(`expires_at ${date.toISOString()} is in the past`);
  return date.toISOString();
}

/** The settings of a new key from a Key message; its scopes may not exceed the caller's. */
export function newKeyOf(
  caller: Caller | undefined,
  key: Record<string, unknown>,
  now: Date,
): { description: string; scopes: Scope[]; expiresAt?: string } {
  const asked = Array.isArray(key.scopes) ? key.scopes.filter((s): s is string => typeof s === 'string') : [];
  const scopes = asked.length > 0 ? parseScopes(asked) : (['predict', 'read', 'write'] as Scope[]);
  if (caller) {
    const over = scopes.filter((s) => !hasScope(caller, s));
    if (over.length > 0) {
      throw new SibylError(
        StatusCode.CONN_INSUFFICIENT_SCOPES,
        'Insufficient scopes',
        `a key may not create a key with more scopes than its own: this key lacks ${over.map((s) => `"${s}"`).join(', ')}`,
      );
    }
  }
  const expiresAt = expiryOf(key.expires_at, now);
  return {
    description: typeof key.description === 'string' ? key.description : '',
    scopes,
    ...(expiresAt ? { expiresAt } : {}),
  };
}

export async function postKeys(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  keys: Record<string, unknown>[],
  reqId: string,
): Promise<{ status: ReturnType<typeof ok>; keys: WireKey[] }> {
  const owner = await ownerFor(ctx, caller, userId);
  if (keys.length === 0) throw new InvalidArgumentError('"keys" must hold one key to create');
  const specs = keys.map((k) => newKeyOf(caller, k, new Date()));
  const out: WireKey[] = [];
  for (const spec of specs) out.push(createdKey(await ctx.store.pats.create(owner, spec)));
  return { status: ok(reqId), keys: out };
}

export async function listKeys(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  page: { page: number; perPage: number },
  reqId: string,
): Promise<{ status: ReturnType<typeof ok>; keys: WireKey[] }> {
  const owner = await ownerFor(ctx, caller, userId);
  const all = await ctx.store.pats.list(owner);
  const start = (page.page - 1) * page.perPage;
  return { status: ok(reqId), keys: all.slice(start, start + page.perPage).map(toWireKey) };
}

async function ownKey(ctx: ServiceContext, owner: string, keyId: string): Promise<PatInfo> {
  const id = (await ctx.store.pats.idOfToken(keyId)) ?? keyId;
  const pat = await ctx.store.pats.get(id);
  if (!pat || pat.userId !== owner) throw keyNotFound(keyId.startsWith('sbl_') ? '(a token)' : keyId);
  return pat;
}

export async function getKey(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  keyId: string,
  reqId: string,
): Promise<{ status: ReturnType<typeof ok>; key: WireKey }> {
  const owner = await ownerFor(ctx, caller, userId);
  return { status: ok(reqId), key: toWireKey(await ownKey(ctx, owner, keyId)) };
}

/** Revokes a key, named by its id or by the token itself. */
export async function deleteKey(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  keyId: string,
  reqId: string,
): Promise<{ status: ReturnType<typeof ok> }> {
  const owner = await ownerFor(ctx, caller, userId);
  const pat = await ownKey(ctx, owner, keyId);
  if (!(await ctx.store.pats.revoke(pat.id, owner))) throw keyNotFound(keyId);
  return { status: ok(reqId) };
}

/** Changes keys' descriptions and expiry (scopes are fixed: make a new key for other scopes). */
export async function patchKeys(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  keys: Record<string, unknown>[],
  reqId: string,
): Promise<{ status: ReturnType<typeof ok>; keys: WireKey[] }> {
  const owner = await ownerFor(ctx, caller, userId);
  const out: WireKey[] = [];
  for (const k of keys) {
    const id = typeof k.id === 'string' ? k.id : '';
    const pat = await ownKey(ctx, owner, id);
    if (Array.isArray(k.scopes) && k.scopes.length > 0) {
      throw new InvalidArgumentError(
        "a key's scopes cannot change: create a new key with the scopes you need",
      );
    }
    const expiresAt = expiryOf(k.expires_at, new Date());
    await ctx.store.pats.patch(pat.id, owner, {
      ...(typeof k.description === 'string' ? { description: k.description } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    });
    out.push(toWireKey((await ctx.store.pats.get(pat.id))!));
  }
  return { status: ok(reqId), keys: out };
}
