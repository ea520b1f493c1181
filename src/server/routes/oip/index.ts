import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PredictionError, SibylError } from '../../../core/errors.js';
import { HEADER_LENGTH, joinBody, splitBody } from '../../../engine/runtimes/oip-tensors.js';
import { toErrorReply } from '../../errors.js';
import type { ServiceContext } from '../../services/context.js';
import { oipInfer } from '../../services/oip-infer.js';
import { oipModelMetadata, oipModelReady } from '../../services/oip-models.js';
import { checkJsonLimits } from '../../services/json-limits.js';
import { abandonSignal, callerOf } from '../v2/context.js';

/**
 * The Open Inference Protocol v2 (KServe/Triton REST) for Sibyl's models. Clarifai's
 * `/v2/models/{id}` owns the plain paths on the main port, so there they live under `/oip`
 * (`/oip/v2/...`); `serve --oip-port` serves them at the plain paths on a port of their own
 * (app.ts in this folder). Keys are the same PATs (`Key` or `Bearer`), checked by the app's
 * onRequest hook; the health routes are public. The routes sit in an encapsulated plugin so its
 * error and not-found handlers answer in OIP's shape, `{"error": "..."}`. The translation is in
 * services/oip-*.ts; the tensor contract in engine/runtimes/oip-contract.ts.
 */

export interface OipRouteOptions {
  /** `/oip` on the main port, `` on the OIP port. */
  prefix: string;
  /** The app's body limit, named in a 413. */
  bodyLimit?: number;
  logError?: (err: unknown, reqId: string) => void;
}

/** The health routes under a prefix: they answer without a key. */
export function oipPublicPaths(prefix: string): string[] {
  return ['/v2/health/live', '/v2/health/ready'].map((p) => prefix + p);
}

/** `/oip/v2/health/live` and `/oip/v2/health/ready` on the main port. */
export const OIP_PUBLIC_PATHS = oipPublicPaths('/oip');

/** A body as it came: the JSON header and, with the binary extension, tensor bytes after it. */
class RawBody {
  constructor(readonly bytes: Buffer) {}
}

type NameParams = { name: string; version?: string };

let version: Promise<string> | undefined;
/** The server's version for its OIP metadata: package.json's, read once (as the CLI's --version). */
function packageVersion(): Promise<string> {
  version ??= readFile(new URL('../../../../package.json', import.meta.url), 'utf8')
    .then((text) => String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown'))
    .catch(() => 'unknown');
  return version;
}

export function registerOipRoutes(app: FastifyInstance, ctx: ServiceContext, opts: OipRouteOptions): void {
  void app.register(
    async (oip) => {
      oip.setErrorHandler((err, req, reply) => {
        const out = toErrorReply(err, req.id, opts.bodyLimit);
        if (out.httpStatus >= 500 && !(err instanceof SibylError && !(err instanceof PredictionError)))
          opts.logError?.(err, req.id);
        if (out.retryAfterSeconds !== undefined)
          void reply.header('retry-after', String(out.retryAfterSeconds));
        void reply.code(out.httpStatus).send({ error: out.status.details ?? out.status.description });
      });
      oip.setNotFoundHandler((req, reply) => {
        const error = `no route ${req.method} ${req.url.split('?')[0]} (this server has ${opts.prefix}/v2, ${opts.prefix}/v2/health/live|ready, ${opts.prefix}/v2/models/{name}[/versions/{v}][/ready|/infer])`;
        void reply.code(404).send({ error });
      });
      // Bodies are read whole whatever their type (JSON, or JSON then binary tensors) and split in
      // the handler, which knows the Inference-Header-Content-Length header.
      oip.removeAllContentTypeParsers();
      oip.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
        done(null, new RawBody(body as Buffer));
      });

      oip.get('/v2/health/live', async () => ({ live: true }));
      oip.get('/v2/health/ready', async () => ({ ready: true }));
      oip.get('/v2', async () => ({
        name: 'sibyl',
        version: await packageVersion(),
        extensions: ['binary_tensor_data'],
      }));

      const metadata = (req: FastifyRequest) => {
        const p = req.params as NameParams;
        return oipModelMetadata(ctx, callerOf(req), p.name, p.version);
      };
      oip.get('/v2/models/:name', metadata);
      oip.get('/v2/models/:name/versions/:version', metadata);

      const ready = async (req: FastifyRequest, reply: FastifyReply) => {
        const p = req.params as NameParams;
        const out = await oipModelReady(ctx, callerOf(req), p.name, p.version);
        return reply.code(out.ready ? 200 : 400).send(out);
      };
      oip.get('/v2/models/:name/ready', ready);
      oip.get('/v2/models/:name/versions/:version/ready', ready);

      const infer = (req: FastifyRequest, reply: FastifyReply) => answerInfer(ctx, req, reply);
      oip.post('/v2/models/:name/infer', infer);
      oip.post('/v2/models/:name/versions/:version/infer', infer);
    },
    { prefix: opts.prefix },
  );
}

async function answerInfer(ctx: ServiceContext, req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const p = req.params as NameParams;
  const raw = req.body instanceof RawBody ? req.body.bytes : Buffer.alloc(0);
  const header = req.headers[HEADER_LENGTH];
  const { json, binary } = splitBody(raw, Array.isArray(header) ? header[0] : header);
  checkJsonLimits(json);
  const out = await oipInfer(
    ctx,
    callerOf(req),
    p.name,
    p.version,
    { json, binary },
    req.id,
    abandonSignal(reply),
  );
  if (out.binary.length === 0) return reply.send(out.json);
  const { body, headerLength } = joinBody(out.json, out.binary);
  return reply.header(HEADER_LENGTH, String(headerLength)).type('application/octet-stream').send(body);
}
