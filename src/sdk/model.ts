import type { ModelRef } from '../core/urls.js';
import { parseModelUrl } from '../core/urls.js';
import type {
  InferenceParams,
  Input,
  InputType,
  MultiOutputResponse,
  Output,
  OutputConfig,
  PostModelOutputsRequest,
  RunnerSelector,
  WireModel,
} from '../core/wire.js';
import { MAX_INPUTS_PER_REQUEST } from '../core/wire.js';
import type { AuthConfig } from './auth.js';
import { resolveAuthConfig } from './auth.js';
import { V2Client } from './client.js';
import { UsageError } from './errors.js';
import { checkInputType, inputFromBytes, inputFromUrl, readInputFile } from './inputs.js';
import type { Transport } from './transport.js';
import { HttpTransport } from './transport.js';

/** Where a prediction runs: a compute cluster and one of its nodepools, or a deployment. */
export interface RunnerOptions {
  computeClusterId?: string;
  nodepoolId?: string;
  deploymentId?: string;
  /** Owner of the cluster or deployment; defaults to the authenticated user. */
  runnerUserId?: string;
}

export interface PredictCommon extends RunnerOptions {
  inferenceParams?: InferenceParams;
  outputConfig?: OutputConfig;
  signal?: AbortSignal;
}

export interface ModelOptions extends RunnerOptions {
  url?: string;
  modelId?: string;
  modelVersion?: { id: string };
  authConfig?: AuthConfig;
  /** Send requests through this transport instead of HTTP to `authConfig.base`. */
  transport?: Transport;
  /** Where CLARIFAI_PAT, CLARIFAI_USER_ID and CLARIFAI_API_BASE are read from; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A model, as in Clarifai's Node SDK: `new Model({ url })` or `new Model({ modelId, authConfig: { userId, appId, pat } })`.
 * Predictions return the v2 `outputs`; failures throw ApiError with code, description and req_id.
 */
export class Model {
  readonly ref: ModelRef;
  readonly client: V2Client;
  private readonly runner: RunnerOptions;
  private readonly userId: string | undefined;

  constructor(options: ModelOptions) {
    const { url, modelId } = options;
    if (url && modelId) throw new UsageError('give either url or modelId, not both');
    if (!url && !modelId) throw new UsageError('give a model url or a modelId');
    const auth = resolveAuthConfig(options.authConfig, options.env);
    if (url) {
      this.ref = parseModelUrl(url);
    } else {
      if (!auth.userId || !auth.appId) {
        throw new UsageError('modelId needs authConfig.userId and authConfig.appId (or CLARIFAI_USER_ID)');
      }
      this.ref = { userId: auth.userId, appId: auth.appId, modelId: modelId! };
    }
    if (options.modelVersion?.id) this.ref = { ...this.ref, versionId: options.modelVersion.id };
    this.userId = auth.userId;
    this.runner = pickRunner(options);
    this.client = new V2Client(options.transport ?? new HttpTransport(auth.base), auth.pat);
  }

  /** The model's description from the server. */
  async loadInfo(): Promise<WireModel> {
    return (await this.client.getModel(this.ref)).model;
  }

  async predict(opts: PredictCommon & { inputs: Input[] }): Promise<Output[]> {
    return (await this.predictResponse(opts)).outputs;
  }

  /** Like predict, but returns the whole response (status with req_id, outputs). */
  async predictResponse(opts: PredictCommon & { inputs: Input[] }): Promise<MultiOutputResponse> {
    return this.client.postModelOutputs(this.ref, this.requestBody(opts), opts.signal);
  }

  /**
   * Streams a generating model's answer (GenerateModelOutputs): each item is one message's
   * outputs, whose `data.text.raw` holds the new text only; the last has `prompt_tokens` and
   * `completion_tokens`. A model that does not generate answers once, whole. Leaving the loop
   * early, or firing `signal`, stops the generation on the server.
   */
  async *generate(opts: PredictCommon & { inputs: Input[] }): AsyncGenerator<Output[], void, undefined> {
    const body = this.requestBody(opts);
    for await (const message of this.client.generateModelOutputs(this.ref, body, opts.signal)) {
      yield message.outputs;
    }
  }

  generateByBytes(
    opts: PredictCommon & { inputBytes: Uint8Array | string; inputType: InputType },
  ): AsyncGenerator<Output[], void, undefined> {
    return this.generate({
      ...opts,
      inputs: [inputFromBytes(bytesOf(opts.inputBytes), checkInputType(opts.inputType))],
    });
  }

