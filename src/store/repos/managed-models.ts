import { InvalidArgumentError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { timestamp, type RepoContext } from './common.js';
import {
  checkId,
  checkVisibility,
  toModelRecord,
  toVersionRecord,
  VERSION_READY,
  type BuiltinModelSpec,
  type ModelWithVersion,
} from './model-records.js';
import { insertAppAndModel, nextSeq, selectModel, selectVersion } from './model-queries.js';

/**
 * Models the server manages itself (built-ins, `serve --models` folders): the owner, app, model
 * and a fixed-id version written at every start, updated in place when they change.
 */
export async function upsertManagedModel(
  ctx: RepoContext,
  spec: BuiltinModelSpec,
): Promise<ModelWithVersion> {
  checkId('user', spec.userId);
  checkId('app', spec.appId);
  checkId('model', spec.id);
  checkId('model version', spec.versionId);
  const visibility = spec.visibility ?? 'public';
  checkVisibility(visibility);
  const key = { userId: spec.userId, appId: spec.appId, modelId: spec.id };
  const now = timestamp(ctx);
  const fields = {
    name: spec.name,
    model_type_id: spec.modelTypeId,
    description: spec.description,
    visibility,
    builtin: spec.builtin === false ? 0 : 1,
    metadata: JSON.stringify(spec.metadata ?? {}),
  };
  const outputInfo = JSON.stringify(spec.outputInfo);
  const engineSpec = spec.spec ? JSON.stringify(spec.spec) : null;
  const files = spec.files ?? null;

  await ctx.db.transaction().execute(async (trx) => {
    // Writes first: on SQLite the transaction then holds the write lock before it reads.
    await trx
      .insertInto('users')
      .values({ id: spec.userId, full_name: '', is_admin: 0, created_at: now })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await insertAppAndModel(trx, key, fields, now);

    const model = await selectModel(trx, key);
    const changed =
      !model || (Object.keys(fields) as (keyof typeof fields)[]).some((name) => model[name] !== fields[name]);
    const existing = await selectVersion(trx, spec.versionId);
    if (
      existing &&
      (existing.user_id !== key.userId || existing.app_id !== key.appId || existing.model_id !== key.modelId)
    ) {
      throw new InvalidArgumentError(
        `model version id ${spec.versionId} already belongs to ${existing.user_id}/${existing.app_id}/${existing.model_id}`,
        StatusCode.MODEL_INVALID_ARGUMENT,
      );
    }
    if (changed || !existing) {
      // Also locks the model row (Postgres), so concurrent starts agree on the next seq.
      await trx
        .updateTable('models')
        .set({ ...fields, modified_at: now })
        .where('user_id', '=', key.userId)
        .where('app_id', '=', key.appId)
        .where('id', '=', key.modelId)
        .execute();
    }
    if (!existing) {
      await trx
        .insertInto('model_versions')
        .values({
          id: spec.versionId,
          user_id: key.userId,
          app_id: key.appId,
          model_id: key.modelId,
          seq: await nextSeq(trx, key),
          output_info: outputInfo,
          status: VERSION_READY,
          created_at: now,
          spec: engineSpec,
          files,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    } else if (
      existing.output_info !== outputInfo ||
      existing.spec !== engineSpec ||
      existing.files !== files
    ) {
      await trx
        .updateTable('model_versions')
        .set({ output_info: outputInfo, spec: engineSpec, files })
        .where('id', '=', spec.versionId)
        .execute();
    }
  });

  const model = await selectModel(ctx.db, key);
  const version = await selectVersion(ctx.db, spec.versionId);
  if (!model || !version) {
    throw new SibylError(
      StatusCode.TRY_AGAIN,
      'Try again',
      `built-in model ${spec.id} was written concurrently`,
    );
  }
  return { model: toModelRecord(model), version: toVersionRecord(version) };
}
