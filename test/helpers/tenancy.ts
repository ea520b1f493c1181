/**
 * The tenancy proof's fixtures: alice owns a private app, model, version, input and key, marked
 * with SECRET; bob has a full-scope key. `tenancyCases` turns every REST binding of the RPC table
 * into the canonical request messages bob sends against alice's resources (and against missing
 * ones, to compare), so REST, gRPC and gRPC-web try the very same requests.
 */
import assert from 'node:assert/strict';

import type protobuf from 'protobufjs';

import { StatusCode } from '../../src/core/status.js';
import { ensureAdminUser } from '../../src/server/bootstrap.js';
import type { HttpBinding, RestSchema } from '../../src/server/proto/schema.js';
import { SCOPES, type Scope, type Store } from '../../src/store/index.js';

export const SECRET = 'alice-secret-marker';

/** Request fields by their dotted proto path, e.g. `user_app_id.app_id`. */
export type Ids = Record<string, string>;
export type Message = Record<string, unknown>;

export interface Tenants {
  adminKey: string;
  aliceKey: string;
  aliceKeyId: string;
  bobKey: string;
  /** alice's private resources, as request fields. */
  real: Ids;
  /** The same request fields naming resources of alice's that do not exist. */
  missing: Ids;
  /** ... and of a user who does not exist: alice's private things do not even show she exists. */
  nobody: Ids;
}

/** alice with her private app, model, input and key; bob with a full-scope key; an admin key. */
export async function seedTenants(store: Store): Promise<Tenants> {
  const adminId = await ensureAdminUser(store);
  const adminKey = (await store.pats.create(adminId, 'tests')).token;
  await store.users.create({ id: 'alice' });
  await store.users.create({ id: 'bob' });
  const alice = await store.pats.create('alice', { description: SECRET });
  const bobKey = (await store.pats.create('bob', 'bob')).token;
  await store.apps.create('alice', { id: 'secret-app', description: SECRET });
  const model = await store.models.create({
    userId: 'alice',
    appId: 'secret-app',
    id: 'secret-model',
    modelTypeId: 'text-classifier',
    description: SECRET,
  });
  await store.inputs.create('alice', 'secret-app', { id: 'secret-input', data: { text: { raw: SECRET } } });
  await store.computeClusters.create('alice', { id: 'secret-cluster', description: SECRET });
  await store.nodepools.create('alice', 'secret-cluster', { id: 'secret-nodepool', description: SECRET });
  const onPool = [{ computeClusterId: 'secret-cluster', id: 'secret-nodepool' }];
  const deployed = { userId: 'alice', appId: 'secret-app', modelId: 'secret-model' };
  await store.deployments.create('alice', {
    id: 'secret-deployment',
    description: SECRET,
    model: deployed,
    nodepools: onPool,
  });
  await store.runners.create('alice', {
    id: 'secret-runner',
    computeClusterId: 'secret-cluster',
    nodepoolId: 'secret-nodepool',
    description: SECRET,
  });
  const real: Ids = {
    'user_app_id.user_id': 'alice',
    'user_app_id.app_id': 'secret-app',
    model_id: 'secret-model',
    version_id: model.version.id,
    input_id: 'secret-input',
    key_id: alice.id,
    'runner_selector.deployment.user_id': 'alice',
    'runner_selector.deployment.id': 'secret-deployment',
    compute_cluster_id: 'secret-cluster',
    nodepool_id: 'secret-nodepool',
    deployment_id: 'secret-deployment',
    runner_id: 'secret-runner',
  };
  const missing: Ids = {
    ...real,
    'user_app_id.app_id': 'no-such-app',
    model_id: 'no-such-model',
    version_id: 'no-such-version',
    input_id: 'no-such-input',
    key_id: 'no-such-key',
    'runner_selector.deployment.id': 'no-such-deployment',
    compute_cluster_id: 'no-such-cluster',
    nodepool_id: 'no-such-nodepool',
    deployment_id: 'no-such-deployment',
    runner_id: 'no-such-runner',
  };
  const nobody: Ids = {
    ...missing,
    'user_app_id.user_id': 'no-such-user',
    'runner_selector.deployment.user_id': 'no-such-user',
  };
  return { adminKey, aliceKey: alice.token, aliceKeyId: alice.id, bobKey, real, missing, nobody };
}

/** A proto path template with its fields filled in (`{user_app_id.user_id}` -> `alice`). */
export function fill(path: string, ids: Ids): string {
  return path.replace(/\{([^}=]+)(?:=[^}]*)?\}/g, (_, field: string) => {
    const v = ids[field];
    if (v === undefined) throw new Error(`no value for ${field} in ${path}`);
    return encodeURIComponent(v);
  });
}

/** The fields a path template names. */
export function pathFields(path: string): string[] {
  return [...path.matchAll(/\{([^}=]+)(?:=[^}]*)?\}/g)].map((m) => m[1]!);
}

