/**
 * The server's hardening, on a real server on loopback: JSON depth and size limits, framework
 * errors in the v2 shape, the memory budget across request bodies, header/body/idle timeouts,
 * the connection cap, graceful shutdown and atomic writes of the files the server keeps.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Readable } from 'node:stream';
import { ModelUploads, V2Client } from '../../src/sdk/client.js';
import { HttpTransport } from '../../src/sdk/transport.js';
import { writeFileAtomic } from '../../src/server/atomic-file.js';
import { startServer } from '../../src/server/main.js';
import { startSibyl, type Sibyl } from '../clients/server.js';

const LANGUAGE = '/v2/users/clarifai/apps/main/models/language-identification/outputs';

interface Answer {
  status: number;
  headers: Headers;
  body: { status?: { code: number; description: string; details?: string } };
}

async function call(s: Sibyl, method: string, path: string, body?: string, type = 'application/json') {
  const res = await fetch(s.url + path, {
    method,
    headers: { authorization: `Key ${s.pat}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as Answer['body'] };
}

const textInput = (extra = '') => `{"inputs":[{"data":{"text":{"raw":"hello world"}${extra}}}]`;

/** A raw connection: what it was sent back, and when it closed. */
function rawSocket(
  url: string,
): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString()));
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      resolve({ socket, received: () => got, closed });
    });
    socket.once('error', reject);
    socket.on('error', () => undefined);
  });
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms),
    ),
  ]);

describe('JSON limits and framework errors in the v2 shape', () => {
  let s: Sibyl;
  before(async () => {
    s = await startSibyl();
  });
  after(async () => s?.close());

  for (const where of ['params', 'output_config'] as const) {
    it(`${where} nested 5,000 levels -> 400 naming the depth limit`, async () => {
      const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
      const res = await call(
        s,
        'POST',
        LANGUAGE,
        `${textInput()},"model":{"output_info":{"${where}":${deep}}}}`,
      );
      assert.equal(res.status, 400);
      assert.match(res.body.status!.details!, /nested more than 64 levels/);
    });
  }

  it('input metadata nested 5,000 levels, or a list nested 100,000 -> 400', async () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    let res = await call(s, 'POST', LANGUAGE, `${textInput(`,"metadata":${deep}`)}}`);
    assert.equal(res.status, 400);
    assert.match(res.body.status!.details!, /64 levels/);
    res = await call(s, 'POST', LANGUAGE, '['.repeat(100_000) + ']'.repeat(100_000));
    assert.equal(res.status, 400);
  });

  it('a number too large to represent and an over-long free-form string -> 400 naming them', async () => {
    let res = await call(
      s,
      'POST',
      LANGUAGE,
      `${textInput()},"model":{"output_info":{"output_config":{"max_concepts":1e999}}}}`,
    );
    assert.equal(res.status, 400);
    assert.match(res.body.status!.details!, /max_concepts is a number too large/);
    const long = 'a'.repeat(300_000);
    res = await call(
      s,
      'POST',
      LANGUAGE,
      `${textInput()},"model":{"output_info":{"params":{"p":"${long}"}}}}`,
    );
    assert.equal(res.status, 400);
    assert.match(res.body.status!.details!, /at most 262144/);
  });

  it('a bad %ff path, an over-long id, an over-long URL, 404 and 415: all v2 status', async () => {
    const cases: Array<[string, string, string | undefined, string, number, RegExp]> = [
      ['GET', '/v2/users/%ff/apps', undefined, 'application/json', 400, /percent-encoded/],
      ['GET', `/v2/users/${'a'.repeat(129)}/apps`, undefined, 'application/json', 414, /128 characters/],
      ['GET', `/v2/users/me?x=${'a'.repeat(9000)}`, undefined, 'application/json', 414, /8192/],
      ['GET', '/v2/no/such/route', undefined, 'application/json', 404, /no route/],
      ['POST', LANGUAGE, '<x/>', 'application/xml', 415, /content-type application\/json/],
      ['POST', LANGUAGE, '{"inputs":', 'application/json', 400, /not valid JSON/],
    ];
    for (const [method, path, body, type, status, details] of cases) {
      const res = await call(s, method, path, body, type);
      assert.equal(res.status, status, path.slice(0, 40));
      assert.equal(typeof res.body.status?.code, 'number');
      assert.match(res.body.status!.details!, details);
    }
    // an id of exactly 128 characters is routed (and answered as missing, not 414)
    const res = await call(s, 'GET', `/v2/users/${'a'.repeat(128)}/apps/x`);
    assert.notEqual(res.status, 414);
  });

  it('headers past 16 KiB -> 431 with a v2 status naming the limit', async () => {
    const c = await rawSocket(s.url);
    c.socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await within(c.closed, 5000, 'close after 431');
    assert.match(c.received(), /^HTTP\/1.1 431/);
    assert.match(c.received(), /"details":"the request line and headers exceed the server limit of 16 KiB"/);
  });
});

