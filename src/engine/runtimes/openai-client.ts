import { BusyError, InvalidArgumentError, PredictionError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import {
  backoff,
  clip,
  messageOf,
  networkReason,
  remoteMessage,
  retryAfterMs,
  sleep,
  SseParser,
} from './openai-http.js';

/** Where a remote OpenAI-compatible engine is, resolved once from the model's `runtime` settings. */
export interface EngineTarget {
  /** http(s) URL up to the API root, e.g. `http://127.0.0.1:8000/v1`, without a trailing slash. */
  baseUrl: string;
  /** The engine's own name for the model. */
  model: string;
  apiKey?: string;
  /** The environment variable the key came from: errors name it, never the key. */
  apiKeyEnv?: string;
  /** Per attempt; for a stream, until the answer starts and then between two pieces of it. */
  timeoutMs: number;
  retries: number;
}

/**
 * A body sent as it is, with its own headers: the `oip` runtime's JSON-then-binary tensors
 * (Triton's binary tensor data extension). postJson's bodies are JSON or form data.
 */
export class RawBody {
  constructor(
    readonly bytes: Uint8Array,
    readonly headers: Readonly<Record<string, string>>,
  ) {}
}

/** What openai-node retries, less 408/409 which OpenAI-compatible servers do not send for load. */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** An HTTP answer that was not 2xx, before it becomes a SibylError. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly remoteMessage: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/** One try: its own abort controller, fired by the caller's signal or by its timer. */
class Attempt {
  readonly controller = new AbortController();
  timedOut = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = () => this.controller.abort();

  constructor(
    private readonly timeoutMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    caller?.addEventListener('abort', this.onAbort, { once: true });
    this.arm();
  }

  /** (Re)starts the timer: a stream gets timeoutMs for each piece, not for the whole answer. */
  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.timeoutMs);
  }

  /** Ends the try; aborting an unfinished response closes its connection. */
  dispose(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onAbort);
    this.controller.abort();
  }
}

/**
 * A small client for one model on an OpenAI-compatible engine (vLLM, Ollama, llama.cpp server, TGI,
 * LocalAI, OpenAI). Retries what the server says to retry (429, 5xx, a connection that failed),
 * with exponential backoff and jitter or the server's Retry-After, within a total budget of
 * `timeoutMs * (retries + 1)`; a stream is retried only until its answer starts. Every error is a
 * SibylError that names the engine and says why; the key never appears in one.
 */
export class OpenAiClient {
  constructor(readonly target: EngineTarget) {}

  /** `remote engine http://host/v1 (model "x")`, the start of every error. */
  get name(): string {
    return `remote engine ${this.target.baseUrl} (model ${JSON.stringify(this.target.model)})`;
  }

  /** POSTs JSON (or multipart form data) and returns the parsed JSON answer. */
  async postJson(path: string, body: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const text = await this.withRetries(signal, async (attempt) => {
      try {
        const response = await this.fetch(path, body, attempt);
        return await response.text();
      } finally {
        attempt.dispose();
      }
    });
    return this.parse(text, path);
  }