  generateByUrl(
    opts: PredictCommon & { url: string; inputType: InputType },
  ): AsyncGenerator<Output[], void, undefined> {
    return this.generate({
      ...opts,
      inputs: [inputFromUrl(checkUrl(opts.url), checkInputType(opts.inputType))],
    });
  }

  /** Reads the file here, on the client; the server never sees the path. */
  async *generateByFilepath(
    opts: PredictCommon & { filepath: string; inputType: InputType },
  ): AsyncGenerator<Output[], void, undefined> {
    const bytes = await readInputFile(opts.filepath);
    yield* this.generateByBytes({ ...opts, inputBytes: bytes });
  }

  /** A PostModelOutputsRequest: the inputs, params and output_config, the version and the runner. */
  private requestBody(opts: PredictCommon & { inputs: Input[] }): PostModelOutputsRequest {
    if (!Array.isArray(opts.inputs) || opts.inputs.length === 0)
      throw new UsageError('inputs must be a non-empty array');
    if (opts.inputs.length > MAX_INPUTS_PER_REQUEST) {
      throw new UsageError(
        `too many inputs: ${opts.inputs.length}; at most ${MAX_INPUTS_PER_REQUEST} per request`,
      );
    }
    const body: PostModelOutputsRequest = { inputs: opts.inputs };
    const outputInfo: { output_config?: OutputConfig; params?: InferenceParams } = {};
    if (opts.outputConfig && Object.keys(opts.outputConfig).length > 0)
      outputInfo.output_config = opts.outputConfig;
    if (opts.inferenceParams && Object.keys(opts.inferenceParams).length > 0)
      outputInfo.params = opts.inferenceParams;
    if (outputInfo.output_config || outputInfo.params) {
      body.model = {
        model_version: { ...(this.ref.versionId ? { id: this.ref.versionId } : {}), output_info: outputInfo },
      };
    }
    const selector = runnerSelector({ ...this.runner, ...pickRunner(opts) }, this.userId);
    if (selector) body.runner_selector = selector;
    return body;
  }

  async predictByBytes(
    opts: PredictCommon & { inputBytes: Uint8Array | string; inputType: InputType },
  ): Promise<Output[]> {
    return this.predict({
      ...opts,
      inputs: [inputFromBytes(bytesOf(opts.inputBytes), checkInputType(opts.inputType))],
    });
  }

  async predictByUrl(opts: PredictCommon & { url: string; inputType: InputType }): Promise<Output[]> {
    return this.predict({
      ...opts,
      inputs: [inputFromUrl(checkUrl(opts.url), checkInputType(opts.inputType))],
    });
  }

  /** Reads the file here, on the client; the server never sees the path. */
  async predictByFilepath(
    opts: PredictCommon & { filepath: string; inputType: InputType },
  ): Promise<Output[]> {
    const bytes = await readInputFile(opts.filepath);
    return this.predictByBytes({ ...opts, inputBytes: bytes });
  }
}

function bytesOf(input: Uint8Array | string): Uint8Array {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (!(bytes instanceof Uint8Array))
    throw new UsageError('inputBytes must be a Buffer, Uint8Array or string');
  return bytes;
}

function checkUrl(url: string): string {
  if (typeof url !== 'string' || url.length === 0) throw new UsageError('url must be a non-empty string');
  return url;
}

function pickRunner(o: RunnerOptions): RunnerOptions {
  const r: RunnerOptions = {};
  if (o.computeClusterId) r.computeClusterId = o.computeClusterId;
  if (o.nodepoolId) r.nodepoolId = o.nodepoolId;
  if (o.deploymentId) r.deploymentId = o.deploymentId;
  if (o.runnerUserId) r.runnerUserId = o.runnerUserId;
  return r;
}

/** Builds `runner_selector`, enforcing: cluster and nodepool together, or a deployment alone. */
export function runnerSelector(r: RunnerOptions, defaultUserId?: string): RunnerSelector | undefined {
  const owner = r.runnerUserId ?? defaultUserId;
  const withOwner = <T extends object>(o: T): T & { user_id?: string } =>
    owner ? { ...o, user_id: owner } : o;
  if (r.deploymentId) {
    if (r.computeClusterId || r.nodepoolId) {
      throw new UsageError(
        'give a deployment id alone, or a compute cluster id with a nodepool id, not both',
      );
    }
    return { deployment: withOwner({ id: r.deploymentId }) };
  }
  if (r.computeClusterId || r.nodepoolId) {
    if (!r.computeClusterId || !r.nodepoolId) {
      throw new UsageError(
        'a compute cluster id and a nodepool id go together: give both, or a deployment id',
      );
    }
    return { nodepool: { id: r.nodepoolId, compute_cluster: withOwner({ id: r.computeClusterId }) } };
  }
  return undefined;
}
