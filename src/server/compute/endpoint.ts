import { PredictionError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { MultiOutputResponse } from '../../core/wire.js';
import type { ModelSpec } from '../../engine/index.js';
import type { NodepoolRecord } from '../../store/index.js';
import type { ServiceContext } from '../services/context.js';
import { runPrediction, type PreparedPrediction } from '../services/predict.js';
import { isObject } from '../services/request-shape.js';
import { asOwnAnswer, runnerRequest } from './runner-request.js';

/** How long a call to another Clarifai API (a Sibyl, or Clarifai's cloud) may take. */
const CLARIFAI_TIMEOUT_MS = 120_000;

/**
 * A prediction on an endpoint nodepool: an engine the team already runs. OIP v2 (Triton, KServe,
 * MLServer, another Sibyl's OIP port) and OpenAI-compatible engines (vLLM, Ollama, llama.cpp,
 * TGI) are the engine's `oip` and `openai` runtimes pointed at the endpoint, so batching, limits
 * and output config apply as for any model; another Clarifai API gets the request as it is.
 */
export async function predictOnEndpoint(
  ctx: ServiceContext,
  pool: NodepoolRecord,
  prepared: PreparedPrediction,
  reqId: string,
  signal?: AbortSignal,
): Promise<MultiOutputResponse> {
  const endpoint = pool.endpoint;
  if (!endpoint) throw new Error(`nodepool ${pool.id} is an endpoint without one`);
  if (endpoint.protocol === 'clarifai') return forwardToClarifai(pool, prepared, reqId, signal);
  const spec: ModelSpec = {
    ...prepared.spec,
    // its own engine entry: the same model served locally is a different one
    versionId: `${prepared.spec.versionId}~${pool.userId}.${pool.computeClusterId}.${pool.id}`,
    runtime: {
      kind: endpoint.protocol,
      base_url: endpoint.baseUrl,
      model: endpoint.model ?? prepared.spec.id,
      ...(endpoint.apiKeyEnv ? { api_key_env: endpoint.apiKeyEnv } : {}),
    },
  };
  return runPrediction(ctx, { ...prepared, spec }, reqId, signal);
}

async function forwardToClarifai(
  pool: NodepoolRecord,
  prepared: PreparedPrediction,
  reqId: string,
  signal?: AbortSignal,
): Promise<MultiOutputResponse> {
  const endpoint = pool.endpoint!;
  const request = runnerRequest(prepared);
  const [userId, appId, , modelId] = (endpoint.model ?? '').split('/');
  const path =
    userId && appId && modelId
      ? `/v2/users/${userId}/apps/${appId}/models/${modelId}/outputs`
      : `/v2/users/${prepared.model.userId}/apps/${prepared.model.appId}/models/${prepared.model.id}/outputs`;
  const key = endpoint.apiKeyEnv ? process.env[endpoint.apiKeyEnv] : undefined;
  if (endpoint.apiKeyEnv && !key) {
    throw new SibylError(
      StatusCode.MODEL_NOT_DEPLOYED,
      'Endpoint not configured',
      `nodepool ${pool.computeClusterId}/${pool.id} reads its key from the variable ${endpoint.apiKeyEnv}, which is not set on this server`,
    );
  }
  const url = `${endpoint.baseUrl.replace(/\/+$/, '')}${path}`;
  const where = `${endpoint.baseUrl}${path}`;
  delete (request as { user_app_id?: unknown }).user_app_id;
  delete (request as { model_id?: unknown }).model_id;
  if (userId) delete (request as { version_id?: unknown }).version_id;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Key ${key}` } : {}) },
      body: JSON.stringify(request),
      signal: signal
        ? AbortSignal.any([signal, AbortSignal.timeout(CLARIFAI_TIMEOUT_MS)])
        : AbortSignal.timeout(CLARIFAI_TIMEOUT_MS),
    });
  } catch (error) {
    throw new PredictionError(`endpoint ${where} could not be reached: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!isObject(body) || !isObject(body.status)) {
    throw new PredictionError(`endpoint ${where} answered HTTP ${res.status} without a v2 response`);
  }
  const status = body.status as { code?: number; description?: string; details?: string };
  if (status.code !== StatusCode.SUCCESS && status.code !== StatusCode.MIXED_STATUS) {
    throw new SibylError(
      typeof status.code === 'number' ? status.code : StatusCode.MODEL_PREDICTION_FAILED,
      status.description ?? 'Endpoint failed',
      `endpoint ${where}: ${status.details ?? status.description ?? `HTTP ${res.status}`}`,
    );
  }
  return asOwnAnswer(body, prepared, reqId);
}
