import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { ModelRef } from '../../core/urls.js';
import { deleteInputs } from './input-deletion.js';
import { getInput, listInputs, patchInputs, postInputs } from './inputs.js';
import { deleteApp, getApp, listApps, patchApps, postApps } from './apps.js';
import { COMPUTE_RPCS } from './compute-rpcs.js';
import { requireScope } from './access.js';
import { deleteKey, getKey, listKeys, patchKeys, postKeys } from './keys.js';
import { deleteModel, patchModels, postModels } from './model-writes.js';
import { RPC_SCOPES } from './scopes.js';
import type { Caller, ServiceContext } from './context.js';
import { getModelOutputInfo, getModelVersion, listModelVersions } from './model-versions.js';
import { getModel, listModels } from './models.js';
import { generateOutputs } from './generate.js';
import { predict } from './predict.js';
import { routedPredict } from '../compute/route.js';
import type { RunnerSelector } from '../../core/wire.js';
import { isObject } from './request-shape.js';
import { getUser } from './users.js';

/**
 * Clarifai's V2 RPCs that Sibyl serves, by their proto names. Every transport (REST JSON, gRPC,
 * gRPC-web) decodes its request into the same canonical message (proto field names, see
 * server/proto/json.ts) and calls the handler here, so a fix lands in all of them at once.
 *
 * Requests name their user and app in `user_app_id`, as the proto has it (REST fills it from the
 * path). Where a request leaves them out (Clarifai's short routes such as `/v2/models/{id}/outputs`,
 * or a gRPC client with an app-scoped habit), the user is the key's and the app is its default app,
 * `default`; a model asked for by id alone is the caller's own, else the one visible model with
 * that id (so `/v2/models/general-image-recognition/outputs` reaches clarifai/main's built-in).
 */

export type Message = Record<string, unknown>;

export type RpcHandler = (
  ctx: ServiceContext,
  caller: Caller,
  req: Message,
  reqId: string,
  signal?: AbortSignal,
) => Promise<object | AsyncIterable<object>>;

/** The app a request without one means: the key's default app. */
export const DEFAULT_APP_ID = 'default';