/** The body of each writing RPC, aimed at the resources `ids` name. */
export function bodyFor(rpc: string, ids: Ids): Message {
  const text = { data: { text: { raw: 'hi' } } };
  switch (rpc) {
    case 'PostModelOutputs':
    case 'GenerateModelOutputs':
    case 'StreamModelOutputs':
      return { inputs: [text] };
    case 'PostInputs':
      return { inputs: [{ id: 'bob-was-here', ...text }] };
    case 'PatchInputs':
      return { action: 'overwrite', inputs: [{ id: ids.input_id, ...text }] };
    case 'PostApps':
    case 'PatchApps':
      return { apps: [{ id: ids['user_app_id.app_id'], visibility: { gettable: 50 } }] };
    case 'PostModels':
      return { model: { id: 'bob-model', model_type_id: 'text-classifier' } };
    case 'PatchModels':
      return { models: [{ id: ids.model_id, visibility: { gettable: 50 } }] };
    case 'PostKeys':
      return { keys: [{ description: 'bob made this', scopes: ['read'] }] };
    case 'PatchKeys':
      return { keys: [{ id: ids.key_id, description: 'bob was here' }] };
    case 'DeleteInputs':
      return { ids: [ids.input_id] };
    case 'PostComputeClusters':
      return { compute_clusters: [{ id: 'bob-cluster' }] };
    case 'PatchComputeClusters':
      return { compute_clusters: [{ id: ids.compute_cluster_id, description: 'bob was here' }] };
    case 'DeleteComputeClusters':
      return { ids: [ids.compute_cluster_id] };
    case 'PostNodepools':
      return { nodepools: [{ id: 'bob-nodepool' }] };
    case 'PatchNodepools':
      return { nodepools: [{ id: ids.nodepool_id, description: 'bob was here' }] };
    case 'DeleteNodepools':
      return { ids: [ids.nodepool_id] };
    case 'PostDeployments':
      return {
        deployments: [
          {
            id: 'bob-deployment',
            worker: { model: { id: ids.model_id, app_id: ids['user_app_id.app_id'] } },
            nodepools: [{ id: ids.nodepool_id, compute_cluster: { id: ids.compute_cluster_id } }],
          },
        ],
      };
    case 'PatchDeployments':
      return { deployments: [{ id: ids.deployment_id, description: 'bob was here' }] };
    case 'DeleteDeployments':
      return { ids: [ids.deployment_id] };
    case 'PostRunners':
      return { runners: [{ description: 'bob was here' }] };
    case 'PatchRunners':
      return { runners: [{ id: ids.runner_id, description: 'bob was here' }] };
    case 'DeleteRunners':
      return { ids: [ids.runner_id] };
    default:
      return {};
  }
}

function hasField(type: protobuf.Type, dotted: string): boolean {
  let t: protobuf.Type | undefined = type;
  for (const part of dotted.split('.')) {
    const field: protobuf.Field | undefined = t?.fields[part];
    if (!field) return false;
    const resolved: protobuf.Type | protobuf.Enum | null = field.resolve().resolvedType;
    t = resolved && 'fields' in resolved ? resolved : undefined;
  }
  return true;
}

function setPath(target: Message, dotted: string, value: string): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Message;
  node[parts[parts.length - 1]!] = value;
}

/** A value at a dotted path of a message, if it is a string. */
export function getPath(msg: Message, dotted: string): string | undefined {
  let node: unknown = msg;
  for (const part of dotted.split('.')) node = (node as Message | undefined)?.[part];
  return typeof node === 'string' ? node : undefined;
}

/** The fields by which a request names a user's resources (runner_selector only where the path does). */
const ID_FIELDS = [
  'user_app_id.user_id',
  'user_app_id.app_id',
  'model_id',
  'version_id',
  'input_id',
  'key_id',
  'compute_cluster_id',
  'nodepool_id',
  'deployment_id',
  'runner_id',
];

/**
 * The request a route carries: `routed`, only what its path names (a short route such as
 * `/v2/models/{model_id}` then acts for the key's own user); otherwise every id field the request
 * type has, so a short route's body or query string names alice too.
 */
export function requestFor(schema: RestSchema, b: HttpBinding, ids: Ids, form: 'routed' | 'named'): Message {
  const type = schema.root.lookupType(schema.rpcs.get(b.rpc)!.requestType);
  const fields = new Set(pathFields(b.path));
  if (form === 'named') for (const f of ID_FIELDS) if (hasField(type, f)) fields.add(f);
  const msg: Message = b.body === '*' || form === 'named' ? bodyFor(b.rpc, ids) : {};
  for (const f of fields) setPath(msg, f, ids[f]!);
  return msg;
}

export interface TenancyCase {
  rpc: string;
  binding: HttpBinding;
  /** bob's request against alice's resources, and the same against missing ones (see Tenants). */
  real: Message;
  missing: Message;
  nobody: Message;
  /** The request names alice: then it must answer exactly as for missing resources. */
  namesAlice: boolean;
}

