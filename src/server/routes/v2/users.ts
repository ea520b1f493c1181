import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../services/context.js';
import { getUser } from '../../services/users.js';
import type { Params } from './context.js';
import { callerOf } from './context.js';

export function registerUserRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get<{ Params: Params<'user_id'> }>('/v2/users/:user_id', async (req) =>
    getUser(ctx, callerOf(req), req.params.user_id, req.id),
  );
}
