import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { MultiModelResponse, SingleModelResponse, Status } from '../../core/wire.js';
import { appNotFound, ownerFor } from './access.js';
import { visibilityOf } from './apps.js';
import type { Caller, ServiceContext } from './context.js';
import { modelNotFoundFor, toWireModel } from './models.js';
import { ok } from './reply.js';

/**
 * PostModels / PatchModels / DeleteModel: a user's own models (an admin's: anyone's). A model
 * made here has a first version with no runtime (upload files with `clarifai model upload` to
 * run one); it is private unless `visibility.gettable` says PUBLIC.
 */

function modelIdOf(m: Record<string, unknown>): string {
  if (typeof m.id !== 'string' || m.id === '') {
    throw new InvalidArgumentError('each model needs an "id"', StatusCode.MODEL_INVALID_ARGUMENT);
  }
  return m.id;
}

export async function postModels(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  models: Record<string, unknown>[],
  reqId: string,
): Promise<SingleModelResponse> {
  const owner = await ownerFor(ctx, caller, userId);
  if (models.length !== 1) {
    throw new InvalidArgumentError(
      '"model" (or "models" with one model) is required',
      StatusCode.MODEL_INVALID_ARGUMENT,
    );
  }
  const m = models[0]!;
  if (!(await ctx.store.apps.get(owner, appId))) throw appNotFound(userId, appId);
  const visibility = visibilityOf(m.visibility);
  const modelTypeId = typeof m.model_type_id === 'string' ? m.model_type_id : '';
  const { model, version } = await ctx.store.models.create({
    userId: owner,
    appId,
    id: modelIdOf(m),
    modelTypeId,
    ...(typeof m.name === 'string' && m.name !== '' ? { name: m.name } : {}),
    ...(typeof m.description === 'string' ? { description: m.description } : {}),
    ...(visibility ? { visibility } : {}),
  });
  return { status: ok(reqId), model: toWireModel(model, version) };
}

export async function patchModels(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  models: Record<string, unknown>[],
  reqId: string,
): Promise<MultiModelResponse> {
  const owner = await ownerFor(ctx, caller, userId);
  const out = [];
  for (const m of models) {
    const id = modelIdOf(m);
    const visibility = visibilityOf(m.visibility);
    const found = await ctx.store.models.patch(owner, appId, id, {
      ...(typeof m.name === 'string' && m.name !== '' ? { name: m.name } : {}),
      ...(typeof m.description === 'string' ? { description: m.description } : {}),
      ...(visibility ? { visibility } : {}),
    });
    if (!found) throw await modelNotFoundFor(ctx, caller, { userId, appId, modelId: id });
    const model = (await ctx.store.models.getVisible(owner, owner, appId, id))!;
    out.push(toWireModel(model, await ctx.store.models.latestVersion(owner, appId, id)));
  }
  return { status: ok(reqId), models: out };
}

export async function deleteModel(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  modelId: string,
  reqId: string,
): Promise<{ status: Status }> {
  const owner = await ownerFor(ctx, caller, userId);
  if (!(await ctx.store.models.delete(owner, appId, modelId))) {
    throw await modelNotFoundFor(ctx, caller, { userId, appId, modelId });
  }
  return { status: ok(reqId) };
}
