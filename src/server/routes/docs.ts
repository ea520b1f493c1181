import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { openApiJson } from '../openapi/document.js';

/**
 * GET /openapi.json (openapi/document.ts, built on the first request) and GET /docs, a page that
 * renders it and sends requests with a key typed into it. Both public: the document lists routes
 * and message shapes only. The page's files are looked up as the playground's are (src/ under tsx,
 * the checkout's src/ beside dist/) and read on first use.
 */
const STATIC_DIRS = ['../openapi/static/', '../../../src/server/openapi/static/'];

const FILES: Record<string, string> = {
  'docs.html': 'text/html; charset=utf-8',
  'docs.js': 'text/javascript; charset=utf-8',
  'docs.css': 'text/css; charset=utf-8',
};

/** Its own files and this server only: no remote source, no inline script or style. */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What app.ts's auth hook lets through without a key. */
export const DOCS_PUBLIC_PATHS = ['/openapi.json', '/docs', '/docs/docs.js', '/docs/docs.css'];

function staticDir(): string {
  for (const rel of STATIC_DIRS) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}docs.html`)) return dir;
  }
  throw new Error(`the /docs page's files are missing (looked in ${STATIC_DIRS.join(' and ')})`);
}

export function registerDocsRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  let dir: string | undefined;
  const send = (name: string) => async (_req: unknown, reply: FastifyReply) => {
    let body = cache.get(name);
    if (!body) {
      dir ??= staticDir();
      body = readFileSync(dir + name);
      cache.set(name, body);
    }
    return reply
      .header('content-type', FILES[name]!)
      .header('content-security-policy', DOCS_CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(body);
  };
  app.get('/openapi.json', async (_req, reply) =>
    reply.header('content-type', 'application/json; charset=utf-8').send(openApiJson()),
  );
  app.get('/docs', send('docs.html'));
  app.get('/docs/docs.js', send('docs.js'));
  app.get('/docs/docs.css', send('docs.css'));
}
