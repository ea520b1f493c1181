/**
 * Walks every REST binding (`google.api.http`) that the installed service.proto declares for the
 * RPCs a predicting user needs, on a real server, and checks that each reply parses as that RPC's
 * response message under strict proto3 JSON (no unknown fields, every value of its field's type).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import protobuf from 'protobufjs';

import { StatusCode } from '../../src/core/status.js';
import { httpBindings, loadFullSchema, v2Service } from '../../src/server/proto/schema.js';
import type { Sibyl } from '../clients/server.js';
import { startSibyl } from '../clients/server.js';

const RPCS = [
  'GetUser',
  'GetApp',
  'ListApps',
  'GetModel',
  'ListModels',
  'GetModelVersion',
  'ListModelVersions',
  'GetModelOutputInfo',
  'PostModelOutputs',
  'GenerateModelOutputs',
  'StreamModelOutputs',
  'PostInputs',
  'ListInputs',
  'GetInput',
  'DeleteInput',
  'DeleteInputs',
];

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const NUMERIC = /^-?(\d+(\.\d*)?([eE][+-]?\d+)?|NaN|Infinity|-Infinity)$/;

/** Throws unless `value` is valid proto3 JSON for `type`. */
function strictParse(type: protobuf.Type, value: unknown, path: string): void {
  assert.ok(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    `${path} must be an object`,
  );
  const byName = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    f.resolve();
    byName.set(f.name, f);
    byName.set(camel(f.name), f);
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = byName.get(key);
    assert.ok(field, `${path}.${key} is not a field of ${type.fullName}`);
    if (v === null) continue;
    if (field.map) {
      assert.ok(typeof v === 'object' && !Array.isArray(v), `${path}.${key} must be an object`);
      for (const [k, x] of Object.entries(v as Record<string, unknown>))
        checkValue(field, x, `${path}.${key}.${k}`);
    } else if (field.repeated) {
      assert.ok(Array.isArray(v), `${path}.${key} must be a list`);
      v.forEach((x, i) => checkValue(field, x, `${path}.${key}[${i}]`));
    } else {
      checkValue(field, v, `${path}.${key}`);
    }
  }
}

function checkValue(field: protobuf.Field, v: unknown, path: string): void {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Enum) {
    assert.ok(
      (typeof v === 'number' && Object.values(rt.values).includes(v)) ||
        (typeof v === 'string' && v in rt.values),
      `${path}: ${JSON.stringify(v)} is not a value of ${rt.name}`,
    );
    return;
  }
  if (rt instanceof protobuf.Type) {
    switch (rt.fullName) {
      case '.google.protobuf.Struct':
        assert.ok(typeof v === 'object' && !Array.isArray(v), `${path} must be a JSON object`);
        return;
      case '.google.protobuf.Value':
        return;
      case '.google.protobuf.ListValue':
        assert.ok(Array.isArray(v), `${path} must be a list`);
        return;
      case '.google.protobuf.Timestamp':
        assert.ok(
          typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v),
          `${path}: ${JSON.stringify(v)} is not RFC 3339`,
        );
        return;
      default:
        if (rt.fullName.startsWith('.google.protobuf.') && rt.fullName.endsWith('Value')) return;
        strictParse(rt, v, path);
        return;
    }
  }
  switch (field.type) {
    case 'string':
      assert.equal(typeof v, 'string', `${path} must be a string`);
      return;
    case 'bool':
      assert.equal(typeof v, 'boolean', `${path} must be a boolean`);
      return;
    case 'bytes':
      assert.ok(typeof v === 'string' && /^[A-Za-z0-9+/_-]*=*$/.test(v), `${path} must be base64`);
      return;
    default:
      assert.ok(
        typeof v === 'number' || (typeof v === 'string' && NUMERIC.test(v)),
        `${path}: ${JSON.stringify(v)} is not a ${field.type}`,
      );
  }
}

