/**
 * GET /openapi.json and GET /docs on the real app (an in-memory store, the real engine, nothing
 * loaded): the document is OpenAPI 3.1 with every REST binding of the served RPCs, its $refs all
 * resolve, the hand-written routes are there, and both answer without a key; /docs is served under
 * a CSP with no remote source. Then, when Debian's chromium is installed, the page in a real
 * browser: it renders the routes by tag and its "try it" form calls the API with the typed key.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext } from 'playwright-core';

import { createEngine, type Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { ensureAdminUser } from '../../src/server/bootstrap.js';
import { pathShape } from '../../src/server/openapi/document.js';
import { loadRestSchema } from '../../src/server/proto/schema.js';
import { SERVED_RPCS } from '../../src/server/services/v2-rpcs.js';
import { openStore, type Store } from '../../src/store/index.js';
import { CHROMIUM, launchChromium, openWatchedPage } from '../helpers/browser.js';

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { summary?: string; security?: unknown[] }>>;
  components: { schemas: Record<string, unknown> };
}

let store: Store;
let engine: Engine;
let app: FastifyInstance;
let adminKey: string;

before(async () => {
  store = await openStore({ sqlitePath: ':memory:' });
  engine = createEngine();
  const adminId = await ensureAdminUser(store);
  adminKey = (await store.pats.create(adminId, 'openapi tests')).token;
  app = buildApp({ store, engine });
});

after(async () => {
  await app.close();
  await engine.close();
  await store.close();
});

function refsOf(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) refsOf(v, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsOf(v, out);
    }
  }
  return out;
}

describe('GET /openapi.json', () => {
  let doc: Doc;
  let text: string;

  before(async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' }); // no key: public
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    text = res.body;
    doc = JSON.parse(text) as Doc;
  });

  it('is OpenAPI 3.1 with every REST binding of the served RPCs, by method', () => {
    assert.equal(doc.openapi, '3.1.0');
    const byShape = new Map(Object.keys(doc.paths).map((p) => [pathShape(p), p]));
    const { bindings } = loadRestSchema(SERVED_RPCS);
    assert.ok(bindings.length > 20);
    for (const b of bindings) {
      const listed = byShape.get(pathShape(b.path));
      assert.ok(listed, `${b.method} ${b.path} (${b.rpc}) is listed`);
      assert.ok(
        doc.paths[listed]?.[b.method.toLowerCase()],
        `${b.method} ${b.path} (${b.rpc}) has its method`,
      );
    }
    const predict =
      doc.paths['/v2/users/{user_app_id.user_id}/apps/{user_app_id.app_id}/models/{model_id}/outputs'];
    assert.equal(predict?.post?.summary, 'PostModelOutputs');
  });

  it('resolves every $ref to a component', () => {
    const refs = refsOf(doc);
    assert.ok(refs.length > 100);
    for (const ref of new Set(refs)) {
      const name = ref.replace(/^#\/components\/schemas\//, '');
      assert.notEqual(name, ref, `${ref} points into components`);
      assert.ok(Object.hasOwn(doc.components.schemas, name), `${ref} resolves`);
    }
  });

  it('lists the hand-written routes, the public ones without a key, and no secret', () => {
    assert.ok(doc.paths['/v1/chat/completions']?.post);
    assert.ok(doc.paths['/v1/embeddings']?.post);
    assert.ok(doc.paths['/v2/sibyl/engine']?.get);
    assert.ok(doc.paths['/metrics']?.get);
    for (const p of ['/health', '/ready', '/openapi.json', '/docs'])
      assert.deepEqual(doc.paths[p]?.get?.security, []);
    assert.ok(!text.includes(adminKey));
  });
});

describe('GET /docs', () => {
  it('answers the page without a key under a CSP with no remote source', async () => {
    for (const url of ['/docs', '/docs/', '/docs/docs.js', '/docs/docs.css']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /https?:|\*|unsafe-inline|unsafe-eval/);
    }
    const page = await app.inject({ method: 'GET', url: '/docs' });
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.doesNotMatch(page.body, /src="(https?:)?\/\//); // no remote script
    const js = await app.inject({ method: 'GET', url: '/docs/docs.js' });
    assert.doesNotMatch(js.body, /innerHTML|outerHTML|insertAdjacentHTML/);
  });

  it('still needs a key for the routes it documents', async () => {
    const res = await app.inject({ method: 'GET', url: '/v2/sibyl/engine' });
    assert.equal(res.statusCode, 401);
  });
});

describe('/docs in a browser', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, () => {
  let browser: BrowserContext | undefined;
  let base = '';
  let work = '';

  before(async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    work = mkdtempSync(join(tmpdir(), 'sibyl-docs-'));
    browser = await launchChromium(join(work, 'profile'));
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('renders the routes by tag and sends a request with the typed key', { timeout: 20_000 }, async () => {
    const { page, problems, requests } = await openWatchedPage(browser!, `${base}/docs`);
    await page.locator('section[data-tag="v2 models"]').waitFor();
    assert.ok((await page.locator('section[data-tag="OpenAI-compatible (/v1)"] details.op').count()) >= 6);

    const getUser = page.locator('details.op', { hasText: 'GetUser' }).first();
    await getUser.locator(':scope > summary').click();
    await getUser.locator('input[name="user_app_id.user_id"]').fill('admin');
    await getUser.getByRole('button', { name: 'Send' }).click();
    await getUser.locator('.status-err', { hasText: '401' }).waitFor(); // no key yet

    await page.locator('#pat').fill(adminKey);
    await page.getByRole('button', { name: 'Use' }).click();
    await getUser.getByRole('button', { name: 'Send' }).click();
    await getUser.locator('.status-ok', { hasText: '200' }).waitFor();
    assert.match((await getUser.locator('pre').textContent()) ?? '', /"id": "admin"/);

    const stored = await page.evaluate('[sessionStorage.length, localStorage.length, document.cookie]');
    assert.deepEqual(stored, [1, 0, '']);
    // the keyless try's 401 is the only error the console may show
    assert.deepEqual(problems, [
      'console: Failed to load resource: the server responded with a status of 401 (Unauthorized)',
    ]);
    for (const url of requests) assert.ok(url.startsWith(`${base}/`), url);
    await page.close();
  });
});
