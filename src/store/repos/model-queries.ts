import type { Kysely } from 'kysely';
import { NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { Database, ModelsTable, ModelVersionsTable } from '../schema.js';

/** Small queries the models repo's methods share, each usable inside a transaction. */

export type Key = { userId: string; appId: string; modelId: string };

type ModelFields = Pick<
  ModelsTable,
  'name' | 'model_type_id' | 'description' | 'visibility' | 'builtin' | 'metadata'
>;

export function modelNotFound(userId: string, appId: string, modelId: string): NotFoundError {
  return new NotFoundError(
    StatusCode.MODEL_DOES_NOT_EXIST,
    'Model does not exist',
    `${userId}/${appId}/${modelId}`,
  );
}

export async function nextSeq(db: Kysely<Database>, key: Key): Promise<number> {
  const row = await db
    .selectFrom('model_versions')
    .select((eb) => eb.fn.max('seq').as('top'))
    .where('user_id', '=', key.userId)
    .where('app_id', '=', key.appId)
    .where('model_id', '=', key.modelId)
    .executeTakeFirst();
  return Number(row?.top ?? 0) + 1;
}

export async function selectModel(db: Kysely<Database>, key: Key): Promise<ModelsTable | undefined> {
  return db
    .selectFrom('models')
    .selectAll()
    .where('user_id', '=', key.userId)
    .where('app_id', '=', key.appId)
    .where('id', '=', key.modelId)
    .executeTakeFirst();
}

export async function selectVersion(
  db: Kysely<Database>,
  id: string,
): Promise<ModelVersionsTable | undefined> {
  return db.selectFrom('model_versions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The app (if missing) and the model row (if missing); an existing model is left as it is. */
export async function insertAppAndModel(
  db: Kysely<Database>,
  key: Key,
  fields: ModelFields,
  now: string,
): Promise<void> {
  await db
    .insertInto('apps')
    .values({ user_id: key.userId, id: key.appId, created_at: now })
    .onConflict((oc) => oc.doNothing())
    .execute();
  await db
    .insertInto('models')
    .values({
      user_id: key.userId,
      app_id: key.appId,
      id: key.modelId,
      ...fields,
      created_at: now,
      modified_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}
