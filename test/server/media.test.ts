import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BusyError, SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import type { ServiceContext } from '../../src/server/services/context.js';
import { DEFAULT_SERVICE_OPTIONS } from '../../src/server/services/context.js';
import { toEngineInputs } from '../../src/server/services/media.js';
import { DownloadQueue } from '../../src/server/url-fetch/download-queue.js';
import { listen } from '../helpers/http.js';

/**
 * Only the options and the download queue matter to turning inputs into engine input; store and
 * engine are never touched.
 */
const ctx = (
  options: Partial<ServiceContext['options']> = {},
  downloads = new DownloadQueue({ concurrency: 16, maxWaiting: 1024 }),
) =>
  ({
    options: { ...DEFAULT_SERVICE_OPTIONS, allowPrivateUrls: true, ...options },
    downloads,
  }) as ServiceContext;

describe('toEngineInputs', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  let inFlight = 0;
  let peak = 0;
  before(async () => {
    server = await listen((req, res) => {
      if (req.url === '/missing') return void res.writeHead(404).end();
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.writeHead(200).end('x'.repeat(1000));
      }, 20);
    });
  });
  after(() => server.close());

  it('keeps order, mixes sources, and fetches at most four URLs at a time', async () => {
    const sources = [
      { type: 'text' as const, raw: 'first' },
      ...Array.from({ length: 10 }, (_, i) => ({ type: 'text' as const, url: `${server.url}/t${i}` })),
      { type: 'text' as const, base64: Buffer.from('last').toString('base64') },
    ];
    const inputs = await toEngineInputs(ctx(), sources);
    assert.equal(inputs.length, 12);
    assert.deepEqual(inputs[0], { type: 'text', text: 'first' });
    assert.deepEqual(inputs[11], { type: 'text', text: 'last' });
    assert.ok(peak <= 4, `peak ${peak}`);
  });

  it('reports the failing URL, not the downloads it cancelled', async () => {
    const sources = [
      { type: 'image' as const, url: `${server.url}/slow1` },
      { type: 'image' as const, url: `${server.url}/missing` },
      { type: 'image' as const, url: `${server.url}/slow2` },
    ];
    await assert.rejects(
      toEngineInputs(ctx(), sources),
      (err: unknown) =>
        err instanceof SibylError &&
        err.code === StatusCode.INPUT_CONNECTION_FAILED &&
        /404/.test(err.message),
    );
  });

  it('downloads of all requests together share the server-wide slots', async () => {
    // the test server still counts downloads the last test cancelled until their replies go out
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    peak = 0;
    const shared = new DownloadQueue({ concurrency: 3, maxWaiting: 100 });
    const request = (n: number) =>
      toEngineInputs(
        ctx({}, shared),
        Array.from({ length: 8 }, (_, i) => ({ type: 'image' as const, url: `${server.url}/r${n}-${i}` })),
      );
    const all = await Promise.all([request(1), request(2), request(3)]);
    assert.equal(all.flat().length, 24);
    // each request alone would run 4 at once; together they stay within the 3 slots
    assert.equal(peak, 3);
    assert.deepEqual(shared.status(), { active: 0, waiting: 0 });
  });

  it('a request that would overfill the waiting line is refused busy before it downloads', async () => {
    const shared = new DownloadQueue({ concurrency: 2, maxWaiting: 6 });
    const urls = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({ type: 'image' as const, url: `${server.url}/${tag}${i}` }));
    const first = toEngineInputs(ctx({}, shared), urls(8, 'a'));
    await assert.rejects(
      toEngineInputs(ctx({}, shared), urls(2, 'b')),
      (err: unknown) =>
        err instanceof BusyError &&
        err.code === StatusCode.MODEL_BUSY_PLEASE_RETRY &&
        err.retryAfterSeconds >= 1 &&
        /6 URL downloads are already waiting for one of the server's 2 download slots \(at most 6 may wait\)/.test(
          err.details ?? '',
        ),
    );
    // nothing of the refused request runs or waits: only the first request's 2 running, and its 6
    // others waiting (2 in line for a slot, 4 not yet asked for by its fetch loop)
    assert.deepEqual(shared.status(), { active: 2, waiting: 6 });
    assert.equal((await first).length, 8);
    // once the line has drained the same request fits
    assert.equal((await toEngineInputs(ctx({}, shared), urls(2, 'c'))).length, 2);
  });

  it('with nothing waiting, a request of more URLs than may wait is still admitted', async () => {
    const shared = new DownloadQueue({ concurrency: 1, maxWaiting: 3 });
    const many = Array.from({ length: 10 }, (_, i) => ({
      type: 'image' as const,
      url: `${server.url}/m${i}`,
    }));
    assert.equal((await toEngineInputs(ctx({}, shared), many)).length, 10);
    assert.deepEqual(shared.status(), { active: 0, waiting: 0 });
  });

  it('a failed request gives back the places of the URLs it never fetched', async () => {
    const shared = new DownloadQueue({ concurrency: 1, maxWaiting: 4 });
    const sources = [
      { type: 'image' as const, url: `${server.url}/missing` },
      ...Array.from({ length: 4 }, (_, i) => ({ type: 'image' as const, url: `${server.url}/f${i}` })),
    ];
    await assert.rejects(toEngineInputs(ctx({}, shared), sources), /404/);
    // all five places are free again: five more URLs fit (one runs, four wait)
    const again = Array.from({ length: 5 }, (_, i) => ({
      type: 'image' as const,
      url: `${server.url}/g${i}`,
    }));
    assert.equal((await toEngineInputs(ctx({}, shared), again)).length, 5);
    assert.deepEqual(shared.status(), { active: 0, waiting: 0 });
  });

  it('caps what the URL inputs of one request download in total', async () => {
    const sources = Array.from({ length: 5 }, (_, i) => ({
      type: 'image' as const,
      url: `${server.url}/b${i}`,
    }));
    await assert.rejects(
      toEngineInputs(ctx({ maxRequestUrlBytes: 3000 }), sources),
      (err: unknown) =>
        err instanceof SibylError && err.code === StatusCode.INPUT_OVER_LIMIT && /in total/.test(err.message),
    );
  });
});
