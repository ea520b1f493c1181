import type { Selectable } from 'kysely';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { AppsTable } from '../schema.js';
import {
  inserted,
  mustHaveUser,
  timestamp,
  toLimitOffset,
  type PageOptions,
  type RepoContext,
} from './common.js';

export type AppVisibility = 'private' | 'public';

export interface AppRecord {
  userId: string;
  id: string;
  createdAt: string;
  visibility: AppVisibility;
  description: string;
}

export interface NewApp {
  id: string;
  visibility?: AppVisibility;
  description?: string;
}

function toAppRecord(row: Selectable<AppsTable>): AppRecord {
  return {
    userId: row.user_id,
    id: row.id,
    createdAt: row.created_at,
    visibility: row.visibility === 'public' ? 'public' : 'private',
    description: row.description,
  };
}

function checkVisibility(v: string): asserts v is AppVisibility {
  if (v !== 'private' && v !== 'public')
    throw new InvalidArgumentError(`visibility must be private or public`);
}

export class AppsRepo {
  constructor(private readonly ctx: RepoContext) {}

  /** Returns the app, creating it when missing. The user must exist. */
  async ensure(userId: string, appId: string): Promise<AppRecord> {
    await this.insert(userId, { id: appId });
    const app = await this.get(userId, appId);
    if (!app)
      throw new NotFoundError(StatusCode.APP_DOES_NOT_EXIST, 'App does not exist', `${userId}/${appId}`);
    return app;
  }

  /** Creates an app; a taken id is refused. The user must exist. */
  async create(userId: string, app: NewApp): Promise<AppRecord> {
    if (!(await this.insert(userId, app))) {
      throw new InvalidArgumentError(`app ${userId}/${app.id} already exists`);
    }
    return (await this.get(userId, app.id))!;
  }

  async get(userId: string, appId: string): Promise<AppRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('apps')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', '=', appId)
      .executeTakeFirst();
    return row ? toAppRecord(row) : undefined;
  }

  /** A user's apps by id; paged when page options are given, all of them otherwise. */
  async list(userId: string, page?: PageOptions & { publicOnly?: boolean }): Promise<AppRecord[]> {
    let query = this.ctx.db.selectFrom('apps').selectAll().where('user_id', '=', userId).orderBy('id');
    if (page?.publicOnly) query = query.where('visibility', '=', 'public');
    if (page?.page !== undefined || page?.perPage !== undefined) {
      const { limit, offset } = toLimitOffset(page);
      query = query.limit(limit).offset(offset);
    }
    return (await query.execute()).map(toAppRecord);
  }

  /** Changes an app's visibility and/or description; false when there is no such app. */
  async patch(
    userId: string,
    appId: string,
    changes: { visibility?: AppVisibility; description?: string },
  ): Promise<boolean> {
    const set: { visibility?: string; description?: string } = {};
    if (changes.visibility !== undefined) {
      checkVisibility(changes.visibility);
      set.visibility = changes.visibility;
    }
    if (changes.description !== undefined) set.description = changes.description;
    if (Object.keys(set).length === 0) return (await this.get(userId, appId)) !== undefined;
    const result = await this.ctx.db
      .updateTable('apps')
      .set(set)
      .where('user_id', '=', userId)
      .where('id', '=', appId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Deletes an app with its models, versions and inputs (foreign keys cascade); false if missing. */
  async delete(userId: string, appId: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      // explicit, so the result does not depend on an engine's cascade settings
      await trx.deleteFrom('inputs').where('user_id', '=', userId).where('app_id', '=', appId).execute();
      await trx
        .deleteFrom('model_versions')
        .where('user_id', '=', userId)
        .where('app_id', '=', appId)
        .execute();
      await trx.deleteFrom('models').where('user_id', '=', userId).where('app_id', '=', appId).execute();
      const result = await trx
        .deleteFrom('apps')
        .where('user_id', '=', userId)
        .where('id', '=', appId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  private async insert(userId: string, app: NewApp): Promise<boolean> {
    if (!isValidId(app.id)) throw new InvalidArgumentError(`invalid app id: ${JSON.stringify(app.id)}`);
    checkVisibility(app.visibility ?? 'private');
    try {
      const result = await this.ctx.db
        .insertInto('apps')
        .values({
          user_id: userId,
          id: app.id,
          created_at: timestamp(this.ctx),
          visibility: app.visibility ?? 'private',
          description: app.description ?? '',
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return inserted(result);
    } catch (err) {
      // A foreign-key failure reads differently on each database; ask the question directly.
      await mustHaveUser(this.ctx.db, userId);
      throw err;
    }
  }
}