describe('memory budget across request bodies', () => {
  let s: Sibyl;
  before(async () => {
    s = await startSibyl({ limits: { bodyBudgetBytes: 1024 * 1024 } });
  });
  after(async () => s?.close());

  it('a body that does not fit -> 503 with Retry-After before it is read; room again once answered', async () => {
    const held = await rawSocket(s.url);
    const size = 700 * 1024;
    held.socket.write(
      `POST ${LANGUAGE} HTTP/1.1\r\nHost: x\r\nAuthorization: Key ${s.pat}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${size}\r\n\r\n{"inputs":`,
    );
    await new Promise((r) => setTimeout(r, 200));
    const body = `${textInput()}}`.padEnd(size, ' ');
    const res = await call(s, 'POST', LANGUAGE, body);
    assert.equal(res.status, 503);
    assert.ok(res.headers.get('retry-after'));
    assert.match(res.body.status!.details!, /body memory budget of 1 MiB/);
    held.socket.destroy();
    await held.closed;
    await new Promise((r) => setTimeout(r, 100));
    const ok = await call(s, 'POST', LANGUAGE, body);
    assert.equal(ok.status, 200);
  });

  it('a client still sending a refused body gets the refusal, and its connection stays usable', async () => {
    const held = await rawSocket(s.url);
    held.socket.write(
      `POST ${LANGUAGE} HTTP/1.1\r\nHost: x\r\nAuthorization: Key ${s.pat}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${700 * 1024}\r\n\r\n{"inputs":`,
    );
    await new Promise((r) => setTimeout(r, 200));
    await refusedWhileSending(s, 6 * 1024 * 1024, 503);
    held.socket.destroy();
    await held.closed;
  });
});

describe('a body over the per-body limit', () => {
  let s: Sibyl;
  before(async () => {
    s = await startSibyl({ limits: { bodyLimitBytes: 2 * 1024 * 1024 } });
  });
  after(async () => s?.close());

  it('is answered 413 while the client is still sending it, and the connection stays usable', async () => {
    await refusedWhileSending(s, 3 * 1024 * 1024, 413);
  });

  it('except on a route that streams its body: a model file upload larger than the limit arrives whole', async () => {
    const uploads = new ModelUploads(new V2Client(new HttpTransport(s.url), s.pat));
    const size = 5 * 1024 * 1024;
    const { upload } = await uploads.start({ userId: s.userId, appId: 'big', modelId: 'weights' }, [
      { path: 'config.yaml', size: 1 },
      { path: 'model.onnx', size },
    ]);
    try {
      const piece = Buffer.alloc(256 * 1024, 7);
      await uploads.putFile(s.userId, upload.id, 'model.onnx', {
        bytes: size,
        open: () => Readable.from(Array.from({ length: size / piece.length }, () => piece)),
      });
    } finally {
      await uploads.cancel(s.userId, upload.id);
    }
  });
});

/**
 * Sends a whole body of `size` bytes, in pieces, as a client that does not wait for an early
 * answer does; the refusal must arrive with no write error, and the same connection must answer
 * the next request.
 */
async function refusedWhileSending(s: Sibyl, size: number, status: number): Promise<void> {
  const sender = await rawSocket(s.url);
  try {
    sender.socket.write(
      `POST ${LANGUAGE} HTTP/1.1\r\nHost: x\r\nAuthorization: Key ${s.pat}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
    );
    const piece = Buffer.alloc(256 * 1024, 0x20);
    let writeError: unknown;
    sender.socket.on('error', (err) => (writeError = err));
    for (let sent = 0; sent < size && !sender.socket.destroyed; sent += piece.length) {
      if (!sender.socket.write(piece)) {
        // a connection the server closes never drains
        await Promise.race([new Promise((r) => sender.socket.once('drain', r)), sender.closed]);
      }
    }
    const until = (re: RegExp, from: number, what: string) =>
      within(
        (async () => {
          while (!re.test(sender.received().slice(from))) {
            if (sender.socket.destroyed) throw new Error(`connection closed before ${what}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        })(),
        5000,
        what,
      );
    await until(/\r\n\r\n\{.*\}$/s, 0, `the ${status}`);
    assert.equal(writeError, undefined);
    assert.match(sender.received(), new RegExp(`^HTTP/1\\.1 ${status} `));
    assert.doesNotMatch(sender.received(), /connection: close/i);
    const before = sender.received().length;
    sender.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(/^HTTP\/1\.1 200 /, before, 'the next answer on that connection');
  } finally {
    sender.socket.destroy();
    await sender.closed;
  }
}

