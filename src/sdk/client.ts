import { StatusCode } from '../core/status.js';
import type {
  Input,
  MultiInputResponse,
  MultiModelResponse,
  MultiOutputResponse,
  PostModelOutputsRequest,
  SingleInputResponse,
  SingleModelResponse,
  SingleUserResponse,
} from '../core/wire.js';
import type { ModelRef } from '../core/urls.js';
import { ApiError, ConnectionError } from './errors.js';
import type { StreamBody, Transport, TransportRequest } from './transport.js';

const OK = new Set<number>([StatusCode.SUCCESS, StatusCode.MIXED_STATUS]);

/**
 * A thin typed client for the v2 routes Sibyl uses. Every call goes through `call`, which is the
 * one place a non-success answer becomes an ApiError carrying code, description and req_id.
 */
export class V2Client {
  readonly transport: Transport;
  private readonly pat: string | undefined;

  constructor(transport: Transport, pat?: string) {
    this.transport = transport;
    this.pat = pat;
  }

  async call<T>(
    method: TransportRequest['method'],
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    stream?: StreamBody,
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.pat) headers.authorization = `Key ${this.pat}`;
    const req: TransportRequest = { method, path, headers, body };
    if (signal) req.signal = signal;
    if (stream) req.stream = stream;
    const res = await this.transport.request(req);
    return this.checked<T>(res.status, res.body, res.text);
  }

  /**
   * A call whose answer streams (one `{"result": message}` per line): each message as it arrives,
   * checked like `call`'s answer. Leaving the loop early stops the request, and with it the work.
   */
  async *callStream<T>(
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): AsyncGenerator<T, void, undefined> {
    const headers: Record<string, string> = {};
    if (this.pat) headers.authorization = `Key ${this.pat}`;
    const abort = new AbortController();
    const req: TransportRequest = {
      method: 'POST',
      path,
      headers,
      body,
      signal: signal ? AbortSignal.any([signal, abort.signal]) : abort.signal,
    };
    try {
      const res = await this.transport.requestStream(req);
      if (!res.values) {
        this.checked(res.status, res.body, res.text);
        return;
      }
      for await (const value of res.values) {
        const message = (value as { result?: unknown } | undefined)?.result ?? value;
        yield this.checked<T>(res.status, message, undefined);
      }
    } finally {
      abort.abort();
    }
  }

  /** An answer's v2 status as an ApiError when it failed; the body otherwise. */
  private checked<T>(httpStatus: number, body: unknown, text: string | undefined): T {
    const status = (body as { status?: { code?: unknown } } | undefined)?.status;
    if (!status || typeof status.code !== 'number') {
      const snippet = (text ?? '').replace(/\s+/g, ' ').slice(0, 120);
      throw new ConnectionError(
        this.transport.description,
        `HTTP ${httpStatus} without a v2 status${snippet ? ` (${snippet})` : ''}; is this a Clarifai v2 API?`,
        { what: `unexpected answer from ${this.transport.description}` },
      );
    }
    const s = status as { code: number; description?: string; details?: string; req_id?: string };
    if (!OK.has(s.code) || httpStatus >= 400) {
      throw new ApiError({
        httpStatus,
        code: s.code,
        description: s.description ?? 'request failed',
        ...(s.details ? { details: s.details } : {}),
        ...(s.req_id ? { reqId: s.req_id } : {}),
      });
    }
    return body as T;
  }

  /** GenerateModelOutputs: the answer's messages as the model writes them. */
  generateModelOutputs(
    ref: ModelRef,
    body: PostModelOutputsRequest,
    signal?: AbortSignal,
  ): AsyncGenerator<MultiOutputResponse, void, undefined> {
    return this.callStream(`${modelPath(ref)}/outputs/generate`, body, signal);
  }

  postModelOutputs(
    ref: ModelRef,
    body: PostModelOutputsRequest,
    signal?: AbortSignal,
  ): Promise<MultiOutputResponse> {
    return this.call('POST', `${modelPath(ref)}/outputs`, body, signal);
  }

  /**
   * GetModel. A version in the ref is ignored: `.../versions/{id}` is GetModelVersion, which
   * answers a `model_version`, and a model's type and input type are the same in every version.
   */
  getModel(ref: ModelRef): Promise<SingleModelResponse> {
    return this.call('GET', modelPath({ userId: ref.userId, appId: ref.appId, modelId: ref.modelId }));
  }

  listModels(
    filter: { userId?: string; appId?: string; page?: number; perPage?: number } = {},
  ): Promise<MultiModelResponse> {
    const base =
      filter.userId && filter.appId
        ? `/v2/users/${seg(filter.userId)}/apps/${seg(filter.appId)}/models`
        : '/v2/models';
    const query = new URLSearchParams();
    if (filter.page) query.set('page', String(filter.page));
    if (filter.perPage) query.set('per_page', String(filter.perPage));
    const q = query.toString();
    return this.call('GET', q ? `${base}?${q}` : base);
  }

  getMe(): Promise<SingleUserResponse> {
    return this.call('GET', '/v2/users/me');
  }

  postInputs(userId: string, appId: string, inputs: Input[]): Promise<MultiInputResponse> {
    return this.call('POST', `/v2/users/${seg(userId)}/apps/${seg(appId)}/inputs`, { inputs });
  }

  getInput(userId: string, appId: string, inputId: string): Promise<SingleInputResponse> {
    return this.call('GET', `/v2/users/${seg(userId)}/apps/${seg(appId)}/inputs/${seg(inputId)}`);
  }
}

export interface UploadStart {
  upload: { id: string; files: { path: string; size: number }[]; max_bytes: number };
}

/** Model upload (Sibyl's routes; Clarifai's cloud takes uploads through its own Python tooling). */
export class ModelUploads {
  constructor(private readonly client: V2Client) {}

  start(ref: Omit<ModelRef, 'versionId'>, files: { path: string; size: number }[]): Promise<UploadStart> {
    const path = `/v2/users/${seg(ref.userId)}/apps/${seg(ref.appId)}/models/${seg(ref.modelId)}/uploads`;
    return this.client.call('POST', path, { files });
  }

  putFile(userId: string, uploadId: string, filePath: string, stream: StreamBody): Promise<unknown> {
    const rel = filePath.split('/').map(seg).join('/');
    return this.client.call(
      'PUT',
      `/v2/users/${seg(userId)}/uploads/${seg(uploadId)}/files/${rel}`,
      undefined,
      undefined,
      stream,
    );
  }

  commit(userId: string, uploadId: string): Promise<SingleModelResponse> {
    return this.client.call('POST', `/v2/users/${seg(userId)}/uploads/${seg(uploadId)}/commit`, {});
  }

  cancel(userId: string, uploadId: string): Promise<unknown> {
    return this.client.call('DELETE', `/v2/users/${seg(userId)}/uploads/${seg(uploadId)}`);
  }
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

function modelPath(ref: ModelRef): string {
  const base = `/v2/users/${seg(ref.userId)}/apps/${seg(ref.appId)}/models/${seg(ref.modelId)}`;
  return ref.versionId ? `${base}/versions/${seg(ref.versionId)}` : base;
}
