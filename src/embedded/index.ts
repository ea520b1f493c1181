import type { FastifyInstance } from 'fastify';
import { createEngine } from '../engine/index.js';
import type { Engine } from '../engine/index.js';
import { buildApp } from '../server/app.js';
import { ensureAdminUser } from '../server/bootstrap.js';
import { syncBuiltinModels } from '../server/builtins.js';
import type { Transport, TransportRequest, TransportResponse } from '../sdk/transport.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/index.js';

export interface EmbeddedOptions {
  dataDir: string;
  /** Warm models up after loading; worth it for a long-lived process. Default false. */
  warmUp?: boolean;
}

/**
 * The server app in-process: every request goes through the same routes, validation and services
 * as a remote server, via fastify's inject (no port). It acts as the data directory's admin user
 * and may fetch URL inputs from private addresses, since it runs for the local user only.
 */
export class EmbeddedTransport implements Transport {
  readonly description: string;
  readonly userId: string;
  private readonly app: FastifyInstance;
  private readonly store: Store;
  private readonly engine: Engine;

  private constructor(dataDir: string, userId: string, app: FastifyInstance, store: Store, engine: Engine) {
    this.description = `embedded engine (data in ${dataDir})`;
    this.userId = userId;
    this.app = app;
    this.store = store;
    this.engine = engine;
  }

  static async open(opts: EmbeddedOptions): Promise<EmbeddedTransport> {
    const store = await openStore({ dataDir: opts.dataDir });
    // a CLI run predicts once: a warm-up run would double the network's work
    const engine = createEngine({ warmUp: opts.warmUp ?? false });
    try {
      await syncBuiltinModels(store, engine);
      const userId = await ensureAdminUser(store);
      const app = buildApp({ store, engine, localUserId: userId, service: { allowPrivateUrls: true } });
      await app.ready();
      return new EmbeddedTransport(opts.dataDir, userId, app, store, engine);
    } catch (err) {
      await engine.close();
      await store.close();
      throw err;
    }
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    // In-process, every request is the local user's: a key from the environment means nothing here.
    const { authorization: _key, ...headers } = req.headers;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.app.inject({
      method: req.method,
      url: req.path,
      headers,
      ...(req.body === undefined ? {} : { payload: JSON.stringify(req.body) }),
    });
    try {
      return { status: res.statusCode, body: res.body.length > 0 ? JSON.parse(res.body) : undefined };
    } catch {
      return { status: res.statusCode, body: undefined, text: res.body };
    }
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.engine.close();
    await this.store.close();
  }
}
