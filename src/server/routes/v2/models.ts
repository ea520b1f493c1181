import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../services/context.js';
import { getModel, listModels } from '../../services/models.js';
import type { Params } from './context.js';
import { callerOf, paging } from './context.js';

type ModelParams = Params<'user_id' | 'app_id' | 'model_id'> & { version_id?: string };

export function registerModelRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const get = async (req: { params: ModelParams; id: string }) => {
    const p = req.params;
    const ref = {
      userId: p.user_id,
      appId: p.app_id,
      modelId: p.model_id,
      ...(p.version_id ? { versionId: p.version_id } : {}),
    };
    return getModel(ctx, callerOf(req as never), ref, req.id);
  };
  app.get<{ Params: ModelParams }>('/v2/users/:user_id/apps/:app_id/models/:model_id', get);
  app.get<{ Params: ModelParams }>(
    '/v2/users/:user_id/apps/:app_id/models/:model_id/versions/:version_id',
    get,
  );

  app.get<{ Params: Params<'user_id' | 'app_id'> }>('/v2/users/:user_id/apps/:app_id/models', async (req) =>
    listModels(
      ctx,
      callerOf(req),
      { userId: req.params.user_id, appId: req.params.app_id, ...paging(req.query) },
      req.id,
    ),
  );
  app.get('/v2/models', async (req) => listModels(ctx, callerOf(req), paging(req.query), req.id));
}
