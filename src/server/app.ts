import type FastifyModule from 'fastify';
import { requireCjs } from '../core/cjs.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PredictionError, SibylError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { StatusCode } from '../core/status.js';
import type { Engine } from '../engine/index.js';
import type { Store } from '../store/index.js';
import { MemoryRunnerQueue, type RunnerQueue } from '../store/queue/index.js';
import { registerCors } from './cors.js';
import { registerBodyBudget } from './body-budget.js';
import { clientErrorResponse, MAX_PATH_SEGMENT, MAX_URL_LENGTH, toErrorReply } from './errors.js';
import { isPlaygroundPath, registerPlaygroundRoutes } from './playground/routes.js';
import { DOCS_PUBLIC_PATHS, registerDocsRoutes } from './routes/docs.js';
import { isGrpcWebPath, registerGrpcWebRoutes } from './routes/grpc-web.js';
import { requestObserver, type Metrics, type RequestRecord } from './metrics.js';
import { OIP_PUBLIC_PATHS, registerOipRoutes } from './routes/oip/index.js';
import { registerOpenAiRoutes } from './routes/openai/index.js';
import { METRICS_PATH, registerObservability, type Readiness } from './routes/observability.js';
import { registerRpcRoutes, unservedRpcFor } from './routes/v2/rpc-routes.js';
import { registerSibylRoutes } from './routes/v2/sibyl.js';
import { authenticate } from './services/auth.js';
import type { ServiceContext, ServiceOptions } from './services/context.js';
import { KeyThrottle } from './services/key-throttle.js';
import { DOWNLOADS_WAITING_PER_SLOT, DownloadQueue } from './url-fetch/download-queue.js';
import { DEFAULT_SERVICE_OPTIONS } from './services/context.js';
import { checkJsonLimits, DEFAULT_JSON_LIMITS, type JsonLimits } from './services/json-limits.js';

const Fastify = requireCjs('fastify') as typeof FastifyModule;

export interface AppOptions {
  store: Store;
  engine: Engine;
  /** The data directory (uploaded model files live under it). */
  dataDir?: string;
  service?: Partial<ServiceOptions>;
  /**
   * Requests without an Authorization header act as this user. Only the embedded transport sets
   * it: its app is never bound to a port, so only the local process can reach it.
   */
  localUserId?: string;
  /** Largest request body in bytes (base64 images inflate by a third). */
  bodyLimit?: number;
  /** Called with one line per answered request (no headers, so no keys); off when absent. */
  logRequest?: (line: string) => void;
  /** One record per answered request (any transport), e.g. the JSON request log. */
  requestLog?: (rec: RequestRecord) => void;
  /** Counts requests and serves GET /metrics (an admin key unless metricsPublic). */
  metrics?: Metrics;
  /** GET /metrics without a key, like /health. */
  metricsPublic?: boolean;
  /** Parts still starting when the app is built: GET /ready answers 503 until they are done. */
  readiness?: Readiness;
  /** Where unexpected errors are reported; defaults to stderr. */
  logError?: (err: unknown, reqId: string) => void;
  /** Browser origins allowed by CORS (`*` for any); none by default. See cors.ts. */
  corsOrigins?: readonly string[];
  /** gRPC-web at `/clarifai.api.V2/<Method>` (on by default). */
  grpcWeb?: boolean;
  /** Bytes all request bodies in flight may hold together (past it: 503, Retry-After). */
  bodyBudget?: number;
  /** JSON nesting depth and free-form string limits (see json-limits.ts). */
  jsonLimits?: Partial<JsonLimits>;
  /** The work queue to runners; one in this process when absent (a single instance). */
  runnerQueue?: RunnerQueue;
}

/** Defaults of the HTTP limits; main.ts's connection limits sit beside them there. */
export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_BODY_BUDGET = 512 * 1024 * 1024;

/**
 * Requests are validated in services/request-shape.ts, shared by every transport (REST now, gRPC
 * next), so fastify's schema compilers (ajv and fast-json-stringify, ~170 ms at start-up, paid by
 * every embedded CLI run) are never loaded. A route that declares a schema fails loudly instead of
 * being silently unvalidated.
 */
const NO_SCHEMA_COMPILERS = {
  buildValidator: () => () => {
    throw new Error('route schemas are not used: validate in services/request-shape.ts');
  },
  buildSerializer: () => () => {
    throw new Error('response schemas are not used: replies are plain JSON');
  },
};

const PUBLIC_PATHS = new Set(['/health', '/v2/healthz', '/ready', ...DOCS_PUBLIC_PATHS, ...OIP_PUBLIC_PATHS]);

const contexts = new WeakMap<FastifyInstance, ServiceContext>();
const draining = new WeakSet<FastifyInstance>();

/** From now on the app answers new requests 503 (shutting down); those in flight finish. */
export function startDraining(app: FastifyInstance): void {
  draining.add(app);
}

/** The service context an app was built with, for the transports beside it (gRPC). */
export function serviceContextOf(app: FastifyInstance): ServiceContext {
  const ctx = contexts.get(app);
  if (!ctx) throw new Error('not an app made by buildApp');
  return ctx;
}

