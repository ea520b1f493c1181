/**
 * Clarifai's V2 gRPC service on a real Sibyl server, driven with the official stubs of the
 * `clarifai-nodejs-grpc` package (V2Client, google-protobuf messages): plaintext on the REST port,
 * TLS with a test certificate, a separate --grpc-port. Real models on real photos.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import grpcPkg from 'clarifai-nodejs-grpc';
import resources from 'clarifai-nodejs-grpc/proto/clarifai/api/resources_pb';
import service from 'clarifai-nodejs-grpc/proto/clarifai/api/service_pb';
import serviceGrpc from 'clarifai-nodejs-grpc/proto/clarifai/api/service_grpc_pb';
import type * as grpcJs from '@grpc/grpc-js';

import { StatusCode } from '../../src/core/status.js';
import type { Sibyl, TestCertificate } from '../clients/server.js';
import { makeCertificate, startSibyl } from '../clients/server.js';

const { grpc } = grpcPkg as unknown as { grpc: typeof grpcJs };
const { V2Client } = serviceGrpc;
const DOGS = readFileSync(fileURLToPath(new URL('../fixtures/photos/dogs.jpg', import.meta.url)));
const ENGLISH = 'The quick brown fox jumps over the lazy dog while the children watch from the garden.';

type Client = InstanceType<typeof V2Client>;

interface StatusObject {
  code: number;
  description: string;
  details: string;
  reqId: string;
}

/** Calls a unary RPC and resolves with the response as a plain object (google-protobuf toObject). */
function call<T = Record<string, unknown>>(
  client: Client,
  method: string,
  request: unknown,
  pat: string | undefined,
): Promise<T & { status: StatusObject }> {
  const metadata = new grpc.Metadata();
  if (pat !== undefined) metadata.set('authorization', `Key ${pat}`);
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[method]!;
    fn.call(
      client,
      request,
      metadata,
      (err: Error | null, res: { toObject(): T & { status: StatusObject } }) =>
        err ? reject(err) : resolve(res.toObject()),
    );
  });
}

function userApp(userId: string, appId?: string) {
  const ua = new resources.UserAppIDSet().setUserId(userId);
  return appId ? ua.setAppId(appId) : ua;
}

function imageRequest(modelId: string, maxConcepts?: number) {
  const req = new service.PostModelOutputsRequest()
    .setUserAppId(userApp('clarifai', 'main'))
    .setModelId(modelId)
    .setInputsList([
      new resources.Input().setData(new resources.Data().setImage(new resources.Image().setBase64(DOGS))),
    ]);
  if (maxConcepts !== undefined) {
    const info = new resources.OutputInfo().setOutputConfig(
      new resources.OutputConfig().setMaxConcepts(maxConcepts),
    );
    req.setModel(new resources.Model().setModelVersion(new resources.ModelVersion().setOutputInfo(info)));
  }
  return req;
}

function textRequest(text: string) {
  return new service.PostModelOutputsRequest()
    .setUserAppId(userApp('clarifai', 'main'))
    .setModelId('language-identification')
    .setInputsList([
      new resources.Input().setData(new resources.Data().setText(new resources.Text().setRaw(text))),
    ]);
}

interface OutputsObject {
  outputsList: Array<{ data: { conceptsList: Array<{ name: string; value: number }> } }>;
}

