import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

/**
 * Clarifai's messages as the runner speaks them. The wire goes through the official generated
 * client (google-protobuf classes, see api.ts), which has no JSON mapping; the runner's work is in
 * v2 JSON (what Sibyl's REST app takes and answers). So a message crosses as bytes: JSON ->
 * protobufjs message -> bytes -> google-protobuf class, and back. The server's own mapping lives
 * in server/proto, which this layer may not import; this one covers what the runner's messages
 * hold: Struct/Value (params, metadata), Timestamp, wrappers, bytes as base64, enums and 64-bit
 * integers as numbers.
 */

const require = createRequire(import.meta.url);

export type Json = Record<string, unknown>;

let root: protobuf.Root | undefined;

/** Every message of Clarifai's API, parsed once per process from the installed package's protos. */
export function schema(): protobuf.Root {
  if (root) return root;
  const dir = dirname(dirname(require.resolve('clarifai-nodejs-grpc')));
  const r = new protobuf.Root();
  const seen = new Set<string>();
  const load = (file: string): void => {
    if (seen.has(file) || file.startsWith('google/')) return; // well-known types are added below
    seen.add(file);
    const parsed = protobuf.parse(readFileSync(join(dir, file), 'utf8'), r, { keepCase: true });
    for (const dep of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) load(dep);
  };
  load('proto/clarifai/api/service.proto');
  for (const name of ['struct', 'timestamp', 'wrappers', 'duration', 'empty', 'field_mask', 'any']) {
    const common = protobuf.common.get(`google/protobuf/${name}.proto`) as protobuf.INamespace | null;
    if (common?.nested) r.addJSON(common.nested);
  }
  const descriptor = require('protobufjs/google/protobuf/descriptor.json') as protobuf.INamespace;
  if (descriptor.nested) r.addJSON(descriptor.nested);
  r.resolveAll();
  root = r;
  return r;
}

/** A message type by its full name (".clarifai.api.status.BaseResponse") or its name in clarifai.api. */
export function messageType(name: string): protobuf.Type {
  return schema().lookupType(name.startsWith('.') ? name : `clarifai.api.${name}`);
}

/** v2 JSON -> the message's bytes. Fields the proto does not define are left out. */
export function encode(typeName: string, json: Json): Uint8Array {
  const type = messageType(typeName);
  return type.encode(type.fromObject(toObjectForm(type, json) as Json)).finish();
}

/** The message's bytes -> v2 JSON (snake_case names, defaults left out). */
export function decode(typeName: string, bytes: Uint8Array): Json {
  const type = messageType(typeName);
  const obj = type.toObject(type.decode(bytes), { longs: String, enums: Number, bytes: String });
  return toJsonForm(type, obj) as Json;
}

const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map(
    (n) => `.google.protobuf.${n}Value`,
  ),
);

/** Walks a message's set fields, converting each value of a message type with `convert`. */
function walk(type: protobuf.Type, value: unknown, convert: (t: protobuf.Type, v: unknown) => unknown) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value as Json)) {
    const field = type.fields[key];
    if (!field) continue;
    field.resolve();
    const sub = field.resolvedType;
    if (field.type === 'float' && convert === toJsonForm) {
      out[key] = Array.isArray(v) ? v.map(shortestFloat) : shortestFloat(v);
    } else if (!(sub instanceof protobuf.Type) || v === null || v === undefined) {
      out[key] = v;
    } else if (field.map) {
      out[key] = Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, convert(sub, x)]));
    } else if (field.repeated && Array.isArray(v)) {
      out[key] = v.map((x) => convert(sub, x));
    } else {
      out[key] = convert(sub, v);
    }
  }
  return out;
}

/** protobufjs's object form (Struct as fields/values, Timestamp as seconds/nanos) -> v2 JSON. */
function toJsonForm(type: protobuf.Type, v: unknown): unknown {
  const o = v as Json;
  switch (type.fullName) {
    case '.google.protobuf.Struct':
      return Object.fromEntries(
        Object.entries((o.fields ?? {}) as Json).map(([k, x]) => [k, valueJson(x as Json)]),
      );
    case '.google.protobuf.Value':
      return valueJson(o);
    case '.google.protobuf.ListValue':
      return ((o.values ?? []) as Json[]).map(valueJson);
    case '.google.protobuf.Timestamp': {
      const ms = Number(o.seconds ?? 0) * 1000 + Math.floor(Number(o.nanos ?? 0) / 1e6);
      return new Date(ms).toISOString();
    }
    case '.google.protobuf.Duration':
      return `${Number(o.seconds ?? 0) + Number(o.nanos ?? 0) / 1e9}s`;
    default:
      if (WRAPPERS.has(type.fullName)) return o.value;
      return walk(type, v, toJsonForm);
  }
}

// protobufjs's built-in well-known types name their fields in lowerCamelCase
/**
 * A 32-bit float as the shortest decimal that reads back as the same float: 0.1 stays 0.1 (as the
 * user wrote it and as Sibyl's REST takes it), not 0.10000000149011612.
 */
function shortestFloat(v: unknown): unknown {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v;
  for (let digits = 1; digits < 10; digits++) {
    const n = Number(v.toPrecision(digits));
    if (Math.fround(n) === Math.fround(v)) return n;
  }
  return v;
}

function valueJson(v: Json): unknown {
  if ('structValue' in v) return toJsonForm(messageOf('.google.protobuf.Struct'), v.structValue);
  if ('listValue' in v) return toJsonForm(messageOf('.google.protobuf.ListValue'), v.listValue);
  if ('numberValue' in v) return v.numberValue;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  return null;
}

/** v2 JSON -> protobufjs's object form, which `Type.fromObject` takes. */
function toObjectForm(type: protobuf.Type, v: unknown): unknown {
  switch (type.fullName) {
    case '.google.protobuf.Struct':
      return structObject(v);
    case '.google.protobuf.Value':
      return valueObject(v);
    case '.google.protobuf.ListValue':
      return { values: (Array.isArray(v) ? v : []).map(valueObject) };
    case '.google.protobuf.Timestamp': {
      const ms = typeof v === 'string' ? Date.parse(v) : NaN;
      if (Number.isNaN(ms)) return v;
      return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
    }
    default:
      if (WRAPPERS.has(type.fullName)) return { value: v };
      return walk(type, v, toObjectForm);
  }
}

function structObject(v: unknown): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  return { fields: Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, valueObject(x)])) };
}

function valueObject(v: unknown): Json {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(valueObject) } };
  return { structValue: structObject(v) };
}

function messageOf(fullName: string): protobuf.Type {
  return schema().lookupType(fullName);
}