function text(req: Message, field: string): string | undefined {
  const v = req[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function userAppOf(req: Message): { userId?: string; appId?: string } {
  const ua = isObject(req.user_app_id) ? req.user_app_id : {};
  const out: { userId?: string; appId?: string } = {};
  if (typeof ua.user_id === 'string' && ua.user_id !== '') out.userId = ua.user_id;
  if (typeof ua.app_id === 'string' && ua.app_id !== '') out.appId = ua.app_id;
  return out;
}

function userOf(req: Message): string {
  return userAppOf(req).userId ?? 'me';
}

function appOf(req: Message): string {
  return userAppOf(req).appId ?? DEFAULT_APP_ID;
}

function pageOf(req: Message, defaultPerPage = 128): { page: number; perPage: number } {
  const num = (name: string, dflt: number, max: number): number => {
    const v = req[name];
    if (v === undefined || v === 0) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}; got ${JSON.stringify(v)}`);
    }
    return v;
  };
  return { page: num('page', 1, 1_000_000), perPage: num('per_page', defaultPerPage, 1000) };
}

/** The model a request names, by user_app_id + model_id (+ version_id). */
async function modelRefOf(ctx: ServiceContext, caller: Caller, req: Message): Promise<ModelRef> {
  const modelId = text(req, 'model_id');
  if (!modelId) throw new InvalidArgumentError('model_id is required', StatusCode.MODEL_INVALID_ARGUMENT);
  const versionId = text(req, 'version_id');
  const version = versionId ? { versionId } : {};
  const { userId, appId } = userAppOf(req);
  if (userId && appId)
    return { userId: userId === 'me' ? caller.userId : userId, appId, modelId, ...version };
  const owner = !userId || userId === 'me' ? caller.userId : userId;
  const own = await ctx.store.models.getVisible(caller.userId, owner, appId ?? DEFAULT_APP_ID, modelId);
  if (own) return { userId: owner, appId: own.appId, modelId, ...version };
  const candidates: { userId: string; appId: string }[] = [];
  for (let page = 1; ; page++) {
    const batch = await ctx.store.models.listVisible(caller.userId, {
      ...(userId ? { userId: owner } : {}),
      page,
      perPage: 1000,
    });
    for (const m of batch) if (m.id === modelId) candidates.push({ userId: m.userId, appId: m.appId });
    if (batch.length < 1000) break;
  }
  const mine = candidates.filter((c) => c.userId === caller.userId);
  const pick = mine.length === 1 ? mine : candidates;
  if (pick.length === 1) return { ...pick[0]!, modelId, ...version };
  if (pick.length > 1) {
    throw new InvalidArgumentError(
      `model id "${modelId}" is in several apps (${pick.map((c) => `${c.userId}/${c.appId}`).join(', ')}): name one in user_app_id or the URL`,
      StatusCode.MODEL_INVALID_ARGUMENT,
    );
  }
  // the usual "does not exist; available models: ..." answer
  return { userId: owner, appId: appId ?? DEFAULT_APP_ID, modelId, ...version };
}

const predictRpc: RpcHandler = async (ctx, caller, req, reqId, signal) => {
  const selector = isObject(req.runner_selector) ? (req.runner_selector as RunnerSelector) : undefined;
  // the deployment route form names no model: the deployment does
  const ref =
    !text(req, 'model_id') && selector?.deployment !== undefined
      ? { userId: caller.userId, appId: DEFAULT_APP_ID, modelId: '' }
      : await modelRefOf(ctx, caller, req);
  return selector
    ? routedPredict(ctx, caller, ref, req, selector, reqId, signal)
    : predict(ctx, caller, ref, req, reqId, signal);
};

/**
 * GenerateModelOutputs (and each message of StreamModelOutputs): the answer as a stream of
 * messages. Through a deployment or nodepool the answer comes whole, as one message.
 */
const generateRpc: RpcHandler = async (ctx, caller, req, reqId, signal) => {
  if (!isObject(req.runner_selector)) {
    return generateOutputs(ctx, caller, await modelRefOf(ctx, caller, req), req, reqId, signal);
  }
  const whole = await predictRpc(ctx, caller, req, reqId, signal);
  return (async function* () {
    yield whole;
  })();
};

function messages(v: unknown): Message[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function required(req: Message, field: string, code: number = StatusCode.CONN_INVALID_REQUEST): string {
  const v = text(req, field);
  if (!v) throw new InvalidArgumentError(`${field} is required`, code);
  return v;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

export const RPCS: Readonly<Record<string, RpcHandler>> = {
  GetUser: (ctx, caller, req, reqId) => getUser(ctx, caller, userOf(req), reqId),

  GetApp: (ctx, caller, req, reqId) => getApp(ctx, caller, userOf(req), appOf(req), reqId),

  ListApps: (ctx, caller, req, reqId) => {
    const filter = {
      ...pageOf(req),
      ...optional('name', text(req, 'name')),
      ...optional('id', text(req, 'id')),
    };
    return listApps(ctx, caller, userOf(req), filter, reqId);
  },

  GetModel: async (ctx, caller, req, reqId) =>
    getModel(ctx, caller, await modelRefOf(ctx, caller, req), reqId),

  GetModelOutputInfo: async (ctx, caller, req, reqId) =>
    getModelOutputInfo(ctx, caller, await modelRefOf(ctx, caller, req), reqId),

  ListModels: (ctx, caller, req, reqId) => {
    const { userId, appId } = userAppOf(req);
    const useCases = stringList(req.use_cases);
    return listModels(
      ctx,
      caller,
      {
        ...pageOf(req),
        ...optional('userId', userId === 'me' ? caller.userId : userId),
        ...optional('appId', userId ? appId : undefined),
        ...optional('name', text(req, 'name') ?? text(req, 'search') ?? text(req, 'query')),
        ...optional('modelTypeId', text(req, 'model_type_id')),
        ...(useCases.length > 0 ? { useCases } : {}),
      },
      reqId,
    );
  },

  GetModelVersion: async (ctx, caller, req, reqId) => {
    const ref = await modelRefOf(ctx, caller, req);
    if (!ref.versionId)
      throw new InvalidArgumentError('version_id is required', StatusCode.MODEL_INVALID_ARGUMENT);
    return getModelVersion(ctx, caller, ref, reqId);
  },

  ListModelVersions: async (ctx, caller, req, reqId) =>
    listModelVersions(ctx, caller, await modelRefOf(ctx, caller, req), pageOf(req), reqId),

  PostModelOutputs: predictRpc,

  PostInputs: (ctx, caller, req, reqId) => postInputs(ctx, caller, userOf(req), appOf(req), req, reqId),

  ListInputs: async (ctx, caller, req, reqId) => {
    const ids = stringList(req.ids);
    const wanted = isObject(req.status) ? req.status.code : undefined;
    if (ids.length === 0 && wanted === undefined) {
      return listInputs(ctx, caller, userOf(req), appOf(req), pageOf(req), reqId);
    }
    // filtered listings: every stored input is INPUT_DOWNLOAD_SUCCESS
    const found = [];
    for (const id of ids) {
      try {
        found.push((await getInput(ctx, caller, userOf(req), appOf(req), id, reqId)).input);
      } catch (err) {
        if (!(err instanceof NotFoundError) || err.code !== StatusCode.INPUT_DOES_NOT_EXIST) throw err;
      }
    }
    const all =
      ids.length > 0
        ? found
        : (await listInputs(ctx, caller, userOf(req), appOf(req), pageOf(req), reqId)).inputs;
    const inputs = all.filter((i) => wanted === undefined || i.status?.code === wanted);
    return { status: { code: StatusCode.SUCCESS, description: 'Ok', req_id: reqId }, inputs };
  },

  GetInput: (ctx, caller, req, reqId) => {
    const id = text(req, 'input_id');
    if (!id) throw new InvalidArgumentError('input_id is required', StatusCode.INPUT_INVALID_ARGUMENT);
    return getInput(ctx, caller, userOf(req), appOf(req), id, reqId);
  },

  DeleteInput: (ctx, caller, req, reqId) => {
    const id = text(req, 'input_id');
    if (!id) throw new InvalidArgumentError('input_id is required', StatusCode.INPUT_INVALID_ARGUMENT);
    return deleteInputs(ctx, caller, userOf(req), appOf(req), [id], reqId);
  },

  DeleteInputs: (ctx, caller, req, reqId) =>
    deleteInputs(ctx, caller, userOf(req), appOf(req), stringList(req.ids), reqId),

  PatchInputs: (ctx, caller, req, reqId) =>
    patchInputs(ctx, caller, userOf(req), appOf(req), messages(req.inputs), text(req, 'action') ?? '', reqId),

  PostApps: (ctx, caller, req, reqId) => postApps(ctx, caller, userOf(req), messages(req.apps), reqId),

  PatchApps: (ctx, caller, req, reqId) => patchApps(ctx, caller, userOf(req), messages(req.apps), reqId),

  DeleteApp: (ctx, caller, req, reqId) => {
    const appId = userAppOf(req).appId;
    if (!appId) throw new InvalidArgumentError('user_app_id.app_id is required');
    return deleteApp(ctx, caller, userOf(req), appId, reqId);
  },

  PostModels: (ctx, caller, req, reqId) => {
    const models = messages(req.models);
    if (models.length === 0 && isObject(req.model)) models.push(req.model);
    return postModels(ctx, caller, userOf(req), appOf(req), models, reqId);
  },

  PatchModels: (ctx, caller, req, reqId) =>
    patchModels(ctx, caller, userOf(req), appOf(req), messages(req.models), reqId),

  DeleteModel: (ctx, caller, req, reqId) =>
    deleteModel(
      ctx,
      caller,
      userOf(req),
      appOf(req),
      required(req, 'model_id', StatusCode.MODEL_INVALID_ARGUMENT),
      reqId,
    ),

  PostKeys: (ctx, caller, req, reqId) => postKeys(ctx, caller, userOf(req), messages(req.keys), reqId),

  ListKeys: (ctx, caller, req, reqId) => listKeys(ctx, caller, userOf(req), pageOf(req), reqId),

  GetKey: (ctx, caller, req, reqId) => getKey(ctx, caller, userOf(req), required(req, 'key_id'), reqId),

  DeleteKey: (ctx, caller, req, reqId) => deleteKey(ctx, caller, userOf(req), required(req, 'key_id'), reqId),

  PatchKeys: (ctx, caller, req, reqId) => patchKeys(ctx, caller, userOf(req), messages(req.keys), reqId),

  ...COMPUTE_RPCS,
};

/**
 * Streaming forms of predict: each request message is a PostModelOutputsRequest whose answer is a
 * stream of messages (services/generate.ts): the pieces of a generation, or one whole prediction
 * for models that do not generate.
 */
export const STREAMING_PREDICT_RPCS = ['GenerateModelOutputs', 'StreamModelOutputs'] as const;

/** Whether a handler's result is a stream of messages rather than one. */
export function isMessageStream(result: object): result is AsyncIterable<object> {
  return Symbol.asyncIterator in result;
}

/**
 * The handler of an RPC, behind the check that the key has the scope the RPC needs (scopes.ts),
 * so REST, gRPC and gRPC-web refuse an out-of-scope key alike.
 */
export function rpcHandler(name: string): RpcHandler | undefined {
  const handler = (STREAMING_PREDICT_RPCS as readonly string[]).includes(name)
    ? generateRpc
    : Object.prototype.hasOwnProperty.call(RPCS, name)
      ? RPCS[name]
      : undefined;
  if (!handler) return undefined;
  const scope = RPC_SCOPES[name];
  if (scope === null) return handler;
  if (scope === undefined) throw new Error(`RPC ${name} has no scope in RPC_SCOPES`);
  return (ctx, caller, req, reqId, signal) => {
    requireScope(caller, scope, name);
    return handler(ctx, caller, req, reqId, signal);
  };
}

/** Every RPC name served, streaming ones included. */
export const SERVED_RPCS: readonly string[] = [...Object.keys(RPCS), ...STREAMING_PREDICT_RPCS];

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
