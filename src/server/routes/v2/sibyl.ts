import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../../services/context.js';
import type { ServiceContext } from '../../services/context.js';
import { requireScope } from '../../services/access.js';
import { engineStatus } from '../../services/engine-status.js';
import { listKeys } from '../../services/keys.js';
import { postUsers } from '../../services/users.js';
import { cancelUpload, commitUpload, putUploadFile, startUpload } from '../../services/uploads.js';
import type { Params } from './context.js';
import { callerOf, paging } from './context.js';

/**
 * Sibyl's own routes for model management: uploads (`clarifai model upload`) and the engine's
 * status (`clarifai model list`). Model uploads: File bodies are raw bytes: the octet-stream parser
 * hands the request stream through untouched, so a file of any size goes to disk in chunks and
 * the JSON body limit never applies to weights (the upload's own size limit does).
 */
export function registerSibylRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  // users (an admin's), and the key listing with what Clarifai's Key message has no field for
  app.post('/v2/users', (req) => postUsers(ctx, callerOf(req), req.body, req.id));
  app.get<{ Params: Params<'user_id'> }>('/v2/sibyl/users/:user_id/keys', (req) => {
    requireScope(callerOf(req), 'read', 'ListKeys');
    return listKeys(ctx, callerOf(req), req.params.user_id, paging(req.query), req.id);
  });

  // uploads write models: the "write" scope, as PostModels
  const writer = (req: FastifyRequest): Caller => {
    requireScope(callerOf(req), 'write', 'model upload');
    return callerOf(req);
  };
  app.post<{ Params: Params<'user_id' | 'app_id' | 'model_id'> }>(
    '/v2/users/:user_id/apps/:app_id/models/:model_id/uploads',
    (req) => {
      const p = req.params;
      return startUpload(
        ctx,
        writer(req),
        { userId: p.user_id, appId: p.app_id, modelId: p.model_id },
        req.body,
        req.id,
      );
    },
  );
  app.put<{ Params: Params<'user_id' | 'upload_id' | '*'> }>(
    '/v2/users/:user_id/uploads/:upload_id/files/*',
    (req) =>
      putUploadFile(ctx, writer(req), req.params.upload_id, req.params['*'], req.body as Readable, req.id),
  );
  app.post<{ Params: Params<'user_id' | 'upload_id'> }>(
    '/v2/users/:user_id/uploads/:upload_id/commit',
    (req) => commitUpload(ctx, writer(req), req.params.upload_id, req.id),
  );
  app.get('/v2/sibyl/engine', (req) => engineStatus(ctx, callerOf(req), req.id));
  app.delete<{ Params: Params<'user_id' | 'upload_id'> }>('/v2/users/:user_id/uploads/:upload_id', (req) =>
    cancelUpload(ctx, writer(req), req.params.upload_id, req.id),
  );
}
