import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { AppsTable } from '../schema.js';
import { timestamp, type RepoContext } from './common.js';

export interface AppRecord {
  userId: string;
  id: string;
  createdAt: string;
}

function toAppRecord(row: AppsTable): AppRecord {
  return { userId: row.user_id, id: row.id, createdAt: row.created_at };
}

export class AppsRepo {
  constructor(private readonly ctx: RepoContext) {}

  /** Returns the app, creating it when missing. The user must exist. */
  async ensure(userId: string, appId: string): Promise<AppRecord> {
    if (!isValidId(appId)) throw new InvalidArgumentError(`invalid app id: ${JSON.stringify(appId)}`);
    try {
      await this.ctx.db
        .insertInto('apps')
        .values({ user_id: userId, id: appId, created_at: timestamp(this.ctx) })
        .onConflict((oc) => oc.doNothing())
        .execute();
    } catch (err) {
      // A foreign-key failure reads differently on each database; ask the question directly.
      const user = await this.ctx.db
        .selectFrom('users')
        .select('id')
        .where('id', '=', userId)
        .executeTakeFirst();
      if (!user) throw new NotFoundError(StatusCode.USER_DOES_NOT_EXIST, 'User does not exist', userId);
      throw err;
    }
    const app = await this.get(userId, appId);
    if (!app)
      throw new NotFoundError(StatusCode.APP_DOES_NOT_EXIST, 'App does not exist', `${userId}/${appId}`);
    return app;
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

  async list(userId: string): Promise<AppRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('apps')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    return rows.map(toAppRecord);
  }
}
