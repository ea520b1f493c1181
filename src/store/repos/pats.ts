import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../../core/ids.js';
import type { Selectable } from 'kysely';
import type { PatsTable } from '../schema.js';
import { mustHaveUser, timestamp, type RepoContext } from './common.js';

/**
 * What a key may do. `predict`: run models; `read`: get and list; `write`: create, patch and
 * delete; `admin`: act on other users' resources and create users (only when the key's user is an
 * admin). The server maps Clarifai's scope strings ("Predict", "Models:Get", ...) onto these.
 */
export const SCOPES = ['predict', 'read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(s: unknown): s is Scope {
  return typeof s === 'string' && (SCOPES as readonly string[]).includes(s);
}

function parseScopes(text: string): Scope[] {
  return text.split(/\s+/).filter(isScope);
}

export interface NewPat {
  description?: string;
  /** Default: all of them (what every key had before scopes existed). */
  scopes?: readonly Scope[];
  /** ISO-8601 UTC; absent: never expires. */
  expiresAt?: string;
}

/**
 * Personal access tokens: `sbl_` + 32 random bytes in base64url (256 bits). Only SHA-256 of the
 * token is stored: a token is random, so a fast hash is as strong as a slow one here, and a
 * lookup by hash costs one indexed read per request. The token is returned once, by create().
 */
export const PAT_PREFIX = 'sbl_';
const TOKEN_PATTERN = /^sbl_[A-Za-z0-9_-]{43}$/;
const DISPLAY_PREFIX_LENGTH = PAT_PREFIX.length + 4;

/** last_used_at is refreshed at most this often, so verifying is not a write per request. */
export const TOUCH_INTERVAL_MS = 60_000;

export interface CreatedPat {
  id: string;
  userId: string;
  /** The secret; shown once, never retrievable later. */
  token: string;
  description: string;
  scopes: Scope[];
  expiresAt: string | null;
  createdAt: string;
}

/** What may be shown about a PAT after creation: never the token or its hash. */
export interface PatInfo {
  id: string;
  userId: string;
  description: string;
  /** e.g. `sbl_AbCd…wxYz`, enough to tell keys apart. */
  display: string;
  scopes: Scope[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface VerifiedPat {
  userId: string;
  patId: string;
  scopes: Scope[];
}

/** Why a token is refused, or the key it is. */
export type PatLookup =
  | { status: 'ok'; pat: VerifiedPat }
  | { status: 'unknown' }
  | { status: 'revoked'; at: string }
  | { status: 'expired'; at: string };

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Shape check only: anything that fails it cannot be a token, so no query is made. */
export function looksLikePat(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_PATTERN.test(token);
}

function toPatInfo(row: Selectable<PatsTable>): PatInfo {
  return {
    id: row.id,
    userId: row.user_id,
    description: row.description,
    display: `${row.token_prefix}…${row.token_last4}`,
    scopes: parseScopes(row.scopes),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}

export class PatsRepo {
  constructor(private readonly ctx: RepoContext) {}

  async create(userId: string, opts: NewPat | string = {}): Promise<CreatedPat> {
    const {
      description = '',
      expiresAt = null,
      scopes = SCOPES,
    } = typeof opts === 'string' ? { description: opts } : opts;
    const unique = SCOPES.filter((s) => scopes.includes(s));
    const token = PAT_PREFIX + randomBytes(32).toString('base64url');
    const id = newId();
    const createdAt = timestamp(this.ctx);
    try {
      await this.ctx.db
        .insertInto('pats')
        .values({
          id,
          user_id: userId,
          token_hash: hashToken(token),
          token_prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
          token_last4: token.slice(-4),
          description,
          created_at: createdAt,
          last_used_at: null,
          scopes: unique.join(' '),
          expires_at: expiresAt,
          revoked_at: null,
        })
        .execute();
    } catch (err) {
      await mustHaveUser(this.ctx.db, userId);
      throw err;
    }
    return { id, userId, token, description, scopes: unique, expiresAt, createdAt };
  }

  /** The user a token belongs to, or undefined for a malformed, unknown, revoked or expired token. */
  async verify(token: unknown): Promise<VerifiedPat | undefined> {
    const found = await this.lookup(token);
    return found.status === 'ok' ? found.pat : undefined;
  }

  /** Like verify, but says why a token is refused (auth answers revoked and expired keys apart). */
  async lookup(token: unknown): Promise<PatLookup> {
    if (!looksLikePat(token)) return { status: 'unknown' };
    const row = await this.ctx.db
      .selectFrom('pats')
      .select(['id', 'user_id', 'last_used_at', 'scopes', 'expires_at', 'revoked_at'])
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (!row) return { status: 'unknown' };
    if (row.revoked_at !== null) return { status: 'revoked', at: row.revoked_at };

    const now = this.ctx.now();
    if (row.expires_at !== null && row.expires_at <= now.toISOString()) {
      return { status: 'expired', at: row.expires_at };
    }
    const cutoff = new Date(now.getTime() - TOUCH_INTERVAL_MS).toISOString();
    if (row.last_used_at === null || row.last_used_at < cutoff) {
      // Conditional, so instances racing on one key write once per interval, not once each.
      await this.ctx.db
        .updateTable('pats')
        .set({ last_used_at: now.toISOString() })
        .where('id', '=', row.id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', cutoff)]))
        .execute();
    }
    return { status: 'ok', pat: { userId: row.user_id, patId: row.id, scopes: parseScopes(row.scopes) } };
  }

  /**
   * Revokes a PAT (optionally only if it belongs to userId); true when a live one was revoked.
   * The row stays, so the token is answered "revoked" rather than "unknown".
   */
  async revoke(patId: string, userId?: string): Promise<boolean> {
    let query = this.ctx.db
      .updateTable('pats')
      .set({ revoked_at: timestamp(this.ctx) })
      .where('id', '=', patId)
      .where('revoked_at', 'is', null);
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** The key id of a token (for revoking by the token itself), if the token is one. */
  async idOfToken(token: string): Promise<string | undefined> {
    if (!looksLikePat(token)) return undefined;
    const row = await this.ctx.db
      .selectFrom('pats')
      .select('id')
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    return row?.id;
  }

  /** Changes a live key's description and/or expiry; false when there is no such live key. */
  async patch(
    patId: string,
    userId: string,
    changes: { description?: string; expiresAt?: string | null },
  ): Promise<boolean> {
    const set: { description?: string; expires_at?: string | null } = {};
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
    if (Object.keys(set).length === 0) return (await this.get(patId))?.userId === userId;
    const result = await this.ctx.db
      .updateTable('pats')
      .set(set)
      .where('id', '=', patId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** A live (not revoked) key. */
  async get(patId: string): Promise<PatInfo | undefined> {
    const row = await this.ctx.db
      .selectFrom('pats')
      .selectAll()
      .where('id', '=', patId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? toPatInfo(row) : undefined;
  }

  async list(userId: string): Promise<PatInfo[]> {
    const rows = await this.ctx.db
      .selectFrom('pats')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toPatInfo);
  }
}
