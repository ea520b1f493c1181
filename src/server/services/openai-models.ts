import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { ModelRef } from '../../core/urls.js';
import type { ModelRecord } from '../../store/index.js';
import { hasScope, requireScope } from './access.js';
import type { Caller, ServiceContext } from './context.js';
import { resolveModel } from './models.js';

/**
 * Models on the OpenAI-compatible API (/v1): which Sibyl models it serves, and how an OpenAI
 * `model` string names one. Visibility is the store's (own + public), as on /v2.
 */

/** The model types each /v1 endpoint serves; /v1/models lists all of them. */
export const OPENAI_MODEL_TYPES = {
  chat: ['text-to-text', 'multimodal-to-text'],
  completions: ['text-to-text'],
  embeddings: ['text-embedder'],
  audio: ['audio-to-text'],
} as const satisfies Record<string, readonly string[]>;

const LISTED_TYPES = new Set<string>(Object.values(OPENAI_MODEL_TYPES).flat());

/** A client error that names the OpenAI request field at fault (the error's `param`). */
export class OpenAiParamError extends InvalidArgumentError {
  constructor(
    readonly param: string | null,
    details: string,
  ) {
    super(details);
  }
}

export interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export function openAiName(m: Pick<ModelRecord, 'userId' | 'appId' | 'id'>): string {
  return `${m.userId}/${m.appId}/${m.id}`;
}

function toOpenAiModel(m: ModelRecord): OpenAiModel {
  const created = Math.floor(Date.parse(m.createdAt) / 1000);
  return {
    id: openAiName(m),
    object: 'model',
    created: Number.isFinite(created) ? created : 0,
    owned_by: m.userId,
  };
}

/**
 * Listing needs `read` on /v2; here a predict-only key may list too, since OpenAI clients look up
 * /v1/models before they predict and a key that can run a model may know its name.
 */
function requireListScope(caller: Caller): void {
  if (!hasScope(caller, 'predict')) requireScope(caller, 'read', 'listing models');
}

async function visibleModels(ctx: ServiceContext, caller: Caller): Promise<ModelRecord[]> {
  const out: ModelRecord[] = [];
  const perPage = 1000;
  for (let page = 1; ; page++) {
    const batch = await ctx.store.models.listVisible(caller.userId, { page, perPage });
    out.push(...batch.filter((m) => LISTED_TYPES.has(m.modelTypeId)));
    if (batch.length < perPage) return out;
  }
}

/** GET /v1/models */
export async function listOpenAiModels(
  ctx: ServiceContext,
  caller: Caller,
): Promise<{ object: 'list'; data: OpenAiModel[] }> {
  requireListScope(caller);
  return { object: 'list', data: (await visibleModels(ctx, caller)).map(toOpenAiModel) };
}

/** GET /v1/models/{model} */
export async function getOpenAiModel(
  ctx: ServiceContext,
  caller: Caller,
  name: string,
): Promise<OpenAiModel> {
  requireListScope(caller);
  const { model } = await findOpenAiModel(ctx, caller, name);
  if (!LISTED_TYPES.has(model.modelTypeId)) throw notServed(name, [...LISTED_TYPES]);
  return toOpenAiModel(model);
}

function notFound(details: string): NotFoundError {
  return new NotFoundError(StatusCode.MODEL_DOES_NOT_EXIST, 'Model does not exist', details);
}

function notServed(name: string, types: readonly string[]): NotFoundError {
  return notFound(`model "${name}" is not served here: this endpoint serves ${types.join(', ')} models`);
}

/**
 * The model an OpenAI `model` string names: `user_id/app_id/model_id`, or a bare model id when
 * exactly one model the caller can see has it.
 */
export async function findOpenAiModel(
  ctx: ServiceContext,
  caller: Caller,
  name: unknown,
): Promise<{ ref: ModelRef; model: ModelRecord }> {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new OpenAiParamError('model', 'you must provide a model: "user_id/app_id/model_id" or a model id');
  }
  const parts = name.split('/');
  if (parts.length === 3 && parts.every((p) => p !== '')) {
    const ref = { userId: parts[0]!, appId: parts[1]!, modelId: parts[2]! };
    return { ref, model: (await resolveModel(ctx, caller, ref)).model };
  }
  if (parts.length !== 1) {
    throw new OpenAiParamError(
      'model',
      `model "${name}" must be "user_id/app_id/model_id" or a bare model id`,
    );
  }
  const all = await visibleModels(ctx, caller);
  const matches = all.filter((m) => m.id === name);
  if (matches.length === 1) {
    const m = matches[0]!;
    return { ref: { userId: m.userId, appId: m.appId, modelId: m.id }, model: m };
  }
  if (matches.length > 1) {
    throw notFound(
      `model id "${name}" is ambiguous: name one of ${matches.map((m) => openAiName(m)).join(', ')}`,
    );
  }
  throw notFound(
    `no model "${name}" here. Models served on /v1: ${all.map((m) => openAiName(m)).join(', ') || 'none'}`,
  );
}

/**
 * The model for one endpoint, checked to be of a type it serves and that the key may predict
 * with, before anything is downloaded or queued.
 */
export async function modelForEndpoint(
  ctx: ServiceContext,
  caller: Caller,
  name: unknown,
  kind: keyof typeof OPENAI_MODEL_TYPES,
  endpoint: string,
): Promise<{ ref: ModelRef; model: ModelRecord; name: string }> {
  requireScope(caller, 'predict', endpoint);
  const found = await findOpenAiModel(ctx, caller, name);
  const types: readonly string[] = OPENAI_MODEL_TYPES[kind];
  if (!types.includes(found.model.modelTypeId)) {
    throw new OpenAiParamError(
      'model',
      `model ${openAiName(found.model)} is a ${found.model.modelTypeId} model; ${endpoint} serves ${types.join(' and ')} models`,
    );
  }
  return { ...found, name: openAiName(found.model) };
}
