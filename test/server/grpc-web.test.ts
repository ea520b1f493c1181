/**
 * gRPC-web, CORS and NOT_IMPLEMENTED REST paths on a real Sibyl server: requests framed by hand
 * (binary and base64 text forms) around messages made with the official google-protobuf classes
 * of `clarifai-nodejs-grpc`, so neither side uses the server's own codec. Real models, real photo.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import resources from 'clarifai-nodejs-grpc/proto/clarifai/api/resources_pb';
import service from 'clarifai-nodejs-grpc/proto/clarifai/api/service_pb';

import { StatusCode } from '../../src/core/status.js';
import type { Sibyl, TestCertificate } from '../clients/server.js';
import { makeCertificate, startSibyl } from '../clients/server.js';

const DOGS = readFileSync(fileURLToPath(new URL('../fixtures/photos/dogs.jpg', import.meta.url)));
const ENGLISH = 'The quick brown fox jumps over the lazy dog while the children watch from the garden.';
const PAGE = 'http://page.example:3000';

interface Serializable {
  serializeBinary(): Uint8Array;
}

function frame(flag: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, Buffer.from(payload)]);
}

/** The frames of a gRPC-web body: messages, and the trailers as a header map. */
function parseFrames(body: Buffer): { messages: Buffer[]; trailers: Record<string, string> } {
  const messages: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    const flag = body[at]!;
    const len = body.readUInt32BE(at + 1);
    const payload = body.subarray(at + 5, at + 5 + len);
    at += 5 + len;
    if (flag & 0x80) {
      for (const line of payload.toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) trailers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
    } else messages.push(payload);
  }
  return { messages, trailers };
}

interface WebCall {
  status: number;
  headers: Headers;
  messages: Buffer[];
  trailers: Record<string, string>;
}

