/**
 * The tenancy proof on a real server (startServer, as `clarifai serve` runs it) on 127.0.0.1, on
 * SQLite and on Postgres: bob's full-scope key tries every REST binding of the RPC table over real
 * HTTP, and the same request messages over gRPC (the official V2Client of clarifai-nodejs-grpc) and
 * gRPC-web, against alice's private app, model, version, input and key. Each answers exactly as
 * for a missing resource, never with her data, and nothing of hers changes. Revoked, expired and
 * out-of-scope keys are refused on every RPC with Clarifai's codes, on every transport.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';

import grpcPkg from 'clarifai-nodejs-grpc';
import serviceGrpc from 'clarifai-nodejs-grpc/proto/clarifai/api/service_grpc_pb';
import type * as grpcJs from '@grpc/grpc-js';

import { StatusCode } from '../../src/core/status.js';
import { messageFrame, readMessages } from '../../src/server/grpc/web-frames.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { loadRestSchema, type HttpBinding } from '../../src/server/proto/schema.js';
import { RPC_SCOPES } from '../../src/server/services/scopes.js';
import { SERVED_RPCS } from '../../src/server/services/v2-rpcs.js';
import { openStore, type Store } from '../../src/store/index.js';
import { describeEachBackend } from '../helpers/store-backends.js';
import {
  aliceState,
  assertAsMissing,
  fill,
  getPath,
  keysLacking,
  pathFields,
  requestFor,
  SECRET,
  seedTenants,
  tenancyCases,
  type Answer,
  type Message,
  type Tenants,
} from '../helpers/tenancy.js';

const { grpc } = grpcPkg as unknown as { grpc: typeof grpcJs };
const schema = loadRestSchema(SERVED_RPCS);

interface PbStatus {
  getCode(): number;
  getDescription(): string;
  getDetails(): string;
}
interface PbMethod {
  requestStream: boolean;
  responseStream: boolean;
  requestType: { deserializeBinary(bytes: Uint8Array): unknown };
  responseType: { deserializeBinary(bytes: Uint8Array): { getStatus(): PbStatus | undefined } };
}
const V2_METHODS = serviceGrpc.V2Service as unknown as Record<string, PbMethod>;
type Client = InstanceType<typeof serviceGrpc.V2Client>;

function methodOf(rpc: string): { name: string; def: PbMethod } {
  const name = rpc[0]!.toLowerCase() + rpc.slice(1);
  const def = V2_METHODS[name];
  if (!def) throw new Error(`clarifai-nodejs-grpc has no method ${name}`);
  return { name, def };
}

/** The canonical message as the official class: encoded from the package's own protos. */
function encode(rpc: string, msg: Message): Uint8Array {
  const type = schema.root.lookupType(schema.rpcs.get(rpc)!.requestType);
  return type.encode(type.fromObject(msg)).finish();
}

/** An answer from the response messages' bytes: the first one's status, all of them as text. */
function pbAnswer(def: PbMethod, messages: Uint8Array[]): Answer {
  const status = messages[0] && def.responseType.deserializeBinary(messages[0]).getStatus();
  return {
    code: status?.getCode(),
    description: status?.getDescription(),
    details: status?.getDetails(),
    raw: Buffer.concat(messages).toString('latin1'),
  };
}

interface Server {
  url: string;
  client: Client;
}

/** How a transport carries one request of a binding's RPC with a key. */
type Carrier = (s: Server, b: HttpBinding, msg: Message, key: string) => Promise<Answer>;

