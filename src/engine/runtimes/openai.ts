import type { InferenceParams } from '../../core/wire.js';
import { ConfigReader, folderError } from '../config-reader.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedInput, GenerateChunk, LoadedModel, LoadOptions, Runtime } from '../types.js';
import { OpenAiClient, type EngineTarget } from './openai-client.js';
import { complete, embed, stream, transcribe } from './openai-tasks.js';

const MODEL_TYPES = ['text-to-text', 'multimodal-to-text', 'text-embedder', 'audio-to-text'] as const;
type ModelType = (typeof MODEL_TYPES)[number];

const SETTINGS = ['kind', 'base_url', 'model', 'api_key_env', 'timeout_ms', 'retries'];
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_RETRIES = 2;

/**
 * A generation model's predict, with each input's token usage and finish reason beside its data
 * (the shape of generate's last chunk). `predict` is this without them.
 */
export interface OpenAiModel extends LoadedModel {
  predictOutputs?(
    batch: DecodedInput[],
    params: InferenceParams,
    signal?: AbortSignal,
  ): Promise<GenerateChunk[]>;
}

/**
 * Models served by a remote OpenAI-compatible engine (vLLM, Ollama, llama.cpp server, TGI,
 * LocalAI, OpenAI): `runtime: {kind: openai, base_url, model, api_key_env?, timeout_ms?, retries?}`.
 * Neither validate nor load calls the engine: a model may be registered while its engine is down.
 */
export class OpenAiRuntime implements Runtime {
  /** The environment the key is read from (the process's; tests pass their own). */
  constructor(private readonly env: Readonly<Record<string, string | undefined>> = process.env) {}

  async validate(spec: ModelSpec): Promise<ModelSpec> {
    readSettings(spec, this.env);
    return spec;
  }

  async load(spec: ModelSpec, _opts?: LoadOptions): Promise<LoadedModel> {
    const { type, target } = readSettings(spec, this.env);
    const client = new OpenAiClient(target);
    const base = { bytes: 0, unload: () => Promise.resolve() };
    switch (type) {
      case 'text-to-text':
      case 'multimodal-to-text': {
        const predictOutputs = (batch: DecodedInput[], params: InferenceParams, signal?: AbortSignal) =>
          eachAtOnce(batch, signal, (input, s) => complete(client, input, params, s));
        const model: OpenAiModel = {
          ...base,
          encodedInputs: type === 'multimodal-to-text',
          predictOutputs,
          predict: async (batch, params, signal) =>
            (await predictOutputs(batch, params, signal)).map((output) => output.data),
          generate: (input, params, signal) => stream(client, input, params, signal),
        };
        return model;
      }
      case 'text-embedder':
        return { ...base, predict: (batch, _params, signal) => embed(client, batch, signal) };
      case 'audio-to-text':
        return {
          ...base,
          encodedInputs: true,
          predict: (batch, params, signal) =>
            eachAtOnce(batch, signal, (input, s) => transcribe(client, input, params, s)),
        };
    }
  }
}

/**
 * Sends every input of a batch at once (the engine batches them itself). The first failure
 * cancels the others: the worker then retries each input alone, so only the bad one fails.
 */
async function eachAtOnce<T>(
  batch: DecodedInput[],
  signal: AbortSignal | undefined,
  run: (input: DecodedInput, signal: AbortSignal) => Promise<T>,
): Promise<T[]> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  if (signal?.aborted) controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.all(
      batch.map((input) =>
        run(input, controller.signal).catch((error: unknown) => {
          controller.abort();
          throw error;
        }),
      ),
    );
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Every setting is checked here, so validate (at upload) and load (in a worker) say the same. */
function readSettings(
  spec: ModelSpec,
  env: Readonly<Record<string, string | undefined>>,
): { type: ModelType; target: EngineTarget } {
  if (!(MODEL_TYPES as readonly string[]).includes(spec.modelTypeId)) {
    throw folderError(
      `config.yaml model.model_type_id ${JSON.stringify(spec.modelTypeId)} cannot run on runtime kind openai; ` +
        `allowed: ${MODEL_TYPES.join(', ')}`,
    );
  }
  const runtime = new ConfigReader(spec.runtime, 'runtime');
  runtime.allowOnly(SETTINGS);
  const target = readEngineTarget(runtime, env, 'http://127.0.0.1:8000/v1');
  return { type: spec.modelTypeId as ModelType, target };
}

/**
 * The remote engine settings every remote runtime shares (`base_url`, `model`, `api_key_env`,
 * `timeout_ms`, `retries`), checked the same way; the `oip` runtime reads them here too.
 */
export function readEngineTarget(
  runtime: ConfigReader,
  env: Readonly<Record<string, string | undefined>>,
  example: string,
): EngineTarget {
  const baseUrl = runtime.requiredString('base_url');
  let url: URL | undefined;
  try {
    url = new URL(baseUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash)
    throw runtime.error('base_url', `an http or https URL of the API root, e.g. ${example}`, baseUrl);
  if (url.username || url.password)
    throw runtime.error(
      'base_url',
      'a URL without user or password (put the key in api_key_env)',
      '<hidden>',
    );
  const model = runtime.requiredString('model');
  const apiKeyEnv = runtime.string('api_key_env');
  let apiKey: string | undefined;
  if (apiKeyEnv !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(apiKeyEnv))
      throw runtime.error(
        'api_key_env',
        'the name of an environment variable (letters, digits, _)',
        apiKeyEnv,
      );
    apiKey = env[apiKeyEnv];
    if (!apiKey)
      throw folderError(
        `config.yaml runtime.api_key_env names ${apiKeyEnv}, which is not set in the server's environment`,
      );
  }
  const timeoutMs =
    runtime.number('timeout_ms', { min: 1, max: 3_600_000, integer: true }) ?? DEFAULT_TIMEOUT_MS;
  const retries = runtime.number('retries', { min: 0, max: 10, integer: true }) ?? DEFAULT_RETRIES;
  const target: EngineTarget = { baseUrl: baseUrl.replace(/\/+$/, ''), model, timeoutMs, retries };
  if (apiKeyEnv !== undefined) Object.assign(target, { apiKey, apiKeyEnv });
  return target;
}