  /**
   * POSTs a body as it is and returns the answer's headers and bytes (the `oip` runtime reads
   * binary tensors after the JSON); retried and reported as postJson is.
   */
  async postRaw(
    path: string,
    body: RawBody,
    signal?: AbortSignal,
  ): Promise<{ headers: Headers; bytes: Uint8Array }> {
    return this.withRetries(signal, async (attempt) => {
      try {
        const response = await this.fetch(path, body, attempt);
        return { headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
      } finally {
        attempt.dispose();
      }
    });
  }

  /**
   * POSTs with `stream: true` in the body and yields each server-sent event's JSON until `[DONE]`.
   * Leaving the loop early (or the signal firing) closes the connection, which stops the engine.
   */
  async *postStream(
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): AsyncGenerator<Record<string, unknown>> {
    const { response, attempt } = await this.withRetries(signal, async (attempt) => {
      try {
        return { response: await this.fetch(path, body, attempt), attempt };
      } catch (error) {
        attempt.dispose();
        throw error;
      }
    });
    if (response.headers.get('content-type')?.includes('application/json')) {
      // an engine that does not stream answers all at once
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw this.failure(error, attempt, signal, 1).error;
      } finally {
        attempt.dispose();
      }
      yield this.parse(text, path);
      return;
    }
    const reader = response.body!.getReader();
    const events = new SseParser();
    try {
      for (;;) {
        attempt.arm();
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (signal?.aborted || attempt.timedOut) throw this.failure(error, attempt, signal, 1).error;
          throw this.remoteError(`broke off its answer: ${networkReason(error)}`);
        }
        for (const payload of events.push(chunk.done ? undefined : chunk.value)) {
          if (payload.trim() === '[DONE]') return;
          const event = this.parse(payload, path);
          if (event.error !== undefined)
            throw this.remoteError(`failed while streaming: ${messageOf(event)}`);
          yield event;
        }
        if (chunk.done) return;
      }
    } finally {
      attempt.dispose();
      reader.cancel().catch(() => undefined);
    }
  }

  private async fetch(path: string, body: unknown, attempt: Attempt): Promise<Response> {
    const form = body instanceof FormData;
    const raw = body instanceof RawBody;
    const headers: Record<string, string> = { accept: 'application/json, text/event-stream' };
    if (raw) Object.assign(headers, body.headers);
    else if (!form) headers['content-type'] = 'application/json';
    if (this.target.apiKey) headers.authorization = `Bearer ${this.target.apiKey}`;
    const response = await fetch(this.target.baseUrl + path, {
      method: 'POST',
      headers,
      body: raw ? body.bytes : form ? body : JSON.stringify(body),
      signal: attempt.controller.signal,
    });
    if (response.ok) return response;
    const text = (await response.text().catch(() => '')).slice(0, 64 * 1024);
    throw new HttpFailure(response.status, remoteMessage(text), retryAfterMs(response.headers));
  }

  private async withRetries<T>(
    signal: AbortSignal | undefined,
    run: (attempt: Attempt) => Promise<T>,
  ): Promise<T> {
    const { timeoutMs, retries } = this.target;
    const deadline = Date.now() + timeoutMs * (retries + 1);
    for (let tries = 1; ; tries++) {
      if (signal?.aborted) throw this.cancelled();
      const attempt = new Attempt(timeoutMs, signal);
      try {
        return await run(attempt);
      } catch (error) {
        const failure = this.failure(error, attempt, signal, tries);
        const wait = failure.retryAfterMs ?? backoff(tries);
        if (!failure.retryable || tries > retries || Date.now() + wait > deadline) throw failure.error;
        await sleep(wait, signal).catch(() => {
          throw this.cancelled();
        });
      }
    }
  }

  /** Turns whatever a try threw into the error to report, and whether another try may help. */
  private failure(
    error: unknown,
    attempt: Attempt,
    signal: AbortSignal | undefined,
    tries: number,
  ): { error: SibylError; retryable: boolean; retryAfterMs?: number } {
    const after = tries > 1 ? ` (after ${tries} attempts)` : '';
    if (signal?.aborted) return { error: this.cancelled(), retryable: false };
    if (attempt.timedOut) {
      return {
        error: unavailable(`${this.name} timed out after ${this.target.timeoutMs} ms${after}`),
        retryable: true,
      };
    }
    if (error instanceof HttpFailure) return this.httpError(error, after);
    if (error instanceof SibylError) return { error, retryable: false };
    const reason = networkReason(error);
    if (reason === 'bad port') {
      const port = new URL(this.target.baseUrl).port;
      const why = `fetch refuses port ${port} (a port the Fetch standard blocks); serve the engine on another port`;
      return { error: unavailable(`${this.name} cannot be reached: ${why}`), retryable: false };
    }
    return {
      error: unavailable(this.redact(`${this.name} is unreachable: ${reason}${after}`)),
      retryable: true,
    };
  }

  private httpError(
    failure: HttpFailure,
    after: string,
  ): { error: SibylError; retryable: boolean; retryAfterMs?: number } {
    const { status } = failure;
    const said = failure.remoteMessage ? `: ${this.redact(failure.remoteMessage)}` : '';
    const retry = { retryable: RETRYABLE_STATUS.has(status), retryAfterMs: failure.retryAfterMs };
    if (status === 401 || status === 403) {
      const whose = this.target.apiKeyEnv
        ? `refused the key in env var ${this.target.apiKeyEnv} (${status})`
        : `refused the request (${status}; the model's runtime sets no api_key_env)`;
      return { error: new PredictionError(`${this.name} ${whose}${said}`), retryable: false };
    }
    const details = `${this.name} answered ${status}${said}${after}`;
    if (status === 429) {
      const seconds = Math.max(1, Math.ceil((failure.retryAfterMs ?? 1000) / 1000));
      return { error: new BusyError(details, seconds), ...retry };
    }
    if (status === 502 || status === 503 || status === 504) return { error: unavailable(details), ...retry };
    if (status === 400 || status === 413 || status === 422) {
      const error = new InvalidArgumentError(
        details,
        StatusCode.MODEL_INVALID_ARGUMENT,
        'Invalid model argument',
      );
      return { error, retryable: false };
    }
    return { error: new PredictionError(details), ...retry };
  }

  private parse(text: string, path: string): Record<string, unknown> {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw this.remoteError(`answered ${path} with something other than a JSON object: ${clip(text, 200)}`);
  }

  /** The engine answered but not as an OpenAI-compatible engine would. */
  remoteError(what: string): PredictionError {
    return new PredictionError(this.redact(`${this.name} ${what}`));
  }

  private cancelled(): SibylError {
    return new PredictionError(`the request to ${this.name} was cancelled`);
  }

  /** Some engines quote the key they refused ("Incorrect API key provided: sk-..."). */
  private redact(text: string): string {
    const key = this.target.apiKey;
    return key && key.length >= 4 ? text.split(key).join('***') : text;
  }
}

/** The engine is down, overloaded or slow: 503 to our caller, who may try again. */
function unavailable(details: string): SibylError {
  return new SibylError(StatusCode.MODEL_NOT_DEPLOYED, 'Remote engine unavailable', details);
}