/** REST over HTTP: path fields in the path, the rest in the body, or else the query string. */
const rest: Carrier = async (s, b, msg, key) => {
  const ids: Record<string, string> = {};
  for (const f of pathFields(b.path)) ids[f] = getPath(msg, f) ?? '';
  const url = new URL(fill(b.path, ids), s.url);
  if (b.body !== '*') {
    const query = (m: Message, prefix: string): void => {
      for (const [k, v] of Object.entries(m)) {
        if (typeof v === 'object' && v !== null) query(v as Message, `${prefix}${k}.`);
        else if (!(`${prefix}${k}` in ids)) url.searchParams.set(`${prefix}${k}`, String(v));
      }
    };
    query(msg, '');
  }
  const res = await fetch(url, {
    method: b.method,
    headers: {
      authorization: `Key ${key}`,
      ...(b.body === '*' ? { 'content-type': 'application/json' } : {}),
    },
    ...(b.body === '*' ? { body: JSON.stringify(msg) } : {}),
  });
  const raw = await res.text();
  // a streaming RPC answers one {"result": message} line per message
  const json = JSON.parse(raw.split('\n')[0]!) as { status?: Message; result?: { status?: Message } };
  const status = json.status ?? json.result?.status;
  return {
    http: res.status,
    code: status?.code as number | undefined,
    description: status?.description as string | undefined,
    details: status?.details as string | undefined,
    raw,
  };
};

const grpcCarrier: Carrier = async (s, b, msg, key) => {
  const { name, def } = methodOf(b.rpc);
  const request = def.requestType.deserializeBinary(encode(b.rpc, msg));
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Key ${key}`);
  const fn = (s.client as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!.bind(s.client);
  type Pb = { serializeBinary(): Uint8Array };
  const messages = await new Promise<Uint8Array[]>((resolve, reject) => {
    if (!def.responseStream) {
      fn(request, metadata, (err: Error | null, res: Pb) =>
        err ? reject(err) : resolve([res.serializeBinary()]),
      );
      return;
    }
    const out: Uint8Array[] = [];
    const stream = (def.requestStream ? fn(metadata) : fn(request, metadata)) as grpcJs.ClientDuplexStream<
      Pb,
      Pb
    >;
    stream.on('data', (m: Pb) => out.push(m.serializeBinary()));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
    if (def.requestStream) {
      stream.write(request as Pb);
      stream.end();
    }
  });
  return pbAnswer(def, messages);
};

// framed with the server's web-frames.ts: grpc-web.test.ts proves that framing against the
// official messages; here only who may see what is in question
const grpcWeb: Carrier = async (s, b, msg, key) => {
  const res = await fetch(`${s.url}/clarifai.api.V2/${b.rpc}`, {
    method: 'POST',
    headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', authorization: `Key ${key}` },
    body: messageFrame(encode(b.rpc, msg)),
  });
  assert.equal(res.status, 200, `${b.rpc}: gRPC-web answers in the response's status`);
  return pbAnswer(methodOf(b.rpc).def, readMessages(Buffer.from(await res.arrayBuffer())));
};

/**
 * REST tries every binding; gRPC and gRPC-web, which have no paths, each distinct message once
 * (a full route and its short form may make the same one).
 */
const TRANSPORTS: { name: string; carry: Carrier; perBinding: boolean }[] = [
  { name: 'REST', carry: rest, perBinding: true },
  { name: 'gRPC', carry: grpcCarrier, perBinding: false },
  { name: 'gRPC-web', carry: grpcWeb, perBinding: false },
];

/** RPCs that only read, which alice may call on her own resources without changing them. */
function readsOnly(rpc: string): boolean {
  const need = RPC_SCOPES[rpc];
  return need === null || need === 'read' || (Array.isArray(need) && need.includes('read'));
}

/** For the key checks: each RPC once, on its full route, naming alice's own resources. */
function ownRequests(t: Tenants): { binding: HttpBinding; msg: Message }[] {
  return [...schema.rpcs.keys()].map((rpc) => {
    const bindings = schema.bindings.filter((b) => b.rpc === rpc);
    const binding = bindings.find((b) => b.path.includes('{user_app_id.user_id}')) ?? bindings[0]!;
    return { binding, msg: requestFor(schema, binding, t.real, 'named') };
  });
}

