import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The web playground: plain files in ./static, served at `/` and `/playground/*` without a key
 * (the page asks for one and sends it on each v2 call; the v2 API still requires it).
 *
 * tsc compiles .ts only, so dist/ has no copy of ./static: the folder is looked up next to this
 * module (src/ under tsx), then in the checkout's src/ beside dist/. Files are read on first use,
 * so the embedded CLI, which builds the same app for every command, never pays for them.
 */
const STATIC_DIRS = ['./static/', '../../../src/server/playground/static/'];

/** Every file the page may ask for, with its type: nothing else under the folder is served. */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'render.js': 'text/javascript; charset=utf-8',
  'commands.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/**
 * The page loads only its own files and talks only to this server; images the user picks are
 * shown from blob: URLs, images a model returns from data: URLs. No inline script or style.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PREFIX = '/playground/';

/** Paths the auth hook lets through without a key: the page and its assets, nothing under /v2. */
export function isPlaygroundPath(path: string): boolean {
  return (
    path === '/' ||
    path === '/playground' ||
    (path.startsWith(PREFIX) && Object.hasOwn(FILES, path.slice(PREFIX.length)))
  );
}

function staticDir(): string {
  for (const rel of STATIC_DIRS) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(
    `the playground's files are missing (looked in ${STATIC_DIRS.join(' and ')} from ${import.meta.url})`,
  );
}

export function registerPlaygroundRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  let dir: string | undefined;
  const read = (name: string): Buffer => {
    let body = cache.get(name);
    if (!body) {
      dir ??= staticDir();
      body = readFileSync(dir + name);
      cache.set(name, body);
    }
    return body;
  };
  const send = (name: string) => async (_req: unknown, reply: FastifyReply) =>
    reply
      .header('content-type', FILES[name]!)
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(read(name));

  app.get('/', send('index.html'));
  app.get('/playground', async (_req, reply) => reply.redirect('/'));
  for (const name of Object.keys(FILES)) {
    if (name !== 'index.html') app.get(PREFIX + name, send(name));
  }
}
