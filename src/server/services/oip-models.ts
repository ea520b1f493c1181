import { NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { ModelRef } from '../../core/urls.js';
import { missingRequirement, type ModelSpec } from '../../engine/index.js';
import { OIP_OUTPUTS, oipKindOf, type OipKind } from '../../engine/runtimes/oip-contract.js';
import type { ModelRecord, ModelVersionRecord } from '../../store/index.js';
import { requireScope } from './access.js';
import type { Caller, ServiceContext } from './context.js';
import { engineSpecOf } from './engine-spec.js';
import { resolveModel } from './models.js';

/**
 * Sibyl's models as the Open Inference Protocol names and describes them. A model is
 * `user_id.app_id.model_id` (OIP names may hold dots, not slashes), or its bare model id when
 * exactly one model the caller can see has it. Visibility is the store's, as on /v2.
 */

export interface OipModel {
  ref: ModelRef;
  model: ModelRecord;
  version: ModelVersionRecord;
  spec: ModelSpec;
  kind: OipKind;
  /** The name the caller used, echoed as `model_name`. */
  name: string;
}

export function oipName(m: Pick<ModelRecord, 'userId' | 'appId' | 'id'>): string {
  return `${m.userId}.${m.appId}.${m.id}`;
}

function notFound(details: string): NotFoundError {
  return new NotFoundError(StatusCode.MODEL_DOES_NOT_EXIST, 'Model does not exist', details);
}

async function visibleWithId(ctx: ServiceContext, caller: Caller, id: string): Promise<ModelRecord[]> {
  const out: ModelRecord[] = [];
  const perPage = 1000;
  for (let page = 1; ; page++) {
    const batch = await ctx.store.models.listVisible(caller.userId, { page, perPage });
    out.push(...batch.filter((m) => m.id === id));
    if (batch.length < perPage) return out;
  }
}

/**
 * The model (and version: the latest unless `versionId`) an OIP model name names, checked to be of
 * a type the tensor contract covers. Reading its metadata needs `read` or `predict`; inferring
 * needs `predict` (checked by the caller of this).
 */
export async function findOipModel(
  ctx: ServiceContext,
  caller: Caller,
  name: string,
  versionId?: string,
): Promise<OipModel> {
  const parts = name.split('.');
  let ref: ModelRef;
  if (parts.length === 3 && parts.every((p) => p !== '')) {
    ref = { userId: parts[0]!, appId: parts[1]!, modelId: parts[2]! };
  } else if (parts.length === 1 && name !== '') {
    const matches = await visibleWithId(ctx, caller, name);
    if (matches.length > 1)
      throw notFound(`model name "${name}" is ambiguous: name one of ${matches.map(oipName).join(', ')}`);
    const m = matches[0];
    if (!m) throw notFound(`no model "${name}" here; name a model as its id or as user_id.app_id.model_id`);
    ref = { userId: m.userId, appId: m.appId, modelId: m.id };
  } else {
    throw notFound(`model name "${name}" must be a model id or user_id.app_id.model_id`);
  }
  if (versionId !== undefined) ref = { ...ref, versionId };
  const { model, version } = await resolveModel(ctx, caller, ref);
  const kind = oipKindOf(model.modelTypeId);
  if (!kind)
    throw notFound(
      `model ${oipName(model)} is a ${model.modelTypeId} model, which the Open Inference Protocol endpoint does not serve (it serves classifiers, detectors, *-to-text and embedders)`,
    );
  return { ref, model, version, spec: engineSpecOf(ctx, model, version), kind, name };
}

/** GET /v2/models/{name}[/versions/{v}]: KServe's model metadata. */
export async function oipModelMetadata(
  ctx: ServiceContext,
  caller: Caller,
  name: string,
  versionId?: string,
): Promise<Record<string, unknown>> {
  requireScope(caller, ['read', 'predict'], 'reading model metadata');
  const found = await findOipModel(ctx, caller, name, versionId);
  const { model, spec, kind } = found;
  const versions = await ctx.store.models.listVersions(model.userId, model.appId, model.id);
  return {
    name,
    versions: versions.map((v) => v.id),
    platform: 'sibyl',
    inputs: [{ name: spec.inputType, datatype: 'BYTES', shape: [-1] }],
    outputs: OIP_OUTPUTS[kind],
    parameters: {
      model_type_id: model.modelTypeId,
      full_name: oipName(model),
      version: found.version.id,
      ...(spec.concepts ? { concept_count: spec.concepts.length } : {}),
    },
  };
}

/** GET /v2/models/{name}/ready: 200 when the model can run here, 400 (with ready false) when not. */
export async function oipModelReady(
  ctx: ServiceContext,
  caller: Caller,
  name: string,
  versionId?: string,
): Promise<{ name: string; ready: boolean }> {
  requireScope(caller, ['read', 'predict'], 'reading model readiness');
  const found = await findOipModel(ctx, caller, name, versionId);
  // a version whose runtime needs a program this machine lacks (pocketsphinx) cannot run
  return { name, ready: missingRequirement(found.spec) === undefined };
}
