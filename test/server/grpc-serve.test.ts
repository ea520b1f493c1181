/**
 * `clarifai serve`'s gRPC, TLS and CORS flags, run as a user types them (the built bin in a child
 * process): wrong combinations refused in one line with exit 2 before anything starts; a TLS
 * server with a separate gRPC port answers https REST and gRPC over TLS, and says where each
 * listens; --no-grpc leaves the port to REST.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import grpcPkg from 'clarifai-nodejs-grpc';
import service from 'clarifai-nodejs-grpc/proto/clarifai/api/service_pb';
import serviceGrpc from 'clarifai-nodejs-grpc/proto/clarifai/api/service_grpc_pb';
import type * as grpcJs from '@grpc/grpc-js';
import { parse } from 'yaml';

import { StatusCode } from '../../src/core/status.js';
import type { TestCertificate } from '../clients/server.js';
import { makeCertificate } from '../clients/server.js';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { startServe, type Served } from '../helpers/serve.js';

const { grpc } = grpcPkg as unknown as { grpc: typeof grpcJs };
const PAGE = 'http://page.example:3000';

function httpsGet(url: string, ca: Buffer, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = https.request(url, { ca, headers, method }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('serve flags refused before anything starts', () => {
  let cert: TestCertificate;
  let other: TestCertificate;
  const env = isolatedEnv();
  before(() => {
    cert = makeCertificate();
    other = makeCertificate();
  });
  after(() => {
    for (const c of [cert, other]) if (c) rmSync(c.dir, { recursive: true, force: true });
  });

  it('each wrong combination: one line naming the flag, exit 2', async () => {
    const junk = join(cert.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const cases: Array<[string[], RegExp]> = [
      [['--tls-cert', cert.certFile], /--tls-cert needs --tls-key/],
      [['--tls-key', cert.keyFile], /--tls-key needs --tls-cert/],
      [
        ['--tls-cert', join(cert.dir, 'missing.pem'), '--tls-key', cert.keyFile],
        /--tls-cert .*missing\.pem: no such file/,
      ],
      [['--tls-cert', junk, '--tls-key', cert.keyFile], /--tls-cert .*: not a PEM certificate/],
      [
        ['--tls-cert', cert.certFile, '--tls-key', cert.certFile],
        /--tls-key .*: not an unencrypted PEM private key/,
      ],
      [
        ['--tls-cert', cert.certFile, '--tls-key', other.keyFile],
        /is not the private key of the certificate/,
      ],
      [['--grpc-port', '70000'], /--grpc-port must be a whole number from 0 to 65535/],
      [['--port', '8555', '--grpc-port', '8555'], /--grpc-port 8555 is the --port/],
      [
        ['--cors-origin', 'https://app.example.com/path'],
        /--cors-origin .*no path.*https:\/\/app\.example\.com/,
      ],
      [['--cors-origin', 'app.example.com'], /--cors-origin "app\.example\.com" is not an origin/],
    ];
    for (const [args, message] of cases) {
      const res = await runCli(['serve', '--port', '0', ...args], env);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      assert.equal(res.stdout, '');
    }
  });
});

describe('serve --tls-cert --tls-key --grpc-port --cors-origin', () => {
  let cert: TestCertificate;
  let served: Served;
  let pat: string;
  const env = isolatedEnv();
  before(async () => {
    cert = makeCertificate();
    served = await startServe(
      [
        '--quiet',
        '--tls-cert',
        cert.certFile,
        '--tls-key',
        cert.keyFile,
        '--grpc-port',
        '0',
        '--cors-origin',
        PAGE,
      ],
      env,
    );
    const file = /log in with:\n\s+clarifai login --config (\S+)/.exec(served.output())![1]!;
    pat = (parse(readFileSync(file, 'utf8')) as { pat: string }).pat;
  });
  after(async () => {
    await served?.stop();
    if (cert) rmSync(cert.dir, { recursive: true, force: true });
  });

  it('says where REST, gRPC and gRPC-web listen, and which origins CORS allows', () => {
    const out = served.output();
    assert.match(served.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const host = served.url.replace('https://', '');
    assert.ok(out.includes(`on ${host} too (TLS)`), out);
    assert.ok(out.includes(`gRPC-web at ${served.url}/clarifai.api.V2/<Method>`), out);
    assert.match(out, /gRPC alone on 127\.0\.0\.1:\d+ \(--grpc-port, TLS\)/);
    assert.ok(out.includes(`CORS: browser pages from ${PAGE}`), out);
  });

  it('https REST answers, with CORS headers for the allowed origin', async () => {
    const res = await httpsGet(`${served.url}/v2/users/me`, cert.cert, {
      authorization: `Key ${pat}`,
      origin: PAGE,
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['access-control-allow-origin'], PAGE);
    const pre = await httpsGet(
      `${served.url}/v2/users/me`,
      cert.cert,
      { origin: PAGE, 'access-control-request-method': 'GET' },
      'OPTIONS',
    );
    assert.equal(pre.status, 204);
  });

  it('gRPC over TLS on the REST port and on --grpc-port', async () => {
    const grpcAddress = /gRPC alone on (\S+) /.exec(served.output())![1]!;
    for (const address of [served.url.replace('https://', ''), grpcAddress]) {
      const client = new serviceGrpc.V2Client(address, grpc.credentials.createSsl(cert.cert));
      try {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', `Key ${pat}`);
        const res = await new Promise<{ getStatus(): { getCode(): number } | undefined }>((resolve, reject) =>
          client.getUser(new service.GetUserRequest(), metadata, (err, r) =>
            err ? reject(err) : resolve(r),
          ),
        );
        assert.equal(res.getStatus()?.getCode(), StatusCode.SUCCESS, address);
      } finally {
        client.close();
      }
    }
  });
});

describe('serve --no-grpc', () => {
  let served: Served;
  const env = isolatedEnv();
  before(async () => {
    served = await startServe(['--quiet', '--no-grpc'], env);
  });
  after(() => served?.stop());

  it('says REST only, and gRPC-web is not there', async () => {
    assert.match(served.output(), /REST only .*--no-grpc/);
    const res = await fetch(`${served.url}/clarifai.api.V2/GetUser`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto', authorization: 'Key sbl_any' },
      body: new Uint8Array(5),
    });
    assert.equal(res.status, 401); // an ordinary REST path now: the key is checked first
  });
});
