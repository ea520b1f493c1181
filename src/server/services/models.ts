import { NotFoundError } from '../../core/errors.js';
import { StatusCode, statusName } from '../../core/status.js';
import type { ModelRef } from '../../core/urls.js';
import type { MultiModelResponse, SingleModelResponse, WireModel } from '../../core/wire.js';
import { Visibility } from '../../core/wire.js';
import type { ModelRecord, ModelVersionRecord } from '../../store/index.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';

export interface ResolvedModel {
  model: ModelRecord;
  version: ModelVersionRecord;
}

/**
 * Finds a model the caller may see. A private model of another user is answered exactly like a
 * missing one, so its existence does not leak.
 */
export async function resolveModel(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
): Promise<ResolvedModel> {
  const model = await ctx.store.models.getVisible(caller.userId, ref.userId, ref.appId, ref.modelId);
  if (!model) throw await modelNotFound(ctx, caller, ref);
  const version = ref.versionId
    ? await ctx.store.models.getVersion(ref.userId, ref.appId, ref.modelId, ref.versionId)
    : await ctx.store.models.latestVersion(ref.userId, ref.appId, ref.modelId);
  if (!version) {
    throw new NotFoundError(
      StatusCode.MODEL_DOES_NOT_EXIST,
      'Model version does not exist',
      `model ${ref.userId}/${ref.appId}/${ref.modelId} has no version ${ref.versionId ?? '(none at all)'}`,
    );
  }
  return { model, version };
}

async function modelNotFound(ctx: ServiceContext, caller: Caller, ref: ModelRef): Promise<NotFoundError> {
  const visible = await ctx.store.models.listVisible(caller.userId);
  const names = visible.map((m) => `${m.userId}/${m.appId}/${m.id}`);
  return new NotFoundError(
    StatusCode.MODEL_DOES_NOT_EXIST,
    'Model does not exist',
    `no model ${ref.userId}/${ref.appId}/${ref.modelId} here. Available models: ${names.join(', ') || 'none'}. ` +
      `To use Clarifai's hosted models, log in to Clarifai's cloud (base_url https://api.clarifai.com) with a PAT from clarifai.com`,
  );
}

export function toWireModel(model: ModelRecord, version?: ModelVersionRecord): WireModel {
  const wire: WireModel = {
    id: model.id,
    name: model.name,
    user_id: model.userId,
    app_id: model.appId,
    model_type_id: model.modelTypeId,
    description: model.description,
    created_at: model.createdAt,
    modified_at: model.modifiedAt,
    visibility: { gettable: model.visibility === 'public' ? Visibility.PUBLIC : Visibility.PRIVATE },
  };
  if (version) {
    wire.model_version = {
      id: version.id,
      created_at: version.createdAt,
      status: {
        code: version.status,
        description:
          version.status === StatusCode.MODEL_TRAINED
            ? 'Model is trained and ready'
            : statusName(version.status),
      },
    };
    if (version.outputInfo) wire.model_version.output_info = version.outputInfo;
  }
  return wire;
}

export async function getModel(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
  reqId: string,
): Promise<SingleModelResponse> {
  const { model, version } = await resolveModel(ctx, caller, ref);
  return { status: ok(reqId), model: toWireModel(model, version) };
}

export async function listModels(
  ctx: ServiceContext,
  caller: Caller,
  filter: { userId?: string; appId?: string; page: number; perPage: number },
  reqId: string,
): Promise<MultiModelResponse> {
  const models = await ctx.store.models.listVisible(caller.userId, filter);
  return { status: ok(reqId), models: models.map((m) => toWireModel(m)) };
}
