/**
 * URL fetching: address policy and fetchUrl against a real HTTP server on 127.0.0.1.
 * Every connection made here goes to loopback; host names other than 127.0.0.1 are fakes
 * answered by an injected resolver.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { InvalidArgumentError, LimitError, SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { fetchUrl, isForbiddenAddress, redactUrl } from '../../src/server/url-fetch/index.js';
import type { LookupAll } from '../../src/server/url-fetch/index.js';

describe('isForbiddenAddress', () => {
  const forbidden: Array<[string, string]> = [
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.170.2', 'cloud metadata'],
    ['168.63.129.16', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['169.254.0.1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['192.0.0.1', 'reserved'],
    ['192.0.0.170', 'reserved'],
    ['192.0.2.5', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique local'],
    ['fd12:3456:789a::1', 'unique local'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['ff05::1:3', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001:2::1', 'benchmarking'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['::2', 'reserved'],
    // IPv6 forms carrying an IPv4 address
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:169.254.169.254', 'cloud metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::127.0.0.1', 'loopback'],
    ['::8.8.8.8', 'reserved'],
    ['::808:808', 'reserved'],
    ['1.2.3', 'invalid address'],
    ['127.1', 'invalid address'],
    ['0x7f.0.0.1', 'invalid address'],
    ['::ffff:1.2.3.256', 'invalid address'],
    ['::ffff:0:192.168.0.1', 'private'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::', 'private'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'], // Teredo client 127.0.0.1 (bit-inverted)
    // not an address
    ['not-an-ip', 'invalid address'],
    ['', 'invalid address'],
    ['1.2.3.4.5', 'invalid address'],
  ];
  for (const [ip, reason] of forbidden) {
    it(`${JSON.stringify(ip)} is ${reason}`, () => {
      assert.equal(isForbiddenAddress(ip), reason);
    });
  }

  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '9.255.255.255',
    '11.0.0.1',
    '100.63.255.255',
    '100.128.0.0',
    '169.253.255.255',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '2001:0:4136:e378:8000:63bf:f7f7:f7f7', // Teredo client 8.8.8.8
  ];
  for (const ip of allowed) {
    it(`${ip} is public`, () => {
      assert.equal(isForbiddenAddress(ip), undefined);
    });
  }
});

describe('redactUrl', () => {
  it('drops user and password', () => {
    assert.equal(redactUrl('https://alice:s3cret@example.com/a?b=c'), 'https://example.com/a?b=c');
    assert.equal(redactUrl('not a url://bob:pw@x/'), 'not a url://x/');
  });
});

interface Seen {
  path: string;
  host: string | undefined;
  authorization: string | undefined;
}

describe('fetchUrl', () => {
  let server: http.Server;
  let port: number;
  let base: string;
  const seen: Seen[] = [];
  let streamClosed: Promise<void> = Promise.resolve();
  const sockets = new Set<Socket>();

  before(async () => {
    server = http.createServer((req, res) => {
      const path = req.url ?? '/';
      seen.push({ path, host: req.headers.host, authorization: req.headers.authorization });
      if (path === '/ok') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(Buffer.from('hello bytes'));
      } else if (path === '/r1') {
        res.writeHead(301, { location: '/r2' });
        res.end();
      } else if (path === '/r2') {
        res.writeHead(302, { location: 'r3?x=1' });
        res.end();
      } else if (path === '/r3?x=1') {
        res.writeHead(303, { location: `http://127.0.0.1:${port}/r4` });
        res.end();
      } else if (path === '/r4') {
        res.writeHead(307, { location: '/r5' });
        res.end();
      } else if (path === '/r5') {
        res.writeHead(308, { location: '/ok' });
        res.end();
      } else if (path === '/loop') {
        res.writeHead(302, { location: '/loop' });
        res.end();
      } else if (path === '/to-metadata') {
        res.writeHead(302, { location: 'http://metadata.test/latest/meta-data/' });
        res.end();
      } else if (path === '/to-loopback-v6') {
        res.writeHead(302, { location: `http://[::1]:${port}/ok` });
        res.end();
      } else if (path === '/to-file') {
        res.writeHead(302, { location: 'file:///etc/passwd' });
        res.end();
      } else if (path === '/to-ok-elsewhere') {
        res.writeHead(302, { location: `http://other.test:${port}/ok` });
        res.end();
      } else if (path === '/big-declared') {
        res.writeHead(200, { 'content-length': String(5000) });
        res.end(Buffer.alloc(5000));
      } else if (path === '/big-stream') {
        // Chunked, no Content-Length, never ends on its own: the client must hang up.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        streamClosed = new Promise((resolve) => res.on('close', () => resolve()));
        const timer = setInterval(() => {
          if (!res.destroyed) res.write(Buffer.alloc(8192));
        }, 5);
        res.on('close', () => clearInterval(timer));
      } else if (path === '/hang') {
        // never answers
      } else if (path === '/slow-body') {
        res.writeHead(200, { 'content-length': '10' });
        res.write('12345');
        // the rest never comes
      } else if (path === '/exact') {
        res.writeHead(200);
        res.end(Buffer.alloc(1000, 1));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('nope');
      }
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A resolver for fake names; anything it does not know fails like DNS would. */
  function fakeLookup(table: Record<string, string[]>, calls: string[] = []): LookupAll {
    return async (hostname) => {
      calls.push(hostname);
      const addresses = table[hostname];
      if (!addresses) {
        const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        error.code = 'ENOTFOUND';
        throw error;
      }
      return addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
  }

  /** Treats 127.0.0.1 as if it were public, so redirect checks can be tested without leaving loopback. */
  const loopbackIsPublic = (ip: string): string | undefined =>
    ip === '127.0.0.1' ? undefined : isForbiddenAddress(ip);

  async function rejectsWith(promise: Promise<unknown>, check: (error: SibylError) => void): Promise<void> {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof SibylError, `expected a SibylError, got ${String(error)}`);
      check(error);
      return true;
    });
  }

  it('refuses a loopback URL by default, naming the flag, without connecting', async () => {
    const before = seen.length;
    await rejectsWith(fetchUrl(`${base}/ok`, { allowPrivate: false }), (error) => {
      assert.equal(error.code, StatusCode.INPUT_INVALID_URL);
      assert.match(
        error.message,
        /URL host "127\.0\.0\.1" resolves to a loopback address; the server refuses private addresses unless started with --allow-private-urls/,
      );
    });
    assert.equal(seen.length, before);
  });

  it('refuses a host name that resolves to loopback', async () => {
    await rejectsWith(
      fetchUrl(`http://localhost:${port}/ok`, {
        allowPrivate: false,
        lookup: fakeLookup({ localhost: ['::1', '127.0.0.1'] }),
      }),
      (error) => {
        assert.equal(error.code, StatusCode.INPUT_INVALID_URL);
        assert.match(error.message, /"localhost" resolves to a loopback address;/);
      },
    );
  });

  it('refuses IPv6 and IPv4-mapped literals', async () => {
    await rejectsWith(fetchUrl(`http://[::1]:${port}/ok`, { allowPrivate: false }), (error) => {
      assert.match(error.message, /URL host "\[::1\]" resolves to a loopback address;/);
    });
    await rejectsWith(fetchUrl(`http://[::ffff:127.0.0.1]:${port}/ok`, { allowPrivate: false }), (error) => {
      assert.match(error.message, /loopback address/);
    });
    await rejectsWith(
      fetchUrl('http://169.254.169.254/latest/meta-data/', { allowPrivate: false }),
      (error) => {
        assert.match(error.message, /a cloud metadata address;/);
      },
    );
    // Odd IPv4 spellings are normalised by the URL parser before the check.
    await rejectsWith(fetchUrl(`http://0x7f.1:${port}/ok`, { allowPrivate: false }), (error) => {
      assert.match(error.message, /"127\.0\.0\.1" resolves to a loopback address/);
    });
    await rejectsWith(fetchUrl(`http://0.0.0.0:${port}/ok`, { allowPrivate: false }), (error) => {
      assert.match(error.message, /an unspecified address/);
    });
  });

  it('refuses when any one resolved address is forbidden, with no connection made', async () => {
    const before = seen.length;
    const calls: string[] = [];
    await rejectsWith(
      fetchUrl(`http://evil.test:${port}/ok`, {
        allowPrivate: false,
        lookup: fakeLookup({ 'evil.test': ['8.8.8.8', '127.0.0.1'] }, calls),
      }),
      (error) => {
        assert.equal(error.code, StatusCode.INPUT_INVALID_URL);
        assert.match(error.message, /"evil\.test" resolves to a loopback address;/);
        // the resolved addresses are not echoed, so the server cannot be used to map internal names
        assert.doesNotMatch(error.message, /127\.0\.0\.1|8\.8\.8\.8/);
        assert.match(error.message, /--allow-private-urls/);
      },
    );
    assert.deepEqual(calls, ['evil.test']);
    assert.equal(seen.length, before);
  });

  it('fetches a loopback URL with allowPrivate', async () => {
    const result = await fetchUrl(`${base}/ok`, { allowPrivate: true });
    assert.equal(result.bytes.toString(), 'hello bytes');
    assert.equal(result.contentType, 'image/png');
    assert.equal(result.finalUrl, `${base}/ok`);
  });

  it('connects to the resolved, checked address and keeps the host name in the Host header', async () => {
    const calls: string[] = [];
    const result = await fetchUrl(`http://public.test:${port}/ok`, {
      allowPrivate: true,
      lookup: fakeLookup({ 'public.test': ['127.0.0.1'] }, calls),
    });
    assert.equal(result.bytes.toString(), 'hello bytes');
    assert.deepEqual(calls, ['public.test']); // resolved exactly once: the socket reuses the checked answer
    assert.equal(seen.at(-1)?.host, `public.test:${port}`);
  });

  it('pins with the address policy in force too', async () => {
    const result = await fetchUrl(`http://public.test:${port}/ok`, {
      allowPrivate: false,
      addressPolicy: loopbackIsPublic,
      lookup: fakeLookup({ 'public.test': ['127.0.0.1'] }),
    });
    assert.equal(result.bytes.toString(), 'hello bytes');
    assert.equal(seen.at(-1)?.host, `public.test:${port}`);
  });

  it('follows a redirect chain (301, 302 relative, 303 absolute, 307, 308)', async () => {
    const before = seen.length;
    const result = await fetchUrl(`${base}/r1`, { allowPrivate: true });
    assert.equal(result.bytes.toString(), 'hello bytes');
    assert.equal(result.finalUrl, `${base}/ok`);
    assert.deepEqual(
      seen.slice(before).map((s) => s.path),
      ['/r1', '/r2', '/r3?x=1', '/r4', '/r5', '/ok'],
    );
  });

  it('re-checks every redirect hop: a redirect to a metadata address is refused', async () => {
    const calls: string[] = [];
    await rejectsWith(
      fetchUrl(`http://public.test:${port}/to-metadata`, {
        allowPrivate: false,
        addressPolicy: loopbackIsPublic,
        lookup: fakeLookup({ 'public.test': ['127.0.0.1'], 'metadata.test': ['169.254.169.254'] }, calls),
      }),
      (error) => {
        assert.equal(error.code, StatusCode.INPUT_INVALID_URL);
        assert.match(error.message, /"metadata\.test" resolves to a cloud metadata address;/);
        assert.match(error.message, /--allow-private-urls/);
      },
    );
    assert.deepEqual(calls, ['public.test', 'metadata.test']);
    assert.equal(seen.at(-1)?.path, '/to-metadata');
  });

  it('re-checks every redirect hop: a redirect to an IPv6 loopback literal is refused', async () => {
    await rejectsWith(
      fetchUrl(`http://public.test:${port}/to-loopback-v6`, {
        allowPrivate: false,
        addressPolicy: loopbackIsPublic,
        lookup: fakeLookup({ 'public.test': ['127.0.0.1'] }),
      }),
      (error) => {
        assert.equal(error.code, StatusCode.INPUT_INVALID_URL);
        assert.match(error.message, /"\[::1\]" resolves to a loopback address/);
      },
    );
  });

  it('resolves each redirect target again and sends its own Host header', async () => {
    const calls: string[] = [];
    const result = await fetchUrl(`http://public.test:${port}/to-ok-elsewhere`, {
      allowPrivate: true,
      lookup: fakeLookup({ 'public.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] }, calls),
    });
    assert.equal(result.finalUrl, `http://other.test:${port}/ok`);
    assert.deepEqual(calls, ['public.test', 'other.test']);
    assert.equal(seen.at(-1)?.host, `other.test:${port}`);
  });

  it('refuses a redirect to a non-http scheme', async () => {
    await rejectsWith(fetchUrl(`${base}/to-file`, { allowPrivate: true }), (error) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.code, StatusCode.INPUT_INVALID_URL);
      assert.match(error.message, /"file"/);
    });
  });

  it('stops after maxRedirects, naming the limit', async () => {
    const before = seen.length;
    await rejectsWith(fetchUrl(`${base}/loop`, { allowPrivate: true, maxRedirects: 3 }), (error) => {
      assert.equal(error.code, StatusCode.INPUT_CONNECTION_FAILED);
      assert.match(error.message, /too many redirects \(the limit is 3/);
    });
    assert.equal(seen.length - before, 4); // the original request plus three redirects
  });

  it('refuses a body whose Content-Length exceeds maxBytes', async () => {
    await rejectsWith(fetchUrl(`${base}/big-declared`, { allowPrivate: true, maxBytes: 1000 }), (error) => {
      assert.ok(error instanceof LimitError);
      assert.equal(error.code, StatusCode.REQUEST_TOO_LARGE);
      assert.match(error.message, /exceeds the 0\.00095 MiB \(1000 bytes\) limit/);
    });
  });

  it('aborts a streamed body once it passes maxBytes', async () => {
    const maxBytes = 64 * 1024;
    await rejectsWith(fetchUrl(`${base}/big-stream`, { allowPrivate: true, maxBytes }), (error) => {
      assert.ok(error instanceof LimitError);
      assert.equal(error.code, StatusCode.REQUEST_TOO_LARGE);
      assert.match(error.message, /exceeds the 0\.063 MiB \(65536 bytes\) limit/);
    });
    await streamClosed; // the server saw the client hang up
  });

  it('names the limit in MiB', async () => {
    await rejectsWith(fetchUrl(`${base}/big-declared`, { allowPrivate: true, maxBytes: 0 }), (error) =>
      assert.match(error.message, /the 0 MiB limit/),
    );
  });

  it('accepts a body exactly maxBytes long', async () => {
    const result = await fetchUrl(`${base}/exact`, { allowPrivate: true, maxBytes: 1000 });
    assert.equal(result.bytes.length, 1000);
  });

  it('times out when the server never answers', async () => {
    const started = Date.now();
    await rejectsWith(fetchUrl(`${base}/hang`, { allowPrivate: true, timeoutMs: 200 }), (error) => {
      assert.equal(error.code, StatusCode.INPUT_CONNECTION_FAILED);
      assert.match(error.message, /could not fetch http:\/\/127\.0\.0\.1:\d+\/hang: timed out after 200 ms/);
    });
    assert.ok(Date.now() - started < 5000);
  });

  it('times out when the body stalls', async () => {
    await rejectsWith(fetchUrl(`${base}/slow-body`, { allowPrivate: true, timeoutMs: 200 }), (error) => {
      assert.equal(error.code, StatusCode.INPUT_CONNECTION_FAILED);
      assert.match(error.message, /timed out after 200 ms/);
    });
  });

  it('times out while resolving a host name', async () => {
    await rejectsWith(
      fetchUrl('http://slow-dns.test/ok', {
        allowPrivate: true,
        timeoutMs: 100,
        lookup: () => new Promise(() => {}),
      }),
      (error) => assert.match(error.message, /timed out after 100 ms/),
    );
  });

  it('can be cancelled by the caller', async () => {
    const controller = new AbortController();
    const pending = fetchUrl(`${base}/hang`, { allowPrivate: true, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await rejectsWith(pending, (error) => assert.match(error.message, /cancelled/));
  });

  it('reports a non-2xx answer with its status and URL', async () => {
    await rejectsWith(fetchUrl(`${base}/missing.png`, { allowPrivate: true }), (error) => {
      assert.equal(error.code, StatusCode.INPUT_CONNECTION_FAILED);
      assert.match(
        error.message,
        /could not fetch http:\/\/127\.0\.0\.1:\d+\/missing\.png: the server answered HTTP 404 Not Found/,
      );
    });
  });

  it('reports connection refused', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await rejectsWith(fetchUrl(`http://127.0.0.1:${closedPort}/x`, { allowPrivate: true }), (error) => {
      assert.equal(error.code, StatusCode.INPUT_CONNECTION_FAILED);
      assert.match(error.message, /connection refused/);
    });
  });

  it('reports a host that does not resolve', async () => {
    await rejectsWith(
      fetchUrl('http://nowhere.test/x', { allowPrivate: false, lookup: fakeLookup({}) }),
      (error) => {
        assert.equal(error.code, StatusCode.INPUT_CONNECTION_FAILED);
        assert.match(error.message, /could not resolve host "nowhere\.test" \(host not found\)/);
      },
    );
  });

  it('accepts only http and https', async () => {
    for (const url of [
      'ftp://example.com/a.png',
      'file:///etc/passwd',
      'data:text/plain,hi',
      'gopher://x/',
    ]) {
      await rejectsWith(fetchUrl(url, { allowPrivate: true }), (error) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.equal(error.code, StatusCode.INPUT_INVALID_URL);
        assert.match(error.message, /only http and https URLs can be fetched/);
      });
    }
    await rejectsWith(fetchUrl('not a url', { allowPrivate: true }), (error) => {
      assert.equal(error.code, StatusCode.INPUT_INVALID_URL);
      assert.match(error.message, /is not a valid URL/);
    });
  });

  it('never shows URL credentials in errors or results, but sends them to the same origin', async () => {
    const secretBase = `http://alice:hunter2@127.0.0.1:${port}`;
    const results = await Promise.allSettled([
      fetchUrl(`${secretBase}/ok`, { allowPrivate: false }),
      fetchUrl(`${secretBase}/missing`, { allowPrivate: true }),
      fetchUrl(`${secretBase}/loop`, { allowPrivate: true, maxRedirects: 1 }),
      fetchUrl(`${secretBase}/hang`, { allowPrivate: true, timeoutMs: 100 }),
      fetchUrl(`${secretBase}/big-declared`, { allowPrivate: true, maxBytes: 10 }),
      fetchUrl('ftp://alice:hunter2@example.com/x', { allowPrivate: true }),
      fetchUrl('http://alice:hunter2@exa mple.com/x', { allowPrivate: true }),
    ]);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      const message = String((result as PromiseRejectedResult).reason?.message);
      assert.ok(!message.includes('hunter2'), message);
      assert.ok(!message.includes('alice'), message);
    }

    const before = seen.length;
    const ok = await fetchUrl(`${secretBase}/r1`, { allowPrivate: true });
    assert.equal(ok.finalUrl, `${base}/ok`);
    const expected = `Basic ${Buffer.from('alice:hunter2').toString('base64')}`;
    // Relative redirects keep the credentials; the absolute Location (/r3 -> http://127.0.0.1/r4) has none.
    assert.deepEqual(
      seen.slice(before).map((s) => [s.path, s.authorization]),
      [
        ['/r1', expected],
        ['/r2', expected],
        ['/r3?x=1', expected],
        ['/r4', undefined],
        ['/r5', undefined],
        ['/ok', undefined],
      ],
    );
  });
});
