import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * CORS for browser pages on other origins (a web app using clarifai-web-grpc or fetch).
 *
 * Off unless origins are configured (`serve --cors-origin`): with none, the server adds no CORS
 * headers and browsers keep pages of other origins out, the safe default for a server that may sit
 * on a private network. `*` is allowed and reasonable here because credentials travel in the
 * `Authorization` header, never in cookies: a page can only use a key it already holds, and
 * `Access-Control-Allow-Credentials` is never sent.
 *
 * A preflight (OPTIONS with Access-Control-Request-Method) is answered here, before auth, with
 * 204: never 401, since browsers send no key with it. Answers to allowed origins expose the gRPC
 * headers (grpc-status, grpc-message) that gRPC-web clients read, and Retry-After.
 */

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const DEFAULT_ALLOWED_HEADERS =
  'authorization, content-type, x-grpc-web, x-user-agent, grpc-timeout, x-clarifai-session-token, x-clarifai-client, x-clarifai-request-id';
const EXPOSED_HEADERS = 'grpc-status, grpc-message, grpc-status-details-bin, retry-after';
/** How long a browser may reuse a preflight answer, in seconds. */
const MAX_AGE_SECONDS = 600;

/** Checks configured origins: `*`, or `scheme://host[:port]` with nothing after. */
export function checkCorsOrigin(origin: string): string | undefined {
  if (origin === '*') return undefined;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `"${origin}" is not an origin: give scheme://host[:port], e.g. https://app.example.com, or *`;
  }
  if (url.origin === 'null' || url.origin !== origin.replace(/\/$/, '')) {
    return `"${origin}" is not an origin: give scheme://host[:port] only (no path), e.g. ${url.origin === 'null' ? 'https://app.example.com' : url.origin}`;
  }
  return undefined;
}

export function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  const any = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.replace(/\/$/, '').toLowerCase()));

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers.origin;
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    const ok = origin !== undefined && (any || allowed.has(origin.toLowerCase()));
    if (ok) {
      void reply.header('access-control-allow-origin', any ? '*' : origin);
      void reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    }
    if (!any && allowed.size > 0) void reply.header('vary', 'Origin');
    if (!preflight) return;
    if (ok) {
      const asked = req.headers['access-control-request-headers'];
      void reply
        .header('access-control-allow-methods', ALLOWED_METHODS)
        .header(
          'access-control-allow-headers',
          typeof asked === 'string' && asked !== '' ? asked : DEFAULT_ALLOWED_HEADERS,
        )
        .header('access-control-max-age', String(MAX_AGE_SECONDS));
      // Chrome's Private Network Access: an origin the admin allowed may reach a private address
      if (req.headers['access-control-request-private-network'] === 'true') {
        void reply.header('access-control-allow-private-network', 'true');
      }
    }
    // an origin not allowed gets no CORS headers, so the browser stops there
    await reply.code(204).send();
    return reply;
  });
}