async function webCall(
  base: string,
  method: string,
  messages: Serializable[],
  opts: { pat?: string; text?: boolean; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<WebCall> {
  const framed = opts.body ?? Buffer.concat(messages.map((m) => frame(0, m.serializeBinary())));
  const res = await fetch(`${base}/clarifai.api.V2/${method}`, {
    method: 'POST',
    headers: {
      'content-type': opts.text ? 'application/grpc-web-text' : 'application/grpc-web+proto',
      'x-grpc-web': '1',
      ...(opts.pat !== undefined ? { authorization: `Key ${opts.pat}` } : {}),
      ...opts.headers,
    },
    body: opts.text ? framed.toString('base64') : framed,
  });
  const raw = Buffer.from(await res.arrayBuffer());
  const body = opts.text ? Buffer.from(raw.toString('latin1'), 'base64') : raw;
  return { status: res.status, headers: res.headers, ...parseFrames(body) };
}

function imageRequest(maxConcepts: number) {
  const info = new resources.OutputInfo().setOutputConfig(
    new resources.OutputConfig().setMaxConcepts(maxConcepts),
  );
  return new service.PostModelOutputsRequest()
    .setUserAppId(new resources.UserAppIDSet().setUserId('clarifai').setAppId('main'))
    .setModelId('general-image-recognition')
    .setModel(new resources.Model().setModelVersion(new resources.ModelVersion().setOutputInfo(info)))
    .setInputsList([
      new resources.Input().setData(new resources.Data().setImage(new resources.Image().setBase64(DOGS))),
    ]);
}

function textRequest(text: string) {
  return new service.PostModelOutputsRequest()
    .setUserAppId(new resources.UserAppIDSet().setUserId('clarifai').setAppId('main'))
    .setModelId('language-identification')
    .setInputsList([
      new resources.Input().setData(new resources.Data().setText(new resources.Text().setRaw(text))),
    ]);
}

function outputs(buf: Buffer) {
  return service.MultiOutputResponse.deserializeBinary(buf).toObject();
}

describe('gRPC-web on the REST port', () => {
  let sibyl: Sibyl;
  const lines: string[] = [];

  before(async () => {
    sibyl = await startSibyl({ corsOrigins: [PAGE], logRequest: (l) => lines.push(l) });
  });
  after(() => sibyl?.close());

  it('binary form: PostModelOutputs finds the dog, max_concepts honoured, then grpc-status 0', async () => {
    const res = await webCall(sibyl.url, 'PostModelOutputs', [imageRequest(3)], { pat: sibyl.pat });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/grpc-web+proto');
    assert.equal(res.messages.length, 1);
    assert.equal(res.trailers['grpc-status'], '0');
    const out = outputs(res.messages[0]!);
    assert.equal(out.status!.code, StatusCode.SUCCESS);
    const concepts = out.outputsList[0]!.data!.conceptsList;
    assert.equal(concepts[0]!.name, 'dog');
    assert.ok(concepts.length <= 3);
    // the request log has the RPC's own line with its v2 code, not a second HTTP line
    const logged = lines.filter((l) => l.includes('/clarifai.api.V2/PostModelOutputs'));
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0]!, /GRPC-WEB \/clarifai\.api\.V2\/PostModelOutputs 10000 /);
  });

  it('text form (base64), as clarifai-web-grpc sends it, answers in the text form and equals REST', async () => {
    const res = await webCall(sibyl.url, 'PostModelOutputs', [textRequest(ENGLISH)], {
      pat: sibyl.pat,
      text: true,
    });
    assert.equal(res.headers.get('content-type'), 'application/grpc-web-text+proto');
    assert.equal(res.trailers['grpc-status'], '0');
    const viaWeb = outputs(res.messages[0]!).outputsList[0]!.data!.conceptsList;
    const rest = (await (
      await fetch(`${sibyl.url}/v2/users/clarifai/apps/main/models/language-identification/outputs`, {
        method: 'POST',
        headers: { authorization: `Key ${sibyl.pat}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ data: { text: { raw: ENGLISH } } }] }),
      })
    ).json()) as { outputs: Array<{ data: { concepts: Array<{ name: string; value: number }> } }> };
    assert.equal(viaWeb[0]!.name, 'en');
    assert.deepEqual(
      viaWeb.map((c) => [c.name, c.value]),
      rest.outputs[0]!.data.concepts.map((c) => [c.name, c.value]),
    );
  });

  it('a text body sent as several base64 chunks is read whole', async () => {
    const framed = frame(0, textRequest(ENGLISH).serializeBinary());
    const cut = 7; // a chunk whose base64 ends in padding
    const body = framed.subarray(0, cut).toString('base64') + framed.subarray(cut).toString('base64');
    const res = await fetch(`${sibyl.url}/clarifai.api.V2/PostModelOutputs`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web-text', authorization: `Key ${sibyl.pat}` },
      body,
    });
    const parsed = parseFrames(Buffer.from(await res.text(), 'base64'));
    assert.equal(outputs(parsed.messages[0]!).outputsList[0]!.data!.conceptsList[0]!.name, 'en');
  });

  it('a wrong key answers CONN_KEY_INVALID in the message at once, no key CONN_KEY_NOT_FOUND', async () => {
    const started = Date.now();
    const wrong = await webCall(sibyl.url, 'PostModelOutputs', [textRequest(ENGLISH)], { pat: 'sbl_wrong' });
    assert.equal(wrong.trailers['grpc-status'], '0');
    assert.equal(outputs(wrong.messages[0]!).status!.code, StatusCode.CONN_KEY_INVALID);
    const none = await webCall(sibyl.url, 'PostModelOutputs', [textRequest(ENGLISH)]);
    assert.equal(outputs(none.messages[0]!).status!.code, StatusCode.CONN_KEY_NOT_FOUND);
    assert.ok(Date.now() - started < 2000);
  });

  it('the key may come as x-clarifai-session-token, as clarifai-web-grpc documents', async () => {
    const res = await webCall(sibyl.url, 'GetUser', [new service.GetUserRequest()], {
      headers: { 'x-clarifai-session-token': sibyl.pat },
    });
    const user = service.SingleUserResponse.deserializeBinary(res.messages[0]!).toObject();
    assert.equal(user.status!.code, StatusCode.SUCCESS);
    assert.equal(user.user!.id, sibyl.userId);
  });

  it('an RPC Sibyl does not serve answers NOT_IMPLEMENTED in its response at once', async () => {
    const res = await webCall(sibyl.url, 'ListWorkflows', [new service.ListWorkflowsRequest()], {
      pat: sibyl.pat,
    });
    assert.equal(res.trailers['grpc-status'], '0');
    const status = service.MultiWorkflowResponse.deserializeBinary(res.messages[0]!).toObject().status!;
    assert.equal(status.code, StatusCode.NOT_IMPLEMENTED);
    assert.match(status.details, /ListWorkflows/);
  });

  it('a method service.proto lacks is grpc-status 12 in the headers; a broken body 13', async () => {
    const unknown = await webCall(sibyl.url, 'NoSuchMethod', [], { pat: sibyl.pat });
    assert.equal(unknown.status, 200);
    assert.equal(unknown.headers.get('grpc-status'), '12');
    assert.match(decodeURIComponent(unknown.headers.get('grpc-message')!), /NoSuchMethod/);
    assert.equal(unknown.messages.length, 0);
    const cut = await webCall(sibyl.url, 'PostModelOutputs', [], {
      pat: sibyl.pat,
      body: Buffer.from([0, 0, 0, 0, 99, 1, 2]),
    });
    assert.equal(cut.headers.get('grpc-status'), '13');
    const compressed = await webCall(sibyl.url, 'PostModelOutputs', [], {
      pat: sibyl.pat,
      body: frame(1, textRequest('x').serializeBinary()),
    });
    assert.equal(compressed.headers.get('grpc-status'), '12');
    assert.match(compressed.headers.get('grpc-message')!, /compress/);
  });

  it('StreamModelOutputs: each request message gets its answer, in order', async () => {
    const res = await webCall(
      sibyl.url,
      'StreamModelOutputs',
      [
        textRequest(ENGLISH),
        textRequest('Le renard brun saute par-dessus le chien paresseux dans le jardin.'),
      ],
      { pat: sibyl.pat },
    );
    assert.deepEqual(
      res.messages.map((m) => outputs(m).outputsList[0]!.data!.conceptsList[0]!.name),
      ['en', 'fr'],
    );
    assert.equal(res.trailers['grpc-status'], '0');
  });

  it('another content type on a gRPC-web path is refused with what to send', async () => {
    const res = await fetch(`${sibyl.url}/clarifai.api.V2/PostModelOutputs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Key ${sibyl.pat}` },
      body: '{}',
    });
    assert.equal(res.status, 415);
    const body = (await res.json()) as { status: { details: string } };
    assert.match(body.status.details, /application\/grpc-web\+proto/);
  });
});

describe('CORS', () => {
  let sibyl: Sibyl;
  before(async () => {
    sibyl = await startSibyl({ corsOrigins: [PAGE] });
  });
  after(() => sibyl?.close());

  const preflight = (origin: string, path = '/clarifai.api.V2/PostModelOutputs') =>
    fetch(`${sibyl.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-grpc-web,x-user-agent',
      },
    });

  it('a preflight from an allowed origin is answered without a key', async () => {
    for (const path of [
      '/clarifai.api.V2/PostModelOutputs',
      '/v2/models/general-image-recognition/outputs',
    ]) {
      const res = await preflight(PAGE, path);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), PAGE);
      assert.match(res.headers.get('access-control-allow-methods')!, /POST/);
      assert.match(res.headers.get('access-control-allow-headers')!, /authorization/);
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
    }
  });

  it('another origin gets no CORS headers (the browser stops there), and no 401 either', async () => {
    const res = await preflight('https://evil.example');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const get = await fetch(`${sibyl.url}/v2/models`, {
      headers: { origin: 'https://evil.example', authorization: `Key ${sibyl.pat}` },
    });
    assert.equal(get.headers.get('access-control-allow-origin'), null);
  });

  it('answers to an allowed origin carry it and expose grpc-status and grpc-message, errors too', async () => {
    const ok = await webCall(sibyl.url, 'PostModelOutputs', [textRequest(ENGLISH)], {
      pat: sibyl.pat,
      headers: { origin: PAGE },
    });
    assert.equal(ok.headers.get('access-control-allow-origin'), PAGE);
    assert.match(ok.headers.get('access-control-expose-headers')!, /grpc-status, grpc-message/);
    const denied = await fetch(`${sibyl.url}/v2/models`, { headers: { origin: PAGE } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), PAGE);
    const missing = await fetch(`${sibyl.url}/v2/nothing`, {
      headers: { origin: PAGE, authorization: `Key ${sibyl.pat}` },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('access-control-allow-origin'), PAGE);
  });

  it('with no origins configured there are no CORS headers, and preflights still never need a key', async () => {
    const plain = await startSibyl();
    try {
      const res = await fetch(`${plain.url}/v2/models`, {
        method: 'OPTIONS',
        headers: { origin: PAGE, 'access-control-request-method': 'GET' },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      const get = await fetch(`${plain.url}/health`, { headers: { origin: PAGE } });
      assert.equal(get.headers.get('access-control-allow-origin'), null);
    } finally {
      await plain.close();
    }
  });

  it('"*" allows any origin, without credentials', async () => {
    const open = await startSibyl({ corsOrigins: ['*'] });
    try {
      const res = await fetch(`${open.url}/v2/models`, {
        method: 'OPTIONS',
        headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'GET' },
      });
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
    } finally {
      await open.close();
    }
  });
});

describe('REST paths of service.proto that Sibyl does not serve', () => {
  let sibyl: Sibyl;
  before(async () => {
    sibyl = await startSibyl();
  });
  after(() => sibyl?.close());

  const get = (path: string, method = 'GET') =>
    fetch(`${sibyl.url}${path}`, { method, headers: { authorization: `Key ${sibyl.pat}` } });

  it('answer NOT_IMPLEMENTED (501) naming the RPC; paths Clarifai does not have stay 404', async () => {
    for (const [method, path, rpc] of [
      ['GET', '/v2/users/me/apps/main/workflows', 'ListWorkflows'],
      ['GET', '/v2/workflows', 'ListWorkflows'],
      ['POST', '/v2/users/me/apps/main/searches', 'PostSearches'],
      ['GET', '/v2/users/me/apps/main/concepts/dog/', 'GetConcept'],
    ] as const) {
      const res = await get(path, method);
      assert.equal(res.status, 501, `${method} ${path}`);
      const body = (await res.json()) as { status: { code: number; details: string } };
      assert.equal(body.status.code, StatusCode.NOT_IMPLEMENTED);
      assert.match(body.status.details, new RegExp(`clarifai\\.api\\.V2/${rpc}\\b`));
    }
    for (const path of ['/v2/nothing/here', '/v3/models', '/v2/users/me/apps/main/no-such-things']) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assert.equal(
        ((await res.json()) as { status: { code: number } }).status.code,
        StatusCode.CONN_INVALID_REQUEST,
      );
    }
  });

  it('still need a key first, as every route does', async () => {
    const res = await fetch(`${sibyl.url}/v2/workflows`);
    assert.equal(res.status, 401);
  });
});

describe('TLS: browsers and REST clients get HTTP/1.1, gRPC clients HTTP/2', () => {
  let sibyl: Sibyl;
  let cert: TestCertificate;
  before(async () => {
    cert = makeCertificate();
    sibyl = await startSibyl({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
  });
  after(async () => {
    await sibyl?.close();
    if (cert) rmSync(cert.dir, { recursive: true, force: true });
  });

  it('a client offering h2 and http/1.1 (as browsers do) reaches the app over HTTP/1.1', async () => {
    const { status, alpn, body } = await new Promise<{ status: number; alpn: string; body: string }>(
      (resolve, reject) => {
        const req = https.request(
          `${sibyl.url}/health`,
          // https passes TLS connect options on to tls.connect; its type omits ALPNProtocols
          { ca: cert.cert, ALPNProtocols: ['h2', 'http/1.1'] } as https.RequestOptions,
          (res) => {
            const alpn = String((res.socket as TLSSocket).alpnProtocol);
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, alpn, body }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    assert.equal(status, 200, body);
    assert.equal(alpn, 'http/1.1');
  });

  it('gRPC-web over https', async () => {
    // fetch has no option for a CA, so https.request carries the call
    const framed = frame(0, textRequest(ENGLISH).serializeBinary());
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = https.request(
        `${sibyl.url}/clarifai.api.V2/PostModelOutputs`,
        {
          method: 'POST',
          ca: cert.cert,
          headers: { 'content-type': 'application/grpc-web+proto', authorization: `Key ${sibyl.pat}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        },
      );
      req.on('error', reject);
      req.end(framed);
    });
    const parsed = parseFrames(body);
    assert.equal(outputs(parsed.messages[0]!).outputsList[0]!.data!.conceptsList[0]!.name, 'en');
  });
});

describe('grpc: false (serve --no-grpc)', () => {
  let sibyl: Sibyl;
  before(async () => {
    sibyl = await startSibyl({ grpc: false });
  });
  after(() => sibyl?.close());

  it('serves REST only: no gRPC-web route, and an HTTP/2 preface gets no gRPC', async () => {
    const res = await webCall(sibyl.url, 'PostModelOutputs', [textRequest(ENGLISH)], { pat: sibyl.pat });
    assert.equal(res.status, 404);
    const rest = await fetch(`${sibyl.url}/v2/users/me`, { headers: { authorization: `Key ${sibyl.pat}` } });
    assert.equal(rest.status, 200);
    const reply = await new Promise<string>((resolve, reject) => {
      const [host, port] = sibyl.address.split(':');
      const socket = net.connect(Number(port), host!, () => socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      setTimeout(() => socket.destroy(), 3000).unref();
    });
    assert.match(reply, /^HTTP\/1\.1 4\d\d/);
  });
});
