import type FastifyModule from 'fastify';
import type { FastifyInstance } from 'fastify';
import { requireCjs } from '../../../core/cjs.js';
import { newId } from '../../../core/ids.js';
import { registerBodyBudget } from '../../body-budget.js';
import { authenticate } from '../../services/auth.js';
import type { ServiceContext } from '../../services/context.js';
import { oipPublicPaths, registerOipRoutes } from './index.js';

const Fastify = requireCjs('fastify') as typeof FastifyModule;

export interface OipAppOptions {
  bodyLimit: number;
  /** Bytes all request bodies in flight on this port may hold together. */
  bodyBudget: number;
  logError?: (err: unknown, reqId: string) => void;
  /** PEM certificate and key: the port speaks https, like the main one. */
  tls?: { cert: Buffer; key: Buffer };
}

/**
 * `serve --oip-port`: the Open Inference Protocol at its plain paths (`/v2/health/live`,
 * `/v2/models/{name}/infer`...), so Triton and KServe clients that cannot take a path prefix
 * reach Sibyl. A second small app on the main app's service context (same store, engine, key
 * throttle, download queue): only the OIP routes, the same PAT auth, health public. Kept apart
 * from buildApp because Clarifai's `/v2/models/{id}` routes would collide with these paths.
 */
export function buildOipApp(ctx: ServiceContext, opts: OipAppOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit,
    genReqId: () => newId(),
    routerOptions: { ignoreTrailingSlash: true },
    ...(opts.tls ? { https: opts.tls } : {}),
  }) as unknown as FastifyInstance;
  const publicPaths = new Set(oipPublicPaths(''));
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!.replace(/(.)\/$/, '$1');
    if (publicPaths.has(path)) return;
    req.caller = await authenticate(ctx, req.headers.authorization);
  });
  registerBodyBudget(app, opts.bodyBudget);
  registerOipRoutes(app, ctx, {
    prefix: '',
    bodyLimit: opts.bodyLimit,
    ...(opts.logError ? { logError: opts.logError } : {}),
  });
  return app;
}
