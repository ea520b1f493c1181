import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceContext } from '../../services/context.js';
import { transcribe } from '../../services/openai-audio.js';
import { createEmbeddings } from '../../services/openai-embeddings.js';
import { getOpenAiModel, listOpenAiModels } from '../../services/openai-models.js';
import { abandonSignal, callerOf } from '../v2/context.js';
import { toOpenAiError } from './errors.js';
import { MAX_FORM_BYTES, MultipartForm, parseMultipart } from './multipart.js';
import { registerTextRoutes } from './text-routes.js';

/**
 * The OpenAI-compatible API under /v1, beside /v2 and on the same keys (`Authorization: Bearer
 * <PAT>`, checked by the app's global onRequest hook). Its routes live in their own encapsulated
 * plugin so that its error and not-found handlers answer in OpenAI's shape: fastify answers an
 * error (the auth hook's too) with the handler of the context the route was registered in.
 */

export interface OpenAiRouteOptions {
  /** The app's body limit, named in a 413. */
  bodyLimit: number;
  logError: (err: unknown, reqId: string) => void;
}

export function registerOpenAiRoutes(
  app: FastifyInstance,
  ctx: ServiceContext,
  opts: OpenAiRouteOptions,
): void {
  void app.register(
    async (v1) => {
      const errorEvent = (err: unknown, reqId: string) => {
        const out = toOpenAiError(err, reqId, opts.bodyLimit);
        if (out.log) opts.logError(err, reqId);
        return out.body;
      };
      v1.setErrorHandler((err, req, reply) => {
        const multipart = req.headers['content-type']?.startsWith('multipart/') === true;
        const out = toOpenAiError(err, req.id, multipart ? MAX_FORM_BYTES : opts.bodyLimit);
        if (out.log) opts.logError(err, req.id);
        if (out.retryAfterSeconds !== undefined)
          void reply.header('retry-after', String(out.retryAfterSeconds));
        void reply.code(out.httpStatus).send(out.body);
      });
      v1.setNotFoundHandler((req, reply) => {
        const message = `no route ${req.method} ${req.url.split('?')[0]} (this server has /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/audio/transcriptions and /v1/audio/translations)`;
        void reply.code(404).send({ error: { message, type: 'not_found_error', param: null, code: null } });
      });
      v1.addContentTypeParser(
        'multipart/form-data',
        { parseAs: 'buffer', bodyLimit: MAX_FORM_BYTES },
        (req, body, done) => {
          try {
            done(null, parseMultipart(body as Buffer, req.headers['content-type'] ?? ''));
          } catch (err) {
            done(err as Error, undefined);
          }
        },
      );

      v1.get('/models', (req) => listOpenAiModels(ctx, callerOf(req)));
      // model names hold slashes (user/app/model), so the rest of the path is the name
      v1.get('/models/*', (req) => getOpenAiModel(ctx, callerOf(req), (req.params as { '*': string })['*']));
      v1.post('/embeddings', (req, reply) =>
        createEmbeddings(ctx, callerOf(req), req.body, req.id, abandonSignal(reply)),
      );
      v1.post('/audio/transcriptions', (req, reply) => audio(ctx, req, reply, 'transcribe'));
      v1.post('/audio/translations', (req, reply) => audio(ctx, req, reply, 'translate'));
      registerTextRoutes(v1, ctx, errorEvent);
    },
    { prefix: '/v1' },
  );
}

async function audio(
  ctx: ServiceContext,
  req: FastifyRequest,
  reply: FastifyReply,
  task: 'transcribe' | 'translate',
): Promise<unknown> {
  const caller = callerOf(req);
  if (!(req.body instanceof MultipartForm)) {
    throw Object.assign(new Error('send the audio as multipart/form-data with a "file" part'), {
      statusCode: 415,
    });
  }
  const form = req.body;
  const out = await transcribe(
    ctx,
    caller,
    { task, fields: form.fields, file: form.files.file?.bytes },
    req.id,
    abandonSignal(reply),
  );
  if (out.format === 'text') return reply.type('text/plain; charset=utf-8').send(out.text);
  return { text: out.text };
}
