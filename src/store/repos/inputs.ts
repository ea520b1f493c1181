import { sql } from '../kysely.js';
import { InvalidArgumentError, NotFoundError, SibylError } from '../../core/errors.js';
import { isValidId, newId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { Data } from '../../core/wire.js';
import type { InputsTable } from '../schema.js';
import {
  inserted,
  mustHaveApp,
  parseJson,
  timestamp,
  toLimitOffset,
  type PageOptions,
  type RepoContext,
} from './common.js';

export interface InputRecord {
  userId: string;
  appId: string;
  id: string;
  data: Data;
  createdAt: string;
}

export interface NewInput {
  /** Generated (32 hex characters) when absent. */
  id?: string;
  data: Data;
}

function toInputRecord(row: InputsTable): InputRecord {
  return {
    userId: row.user_id,
    appId: row.app_id,
    id: row.id,
    data: parseJson<Data>(row.data, {}),
    createdAt: row.created_at,
  };
}

/** Inputs stored in an app. Every query is scoped by (user, app): ids are unique only within one. */
export class InputsRepo {
  constructor(private readonly ctx: RepoContext) {}

  /** Stores an input in an existing app; a taken id gives INPUT_ALREADY_EXISTS. */
  async create(userId: string, appId: string, input: NewInput): Promise<InputRecord> {
    const id = input.id ?? newId();
    if (!isValidId(id)) {
      throw new InvalidArgumentError(
        `invalid input id: ${JSON.stringify(id)}`,
        StatusCode.INPUT_INVALID_ARGUMENT,
      );
    }
    if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data)) {
      throw new InvalidArgumentError('input data must be an object', StatusCode.INPUT_INVALID_ARGUMENT);
    }
    const row: InputsTable = {
      user_id: userId,
      app_id: appId,
      id,
      data: JSON.stringify(input.data),
      created_at: timestamp(this.ctx),
    };
    let written: boolean;
    try {
      const result = await this.ctx.db
        .insertInto('inputs')
        .values(row)
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      written = inserted(result);
    } catch (err) {
      await mustHaveApp(this.ctx.db, userId, appId);
      throw err;
    }
    if (!written) throw new SibylError(StatusCode.INPUT_ALREADY_EXISTS, 'Input already exists', id);
    return toInputRecord(row);
  }

  /** Stores several inputs all or nothing: one taken id (or a repeated one) stores none of them. */
  async createMany(userId: string, appId: string, inputs: readonly NewInput[]): Promise<InputRecord[]> {
    return this.ctx.db.transaction().execute(async (trx) => {
      // Asked up front: on Postgres a failed insert aborts the transaction, so create() could not
      // ask afterwards why it failed.
      await mustHaveApp(trx, userId, appId);
      const repo = new InputsRepo({ ...this.ctx, db: trx });
      const records: InputRecord[] = [];
      for (const input of inputs) records.push(await repo.create(userId, appId, input));
      return records;
    });
  }

  async get(userId: string, appId: string, inputId: string): Promise<InputRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('inputs')
      .selectAll()
      .where('user_id', '=', userId)
      .where('app_id', '=', appId)
      .where('id', '=', inputId)
      .executeTakeFirst();
    return row ? toInputRecord(row) : undefined;
  }

  /**
   * Changes an input's data: `merge` (default) sets the given top-level fields of `data` and
   * merges `metadata` objects; `overwrite` replaces data. Undefined when there is no such input.
   */
  async patch(
    userId: string,
    appId: string,
    inputId: string,
    data: Data,
    action: 'merge' | 'overwrite' = 'merge',
  ): Promise<InputRecord | undefined> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const repo = new InputsRepo({ ...this.ctx, db: trx });
      const current = await repo.get(userId, appId, inputId);
      if (!current) return undefined;
      let next: Data = data;
      if (action === 'merge') {
        const old = current.data as Record<string, unknown>;
        const add = data as Record<string, unknown>;
        const meta =
          isRecord(old.metadata) && isRecord(add.metadata)
            ? { metadata: { ...old.metadata, ...add.metadata } }
            : {};
        next = { ...old, ...add, ...meta } as Data;
      }
      await trx
        .updateTable('inputs')
        .set({ data: JSON.stringify(next) })
        .where('user_id', '=', userId)
        .where('app_id', '=', appId)
        .where('id', '=', inputId)
        .execute();
      return { ...current, data: next };
    });
  }

  /**
   * Newest first (ties broken by id, so pages never overlap). The page's sizes are read before its
   * data: a page of inputs holding more than `maxBytes` of JSON together is refused (naming how
   * many fit) without loading any, since answering it would hold several copies of it in memory
   * and past 512 MiB cannot even be one JSON string. One input alone is always answered.
   */
  async list(userId: string, appId: string, page?: PageOptions, maxBytes = Infinity): Promise<InputRecord[]> {
    const { limit, offset } = toLimitOffset(page);
    const sized = await this.ctx.db
      .selectFrom('inputs')
      .select(['id', sql<number>`octet_length(data)`.as('bytes')])
      .where('user_id', '=', userId)
      .where('app_id', '=', appId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    let total = 0;
    let fit = 0;
    for (const { bytes } of sized) {
      total += Number(bytes);
      if (total <= maxBytes) fit += 1;
    }
    if (sized.length > 1 && total > maxBytes) {
      const mib = (n: number) => `${Math.ceil(n / 1048576)} MiB`;
      throw new InvalidArgumentError(
        `the ${sized.length} inputs on this page hold ${mib(total)} of data; a page of inputs may hold at most ${mib(maxBytes)}: ask for fewer per_page (the first ${Math.max(fit, 1)} fit)`,
      );
    }
    if (sized.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('inputs')
      .selectAll()
      .where('user_id', '=', userId)
      .where('app_id', '=', appId)
      .where(
        'id',
        'in',
        sized.map((r) => r.id),
      )
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    // in the page's order; one deleted between the two reads is left out
    return sized.flatMap(({ id }) => {
      const row = byId.get(id);
      return row ? [toInputRecord(row)] : [];
    });
  }

  /**
   * Deletes a user's inputs, all or nothing: when any id is missing nothing is deleted and the
   * missing ids are named (a NotFoundError).
   */
  async deleteMany(userId: string, appId: string, ids: readonly string[]): Promise<void> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return; // `in ()` is an error on Postgres
    await this.ctx.db.transaction().execute(async (trx) => {
      const found = await trx
        .selectFrom('inputs')
        .select('id')
        .where('user_id', '=', userId)
        .where('app_id', '=', appId)
        .where('id', 'in', unique)
        .execute();
      const have = new Set(found.map((r) => r.id));
      const missing = unique.filter((id) => !have.has(id));
      if (missing.length > 0) {
        throw new NotFoundError(
          StatusCode.INPUT_DOES_NOT_EXIST,
          'Input does not exist',
          `no input ${missing.map((m) => `"${m}"`).join(', ')} in app "${appId}"`,
        );
      }
      await trx
        .deleteFrom('inputs')
        .where('user_id', '=', userId)
        .where('app_id', '=', appId)
        .where('id', 'in', unique)
        .execute();
    });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
