import type { ExpressionBuilder, Kysely } from 'kysely';
import {
  insertAppAndModel,
  modelNotFound,
  nextSeq,
  selectModel,
  selectVersion,
  type Key,
} from './model-queries.js';
import { upsertManagedModel } from './managed-models.js';
import { InvalidArgumentError, SibylError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { Database } from '../schema.js';
import { inserted, mustHaveApp, timestamp, toLimitOffset, type RepoContext } from './common.js';
import {
  checkId,
  checkVisibility,
  toModelRecord,
  toVersionRecord,
  VERSION_READY,
  type BuiltinModelSpec,
  type ModelListFilter,
  type ModelRecord,
  type ModelVersionRecord,
  type ModelWithVersion,
  type NewModel,
  type NewModelVersion,
} from './model-records.js';

export * from './model-records.js';

/**
 * Models and their versions. Visibility is enforced here, in one query shape: a model is visible
 * to a viewer when it is public or the viewer owns it; anything else reads as missing, so callers
 * answer exactly as for a model that does not exist.
 */
export class ModelsRepo {
  constructor(private readonly ctx: RepoContext) {}

  /**
   * Writes a built-in model, its owner, its app and its fixed-id version; run at every start.
   * Idempotent: an unchanged model is not touched, a changed one is updated in place, a new
   * versionId adds a version (which becomes the latest).
   */
  upsertBuiltin(spec: BuiltinModelSpec): Promise<ModelWithVersion> {
    return upsertManagedModel(this.ctx, spec);
  }

  /** Creates a user's model with its first version. The app must exist; a taken id is refused. */
  async create(spec: NewModel): Promise<ModelWithVersion> {
    checkId('model', spec.id);
    const versionId = spec.versionId ?? newId();
    checkId('model version', versionId);
    const visibility = spec.visibility ?? 'private';
    checkVisibility(visibility);
    if (!spec.modelTypeId)
      throw new InvalidArgumentError('model_type_id is required', StatusCode.MODEL_INVALID_ARGUMENT);
    const key = { userId: spec.userId, appId: spec.appId, modelId: spec.id };
    const now = timestamp(this.ctx);

    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        const result = await trx
          .insertInto('models')
          .values({
            user_id: spec.userId,
            app_id: spec.appId,
            id: spec.id,
            name: spec.name ?? spec.id,
            model_type_id: spec.modelTypeId,
            description: spec.description ?? '',
            visibility,
            builtin: 0,
            metadata: JSON.stringify(spec.metadata ?? {}),
            created_at: now,
            modified_at: now,
          })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        if (!inserted(result)) {
          throw new InvalidArgumentError(
            `model ${spec.userId}/${spec.appId}/${spec.id} already exists`,
            StatusCode.MODEL_INVALID_ARGUMENT,
          );
        }
        await this.insertVersion(trx, key, { id: versionId, outputInfo: spec.outputInfo }, now, 1);
      });
    } catch (err) {
      if (err instanceof SibylError) throw err;
      await mustHaveApp(this.ctx.db, spec.userId, spec.appId);
      throw err;
    }
    return this.mustGetWithVersion(key, versionId);
  }

  /**
   * Adds a version to a user's model, creating the app and the model first if they do not exist
   * (what `clarifai model upload` does). The model's name, description and visibility follow the
   * newest upload; its type may not change, since older versions answer in that type.
   */
  async addVersionCreating(
    spec: NewModel & Pick<NewModelVersion, 'spec' | 'files'>,
  ): Promise<ModelWithVersion> {
    checkId('app', spec.appId);
    checkId('model', spec.id);
    const versionId = spec.versionId ?? newId();
    checkId('model version', versionId);
    const visibility = spec.visibility ?? 'private';
    checkVisibility(visibility);
    const key = { userId: spec.userId, appId: spec.appId, modelId: spec.id };
    const now = timestamp(this.ctx);
    const fields = {
      name: spec.name ?? spec.id,
      description: spec.description ?? '',
      visibility,
    };
    await this.ctx.db.transaction().execute(async (trx) => {
      await insertAppAndModel(
        trx,
        key,
        {
          ...fields,
          model_type_id: spec.modelTypeId,
          builtin: 0,
          metadata: JSON.stringify(spec.metadata ?? {}),
        },
        now,
      );
      const model = await selectModel(trx, key);
      if (!model) throw modelNotFound(key.userId, key.appId, key.modelId);
      if (model.builtin === 1) {
        throw new InvalidArgumentError(
          `model ${spec.userId}/${spec.appId}/${spec.id} is managed by the server; upload under another id`,
          StatusCode.MODEL_INVALID_ARGUMENT,
        );
      }
      if (model.model_type_id !== spec.modelTypeId) {
        throw new InvalidArgumentError(
          `model ${spec.userId}/${spec.appId}/${spec.id} is a ${model.model_type_id}; a new version cannot be a ${spec.modelTypeId} (use another model id)`,
          StatusCode.MODEL_INVALID_ARGUMENT,
        );
      }
      await trx
        .updateTable('models')
        .set({ ...fields, modified_at: now })
        .where('user_id', '=', key.userId)
        .where('app_id', '=', key.appId)
        .where('id', '=', key.modelId)
        .execute();
      await this.insertVersion(
        trx,
        key,
        { id: versionId, outputInfo: spec.outputInfo, spec: spec.spec, files: spec.files },
        now,
        await nextSeq(trx, key),
      );
    });
    return this.mustGetWithVersion(key, versionId);
  }

  /** Adds a version to an existing model; it becomes the latest. */
  async createVersion(
    userId: string,
    appId: string,
    modelId: string,
    spec: NewModelVersion = {},
  ): Promise<ModelVersionRecord> {
    const versionId = spec.id ?? newId();
    checkId('model version', versionId);
    const key = { userId, appId, modelId };
    const now = timestamp(this.ctx);
    await this.ctx.db.transaction().execute(async (trx) => {
      // Touching the model first checks it exists and serialises concurrent version creation.
      const touched = await trx
        .updateTable('models')
        .set({ modified_at: now })
        .where('user_id', '=', userId)
        .where('app_id', '=', appId)
        .where('id', '=', modelId)
        .executeTakeFirst();
      if (touched.numUpdatedRows === 0n) throw modelNotFound(userId, appId, modelId);
      await this.insertVersion(trx, key, { ...spec, id: versionId }, now, await nextSeq(trx, key));
    });
    return (await this.mustGetWithVersion(key, versionId)).version;
  }

  /**
   * Changes a user's model's name, description and/or visibility; false when there is no such
   * model. Server-managed (built-in) models are refused: the server rewrites them at every start.
   */
  async patch(
    userId: string,
    appId: string,
    modelId: string,
    changes: { name?: string; description?: string; visibility?: string },
  ): Promise<boolean> {
    if (changes.visibility !== undefined) checkVisibility(changes.visibility);
    const key = { userId, appId, modelId };
    const model = await selectModel(this.ctx.db, key);
    if (!model) return false;
    if (model.builtin === 1) throw managed(key);
    const set: { name?: string; description?: string; visibility?: string } = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.visibility !== undefined) set.visibility = changes.visibility;
    if (Object.keys(set).length === 0) return true;
    const result = await this.ctx.db
      .updateTable('models')
      .set({ ...set, modified_at: timestamp(this.ctx) })
      .where('user_id', '=', userId)
      .where('app_id', '=', appId)
      .where('id', '=', modelId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Deletes a user's model and its versions; false when missing. Built-in models are refused. */
  async delete(userId: string, appId: string, modelId: string): Promise<boolean> {
    const key = { userId, appId, modelId };
    const model = await selectModel(this.ctx.db, key);
    if (!model) return false;
    if (model.builtin === 1) throw managed(key);
    return this.ctx.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('model_versions')
        .where('user_id', '=', userId)
        .where('app_id', '=', appId)
        .where('model_id', '=', modelId)
        .execute();
      const result = await trx
        .deleteFrom('models')
        .where('user_id', '=', userId)
        .where('app_id', '=', appId)
        .where('id', '=', modelId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  /** The model if the viewer may see it (public, or owned by the viewer); otherwise undefined. */
  async getVisible(
    viewerUserId: string | undefined,
    userId: string,
    appId: string,
    modelId: string,
  ): Promise<ModelRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('models')
      .selectAll()
      .where('user_id', '=', userId)
      .where('app_id', '=', appId)
      .where('id', '=', modelId)
      .where((eb) => this.visibleTo(eb, viewerUserId))
      .executeTakeFirst();
    return row ? toModelRecord(row) : undefined;
  }

  /** Public models plus the viewer's own, ordered by user, app and model id. */
  async listVisible(viewerUserId: string | undefined, filter: ModelListFilter = {}): Promise<ModelRecord[]> {
    const { limit, offset } = toLimitOffset(filter);
    let query = this.ctx.db
      .selectFrom('models')
      .selectAll()
      .where((eb) => this.visibleTo(eb, viewerUserId));
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.appId !== undefined) query = query.where('app_id', '=', filter.appId);
    const rows = await query
      .orderBy('user_id')
      .orderBy('app_id')
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toModelRecord);
  }

  /**
   * One version of a model. No visibility check: callers resolve the model with getVisible first.
   */
  async getVersion(
    userId: string,
    appId: string,
    modelId: string,
    versionId: string,
  ): Promise<ModelVersionRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('model_versions')
      .selectAll()
      .where('id', '=', versionId)
      .where('user_id', '=', userId)
      .where('app_id', '=', appId)
      .where('model_id', '=', modelId)
      .executeTakeFirst();
    return row ? toVersionRecord(row) : undefined;
  }

  /** The version with the highest seq. No visibility check (see getVersion). */
  async latestVersion(
    userId: string,
    appId: string,
    modelId: string,
  ): Promise<ModelVersionRecord | undefined> {
    const row = await this.versions(userId, appId, modelId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toVersionRecord(row) : undefined;
  }

  /** All versions, newest first. No visibility check (see getVersion). */
  async listVersions(userId: string, appId: string, modelId: string): Promise<ModelVersionRecord[]> {
    const rows = await this.versions(userId, appId, modelId).orderBy('seq', 'desc').execute();
    return rows.map(toVersionRecord);
  }

  private versions(userId: string, appId: string, modelId: string) {
    return this.ctx.db
      .selectFrom('model_versions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('app_id', '=', appId)
      .where('model_id', '=', modelId);
  }

  private visibleTo(eb: ExpressionBuilder<Database, 'models'>, viewerUserId: string | undefined) {
    const isPublic = eb('visibility', '=', 'public');
    return viewerUserId === undefined ? isPublic : eb.or([isPublic, eb('user_id', '=', viewerUserId)]);
  }

  private async insertVersion(
    db: Kysely<Database>,
    key: Key,
    spec: NewModelVersion & { id: string },
    now: string,
    seq: number,
  ): Promise<void> {
    const result = await db
      .insertInto('model_versions')
      .values({
        id: spec.id,
        user_id: key.userId,
        app_id: key.appId,
        model_id: key.modelId,
        seq,
        output_info: JSON.stringify(spec.outputInfo ?? {}),
        status: spec.status ?? VERSION_READY,
        created_at: now,
        spec: spec.spec ? JSON.stringify(spec.spec) : null,
        files: spec.files ?? null,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (!inserted(result)) {
      throw new InvalidArgumentError(
        `model version id ${spec.id} already exists`,
        StatusCode.MODEL_INVALID_ARGUMENT,
      );
    }
  }

  private async mustGetWithVersion(key: Key, versionId: string): Promise<ModelWithVersion> {
    const model = await selectModel(this.ctx.db, key);
    const version = await selectVersion(this.ctx.db, versionId);
    if (!model || !version) throw modelNotFound(key.userId, key.appId, key.modelId);
    return { model: toModelRecord(model), version: toVersionRecord(version) };
  }
}

function managed(key: Key): InvalidArgumentError {
  return new InvalidArgumentError(
    `model ${key.userId}/${key.appId}/${key.modelId} is managed by the server and cannot be changed or deleted`,
    StatusCode.MODEL_INVALID_ARGUMENT,
  );
}
