/**
 * Streaming generation through `clarifai serve`: a GGUF model folder (the tiny llama built in code,
 * run by real llama.cpp) served with --models, predicted and generated through REST, the SDK and
 * gRPC. Streamed pieces join to the predicted text; max_tokens is honoured; a caller that stops
 * reading frees the worker for the next request.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import grpcPkg from 'clarifai-nodejs-grpc';
import resources from 'clarifai-nodejs-grpc/proto/clarifai/api/resources_pb';
import service from 'clarifai-nodejs-grpc/proto/clarifai/api/service_pb';
import serviceGrpc from 'clarifai-nodejs-grpc/proto/clarifai/api/service_grpc_pb';
import type * as grpcJs from '@grpc/grpc-js';
import { parse } from 'yaml';

import { StatusCode } from '../../src/core/status.js';
import type { MultiOutputResponse } from '../../src/core/wire.js';
import { ApiError, Model } from '../../src/sdk/index.js';
import { isolatedEnv, PHOTOS } from '../helpers/cli.js';
import { ggufModelFolder, openAiModelFolder } from '../helpers/llm-folders.js';
import { startServe, type Served } from '../helpers/serve.js';

const { grpc } = grpcPkg as unknown as { grpc: typeof grpcJs };
// the Struct class the official stubs are built on (a dependency of clarifai-nodejs-grpc)
const { Struct } = createRequire(import.meta.url)('google-protobuf/google/protobuf/struct_pb.js') as {
  Struct: {
    fromJavaScript(
      value: Record<string, unknown>,
    ): InstanceType<typeof resources.OutputInfo> extends { getParams(): infer P } ? NonNullable<P> : never;
  };
};
const PROMPT = 'Human: Write a tweet on future of AI\nAssistant:';
const FIXED = { temperature: 0, seed: 7, max_tokens: 12 };

interface EndlessEngine {
  url: string;
  /** Settles when the server closes its streaming request. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * A remote OpenAI-compatible engine (outside the product, so scripted here). Its chat stream never
 * ends (model "endless"): it writes "tick " every 20 ms until the connection is closed. Any other
 * model answers with what it was sent: the text parts and the image's data URL type.
 */
