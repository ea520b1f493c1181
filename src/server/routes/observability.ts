import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { Metrics, RequestRecord } from '../metrics.js';
import { isAdmin } from '../services/access.js';
import type { ServiceContext } from '../services/context.js';

/**
 * Operations endpoints beside /health: `/ready` (readiness, public) and `/metrics` (Prometheus
 * text, an admin key unless the server was started with --metrics-public: the labels name every
 * user's models, which a non-admin must not see), plus the hooks that turn each answered request
 * into one RequestRecord for the metrics and the JSON request log.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** The v2 status code of the JSON answer, seen before serialisation (see the hook below). */
    v2Code?: number;
  }
}

/** What must be done before the server takes traffic; each part is marked done as it finishes. */
export type ReadinessPart = 'store' | 'migrations' | 'builtins' | 'engine' | 'preload';

/**
 * The parts still starting. An app built by openServerApp needs none (it is built after the store
 * opened, migrations ran, the built-ins were synced and the engine was created); an app built
 * before its engine or preload finished is given one with those parts pending, and marks them.
 */
export class Readiness {
  private readonly pending: Set<ReadinessPart>;
  constructor(pending: Iterable<ReadinessPart> = []) {
    this.pending = new Set(pending);
  }
  done(part: ReadinessPart): void {
    this.pending.delete(part);
  }
  /** What is not ready yet, for the 503's details; undefined once everything is. */
  notReady(): string | undefined {
    return this.pending.size === 0 ? undefined : [...this.pending].join(', ');
  }
}

export interface ObservabilityOptions {
  /** Serves /metrics and counts requests when given. */
  metrics?: Metrics;
  /** /metrics without a key (public like /health); otherwise it needs an admin key. */
  metricsPublic?: boolean;
  readiness?: Readiness;
  /** Called once per answered request; metrics count and the JSON log writes from it. */
  observe?: (rec: RequestRecord) => void;
}

export const METRICS_PATH = '/metrics';
export const READY_PATH = '/ready';

export function registerObservability(
  app: FastifyInstance,
  ctx: ServiceContext,
  opts: ObservabilityOptions,
): void {
  const { metrics, observe } = opts;
  app.decorateRequest('v2Code', undefined);

  // Draining answers 503 from the app's onRequest hook already, so this is reached only before.
  app.get(READY_PATH, async (req, reply) => {
    const missing = opts.readiness?.notReady();
    if (missing === undefined)
      return { status: { code: StatusCode.SUCCESS, description: 'Ok', req_id: req.id } };
    void reply.code(503).header('retry-after', '1');
    return {
      status: {
        code: StatusCode.TRY_AGAIN,
        description: 'Not ready',
        details: `the server is still starting: ${missing} not ready yet`,
        req_id: req.id,
      },
    };
  });

  if (metrics) {
    app.get(METRICS_PATH, async (req, reply) => {
      if (!opts.metricsPublic && !(req.caller && (await isAdmin(ctx, req.caller)))) {
        throw new SibylError(
          StatusCode.CONN_INSUFFICIENT_SCOPES,
          'Insufficient scopes',
          "metrics name every user's models: they need an admin key (or a server started with --metrics-public)",
        );
      }
      void reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
      return metrics.render(ctx.engine, ctx.downloads);
    });
  }

  if (!observe) return;
  // The v2 code of a JSON answer (error replies included), read off the object before it becomes
  // text; generation token counts come from the same object.
  app.addHook('preSerialization', async (req: FastifyRequest, _reply, payload: unknown) => {
    const status = (payload as { status?: { code?: unknown } } | null)?.status;
    if (typeof status?.code === 'number') req.v2Code = status.code;
    if (metrics) countTokens(metrics, payload);
    return payload;
  });
  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    // gRPC-web calls are recorded by their RPC (calls.ts), with the v2 code of their message
    if (req.routeOptions.config.rpcLogged && reply.getHeader('grpc-status') === undefined) return;
    const query = req.url.indexOf('?');
    observe({
      transport: 'http',
      method: req.method,
      route: req.routeOptions.url ?? 'unmatched',
      path: query < 0 ? req.url : req.url.slice(0, query),
      status: reply.statusCode,
      code: req.v2Code,
      ms: reply.elapsedTime,
      reqId: req.id,
      userId: req.caller?.userId,
    });
  });
}

/** Prompt and completion tokens of a predict's outputs, by the model each output names. */
function countTokens(metrics: Metrics, payload: unknown): void {
  const outputs = (payload as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) return;
  for (const o of outputs as {
    prompt_tokens?: unknown;
    completion_tokens?: unknown;
    model?: { id?: unknown; app_id?: unknown; user_id?: unknown };
  }[]) {
    if (typeof o?.completion_tokens !== 'number' && typeof o?.prompt_tokens !== 'number') continue;
    const m = o.model;
    if (!m || typeof m.id !== 'string' || typeof m.app_id !== 'string' || typeof m.user_id !== 'string')
      continue;
    metrics.countTokens(
      `${m.user_id}/${m.app_id}/${m.id}`,
      typeof o.prompt_tokens === 'number' ? o.prompt_tokens : 0,
      typeof o.completion_tokens === 'number' ? o.completion_tokens : 0,
    );
  }
}