describe('gRPC on the REST port (plaintext)', () => {
  let sibyl: Sibyl;
  let client: Client;

  before(async () => {
    sibyl = await startSibyl();
    client = new V2Client(sibyl.address, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await sibyl?.close();
  });

  it('PostModelOutputs finds the dog, with max_concepts honoured', async () => {
    const res = await call<OutputsObject>(
      client,
      'postModelOutputs',
      imageRequest('general-image-recognition', 3),
      sibyl.pat,
    );
    assert.equal(res.status.code, StatusCode.SUCCESS, res.status.details);
    const concepts = res.outputsList[0]!.data.conceptsList;
    assert.equal(concepts[0]!.name, 'dog');
    assert.ok(concepts.length <= 3, `${concepts.length} concepts`);
    assert.ok(res.status.reqId);
  });

  it('language identification says en, and equals what REST answers', async () => {
    const viaGrpc = await call<OutputsObject>(client, 'postModelOutputs', textRequest(ENGLISH), sibyl.pat);
    assert.equal(viaGrpc.outputsList[0]!.data.conceptsList[0]!.name, 'en');
    const rest = await fetch(
      `${sibyl.url}/v2/users/clarifai/apps/main/models/language-identification/outputs`,
      {
        method: 'POST',
        headers: { authorization: `Key ${sibyl.pat}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ data: { text: { raw: ENGLISH } } }] }),
      },
    );
    const viaRest = (await rest.json()) as {
      outputs: Array<{ data: { concepts: Array<{ name: string; value: number }> } }>;
    };
    assert.deepEqual(
      viaGrpc.outputsList[0]!.data.conceptsList.map((c) => [c.name, c.value]),
      viaRest.outputs[0]!.data.concepts.map((c) => [c.name, c.value]),
    );
  });

  it('a wrong PAT gives CONN_KEY_INVALID at once, no key CONN_KEY_NOT_FOUND', async () => {
    const started = Date.now();
    const wrong = await call(
      client,
      'getUser',
      new service.GetUserRequest().setUserAppId(userApp('me')),
      'sbl_wrong',
    );
    assert.equal(wrong.status.code, StatusCode.CONN_KEY_INVALID);
    const none = await call(client, 'postModelOutputs', textRequest(ENGLISH), undefined);
    assert.equal(none.status.code, StatusCode.CONN_KEY_NOT_FOUND);
    assert.ok(Date.now() - started < 2000, 'answered without retries');
  });

  it('params nested deeper than a REST body may be are refused with a v2 status, as over REST', async () => {
    for (const depth of [70, 300]) await refusesNested(depth);
    // and the server answers normally afterwards
    const ok = await call<OutputsObject>(client, 'postModelOutputs', textRequest(ENGLISH), sibyl.pat);
    assert.equal(ok.outputsList[0]!.data.conceptsList[0]!.name, 'en');
  });

  async function refusesNested(depth: number) {
    let nested: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < depth; i++) nested = { a: nested };
    const { Struct } = createRequire(import.meta.url)('google-protobuf/google/protobuf/struct_pb.js') as {
      Struct: { fromJavaScript(value: Record<string, unknown>): unknown };
    };
    const info = new resources.OutputInfo().setParams(Struct.fromJavaScript({ deep: nested }) as never);
    const req = textRequest(ENGLISH).setModel(
      new resources.Model().setModelVersion(new resources.ModelVersion().setOutputInfo(info)),
    );
    const res = await call(client, 'postModelOutputs', req, sibyl.pat);
    assert.equal(res.status.code, StatusCode.CONN_BAD_REQUEST_FORMAT);
    assert.match(res.status.details, /nest(ed)? (more than|at most) 64 levels/, `depth ${depth}`);
  }

  it('an RPC Sibyl does not implement answers NOT_IMPLEMENTED at once', async () => {
    const res = await call(client, 'listWorkflows', new service.ListWorkflowsRequest(), sibyl.pat);
    assert.equal(res.status.code, StatusCode.NOT_IMPLEMENTED);
    assert.match(res.status.details, /ListWorkflows/);
  });

  it('errors carry the same status as REST: an unknown model is MODEL_DOES_NOT_EXIST', async () => {
    const req = textRequest(ENGLISH).setModelId('no-such-model');
    const res = await call(client, 'postModelOutputs', req, sibyl.pat);
    assert.equal(res.status.code, StatusCode.MODEL_DOES_NOT_EXIST);
    assert.match(res.status.details, /Available models/);
  });

  it('GetUser, GetModel, ListModels, GetModelVersion, ListModelVersions', async () => {
    const user = await call<{ user: { id: string } }>(
      client,
      'getUser',
      new service.GetUserRequest().setUserAppId(userApp('me')),
      sibyl.pat,
    );
    assert.equal(user.user.id, sibyl.userId);
    interface Field {
      path: string;
      fieldType: number;
      defaultValue?: { numberValue?: number };
      modelTypeRangeInfo?: { min: number; max: number; step: number };
    }
    const model = await call<{
      model: { id: string; modelVersion: { id: string; outputInfo: { paramsSpecsList: Field[] } } };
    }>(
      client,
      'getModel',
      new service.GetModelRequest()
        .setUserAppId(userApp('clarifai', 'main'))
        .setModelId('general-image-detection'),
      sibyl.pat,
    );
    assert.equal(model.status.code, StatusCode.SUCCESS);
    assert.equal(model.model.id, 'general-image-detection');
    // the params' specs reach the official client as Clarifai's ModelTypeField messages
    const maxDetections = model.model.modelVersion.outputInfo.paramsSpecsList.find(
      (f) => f.path === 'max_detections',
    );
    assert.equal(maxDetections?.fieldType, resources.ModelTypeField.ModelTypeFieldType.NUMBER);
    assert.equal(maxDetections?.defaultValue?.numberValue, 100);
    assert.deepEqual(maxDetections?.modelTypeRangeInfo, { min: 1, max: 100, step: 1 });
    const list = await call<{ modelsList: Array<{ id: string }> }>(
      client,
      'listModels',
      new service.ListModelsRequest().setUserAppId(userApp('clarifai', 'main')).setName('language'),
      sibyl.pat,
    );
    assert.deepEqual(
      list.modelsList.map((m) => m.id),
      ['language-identification'],
    );
    const version = await call<{ modelVersion: { id: string } }>(
      client,
      'getModelVersion',
      new service.GetModelVersionRequest()
        .setUserAppId(userApp('clarifai', 'main'))
        .setModelId('general-image-detection')
        .setVersionId(model.model.modelVersion.id),
      sibyl.pat,
    );
    assert.equal(version.modelVersion.id, model.model.modelVersion.id);
    const versions = await call<{ modelVersionsList: Array<{ id: string }> }>(
      client,
      'listModelVersions',
      new service.ListModelVersionsRequest()
        .setUserAppId(userApp('clarifai', 'main'))
        .setModelId('general-image-detection'),
      sibyl.pat,
    );
    assert.ok(versions.modelVersionsList.some((v) => v.id === model.model.modelVersion.id));
  });

  it('inputs: post, get, list, delete', async () => {
    const data = new resources.Data().setText(new resources.Text().setRaw('hello from grpc'));
    const posted = await call(
      client,
      'postInputs',
      new service.PostInputsRequest()
        .setUserAppId(userApp('me', 'default'))
        .setInputsList([new resources.Input().setId('g-1').setData(data)]),
      sibyl.pat,
    );
    assert.equal(posted.status.code, StatusCode.SUCCESS, posted.status.details);
    const list = await call<{ inputsList: Array<{ id: string; status: { code: number } }> }>(
      client,
      'listInputs',
      new service.ListInputsRequest().setUserAppId(userApp('me', 'default')),
      sibyl.pat,
    );
    const mine = list.inputsList.find((i) => i.id === 'g-1');
    assert.equal(mine?.status.code, StatusCode.INPUT_DOWNLOAD_SUCCESS);
    const del = await call(
      client,
      'deleteInputs',
      new service.DeleteInputsRequest().setUserAppId(userApp('me', 'default')).setIdsList(['g-1']),
      sibyl.pat,
    );
    assert.equal(del.status.code, StatusCode.SUCCESS);
    const gone = await call(
      client,
      'getInput',
      new service.GetInputRequest().setUserAppId(userApp('me', 'default')).setInputId('g-1'),
      sibyl.pat,
    );
    assert.equal(gone.status.code, StatusCode.INPUT_DOES_NOT_EXIST);
  });

  it('GenerateModelOutputs streams the answer', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Key ${sibyl.pat}`);
    const stream = client.generateModelOutputs(textRequest(ENGLISH), metadata);
    const messages: OutputsObject[] = [];
    for await (const msg of stream as AsyncIterable<{ toObject(): OutputsObject }>)
      messages.push(msg.toObject());
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.outputsList[0]!.data.conceptsList[0]!.name, 'en');
  });

  it('REST keeps working on the same port', async () => {
    const res = await fetch(`${sibyl.url}/v2/users/me`, { headers: { authorization: `Key ${sibyl.pat}` } });
    assert.equal(res.status, 200);
  });
});

describe('gRPC and REST over TLS, and a separate gRPC port', () => {
  let sibyl: Sibyl;
  let cert: TestCertificate;

  before(async () => {
    cert = makeCertificate();
    sibyl = await startSibyl({ tls: { certFile: cert.certFile, keyFile: cert.keyFile }, grpcPort: 0 });
  });
  after(async () => {
    await sibyl?.close();
    if (cert) rmSync(cert.dir, { recursive: true, force: true });
  });

  it('V2Client with SSL credentials predicts', async () => {
    assert.match(sibyl.url, /^https:/);
    const client = new V2Client(sibyl.address, grpc.credentials.createSsl(cert.cert));
    try {
      const res = await call<OutputsObject>(client, 'postModelOutputs', textRequest(ENGLISH), sibyl.pat);
      assert.equal(res.outputsList[0]!.data.conceptsList[0]!.name, 'en');
    } finally {
      client.close();
    }
  });

  it('https REST on the same port', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get(
        `${sibyl.url}/v2/users/me`,
        { ca: cert.cert, headers: { authorization: `Key ${sibyl.pat}` } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
    });
    assert.equal((JSON.parse(body) as { user: { id: string } }).user.id, sibyl.userId);
  });

  it('--grpc-port serves gRPC too', async () => {
    assert.ok(sibyl.grpcAddress);
    const client = new V2Client(sibyl.grpcAddress, grpc.credentials.createSsl(cert.cert));
    try {
      const res = await call(
        client,
        'getUser',
        new service.GetUserRequest().setUserAppId(userApp('me')),
        sibyl.pat,
      );
      assert.equal(res.status.code, StatusCode.SUCCESS);
    } finally {
      client.close();
    }
  });
});