async function endlessEngine(): Promise<EndlessEngine> {
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const sent = JSON.parse(body) as {
        model: string;
        stream?: boolean;
        messages: { content: string | { type: string; text?: string; image_url?: { url: string } }[] }[];
      };
      if (sent.model === 'endless') return tick(res);
      type Part = { type: string; text?: string; image_url?: { url: string } };
      const parts: (string | Part)[] = [];
      for (const m of sent.messages) {
        if (typeof m.content === 'string') parts.push(m.content);
        else parts.push(...m.content);
      }
      const seen = parts.map((p) =>
        typeof p === 'string' ? p : p.type === 'text' ? p.text : /^data:[^;]+/.exec(p.image_url!.url)![0],
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          choices: [
            { index: 0, message: { role: 'assistant', content: seen.join(' | ') }, finish_reason: 'stop' },
          ],
          usage: { prompt_tokens: 4, completion_tokens: 2 },
        }),
      );
    });
  });
  const tick = (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = { choices: [{ index: 0, delta: { content: 'tick ' }, finish_reason: null }] };
    const timer = setInterval(() => res.write(`data: ${JSON.stringify(chunk)}\n\n`), 20);
    res.on('close', () => {
      clearInterval(timer);
      markClosed();
    });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    closed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('generation through clarifai serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-generate-'));
  const env = isolatedEnv();
  let served: Served;
  let pat: string;
  let model: Model;
  let remote: EndlessEngine;

  before(async () => {
    remote = await endlessEngine();
    await ggufModelFolder(join(dir, 'llama'), { userId: 'meta', appId: 'Llama-2', id: 'llama2-7b-chat' });
    await openAiModelFolder(join(dir, 'vision'), {
      userId: 'acme',
      appId: 'remote',
      id: 'vision',
      baseUrl: remote.url,
      model: 'vision',
      modelTypeId: 'multimodal-to-text',
    });
    await openAiModelFolder(join(dir, 'endless'), {
      userId: 'acme',
      appId: 'remote',
      id: 'endless',
      baseUrl: remote.url,
      model: 'endless',
    });
    served = await startServe(['--quiet', '--workers', '1', '--models', dir], env);
    const file = /log in with:\n\s+clarifai login --config (\S+)/.exec(served.output())![1]!;
    pat = (parse(readFileSync(file, 'utf8')) as { pat: string }).pat;
    model = new Model({
      url: 'https://clarifai.com/meta/Llama-2/models/llama2-7b-chat',
      authConfig: { pat, base: served.url },
    });
  });
  after(async () => {
    await served?.stop();
    await remote?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams pieces that join to the predicted text, with token counts on the last', async () => {
    const [predicted] = await model.predictByBytes({
      inputBytes: PROMPT,
      inputType: 'text',
      inferenceParams: FIXED,
    });
    const whole = predicted!.data.text?.raw ?? '';
    assert.ok(whole.length > 0, 'the model wrote something');
    assert.equal(predicted!.completion_tokens, 12, 'max_tokens is honoured exactly');
    assert.ok((predicted!.prompt_tokens ?? 0) > 5, 'the prompt was counted');

    const pieces: string[] = [];
    let last;
    for await (const outputs of model.generateByBytes({
      inputBytes: PROMPT,
      inputType: 'text',
      inferenceParams: FIXED,
    })) {
      pieces.push(outputs[0]!.data.text?.raw ?? '');
      last = outputs[0]!;
    }
    assert.ok(pieces.length > 1, `the answer came in pieces, got ${pieces.length}`);
    assert.equal(pieces.join(''), whole);
    assert.equal(last!.completion_tokens, 12);
    assert.equal(last!.prompt_tokens, predicted!.prompt_tokens);
  });

  it('REST: one {"result": message} per line; the first names the model', async () => {
    const res = await fetch(
      `${served.url}/v2/users/meta/apps/Llama-2/models/llama2-7b-chat/outputs/generate`,
      {
        method: 'POST',
        headers: { authorization: `Key ${pat}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ data: { text: { raw: PROMPT } } }],
          model: { model_version: { output_info: { params: { ...FIXED, max_tokens: 5 } } } },
        }),
      },
    );
    assert.equal(res.status, 200);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { result: MultiOutputResponse });
    assert.ok(lines.length >= 2);
    assert.equal(lines[0]!.result.outputs[0]!.model?.id, 'llama2-7b-chat');
    for (const line of lines) assert.equal(line.result.status.code, StatusCode.SUCCESS);
    assert.equal(lines.at(-1)!.result.outputs[0]!.completion_tokens, 5);
  });

  it('a bad param is refused before the stream starts, with its HTTP status', async () => {
    await assert.rejects(
      async () => {
        for await (const _ of model.generateByBytes({
          inputBytes: PROMPT,
          inputType: 'text',
          inferenceParams: { temprature: 0.5 },
        }));
      },
      (err: unknown) =>
        err instanceof ApiError &&
        err.httpStatus === 400 &&
        /temprature.*allowed: .*temperature/.test(err.message),
    );
  });

  it('a caller that stops reading stops the generation; the worker takes the next request', async () => {
    // The remote engine streams forever: only a stop that reaches it (client -> server -> scheduler
    // -> worker -> runtime -> its HTTP request) ends the request, and with one worker the next
    // predict is answered only once the worker is free.
    const endless = new Model({
      url: 'https://clarifai.com/acme/remote/models/endless',
      authConfig: { pat, base: served.url },
    });
    let got = 0;
    for await (const outputs of endless.generateByBytes({ inputBytes: 'go', inputType: 'text' })) {
      assert.equal(outputs[0]!.data.text?.raw, 'tick ');
      if (++got === 3) break;
    }
    await remote.closed;
    const [next] = await model.predictByBytes({
      inputBytes: 'hello',
      inputType: 'text',
      inferenceParams: { ...FIXED, max_tokens: 3 },
    });
    assert.equal(next!.completion_tokens, 3);
  });

  it('a multimodal input (an image with a text beside it) reaches the engine as one vision message', async () => {
    const png = readFileSync(join(PHOTOS, 'astronaut.png'));
    const vision = new Model({
      url: 'https://clarifai.com/acme/remote/models/vision',
      authConfig: { pat, base: served.url },
    });
    const [out] = await vision.predict({
      inputs: [
        { data: { image: { base64: png.toString('base64') }, text: { raw: 'What is in this image?' } } },
      ],
    });
    assert.equal(out!.data.text?.raw, 'What is in this image? | data:image/png');
    assert.equal(out!.prompt_tokens, 4);
  });

  it('gRPC GenerateModelOutputs streams the same pieces', async () => {
    const client = new serviceGrpc.V2Client(
      served.url.replace('http://', ''),
      grpc.credentials.createInsecure(),
    );
    try {
      const req = new service.PostModelOutputsRequest();
      req.setUserAppId(new resources.UserAppIDSet().setUserId('meta').setAppId('Llama-2'));
      req.setModelId('llama2-7b-chat');
      const data = new resources.Data().setText(new resources.Text().setRaw(PROMPT));
      req.setInputsList([new resources.Input().setData(data)]);
      const info = new resources.OutputInfo().setParams(Struct.fromJavaScript(FIXED));
      req.setModel(new resources.Model().setModelVersion(new resources.ModelVersion().setOutputInfo(info)));
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Key ${pat}`);
      const pieces: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const call = client.generateModelOutputs(req, metadata);
        call.on('data', (res: InstanceType<typeof service.MultiOutputResponse>) => {
          assert.equal(res.getStatus()?.getCode(), StatusCode.SUCCESS);
          pieces.push(res.getOutputsList()[0]!.getData()?.getText()?.getRaw() ?? '');
        });
        call.on('end', () => resolve());
        call.on('error', reject);
      });
      assert.ok(pieces.length > 1);
      const [predicted] = await model.predictByBytes({
        inputBytes: PROMPT,
        inputType: 'text',
        inferenceParams: FIXED,
      });
      assert.equal(pieces.join(''), predicted!.data.text?.raw);
    } finally {
      client.close();
    }
  });
});
