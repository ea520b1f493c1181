/**
 * Clarifai's official gRPC-web client (`clarifai-web-grpc` 4.2.0), unchanged, against a Sibyl
 * server's gRPC-web on loopback: first in Node, with a small XMLHttpRequest over node:http (the
 * package runs on grpc-web's XhrIo and Node has no XMLHttpRequest; test/clients/xhr.ts), then in
 * a real browser (Debian's chromium, playwright-core) on a page of another origin, so CORS and
 * the browser's own XHR are part of the test.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import type * as Esbuild from 'esbuild';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

import { StatusCode } from '../../src/core/status.js';
import type { Sibyl } from './server.js';
import { startSibyl } from './server.js';
import { makeXhr } from './xhr.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/browser.js';

const require = createRequire(import.meta.url);
const DOGS_PATH = fileURLToPath(new URL('../fixtures/photos/dogs.jpg', import.meta.url));
const DOGS = readFileSync(DOGS_PATH);
const WEB_GRPC_DIR = 'clarifai-web-grpc/dist/cjs/proto/clarifai/api';

/* The package is generated JavaScript (google-protobuf classes); only what the tests touch is typed. */
interface Msg {
  [setter: string]: (...args: unknown[]) => Msg;
}
type MsgClass = new () => Msg;
interface StatusMsg {
  getCode(): number;
  getDetails(): string;
}
interface ConceptMsg {
  getName(): string;
  getValue(): number;
}
interface MultiOutput {
  getStatus(): StatusMsg;
  getOutputsList(): Array<{ getData(): { getConceptsList(): ConceptMsg[] } }>;
}
interface RpcError {
  code: number;
  message: string;
}
type Callback<T> = (err: RpcError | null, res: T) => void;
interface V2ClientLike {
  postModelOutputs(req: Msg, md: Record<string, string>, cb: Callback<MultiOutput>): unknown;
  listModels(
    req: Msg,
    md: Record<string, string>,
    cb: Callback<{ getStatus(): StatusMsg; getModelsList(): Array<{ getId(): string }> }>,
  ): unknown;
  listWorkflows(req: Msg, md: Record<string, string>, cb: Callback<{ getStatus(): StatusMsg }>): unknown;
  client_: {
    rpcCall(url: string, req: Msg, md: Record<string, string>, desc: unknown, cb: Callback<unknown>): unknown;
  };
}