/** Builds the v2 REST app (not listening). Routes are thin; the work is in services/. */
export function buildApp(opts: AppOptions): FastifyInstance {
  const options = { ...DEFAULT_SERVICE_OPTIONS, ...opts.service };
  const rate = options.keyRequestsPerSecond;
  const ctx: ServiceContext = {
    store: opts.store,
    engine: opts.engine,
    options,
    ...(rate > 0 ? { throttle: new KeyThrottle(rate, Math.max(1, 2 * rate)) } : {}),
    downloads: new DownloadQueue({
      concurrency: options.urlDownloads,
      maxWaiting: DOWNLOADS_WAITING_PER_SLOT * options.urlDownloads,
    }),
    runners: opts.runnerQueue ?? new MemoryRunnerQueue(),
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
  };
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const jsonLimits = { ...DEFAULT_JSON_LIMITS, ...opts.jsonLimits };
  const app = Fastify({
    logger: false,
    bodyLimit,
    genReqId: () => newId(),
    schemaController: { compilersFactory: NO_SCHEMA_COMPILERS },
    // `/v2/users/me/` answers like `/v2/users/me`, as Clarifai's API does.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_SEGMENT },
    // the router's own errors (a bad %ff, an over-long id) answer in the v2 shape too
    frameworkErrors: (err, req, reply: FastifyReply) => {
      const out = toErrorReply(err, req.id);
      void reply.code(out.httpStatus).send({ status: out.status });
    },
    clientErrorHandler: (err, socket) => {
      if (socket.writable) socket.end(clientErrorResponse(err));
      else socket.destroy(err);
    },
  });
  contexts.set(app, ctx);
  const logError = opts.logError ?? ((err, reqId) => console.error(`[${reqId}]`, err));
  const grpcWeb = opts.grpcWeb !== false;

  registerCors(app, opts.corsOrigins ?? []); // first: a preflight is answered before auth
  app.addHook('onRequest', async (req, reply) => {
    if (draining.has(app)) {
      void reply.header('connection', 'close');
      throw new SibylError(StatusCode.TRY_AGAIN, 'Server shutting down', 'the server is shutting down');
    }
    if (req.url.length > MAX_URL_LENGTH) {
      throw Object.assign(new Error(`the URL is longer than ${MAX_URL_LENGTH} characters`), {
        statusCode: 414,
      });
    }
    const path = req.url.split('?')[0]!.replace(/(.)\/$/, '$1'); // /health/ reaches health too
    if (PUBLIC_PATHS.has(path) || isPlaygroundPath(path)) return;
    if (opts.metricsPublic && path === METRICS_PATH) return; // serve --metrics-public
    if (grpcWeb && isGrpcWebPath(path)) return; // gRPC-web answers a bad key in its own message
    const header = req.headers.authorization;
    if (opts.localUserId !== undefined && header === undefined) {
      req.caller = { userId: opts.localUserId };
      return;
    }
    req.caller = await authenticate(ctx, header);
  });

  const logRequest = opts.logRequest;
  // metrics and the JSON log read the same record of each request (routes/observability.ts)
  const { metrics, requestLog } = opts;
  const observe = requestObserver(metrics, requestLog);
  if (logRequest) {
    app.addHook('onResponse', async (req, reply) => {
      // gRPC-web calls log their RPC line with its v2 code themselves
      if (req.routeOptions.config.rpcLogged && reply.getHeader('grpc-status') === undefined) return;
      const ms = reply.elapsedTime.toFixed(1);
      logRequest(
        `${new Date().toISOString()} ${req.method} ${req.url.split('?')[0]} ${reply.statusCode} ${ms}ms req_id=${req.id}`,
      );
    });
  }

  registerBodyBudget(app, opts.bodyBudget ?? DEFAULT_BODY_BUDGET);
  app.addHook('preValidation', async (req) => checkJsonLimits(req.body, jsonLimits));

  app.setErrorHandler((err, req, reply) => {
    const out = toErrorReply(err, req.id, bodyLimit);
    // A client's mistake (bad JSON, a bad input, a URL that cannot be fetched) is in the reply and
    // the request log line; only the unexpected and a crashing model are worth a stack in the log.
    if (out.httpStatus >= 500 && !(err instanceof SibylError && !(err instanceof PredictionError)))
      logError(err, req.id);
    if (out.retryAfterSeconds !== undefined) void reply.header('retry-after', String(out.retryAfterSeconds));
    void reply.code(out.httpStatus).send({ status: out.status });
  });
  app.setNotFoundHandler((req, reply) => {
    const unserved = unservedRpcFor(req.method, req.url.split('?')[0]!);
    if (unserved) {
      throw new SibylError(
        StatusCode.NOT_IMPLEMENTED,
        'Not implemented',
        `this Sibyl server does not implement ${unserved.rpc} (${req.method} ${unserved.path})`,
      );
    }
    void reply.code(404).send({
      status: {
        code: 11102,
        description: 'Invalid request',
        details: `no route ${req.method} ${req.url.split('?')[0]}`,
        req_id: req.id,
      },
    });
  });

  const health = async () => ({ status: { code: 10000, description: 'Ok' } });
  app.get('/health', health);
  app.get('/v2/healthz', health);
  registerObservability(app, ctx, {
    ...(metrics ? { metrics } : {}),
    ...(opts.metricsPublic ? { metricsPublic: true } : {}),
    ...(opts.readiness ? { readiness: opts.readiness } : {}),
    ...(observe ? { observe } : {}),
  });
  registerRpcRoutes(app, ctx);
  if (grpcWeb) {
    registerGrpcWebRoutes(app, ctx, {
      ...(opts.localUserId !== undefined ? { localUserId: opts.localUserId } : {}),
      ...(logRequest ? { logRequest } : {}),
      ...(observe ? { observe } : {}),
      logError,
    });
  }
  registerSibylRoutes(app, ctx);
  registerOpenAiRoutes(app, ctx, { bodyLimit, logError });
  registerOipRoutes(app, ctx, { prefix: '/oip', bodyLimit, logError });
  registerPlaygroundRoutes(app);
  registerDocsRoutes(app);
  return app;
}
