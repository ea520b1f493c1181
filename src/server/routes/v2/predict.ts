import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../services/context.js';
import { predict } from '../../services/predict.js';
import type { Params } from './context.js';
import { callerOf } from './context.js';

type ModelParams = Params<'user_id' | 'app_id' | 'model_id'> & { version_id?: string };

export function registerPredictRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const handler = async (req: { params: ModelParams; body: unknown; id: string; caller?: unknown }) => {
    const p = req.params;
    const ref = {
      userId: p.user_id,
      appId: p.app_id,
      modelId: p.model_id,
      ...(p.version_id ? { versionId: p.version_id } : {}),
    };
    return predict(ctx, callerOf(req as never), ref, req.body, req.id);
  };
  app.post<{ Params: ModelParams }>('/v2/users/:user_id/apps/:app_id/models/:model_id/outputs', handler);
  app.post<{ Params: ModelParams }>(
    '/v2/users/:user_id/apps/:app_id/models/:model_id/versions/:version_id/outputs',
    handler,
  );
}
