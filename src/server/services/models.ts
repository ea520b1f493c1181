import { NotFoundError } from '../../core/errors.js';
import { StatusCode, statusName } from '../../core/status.js';
import type { ModelRef } from '../../core/urls.js';
import type { ModelVersion, MultiModelResponse, SingleModelResponse, WireModel } from '../../core/wire.js';
import { Visibility } from '../../core/wire.js';
import { missingRequirement, type ModelSpec } from '../../engine/index.js';
import type { ModelRecord, ModelVersionRecord } from '../../store/index.js';
import { actsFor } from './access.js';
import type { Caller, ServiceContext } from './context.js';
import { paramsSpecs } from './params-specs.js';
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
  // an admin sees every model: as its owner does
  const viewer = (await actsFor(ctx, caller, ref.userId)) ? ref.userId : caller.userId;
  const model = await ctx.store.models.getVisible(viewer, ref.userId, ref.appId, ref.modelId);
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

/** The answer for a model the caller may not see or that does not exist: the same for both. */
export function modelNotFoundFor(ctx: ServiceContext, caller: Caller, ref: ModelRef): Promise<NotFoundError> {
  return modelNotFound(ctx, caller, ref);
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
  if (version) wire.model_version = toWireVersion(version);
  return wire;
}

/** A version as Clarifai's ModelVersion message has it (the core type plus its owner). */
export type WireModelVersion = ModelVersion & { user_id: string; app_id: string };

export function toWireVersion(version: ModelVersionRecord): WireModelVersion {
  const spec = version.spec as Partial<Pick<ModelSpec, 'licence' | 'requires' | 'params'>> | undefined;
  // a version whose runtime needs a program this machine lacks is listed, saying what to install
  const missing = spec ? missingRequirement(spec) : undefined;
  const wire: WireModelVersion = {
    id: version.id,
    created_at: version.createdAt,
    status: missing
      ? { code: StatusCode.MODEL_NOT_DEPLOYED, description: 'Model is not available here', details: missing }
      : {
          code: version.status,
          description:
            version.status === StatusCode.MODEL_TRAINED
              ? 'Model is trained and ready'
              : statusName(version.status),
        },
    user_id: version.userId,
    app_id: version.appId,
  };
  if (version.outputInfo) wire.output_info = version.outputInfo;
  if (spec?.params && Object.keys(spec.params).length > 0)
    wire.output_info = { ...wire.output_info, params_specs: paramsSpecs(spec.params) };
  if (typeof spec?.licence === 'string') wire.license = spec.licence;
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

export interface ModelListQuery {
  userId?: string;
  appId?: string;
  page: number;
  perPage: number;
  /** Part of the model's id or name, case-insensitive. */
  name?: string;
  modelTypeId?: string;
  /** Models whose metadata lists any of these use cases. */
  useCases?: string[];
}

/**
 * Lists the models the caller may see, each with its latest version (as Clarifai lists them).
 * Filters apply before paging, so a page is full whenever enough models match.
 */
export async function listModels(
  ctx: ServiceContext,
  caller: Caller,
  filter: ModelListQuery,
  reqId: string,
): Promise<MultiModelResponse> {
  const scope = {
    ...(filter.userId !== undefined ? { userId: filter.userId } : {}),
    ...(filter.appId !== undefined ? { appId: filter.appId } : {}),
  };
  const filtered = filter.name !== undefined || filter.modelTypeId !== undefined || !!filter.useCases?.length;
  let models: ModelRecord[];
  if (!filtered) {
    models = await ctx.store.models.listVisible(caller.userId, {
      ...scope,
      page: filter.page,
      perPage: filter.perPage,
    });
  } else {
    const all: ModelRecord[] = [];
    for (let page = 1; ; page++) {
      const batch = await ctx.store.models.listVisible(caller.userId, { ...scope, page, perPage: 1000 });
      all.push(...batch);
      if (batch.length < 1000) break;
    }
    const needle = filter.name?.toLowerCase();
    const useCases = filter.useCases?.map((u) => u.toLowerCase()) ?? [];
    const matching = all.filter(
      (m) =>
        (!needle || m.id.toLowerCase().includes(needle) || m.name.toLowerCase().includes(needle)) &&
        (!filter.modelTypeId || m.modelTypeId === filter.modelTypeId) &&
        (useCases.length === 0 || useCasesOf(m).some((u) => useCases.includes(u.toLowerCase()))),
    );
    const start = (filter.page - 1) * filter.perPage;
    models = matching.slice(start, start + filter.perPage);
  }
  const wire = await Promise.all(
    models.map(async (m) => toWireModel(m, await ctx.store.models.latestVersion(m.userId, m.appId, m.id))),
  );
  return { status: ok(reqId), models: wire };
}

function useCasesOf(m: ModelRecord): string[] {
  const u = m.metadata.use_cases;
  return Array.isArray(u) ? u.filter((x): x is string => typeof x === 'string') : [];
}