describeEachBackend('tenancy over REST, gRPC and gRPC-web on a real server', (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-tenancy-'));
  let store: Store | undefined;
  let server: RunningServer | undefined;
  let s: Server;
  let t: Tenants;
  const keys = { revoked: '', expired: '', lacking: new Map<string, string>() };

  before(async () => {
    const location = await backend.fresh(true);
    store = await openStore(location);
    t = await seedTenants(store);
    const revoked = await store.pats.create('alice', 'revoked');
    await store.pats.revoke(revoked.id);
    keys.revoked = revoked.token;
    keys.expired = (await store.pats.create('alice', { expiresAt: '2000-01-01T00:00:00.000Z' })).token;
    const needs = Object.values(RPC_SCOPES).filter((n) => n !== null);
    keys.lacking = await keysLacking(store, needs);
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: 'dataDir' in location ? location.dataDir : dataDir,
      ...('postgresUrl' in location ? { databaseUrl: location.postgresUrl } : {}),
      allowPrivateUrls: false,
      engine: { workers: 1 },
    });
    s = {
      url: server.url,
      client: new serviceGrpc.V2Client(server.url.slice('http://'.length), grpc.credentials.createInsecure()),
    };
  });
  after(async () => {
    s?.client.close();
    try {
      await server?.close();
    } finally {
      await store?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  for (const { name, carry, perBinding } of TRANSPORTS) {
    it(`${name}: bob's every request on alice's private resources answers as for missing ones`, async (ctx) => {
      const before = await aliceState(store!);
      const seen = new Set<string>();
      const rpcs = new Set<string>();
      const revealed = new Set<string>();
      for (const c of tenancyCases(schema, t)) {
        const id = perBinding
          ? `${c.binding.method} ${c.binding.path} ${JSON.stringify(c.real)}`
          : `${c.rpc} ${JSON.stringify(c.real)}`;
        if (seen.has(id)) continue;
        seen.add(id);
        rpcs.add(c.rpc);
        const a = await carry(s, c.binding, c.real, t.bobKey);
        const missing = [
          { answer: await carry(s, c.binding, c.missing, t.bobKey), ids: t.missing },
          { answer: await carry(s, c.binding, c.nobody, t.bobKey), ids: t.nobody },
        ];
        if (c.namesAlice && readsOnly(c.rpc)) {
          // the control: the very request is well formed, and alice's own key gets her data
          const own = await carry(s, c.binding, c.real, t.aliceKey);
          assert.equal(own.code, StatusCode.SUCCESS, `${name} ${c.rpc} as alice: ${own.raw.slice(0, 200)}`);
          if (own.raw.includes(SECRET)) revealed.add(c.rpc);
        }
        assertAsMissing(
          `${name} ${c.rpc} ${c.binding.path} ${JSON.stringify(c.real)}`,
          a,
          missing,
          t,
          c.namesAlice,
        );
      }
      assert.equal(rpcs.size, SERVED_RPCS.length, 'every RPC tried');
      for (const rpc of ['GetApp', 'GetModel', 'GetInput', 'GetKey', 'ListApps', 'ListInputs', 'ListKeys']) {
        assert.ok(revealed.has(rpc), `${rpc} shows alice her own data`);
      }
      ctx.diagnostic(`${backend.name}: ${seen.size} requests over ${rpcs.size} RPCs`);
      assert.deepEqual(await aliceState(store!), before, 'nothing of alice changed');
    });
  }

  it('revoked, expired and out-of-scope keys are refused on every RPC and transport', async () => {
    const before = await aliceState(store!);
    for (const { name, carry } of TRANSPORTS) {
      for (const { binding, msg } of ownRequests(t)) {
        const where = `${name} ${binding.rpc}`;
        for (const [kind, key] of [
          ['revoked', keys.revoked],
          ['expired', keys.expired],
        ] as const) {
          const a = await carry(s, binding, msg, key);
          assert.equal(a.code, StatusCode.CONN_KEY_INVALID, `${where} ${kind}: ${a.raw.slice(0, 200)}`);
          assert.match(a.details ?? '', new RegExp(kind), where);
          if (a.http !== undefined) assert.equal(a.http, 401, where);
        }
        const need = RPC_SCOPES[binding.rpc];
        if (need === null || need === undefined) continue;
        const key = keys.lacking.get(typeof need === 'string' ? need : need.join(','))!;
        const a = await carry(s, binding, msg, key);
        assert.equal(
          a.code,
          StatusCode.CONN_INSUFFICIENT_SCOPES,
          `${where} out of scope: ${a.raw.slice(0, 200)}`,
        );
        if (a.http !== undefined) assert.equal(a.http, 403, where);
      }
    }
    assert.deepEqual(await aliceState(store!), before, 'nothing of alice changed');
  });
});
