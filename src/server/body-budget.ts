import { Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { SibylError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';

/**
 * One memory budget shared by every request body in flight. A body's bytes count from the
 * moment it starts arriving until its request is answered (the parsed body lives that long).
 * A body whose Content-Length does not fit is refused (503, Retry-After) before any of it is
 * read; a chunked body is counted as it arrives and cut off when the budget runs out.
 */
export function registerBodyBudget(app: FastifyInstance, budgetBytes: number): void {
  let inUse = 0;
  const refuse = () =>
    new SibylError(
      StatusCode.TRY_AGAIN,
      'Server busy, please retry',
      `request bodies in flight exceed the server's body memory budget of ${Math.round(budgetBytes / 1048576)} MiB`,
    );
  app.addHook('preParsing', async (req, reply, payload) => {
    let held = 0;
    const release = () => {
      inUse -= held;
      held = 0;
    };
    reply.raw.once('close', release);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > 0) {
      // over the per-body limit: fastify answers 413 without reading it
      if (declared > app.initialConfig.bodyLimit!) return payload;
      if (inUse + declared > budgetBytes) {
        void reply.header('connection', 'close');
        throw refuse();
      }
      inUse += declared;
      held = declared;
      return payload;
    }
    if (req.headers['transfer-encoding'] === undefined) return payload;
    return payload.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          if (inUse + chunk.length > budgetBytes) {
            void reply.header('connection', 'close');
            done(refuse());
            return;
          }
          inUse += chunk.length;
          held += chunk.length;
          done(null, chunk);
        },
      }),
    );
  });
}