/** Every binding in both request forms (once where they are the same request). */
export function tenancyCases(schema: RestSchema, t: Tenants): TenancyCase[] {
  const cases: TenancyCase[] = [];
  for (const binding of schema.bindings) {
    const seen = new Set<string>();
    for (const form of ['routed', 'named'] as const) {
      const real = requestFor(schema, binding, t.real, form);
      if (seen.has(JSON.stringify(real))) continue;
      seen.add(JSON.stringify(real));
      const namesAlice = [real.user_app_id, real.runner_selector].some((v) =>
        JSON.stringify(v ?? {}).includes('"alice"'),
      );
      const missing = requestFor(schema, binding, t.missing, form);
      const nobody = requestFor(schema, binding, t.nobody, form);
      cases.push({ rpc: binding.rpc, binding, real, missing, nobody, namesAlice });
    }
  }
  return cases;
}

/** One answer, whatever carried it: its v2 status and the reply's raw bytes as text. */
export interface Answer {
  /** The HTTP status, for REST. */
  http?: number;
  code: number | undefined;
  description: string | undefined;
  details?: string | undefined;
  raw: string;
}

/** An answer of the same request naming other resources, and the ids it named. */
export interface Compared {
  answer: Answer;
  ids: Ids;
}

/**
 * No leak and no fault; where the request names alice, exactly the answer for missing resources:
 * the same status, and the same details but for the ids each request named (details echo them).
 */
export function assertAsMissing(
  where: string,
  a: Answer,
  missing: Compared[],
  t: Tenants,
  namesAlice: boolean,
): void {
  const said = `${where}: ${a.http ?? '-'} ${a.code} ${a.description}: ${a.details}`;
  assert.notEqual(a.http, 403, `403 leaks existence: ${said}`);
  assert.ok((a.http ?? 0) < 500, `no 5xx: ${said}`);
  assert.notEqual(a.code, undefined, `a v2 status: ${said}`);
  assert.notEqual(a.code, StatusCode.INTERNAL_SERVER_ISSUE, `no server fault: ${said}`);
  const withRaw = `${said}; the reply: ${a.raw.slice(0, 500)}`;
  assert.ok(!a.raw.includes(SECRET), `no data of alice: ${withRaw}`);
  assert.ok(!a.raw.includes(t.aliceKey), `no key of alice: ${withRaw}`);
  if (a.code === StatusCode.SUCCESS) assert.ok(!a.raw.includes('secret-'), `none of alice's ids: ${withRaw}`);
  if (!namesAlice) return;
  // longest first, so that no id is replaced inside another
  const fields = Object.keys(t.real).sort((x, y) => t.real[y]!.length - t.real[x]!.length);
  for (const { answer: m, ids } of missing) {
    const vs = `${said} vs ${m.http ?? '-'} ${m.code} ${m.description}: ${m.details}`;
    assert.equal(a.http, m.http, `same HTTP status as missing: ${vs}`);
    assert.equal(a.code, m.code, `same v2 code as missing: ${vs}`);
    assert.equal(a.description, m.description, `same description as missing: ${vs}`);
    const echoed = fields.reduce((d, f) => d.split(t.real[f]!).join(ids[f]!), a.details ?? '');
    assert.equal(echoed, m.details ?? '', `same details as missing but for the ids: ${vs}`);
  }
}

/**
 * alice's apps, models, versions, inputs, keys (but when a key was last used) and compute
 * resources, to compare.
 */
export async function aliceState(store: Store): Promise<unknown> {
  const apps = await store.apps.list('alice');
  const perApp = [];
  for (const app of apps) {
    const models = await store.models.listVisible('alice', { userId: 'alice', appId: app.id });
    const versions = [];
    for (const m of models) versions.push(await store.models.listVersions('alice', app.id, m.id));
    perApp.push({ models, versions, inputs: await store.inputs.list('alice', app.id) });
  }
  const keys = (await store.pats.list('alice')).map(({ lastUsedAt: _, ...k }) => k);
  const compute = {
    clusters: await store.computeClusters.list('alice'),
    nodepools: await store.nodepools.list('alice'),
    deployments: await store.deployments.list('alice'),
    runners: await store.runners.list('alice'),
  };
  return { user: await store.users.get('alice'), apps, perApp, keys, compute };
}

/** alice's keys that each lack the scopes an RPC needs: the scope list -> a token. */
export async function keysLacking(
  store: Store,
  needs: Iterable<Scope | readonly Scope[]>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const need of needs) {
    const wanted = typeof need === 'string' ? [need] : need;
    const scopes = SCOPES.filter((s) => s !== 'admin' && !wanted.includes(s));
    const label = wanted.join(',');
    if (!out.has(label)) out.set(label, (await store.pats.create('alice', { scopes })).token);
  }
  return out;
}
