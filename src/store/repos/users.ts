import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { UsersTable } from '../schema.js';
import { inserted, timestamp, type RepoContext } from './common.js';

export interface UserRecord {
  id: string;
  fullName: string;
  isAdmin: boolean;
  createdAt: string;
}

export interface NewUser {
  id: string;
  fullName?: string;
  isAdmin?: boolean;
}

export function toUserRecord(row: UsersTable): UserRecord {
  return { id: row.id, fullName: row.full_name, isAdmin: row.is_admin === 1, createdAt: row.created_at };
}

export class UsersRepo {
  constructor(private readonly ctx: RepoContext) {}

  /** Creates a user; an id that is taken or malformed is refused. */
  async create(user: NewUser): Promise<UserRecord> {
    if (!(await this.insertIfMissing(user))) {
      throw new InvalidArgumentError(`user ${user.id} already exists`);
    }
    return this.mustGet(user.id);
  }

  /**
   * Returns the user, creating it first when missing (an existing user is left as it is). Safe
   * when several processes start at once on the same database.
   */
  async ensure(user: NewUser): Promise<UserRecord> {
    await this.insertIfMissing(user);
    return this.mustGet(user.id);
  }

  async get(id: string): Promise<UserRecord | undefined> {
    const row = await this.ctx.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUserRecord(row) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('users')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toUserRecord);
  }

  /** The first admin user created (the data directory's owner in embedded mode), if any. */
  async findAdmin(): Promise<UserRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('users')
      .selectAll()
      .where('is_admin', '=', 1)
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row ? toUserRecord(row) : undefined;
  }

  private async insertIfMissing(user: NewUser): Promise<boolean> {
    if (!isValidId(user.id)) throw new InvalidArgumentError(`invalid user id: ${JSON.stringify(user.id)}`);
    const result = await this.ctx.db
      .insertInto('users')
      .values({
        id: user.id,
        full_name: user.fullName ?? '',
        is_admin: user.isAdmin ? 1 : 0,
        created_at: timestamp(this.ctx),
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return inserted(result);
  }

  private async mustGet(id: string): Promise<UserRecord> {
    const user = await this.get(id);
    if (!user) throw new NotFoundError(StatusCode.USER_DOES_NOT_EXIST, 'User does not exist', id);
    return user;
  }
}
