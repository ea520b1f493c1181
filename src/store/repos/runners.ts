import type { Selectable, Updateable } from 'kysely';
import { InvalidArgumentError } from '../../core/errors.js';
import { isValidId, newId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { RunnersTable } from '../schema.js';
import {
  deleteOwned,
  inserted,
  mustHaveUser,
  parseJson,
  patchOwned,
  timestamp,
  type RepoContext,
  windowOf,
  type Window,
} from './common.js';

export interface RunnerRecord {
  /** Globally unique. */
  id: string;
  userId: string;
  computeClusterId: string;
  nodepoolId: string;
  description: string;
  /** Clarifai's Worker as sent (`{model: {...}}`), when the runner said what it serves. */
  worker?: Record<string, unknown>;
  metadata: Record<string, unknown>;
  createdAt: string;
  modifiedAt: string;
}

export interface RunnerFields {
  description?: string;
  worker?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

export interface NewRunner extends RunnerFields {
  /** Chosen by the server (newId()) unless given. */
  id?: string;
  computeClusterId: string;
  nodepoolId: string;
}

function toRecord(row: Selectable<RunnersTable>): RunnerRecord {
  const record: RunnerRecord = {
    id: row.id,
    userId: row.user_id,
    computeClusterId: row.compute_cluster_id,
    nodepoolId: row.nodepool_id,
    description: row.description,
    metadata: parseJson<Record<string, unknown>>(row.metadata, {}),
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
  const worker = row.worker === null ? null : parseJson<Record<string, unknown> | null>(row.worker, null);
  if (worker) record.worker = worker;
  return record;
}

function columns(fields: RunnerFields): Updateable<RunnersTable> {
  const set: Updateable<RunnersTable> = {};
  if (fields.description !== undefined) set.description = fields.description;
  if (fields.worker !== undefined) set.worker = JSON.stringify(fields.worker);
  if (fields.metadata !== undefined) set.metadata = JSON.stringify(fields.metadata);
  return set;
}

/** Runners registered in a user's nodepools. Whether the nodepool exists is checked by the caller. */
export class RunnersRepo {
  constructor(private readonly ctx: RepoContext) {}

  async create(userId: string, runner: NewRunner): Promise<RunnerRecord> {
    const id = runner.id ?? newId();
    if (!isValidId(id)) {
      throw new InvalidArgumentError(
        `runner id ${JSON.stringify(id)} is not valid: use letters, digits, "_", "-" or "."`,
        StatusCode.RUNNER_INVALID_ARGUMENT,
      );
    }
    const now = timestamp(this.ctx);
    let result;
    try {
      result = await this.ctx.db
        .insertInto('runners')
        .values({
          id,
          user_id: userId,
          compute_cluster_id: runner.computeClusterId,
          nodepool_id: runner.nodepoolId,
          created_at: now,
          modified_at: now,
          ...columns(runner),
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
    } catch (err) {
      await mustHaveUser(this.ctx.db, userId);
      throw err;
    }
    // runner ids are global: a taken one may be another user's, so the message names no owner
    if (!inserted(result))
      throw new InvalidArgumentError(`runner id "${id}" is taken`, StatusCode.RUNNER_INVALID_ARGUMENT);
    return (await this.get(id))!;
  }

  /** A runner by its global id, whoever owns it (callers check the owner). */
  async get(id: string): Promise<RunnerRecord | undefined> {
    const row = await this.ctx.db.selectFrom('runners').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** A user's runners (all, in one cluster, or in one nodepool), oldest first, one page. */
  async list(
    userId: string,
    filter: Window & { computeClusterId?: string; nodepoolId?: string } = {},
  ): Promise<RunnerRecord[]> {
    const { limit, offset } = windowOf(filter);
    let query = this.ctx.db.selectFrom('runners').selectAll().where('user_id', '=', userId);
    if (filter.computeClusterId !== undefined)
      query = query.where('compute_cluster_id', '=', filter.computeClusterId);
    if (filter.nodepoolId !== undefined) query = query.where('nodepool_id', '=', filter.nodepoolId);
    const rows = await query.orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
    return rows.map(toRecord);
  }

  /** Changes a user's runner; false when the user has no such runner. */
  async patch(userId: string, id: string, fields: RunnerFields): Promise<boolean> {
    return patchOwned(this.ctx, 'runners', userId, id, columns(fields));
  }

  /** Deletes a user's runner; false when the user has no such runner. */
  async delete(userId: string, id: string): Promise<boolean> {
    return deleteOwned(this.ctx, 'runners', userId, id);
  }
}