describe('every REST binding of the predicting RPCs answers its response message', () => {
  let sibyl: Sibyl;
  let versionId: string;
  const root = loadFullSchema();
  const service = v2Service(root);

  before(async () => {
    sibyl = await startSibyl();
    const res = await fetch(`${sibyl.url}/v2/users/clarifai/apps/main/models/language-identification`, {
      headers: { authorization: `Key ${sibyl.pat}` },
    });
    versionId = ((await res.json()) as { model: { model_version: { id: string } } }).model.model_version.id;
    // the key's default app, which the short route GET /v2/app reads
    await fetch(`${sibyl.url}/v2/users/me/apps/default/inputs`, {
      method: 'POST',
      headers: { authorization: `Key ${sibyl.pat}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ data: { text: { raw: 'first' } } }] }),
    });
  });
  after(async () => {
    await sibyl?.close();
  });

  it('covers the 36 bindings of clarifai-nodejs-grpc 11.11', () => {
    const count = RPCS.reduce((n, rpc) => n + httpBindings(service.methods[rpc]!).length, 0);
    assert.equal(count, 36);
  });

  for (const rpc of RPCS) {
    const method = service.methods[rpc]!;
    for (const binding of httpBindings(method)) {
      it(`${rpc}: ${binding.method} ${binding.path}`, async () => {
        method.resolve();
        // each input-touching call gets its own input, so the bindings do not depend on each other's order
        const inputId = `in-${Math.random().toString(36).slice(2, 10)}`;
        const headers = { authorization: `Key ${sibyl.pat}`, 'content-type': 'application/json' };
        if (/Input/.test(rpc) && rpc !== 'PostInputs' && rpc !== 'ListInputs') {
          const made = await fetch(`${sibyl.url}/v2/users/me/apps/main-inputs/inputs`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ inputs: [{ id: inputId, data: { text: { raw: 'x' } } }] }),
          });
          assert.equal(made.status, 200, await made.text());
        }
        const values: Record<string, string> = {
          'user_app_id.user_id': rpc.includes('Input')
            ? 'me'
            : rpc === 'GetUser' || rpc === 'ListApps'
              ? 'me'
              : 'clarifai',
          'user_app_id.app_id': rpc.includes('Input') ? 'main-inputs' : 'main',
          model_id: 'language-identification',
          version_id: versionId,
          input_id: inputId,
          'runner_selector.deployment.user_id': 'me',
          'runner_selector.deployment.id': 'no-such-deployment',
        };
        if (rpc === 'GetApp' && !binding.path.includes('{')) values['user_app_id.user_id'] = 'me';
        const url = binding.path.replace(/\{([^}]+)\}/g, (_, f: string) => encodeURIComponent(values[f]!));
        let body: unknown;
        if (binding.body === '*') {
          if (rpc === 'PostInputs') body = { inputs: [{ id: inputId, data: { text: { raw: 'hello' } } }] };
          else if (rpc === 'DeleteInputs') body = { ids: [inputId] };
          else
            body = { inputs: [{ data: { text: { raw: 'The quick brown fox jumps over the lazy dog.' } } }] };
          if (rpc === 'StreamModelOutputs')
            body = {
              ...(body as object),
              model_id: 'language-identification',
              user_app_id: { user_id: 'clarifai', app_id: 'main' },
            };
          // short routes use the key's default app: inputs there are the key's own
          if (
            !url.startsWith('/v2/users/') &&
            /Inputs?$/.test(rpc) &&
            rpc !== 'PostInputs' &&
            rpc !== 'ListInputs'
          ) {
            body = { ...(body as object), user_app_id: { app_id: 'main-inputs' } };
          }
        }
        const query =
          !url.startsWith('/v2/users/') && /Input$|Inputs$/.test(rpc) && binding.body !== '*'
            ? '?user_app_id.app_id=main-inputs'
            : '';
        const res = await fetch(`${sibyl.url}${url}${query}`, {
          method: binding.method,
          ...(body !== undefined
            ? { headers, body: JSON.stringify(body) }
            : { headers: { authorization: headers.authorization } }),
        });
        const text = await res.text();
        const reply = method.responseStream
          ? (JSON.parse(text.trim().split('\n')[0]!) as { result: unknown }).result
          : (JSON.parse(text) as unknown);
        strictParse(method.resolvedResponseType!, reply, method.responseType);
        const code = (reply as { status: { code: number } }).status.code;
        if (binding.path.includes('deployments'))
          assert.equal(code, StatusCode.DEPLOYMENT_DOES_NOT_EXIST, text);
        else assert.equal(code, StatusCode.SUCCESS, text);
      });
    }
  }
});
