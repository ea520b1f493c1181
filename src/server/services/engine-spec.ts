import path from 'node:path';
import { SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { checkSpec, type ModelSpec } from '../../engine/index.js';
import type { ModelRecord, ModelVersionRecord } from '../../store/index.js';
import type { ServiceContext } from './context.js';

/**
 * The engine spec of a stored model version, with its files' folder made absolute. A version
 * without a spec (registered through the API with no runtime) cannot run here.
 */
export function engineSpecOf(
  ctx: ServiceContext,
  model: ModelRecord,
  version: ModelVersionRecord,
): ModelSpec {
  if (!version.spec) {
    throw new SibylError(
      StatusCode.MODEL_NOT_DEPLOYED,
      'Model is not deployed',
      `model ${model.userId}/${model.appId}/${model.id} version ${version.id} has no runtime on this server`,
    );
  }
  const spec = checkSpec({
    ...version.spec,
    userId: model.userId,
    appId: model.appId,
    id: model.id,
    versionId: version.id,
  });
  if (version.files) spec.folder = path.resolve(ctx.dataDir ?? '.', version.files);
  else delete spec.folder;
  return spec;
}
