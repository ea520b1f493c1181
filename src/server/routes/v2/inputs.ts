import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../services/context.js';
import { getInput, listInputs, postInputs } from '../../services/inputs.js';
import type { Params } from './context.js';
import { callerOf, paging } from './context.js';

type AppParams = Params<'user_id' | 'app_id'>;

export function registerInputRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post<{ Params: AppParams }>('/v2/users/:user_id/apps/:app_id/inputs', async (req) =>
    postInputs(ctx, callerOf(req), req.params.user_id, req.params.app_id, req.body, req.id),
  );
  app.get<{ Params: AppParams }>('/v2/users/:user_id/apps/:app_id/inputs', async (req) =>
    listInputs(ctx, callerOf(req), req.params.user_id, req.params.app_id, paging(req.query), req.id),
  );
  app.get<{ Params: AppParams & { input_id: string } }>(
    '/v2/users/:user_id/apps/:app_id/inputs/:input_id',
    async (req) =>
      getInput(ctx, callerOf(req), req.params.user_id, req.params.app_id, req.params.input_id, req.id),
  );
}
