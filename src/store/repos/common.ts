import type { Kysely } from 'kysely';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { Database } from '../schema.js';

/** What every repository is built from: the query builder and the clock. */
export interface RepoContext {
  db: Kysely<Database>;
  /** Current time; tests pass a fake clock. */
  now: () => Date;
}

/** Timestamps are stored as ISO-8601 UTC text: fixed width, so text order is time order. */
export function timestamp(ctx: RepoContext): string {
  return ctx.now().toISOString();
}

export function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export interface PageOptions {
  /** 1-based page number (default 1). */
  page?: number;
  /** Items per page (default 128, at most 1000). */
  perPage?: number;
}

export const DEFAULT_PER_PAGE = 128;
export const MAX_PER_PAGE = 1000;

/** Turns page/perPage into limit/offset, refusing values that are not positive integers. */
export function toLimitOffset(opts: PageOptions | undefined): { limit: number; offset: number } {
  const page = opts?.page ?? 1;
  const perPage = opts?.perPage ?? DEFAULT_PER_PAGE;
  if (!Number.isInteger(page) || page < 1) throw new InvalidArgumentError(`page must be a positive integer`);
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) {
    throw new InvalidArgumentError(`per_page must be an integer from 1 to ${MAX_PER_PAGE}`);
  }
  return { limit: perPage, offset: (page - 1) * perPage };
}

/**
 * Rows from `offset`, at most `limit` (default: all): for listings that place built-in items
 * before the stored ones and so compute the stored part's window themselves.
 */
export interface Window {
  limit?: number;
  offset?: number;
}

export function windowOf(w: Window): { limit: number; offset: number } {
  return { limit: w.limit ?? Number.MAX_SAFE_INTEGER, offset: w.offset ?? 0 };
}

/** True when an insert that ends in ON CONFLICT DO NOTHING really wrote its row. */
export function inserted(result: { numInsertedOrUpdatedRows?: bigint } | undefined): boolean {
  return (result?.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/**
 * A foreign-key failure reads differently on each database, so a repo whose write failed asks
 * the question directly: these throw the NotFoundError a caller should see, or return quietly.
 */
export async function mustHaveUser(db: Kysely<Database>, userId: string): Promise<void> {
  const user = await db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
  if (!user) throw new NotFoundError(StatusCode.USER_DOES_NOT_EXIST, 'User does not exist', userId);
}

export async function mustHaveApp(db: Kysely<Database>, userId: string, appId: string): Promise<void> {
  const app = await db
    .selectFrom('apps')
    .select('id')
    .where('user_id', '=', userId)
    .where('id', '=', appId)
    .executeTakeFirst();
  if (!app)
    throw new NotFoundError(StatusCode.APP_DOES_NOT_EXIST, 'App does not exist', `${userId}/${appId}`);
}

/** Tables whose rows a user owns by `(user_id, id)` and that record `modified_at`. */
export type OwnedTable = 'compute_clusters' | 'deployments' | 'runners';

/** Sets columns of a user's row (and its `modified_at`); false when the user has no such row. */
export async function patchOwned(
  ctx: RepoContext,
  table: OwnedTable,
  userId: string,
  id: string,
  columns: Record<string, unknown>,
): Promise<boolean> {
  const result = await ctx.db
    .updateTable(table)
    .set({ ...columns, modified_at: timestamp(ctx) } as never)
    .where('user_id', '=', userId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes a user's row; false when the user has no such row. */
export async function deleteOwned(
  ctx: RepoContext,
  table: OwnedTable,
  userId: string,
  id: string,
): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom(table)
    .where('user_id', '=', userId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
