import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { SibylError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';

/** A refused body is read and thrown away up to this much, or for this long, then the connection is closed. */
export const DISCARD_MAX_BYTES = 128 * 1024 * 1024;
export const DISCARD_MAX_MS = 10_000;

/** Requests whose bodies are being thrown away: their connection may stay open (see registerBodyBudget). */
const discarding = new WeakSet<IncomingMessage>();

/**
 * Reads the rest of a refused request's body into nothing (memory stays flat: each chunk is
 * dropped as it comes) so a client still sending it gets the refusal instead of a reset
 * connection (EPIPE, ECONNRESET) it cannot tell from a crash, and can retry on the same
 * connection. Past DISCARD_MAX_BYTES or DISCARD_MAX_MS the connection is closed after all, so a
 * client cannot hold it with an endless body.
 */
export function discardBody(req: IncomingMessage): void {
  if (req.complete) return;
  discarding.add(req);
  let seen = 0;
  const give = () => req.socket.destroy();
  const timer = setTimeout(give, DISCARD_MAX_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_MAX_BYTES) give();
  });
  req.once('close', () => clearTimeout(timer));
}

/**
 * One memory budget shared by every request body in flight. A body's bytes count from the
 * moment it starts arriving until its request is answered (the parsed body lives that long).
 * A body whose Content-Length does not fit is refused (503, Retry-After) before any of it is
 * held: it is read into nothing (discardBody), not kept; a chunked body is counted as it arrives
 * and cut off when the budget runs out.
 */
export function registerBodyBudget(app: FastifyInstance, budgetBytes: number): void {
  let inUse = 0;
  const refuse = () =>
    new SibylError(
      StatusCode.TRY_AGAIN,
      'Server busy, please retry',
      `request bodies in flight exceed the server's body memory budget of ${Math.round(budgetBytes / 1048576)} MiB`,
    );
  // fastify closes the connection after a refusal from its body parser (a body over the per-body
  // limit: 413), as the client may still be sending. The rest of such a body is thrown away instead,
  // so the connection can carry the client's next request. Only once the 413 is decided: a route
  // that streams its body (model file uploads) takes bodies past the limit and reads them itself.
  app.addHook('onSend', async (req, reply) => {
    if (reply.getHeader('connection') !== 'close') return;
    if (reply.statusCode === 413) {
      if (!req.raw.complete) discardBody(req.raw);
      reply.removeHeader('connection');
    } else if (discarding.has(req.raw)) {
      reply.removeHeader('connection');
    }
  });
  app.addHook('preParsing', async (req, reply, payload) => {
    let held = 0;
    const release = () => {
      inUse -= held;
      held = 0;
    };
    reply.raw.once('close', release);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > 0) {
      // over the per-body limit: fastify answers 413 without reading it (see onSend), unless the
      // route streams its body itself
      if (declared > app.initialConfig.bodyLimit!) return payload;
      if (inUse + declared > budgetBytes) {
        discardBody(req.raw);
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
            discardBody(req.raw);
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