describe('clarifai-web-grpc in Node (XMLHttpRequest over node:http)', () => {
  let sibyl: Sibyl;
  let client: V2ClientLike;
  let svc: Record<string, MsgClass>;
  let res: Record<string, MsgClass>;
  let grpcWeb: { MethodDescriptor: new (...args: unknown[]) => unknown; MethodType: { UNARY: string } };
  const shim = makeXhr();
  const saved = (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest;

  before(async () => {
    (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = shim.XMLHttpRequest;
    sibyl = await startSibyl();
    const web = require('clarifai-web-grpc') as { V2Client: new (host: string) => V2ClientLike };
    svc = require(`${WEB_GRPC_DIR}/service_pb.js`) as Record<string, MsgClass>;
    res = require(`${WEB_GRPC_DIR}/resources_pb.js`) as Record<string, MsgClass>;
    grpcWeb = require(
      require.resolve('grpc-web', { paths: [require.resolve('clarifai-web-grpc')] }),
    ) as typeof grpcWeb;
    client = new web.V2Client(sibyl.url);
  });
  after(async () => {
    (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = saved;
    await sibyl?.close();
  });

  const userApp = (userId: string, appId: string) =>
    new res.UserAppIDSet!().setUserId!(userId).setAppId!(appId);
  const call = <T>(fn: (cb: Callback<T>) => unknown) =>
    new Promise<T>((resolve, reject) =>
      fn((err, r) => (err ? reject(new Error(`${err.code}: ${err.message}`)) : resolve(r))),
    );

  function dogsRequest(): Msg {
    const image = new res.Image!().setBase64!(new Uint8Array(DOGS));
    return new svc.PostModelOutputsRequest!().setUserAppId!(userApp('clarifai', 'main')).setModelId!(
      'general-image-recognition',
    ).setInputsList!([new res.Input!().setData!(new res.Data!().setImage!(image))]);
  }

  it('PostModelOutputs on general-image-recognition with dogs.jpg finds the dog', async () => {
    const out = await call<MultiOutput>((cb) =>
      client.postModelOutputs(dogsRequest(), { authorization: `Key ${sibyl.pat}` }, cb),
    );
    assert.equal(out.getStatus().getCode(), StatusCode.SUCCESS, out.getStatus().getDetails());
    const names = out
      .getOutputsList()[0]!
      .getData()
      .getConceptsList()
      .map((c) => c.getName());
    assert.equal(names[0], 'dog');
    // what the client sent: the text form, as a browser sends it
    const sent = shim.sent.at(-1)!;
    assert.equal(sent.url, `${sibyl.url}/clarifai.api.V2/PostModelOutputs`);
    assert.equal(sent.headers['content-type'], 'application/grpc-web-text');
  });

  it('a wrong PAT gives CONN_KEY_INVALID (11008) at once', async () => {
    const started = Date.now();
    const out = await call<MultiOutput>((cb) =>
      client.postModelOutputs(dogsRequest(), { authorization: 'Key sbl_wrong' }, cb),
    );
    assert.equal(out.getStatus().getCode(), StatusCode.CONN_KEY_INVALID);
    assert.ok(Date.now() - started < 2000);
  });

  it('ListModels of clarifai/main, and an RPC Sibyl does not serve answers NOT_IMPLEMENTED', async () => {
    const list = await call<{ getStatus(): StatusMsg; getModelsList(): Array<{ getId(): string }> }>((cb) =>
      client.listModels(
        new svc.ListModelsRequest!().setUserAppId!(userApp('clarifai', 'main')),
        { authorization: `Key ${sibyl.pat}` },
        cb,
      ),
    );
    assert.equal(list.getStatus().getCode(), StatusCode.SUCCESS);
    assert.ok(list.getModelsList().some((m) => m.getId() === 'general-image-recognition'));
    const flows = await call<{ getStatus(): StatusMsg }>((cb) =>
      client.listWorkflows(new svc.ListWorkflowsRequest!(), { authorization: `Key ${sibyl.pat}` }, cb),
    );
    assert.equal(flows.getStatus().getCode(), StatusCode.NOT_IMPLEMENTED);
  });

  it('a method the service lacks is a gRPC error (UNIMPLEMENTED, 12) that grpc-web reports once', async () => {
    const desc = new grpcWeb.MethodDescriptor(
      '/clarifai.api.V2/NoSuchMethod',
      grpcWeb.MethodType.UNARY,
      svc.ListWorkflowsRequest,
      svc.MultiWorkflowResponse,
      (r: { serializeBinary(): Uint8Array }) => r.serializeBinary(),
      (b: Uint8Array) =>
        (
          svc.MultiWorkflowResponse as unknown as { deserializeBinary(b: Uint8Array): unknown }
        ).deserializeBinary(b),
    );
    const errors: RpcError[] = [];
    await new Promise<void>((resolve) => {
      client.client_.rpcCall(
        `${sibyl.url}/clarifai.api.V2/NoSuchMethod`,
        new svc.ListWorkflowsRequest!(),
        { authorization: `Key ${sibyl.pat}` },
        desc,
        (err) => {
          if (err) errors.push(err);
          resolve();
        },
      );
    });
    await new Promise((r) => setTimeout(r, 50)); // a second callback would come now
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 12);
    assert.match(errors[0]!.message, /NoSuchMethod/);
  });
});

/** clarifai-web-grpc bundled for the browser with esbuild (tsx's own, already installed). */
async function browserBundle(): Promise<string> {
  const esbuild: typeof Esbuild = await import('esbuild');
  const out = await esbuild.build({
    stdin: {
      contents: `
        const web = require('clarifai-web-grpc');
        window.clarifai = {
          V2Client: web.V2Client,
          service: require('${WEB_GRPC_DIR}/service_pb.js'),
          resources: require('${WEB_GRPC_DIR}/resources_pb.js'),
        };`,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

describe(
  'clarifai-web-grpc in chromium, on a page of another origin',
  { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` },
  () => {
    let page: http.Server;
    let pageOrigin = '';
    let allowed: Sibyl;
    let closed: Sibyl;
    let browser: Browser;

    before(async () => {
      const bundle = await browserBundle();
      page = http.createServer((req, res) => {
        if (req.url === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        else
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end('<!doctype html><script src="/app.js"></script>');
      });
      await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
      pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
      allowed = await startSibyl({ corsOrigins: [pageOrigin] });
      closed = await startSibyl();
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      });
    });
    after(async () => {
      await browser?.close().catch(() => undefined);
      await allowed?.close();
      await closed?.close();
      await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
    });

    /** PostModelOutputs from the page: the concepts' names, or the gRPC-web error. */
    async function predictFromPage(base: string, pat: string) {
      const tab = await browser.newPage();
      try {
        await tab.goto(pageOrigin);
        return await tab.evaluate(
          async ({ base, pat, photo }) => {
            type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
            const { V2Client, service, resources } = (globalThis as unknown as { clarifai: Any }).clarifai;
            const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0));
            const req = new service.PostModelOutputsRequest()
              .setUserAppId(new resources.UserAppIDSet().setUserId('clarifai').setAppId('main'))
              .setModelId('general-image-recognition')
              .setInputsList([
                new resources.Input().setData(
                  new resources.Data().setImage(new resources.Image().setBase64(bytes)),
                ),
              ]);
            return await new Promise<{
              code?: number;
              names?: string[];
              error?: { code: number; message: string };
            }>((resolve) => {
              new V2Client(base).postModelOutputs(
                req,
                { authorization: `Key ${pat}` },
                (err: Any, res: Any) => {
                  if (err) resolve({ error: { code: err.code, message: String(err.message) } });
                  else
                    resolve({
                      code: res.getStatus().getCode(),
                      names:
                        res
                          .getOutputsList()[0]
                          ?.getData()
                          .getConceptsList()
                          .map((c: Any) => c.getName()) ?? [],
                    });
                },
              );
            });
          },
          { base, pat, photo: DOGS.toString('base64') },
        );
      } finally {
        await tab.close();
      }
    }

    it('with the page origin allowed (--cors-origin), PostModelOutputs finds the dog', async () => {
      const out = await predictFromPage(allowed.url, allowed.pat);
      assert.equal(out.error, undefined, JSON.stringify(out.error));
      assert.equal(out.code, StatusCode.SUCCESS);
      assert.equal(out.names![0], 'dog');
    });

    it('a wrong PAT answers 11008 in the browser too', async () => {
      const out = await predictFromPage(allowed.url, 'sbl_wrong');
      assert.equal(out.code, StatusCode.CONN_KEY_INVALID);
    });

    it('a server that allows no origins is out of reach from the page (the browser blocks it)', async () => {
      const out = await predictFromPage(closed.url, closed.pat);
      assert.ok(out.error, `expected a CORS failure, got ${JSON.stringify(out)}`);
    });
  },
);
