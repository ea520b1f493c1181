import type { FastifyInstance } from 'fastify';
import type { Engine, EngineOptions } from '../engine/index.js';
import { openStore } from '../store/index.js';
import { openRunnerQueue, type RunnerQueue } from '../store/queue/index.js';
import type { Store } from '../store/index.js';
import type { AppOptions } from './app.js';
import { buildApp } from './app.js';
import { ensureAdminUser } from './bootstrap.js';
import { syncBuiltinModels } from './builtins.js';
import { startEngine, type StartEngineOptions } from './engine-start.js';
import { registerModelFolders, type RegisteredFolder } from './model-folders.js';
import type { ServiceOptions } from './services/context.js';
import { removeStaleUploads } from './services/uploads.js';

export interface OpenServerAppOptions {
  /** Files (uploads, bootstrap.yaml) and, without databaseUrl, the SQLite database. */
  dataDir: string;
  /** postgres://... : the store lives there instead (many instances on one database). */
  databaseUrl?: string;
  allowPrivateUrls: boolean;
  /** Requests without a key act as the admin user (the embedded transport only: no port). */
  actAsAdmin?: boolean;
  /** Warm models up after loading: worth it for a long-lived server, not a one-shot CLI run. */
  warmUp: boolean;
  logRequest?: AppOptions['logRequest'];
  /** Per-stage engine timings (load, decode, predict, postprocess), for metrics and benchmarks. */
  onTiming?: EngineOptions['onTiming'];
  /** Worker threads, queue bound, memory budget, idle unload, batching: see EngineOptions. */
  engine?: Omit<EngineOptions, 'onTiming' | 'warmUp'>;
  /** A model the caller is about to use: start loading it at once (the embedded CLI's predict). */
  preload?: StartEngineOptions['preload'];
  /** An engine already started (startEngine); then `engine`, `warmUp`, `onTiming`, `preload` are its own. */
  startedEngine?: Engine;
  /** Serve every model folder under this directory too (`serve --models`). */
  modelsDir?: string;
  /** Overrides of the service limits (largest model upload...). */
  service?: Partial<ServiceOptions>;
  logError?: AppOptions['logError'];
  /**
   * CORS origins, gRPC-web, body size and memory budget, JSON limits; metrics, readiness and the
   * structured request log (see AppOptions).
   */
  http?: Pick<
    AppOptions,
    | 'corsOrigins'
    | 'grpcWeb'
    | 'bodyLimit'
    | 'bodyBudget'
    | 'jsonLimits'
    | 'metrics'
    | 'metricsPublic'
    | 'readiness'
    | 'requestLog'
  >;
}

export interface ServerApp {
  app: FastifyInstance;
  store: Store;
  engine: Engine;
  /** The model folders served from `modelsDir`. */
  folders: RegisteredFolder[];
  adminUserId: string;
  /** Closes the app, unloads the models and closes the store; safe to call once after a failure. */
  close(): Promise<void>;
}

/**
 * The one start-up sequence both `clarifai serve` and the embedded engine use: open the data
 * directory, write the built-in models into it, make sure the admin user exists, build the app.
 */
export async function openServerApp(opts: OpenServerAppOptions): Promise<ServerApp> {
  // A model about to be used starts loading in its worker now, while this thread opens the
  // database and builds the app (a one-shot CLI predict would otherwise wait for both in turn).
  const engine =
    opts.startedEngine ??
    startEngine({
      ...opts.engine,
      warmUp: opts.warmUp,
      ...(opts.onTiming ? { onTiming: opts.onTiming } : {}),
      ...(opts.preload ? { preload: opts.preload } : {}),
    });
  let store: Store | undefined;
  let app: FastifyInstance | undefined;
  let runnerQueue: RunnerQueue | undefined;
  const close = async () => {
    await app?.close();
    await runnerQueue?.close();
    await engine.close();
    await store?.close();
  };
  try {
    store = await openStore(
      opts.databaseUrl !== undefined ? { postgresUrl: opts.databaseUrl } : { dataDir: opts.dataDir },
    );
    await syncBuiltinModels(store, engine);
    // before model folders, which may name the admin as their owner (and would create it plain)
    const adminUserId = await ensureAdminUser(store);
    await removeStaleUploads(opts.dataDir);
    const folders = opts.modelsDir ? await registerModelFolders(store, engine, opts.modelsDir) : [];
    runnerQueue = await openRunnerQueue(store, opts.databaseUrl);
    app = buildApp({
      runnerQueue,
      store,
      engine,
      dataDir: opts.dataDir,
      service: { ...opts.service, allowPrivateUrls: opts.allowPrivateUrls },
      ...(opts.actAsAdmin ? { localUserId: adminUserId } : {}),
      ...(opts.logRequest ? { logRequest: opts.logRequest } : {}),
      ...(opts.logError ? { logError: opts.logError } : {}),
      ...opts.http,
    });
    await app.ready();
    return { app, store, engine, adminUserId, folders, close };
  } catch (err) {
    await close();
    throw err;
  }
}
