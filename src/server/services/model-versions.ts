import { NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { ModelRef } from '../../core/urls.js';
import type { SingleModelResponse, Status } from '../../core/wire.js';
import type { Caller, ServiceContext } from './context.js';
import type { WireModelVersion } from './models.js';
import { resolveModel, toWireModel, toWireVersion } from './models.js';
import { ok } from './reply.js';

/** GET .../models/{model_id}/versions/{version_id} */
export async function getModelVersion(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
  reqId: string,
): Promise<{ status: Status; model_version: WireModelVersion }> {
  const { version } = await resolveModel(ctx, caller, ref);
  return { status: ok(reqId), model_version: toWireVersion(version) };
}

/** GET .../models/{model_id}/versions: newest first, paged. */
export async function listModelVersions(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
  page: { page: number; perPage: number },
  reqId: string,
): Promise<{ status: Status; model_versions: WireModelVersion[] }> {
  const visible = await ctx.store.models.getVisible(caller.userId, ref.userId, ref.appId, ref.modelId);
  if (!visible) await resolveModel(ctx, caller, ref); // throws the usual "does not exist, available: ..."
  const versions = await ctx.store.models.listVersions(ref.userId, ref.appId, ref.modelId);
  const start = (page.page - 1) * page.perPage;
  return {
    status: ok(reqId),
    model_versions: versions.slice(start, start + page.perPage).map(toWireVersion),
  };
}

/**
 * GET .../models/{model_id}[/versions/{version_id}]/output_info: the model with its version's
 * output_info (concepts, default params), also at the model level where older clients read it.
 */
export async function getModelOutputInfo(
  ctx: ServiceContext,
  caller: Caller,
  ref: ModelRef,
  reqId: string,
): Promise<SingleModelResponse> {
  const { model, version } = await resolveModel(ctx, caller, ref);
  const wire = toWireModel(model, version);
  if (!version.outputInfo) {
    throw new NotFoundError(StatusCode.MODEL_DOES_NOT_EXIST, 'Model output info does not exist', model.id);
  }
  wire.output_info = version.outputInfo;
  return { status: ok(reqId), model: wire };
}
