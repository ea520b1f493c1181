import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import type { ServiceContext } from '../../src/server/services/context.js';
import { DEFAULT_SERVICE_OPTIONS } from '../../src/server/services/context.js';
import { toEngineInputs } from '../../src/server/services/media.js';
import { listen } from '../helpers/http.js';

/** Only the options matter to turning inputs into engine input; store and engine are never touched. */
const ctx = (options: Partial<ServiceContext['options']> = {}) =>
  ({ options: { ...DEFAULT_SERVICE_OPTIONS, allowPrivateUrls: true, ...options } }) as ServiceContext;

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
