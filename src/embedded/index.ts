import type { ServerApp } from '../server/open.js';
import type { InjectOptions } from 'fastify';
import { ndjsonValues } from '../sdk/ndjson.js';
import type {
  Transport,
  TransportRequest,
  TransportResponse,
  TransportStreamResponse,
} from '../sdk/transport.js';

export interface EmbeddedOptions {
  dataDir: string;
  /** Warm models up after loading; worth it for a long-lived process. Default false. */
  warmUp?: boolean;
  /** Where unexpected server-side errors go; silent by default, since the caller gets them as errors. */
  logError?: (err: unknown, reqId: string) => void;
  /** Worker threads that run models (default: one per core). */
  workers?: number;
  /** A built-in model about to be used: it starts loading while the rest opens. */
  preload?: { userId: string; appId: string; modelId: string };
}

/**
 * The server app in-process: every request goes through the same routes, validation and services
 * as a remote server, via fastify's inject (no port). It acts as the data directory's admin user
 * and may fetch URL inputs from private addresses, since it runs for the local user only.
 */
export class EmbeddedTransport implements Transport {
  readonly description: string;
  readonly userId: string;
  private readonly server: ServerApp;

  private constructor(dataDir: string, server: ServerApp) {
    this.description = `embedded engine (data in ${dataDir})`;
    this.userId = server.adminUserId;
    this.server = server;
  }

  static async open(opts: EmbeddedOptions): Promise<EmbeddedTransport> {
    // The engine's worker starts first, so it loads while fastify and SQLite are imported here.
    const { startEngine } = await import('../server/engine-start.js');
    // a CLI run predicts once: a warm-up run would double the network's work
    const warmUp = opts.warmUp ?? false;
    const startedEngine = startEngine({
      warmUp,
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      ...(opts.preload ? { preload: opts.preload } : {}),
    });
    const { openServerApp } = await import('../server/open.js');
    const server = await openServerApp({
      startedEngine,
      dataDir: opts.dataDir,
      allowPrivateUrls: true,
      actAsAdmin: true,
      warmUp,
      logError: opts.logError ?? (() => undefined),
    });
    return new EmbeddedTransport(opts.dataDir, server);
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const res = await this.server.app.inject(this.injected(req));
    return parsed(res.statusCode, res.body);
  }

  /** The answer's body as it is written (inject's payloadAsStream), so generated text streams here too. */
  async requestStream(req: TransportRequest): Promise<TransportStreamResponse> {
    const res = await this.server.app.inject({ ...this.injected(req), payloadAsStream: true });
    const body = res.stream();
    if (res.statusCode >= 300) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
      return parsed(res.statusCode, Buffer.concat(chunks).toString('utf8'));
    }
    // the caller stopping its loop destroys the body, which stops the generation server-side
    const values = (async function* () {
      try {
        yield* ndjsonValues(body);
      } finally {
        body.destroy();
      }
    })();
    return { status: res.statusCode, values };
  }

  private injected(req: TransportRequest): InjectOptions {
    // In-process, every request is the local user's: a key from the environment means nothing here.
    const { authorization: _key, ...headers } = req.headers;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.stream) headers['content-type'] = 'application/octet-stream';
    return {
      method: req.method,
      url: req.path,
      headers,
      ...(req.stream
        ? { payload: req.stream.open() }
        : req.body === undefined
          ? {}
          : { payload: JSON.stringify(req.body) }),
    };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

function parsed(status: number, text: string): TransportResponse {
  try {
    return { status, body: text.length > 0 ? JSON.parse(text) : undefined };
  } catch {
    return { status, body: undefined, text };
  }
}
