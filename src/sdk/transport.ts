import type { Readable } from 'node:stream';
import { ConnectionError } from './errors.js';
import { ndjsonValues } from './ndjson.js';

/** Raw bytes to send as the body (a model file), streamed rather than held in memory. */
export interface StreamBody {
  /** Opens the stream; called once per attempt. */
  open(): Readable;
  bytes: number;
}

export interface TransportRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, starting with /v2/. */
  path: string;
  headers: Record<string, string>;
  /** JSON body. */
  body?: unknown;
  /** Raw body (application/octet-stream), instead of `body`. */
  stream?: StreamBody;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  body: unknown;
  /** The raw body text when it was not JSON, for error messages. */
  text?: string;
}

/** An answer that may stream: its messages as they arrive, or, for an error, its whole body. */
export interface TransportStreamResponse {
  status: number;
  /** A 2xx answer: its JSON values, one per line, as they arrive. */
  values?: AsyncIterable<unknown>;
  /** Otherwise the parsed JSON body, as `request` gives it. */
  body?: unknown;
  text?: string;
}

/**
 * How the SDK reaches a v2 API. The SDK ships the HTTP transport; the embedded transport (the
 * server app in-process) lives in src/embedded so the SDK installs without models or a database.
 */
export interface Transport {
  /** Where requests go, for messages ("http://127.0.0.1:8080", "embedded engine at ~/.local/share/sibyl"). */
  readonly description: string;
  request(req: TransportRequest): Promise<TransportResponse>;
  /** A request whose answer streams (GenerateModelOutputs): its values as they arrive. */
  requestStream(req: TransportRequest): Promise<TransportStreamResponse>;
  close?(): Promise<void>;
}

export interface HttpTransportOptions {
  /** Per-request limit in milliseconds (model loading on a cold server can take a while). */
  timeoutMs?: number;
}

/** The JSON that api.clarifai.com speaks, over fetch. */
export class HttpTransport implements Transport {
  readonly description: string;
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(base: string, options: HttpTransportOptions = {}) {
    this.base = base.replace(/\/+$/, '');
    this.description = this.base;
    this.timeoutMs = options.timeoutMs ?? 300_000;
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    return this.readWhole(req, await this.send(req));
  }

  async requestStream(req: TransportRequest): Promise<TransportStreamResponse> {
    const res = await this.send(req);
    if (!res.ok || !res.body) return this.readWhole(req, res);
    const body = res.body as unknown as AsyncIterable<Uint8Array>;
    const base = this.base;
    const timeoutMs = this.timeoutMs;
    return {
      status: res.status,
      values: (async function* () {
        try {
          yield* ndjsonValues(body);
        } catch (err) {
          if (req.signal?.aborted) throw req.signal.reason ?? err;
          if (err instanceof SyntaxError) throw err;
          throw new ConnectionError(base, `the answer broke off: ${describeFetchError(err, timeoutMs)}`, {
            cause: err,
          });
        }
      })(),
    };
  }

  private async send(req: TransportRequest): Promise<Response> {
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(req.signal ? [req.signal] : [])];
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.stream) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = String(req.stream.bytes);
    }
    let res: Response;
    try {
      res = await fetch(this.base + req.path, {
        method: req.method,
        headers,
        // a Node stream is an async iterable, which fetch sends chunk by chunk ('half' duplex)
        body: req.stream
          ? (req.stream.open() as unknown as ReadableStream)
          : req.body === undefined
            ? undefined
            : JSON.stringify(req.body),
        ...(req.stream ? { duplex: 'half' } : {}),
        signal: AbortSignal.any(signals),
      } as RequestInit);
    } catch (err) {
      // the caller's own abort is theirs to handle, not a connection problem
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      throw new ConnectionError(this.base, describeFetchError(err, this.timeoutMs), { cause: err });
    }
    return res;
  }

  private async readWhole(req: TransportRequest, res: Response): Promise<TransportResponse> {
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      throw new ConnectionError(
        this.base,
        `the answer broke off: ${describeFetchError(err, this.timeoutMs)}`,
        { cause: err },
      );
    }
    try {
      return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined };
    } catch {
      return { status: res.status, body: undefined, text };
    }
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : 'request aborted';
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    CERT_HAS_EXPIRED: 'TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
  };
  if (cause?.code && known[cause.code]) return known[cause.code]!;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
