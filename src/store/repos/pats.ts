import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { PatsTable } from '../schema.js';
import { timestamp, type RepoContext } from './common.js';

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
  createdAt: string;
}

/** What may be shown about a PAT after creation: never the token or its hash. */
export interface PatInfo {
  id: string;
  userId: string;
  description: string;
  /** e.g. `sbl_AbCd…wxYz`, enough to tell keys apart. */
  display: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface VerifiedPat {
  userId: string;
  patId: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Shape check only: anything that fails it cannot be a token, so no query is made. */
export function looksLikePat(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_PATTERN.test(token);
}

function toPatInfo(row: PatsTable): PatInfo {
  return {
    id: row.id,
    userId: row.user_id,
    description: row.description,
    display: `${row.token_prefix}…${row.token_last4}`,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export class PatsRepo {
  constructor(private readonly ctx: RepoContext) {}

  async create(userId: string, description = ''): Promise<CreatedPat> {
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
        })
        .execute();
    } catch (err) {
      const user = await this.ctx.db
        .selectFrom('users')
        .select('id')
        .where('id', '=', userId)
        .executeTakeFirst();
      if (!user) throw new NotFoundError(StatusCode.USER_DOES_NOT_EXIST, 'User does not exist', userId);
      throw err;
    }
    return { id, userId, token, description, createdAt };
  }

  /** The user a token belongs to, or undefined for a malformed, unknown or revoked token. */
  async verify(token: unknown): Promise<VerifiedPat | undefined> {
    if (!looksLikePat(token)) return undefined;
    const row = await this.ctx.db
      .selectFrom('pats')
      .select(['id', 'user_id', 'last_used_at'])
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (!row) return undefined;

    const now = this.ctx.now();
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
    return { userId: row.user_id, patId: row.id };
  }

  /** Deletes a PAT (optionally only if it belongs to userId); true when one was deleted. */
  async revoke(patId: string, userId?: string): Promise<boolean> {
    let query = this.ctx.db.deleteFrom('pats').where('id', '=', patId);
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    const result = await query.executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async get(patId: string): Promise<PatInfo | undefined> {
    const row = await this.ctx.db.selectFrom('pats').selectAll().where('id', '=', patId).executeTakeFirst();
    return row ? toPatInfo(row) : undefined;
  }

  async list(userId: string): Promise<PatInfo[]> {
    const rows = await this.ctx.db
      .selectFrom('pats')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toPatInfo);
  }
}