describe('timeouts and the connection cap', () => {
  let s: Sibyl;
  before(async () => {
    s = await startSibyl({
      limits: { requestTimeoutMs: 1500, headersTimeoutMs: 1000, keepAliveTimeoutMs: 500, maxConnections: 8 },
    });
  });
  after(async () => s?.close());

  it('a body dripped at a few bytes a second is cut off', async () => {
    const c = await rawSocket(s.url);
    c.socket.write(
      `POST ${LANGUAGE} HTTP/1.1\r\nHost: x\r\nAuthorization: Key ${s.pat}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
    );
    const drip = setInterval(() => c.socket.writable && c.socket.write(' '), 300);
    try {
      await within(c.closed, 6000, 'dripped body cut off');
    } finally {
      clearInterval(drip);
    }
    assert.doesNotMatch(c.received(), /^HTTP\/1.1 200/);
  });

  it('a silent connection, and an idle keep-alive one, are closed', async () => {
    const silent = await rawSocket(s.url);
    await within(silent.closed, 4000, 'silent connection closed');
    const idle = await rawSocket(s.url);
    idle.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await within(idle.closed, 4000, 'idle keep-alive connection closed');
    assert.match(idle.received(), /^HTTP\/1.1 200/);
  });

  it('past the cap new connections are closed at once, and the server answers again after', async () => {
    const hogs = await Promise.all(Array.from({ length: 8 }, () => rawSocket(s.url)));
    const extra = await rawSocket(s.url);
    await within(extra.closed, 1000, 'connection over the cap closed');
    await within(Promise.all(hogs.map((h) => h.closed)), 4000, 'silent connections timed out');
    const res = await call(s, 'GET', '/health');
    assert.equal(res.status, 200);
  });
});

describe('graceful shutdown and atomic files', () => {
  it('a request in flight finishes; new connections are refused; then close resolves', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-limits-'));
    const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, allowPrivateUrls: false });
    try {
      const pat = (/pat: (\S+)/.exec(readFileSync(server.bootstrap.path, 'utf8')) ?? [])[1]!;
      const body = `${textInput()}}`;
      const c = await rawSocket(server.url);
      c.socket.write(
        `POST ${LANGUAGE} HTTP/1.1\r\nHost: x\r\nAuthorization: Key ${pat}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
      );
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const closing = server.close();
      await new Promise((r) => setTimeout(r, 200));
      await assert.rejects(fetch(`${server.url}/health`));
      c.socket.write(body.slice(10));
      await within(c.closed, 5000, 'in-flight request answered');
      assert.match(c.received(), /^HTTP\/1.1 200/);
      await within(closing, 5000, 'close');
      assert.ok(Date.now() - started < 5000);
      // bootstrap.yaml: written atomically, 0600, no temporary file left beside it
      assert.equal(statSync(server.bootstrap.path).mode & 0o777, 0o600);
      assert.deepEqual(
        readdirSync(dataDir).filter((f) => f.endsWith('.tmp')),
        [],
      );
    } finally {
      await server.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('writeFileAtomic replaces the whole file, keeps mode 0600, leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sibyl-atomic-'));
    try {
      const file = join(dir, 'f.yaml');
      await writeFileAtomic(file, 'one\n');
      await writeFileAtomic(file, 'two\n');
      assert.equal(readFileSync(file, 'utf8'), 'two\n');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(dir), ['f.yaml']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('URL inputs: one deadline per request', () => {
  it('slow URLs past the request deadline -> an error naming it, long before the per-URL timeout', async () => {
    const { createServer } = await import('node:http');
    const { toEngineInputs } = await import('../../src/server/services/media.js');
    const { DEFAULT_SERVICE_OPTIONS } = await import('../../src/server/services/context.js');
    const { DownloadQueue } = await import('../../src/server/url-fetch/download-queue.js');
    // answers headers at once, then drips its body: each URL stays under its own 10 s timeout
    const slow = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('a'), 100);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const port = (slow.address() as net.AddressInfo).port;
    const ctx = {
      options: {
        ...DEFAULT_SERVICE_OPTIONS,
        allowPrivateUrls: true,
        urlTimeoutMs: 10_000,
        urlRequestTimeoutMs: 700,
      },
      downloads: new DownloadQueue({ concurrency: 16, maxWaiting: 1024 }),
    } as Parameters<typeof toEngineInputs>[0];
    const started = Date.now();
    try {
      await assert.rejects(
        toEngineInputs(
          ctx,
          Array.from({ length: 8 }, (_, i) => ({
            type: 'text' as const,
            url: `http://127.0.0.1:${port}/${i}`,
          })),
        ),
        /must download within 0.7 s in total/,
      );
      assert.ok(Date.now() - started < 3000);
    } finally {
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
    }
  });
});
