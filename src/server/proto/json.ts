import protobuf from 'protobufjs';

/**
 * The proto3 JSON mapping between Clarifai's messages and the one "canonical" object shape the
 * services take and return: snake_case field names (the proto's own), enums as numbers, 64-bit
 * integers as numbers, bytes as base64 strings, Struct/Value as plain JSON, Timestamp as an
 * RFC 3339 string, wrappers as their bare value, and default values left out.
 *
 * - `decodeJson`: a REST body (proto3 JSON: lowerCamelCase or snake_case names, int64 and enums as
 *   strings or numbers, `null` for a default) -> canonical. Fields the proto does not define, and
 *   values of the wrong JSON type, are passed through untouched, so the service that reads them
 *   refuses them with a message naming the field and what is allowed (a typo such as
 *   `max_concept` is an error, never silently ignored); the response encoder drops them.
 * - `fromMessage`: a decoded protobufjs message (gRPC) -> canonical.
 * - `toMessage`: canonical -> a protobufjs message ready to encode (gRPC, gRPC-web).
 * - `encodeJson`: canonical -> REST JSON with only the fields the proto defines.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Canonical = Record<string, unknown>;

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const NUMBER_TYPES = new Set([
  'double',
  'float',
  'int32',
  'uint32',
  'sint32',
  'fixed32',
  'sfixed32',
  ...LONG_TYPES,
]);
const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map(
    (n) => `.google.protobuf.${n}Value`,
  ),
);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** snake_case -> lowerCamelCase, as protoc derives json_name. */
function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

interface FieldIndex {
  byName: Map<string, protobuf.Field>;
}

const indexes = new WeakMap<protobuf.Type, FieldIndex>();

/** Each field under its proto name and its lowerCamelCase JSON name. */
function fieldIndex(type: protobuf.Type): FieldIndex {
  let idx = indexes.get(type);
  if (!idx) {
    const byName = new Map<string, protobuf.Field>();
    for (const f of type.fieldsArray) {
      f.resolve();
      byName.set(f.name, f);
      byName.set(camel(f.name), f);
    }
    idx = { byName };
    indexes.set(type, idx);
  }
  return idx;
}

// ---------------------------------------------------------------- REST JSON in

export interface DecodeOptions {
  /**
   * The object came from a query string: a single value of a repeated field is a one-item list,
   * and "true"/"false" are booleans.
   */
  query?: boolean;
}

/** A proto3 JSON object of `type` -> canonical. */
export function decodeJson(type: protobuf.Type, value: unknown, opts: DecodeOptions = {}): unknown {
  if (!isPlainObject(value)) return value;
  const out: Canonical = {};
  const { byName } = fieldIndex(type);
  for (const [key, raw] of Object.entries(value)) {
    const field = byName.get(key);
    if (raw === null || raw === undefined) continue;
    if (!field) {
      if (out[key] === undefined) out[key] = raw;
      continue;
    }
    let v: unknown;
    if (opts.query) {
      const items = (Array.isArray(raw) ? raw : [raw]).map((x) =>
        decodeValue(field, queryScalar(field, x), opts),
      );
      v = field.repeated ? items : items[items.length - 1];
    } else if (field.map) {
      v = isPlainObject(raw)
        ? Object.fromEntries(Object.entries(raw).map(([k, x]) => [k, decodeValue(field, x, opts)]))
        : raw;
    } else if (field.repeated) {
      v = Array.isArray(raw) ? raw.filter((x) => x !== null).map((x) => decodeValue(field, x, opts)) : raw;
    } else {
      v = decodeValue(field, raw, opts);
    }
    out[field.name] = v;
  }
  return out;
}

function queryScalar(field: protobuf.Field, raw: unknown): unknown {
  if (field.type === 'bool' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

function decodeValue(field: protobuf.Field, raw: unknown, opts: DecodeOptions): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Enum) {
    if (typeof raw === 'string') return rt.values[raw] ?? (/^-?\d+$/.test(raw) ? Number(raw) : raw);
    return raw;
  }
  if (rt instanceof protobuf.Type) {
    const name = rt.fullName;
    if (WRAPPERS.has(name)) return decodeScalar(rt.fields.value!.type, raw);
    if (name.startsWith('.google.protobuf.')) return raw; // Struct, Value, Timestamp...: JSON as is
    return decodeJson(rt, raw, opts);
  }
  return decodeScalar(field.type, raw);
}

function decodeScalar(type: string, raw: unknown): unknown {
  if (typeof raw === 'string' && NUMBER_TYPES.has(type)) {
    if (raw === 'NaN') return NaN;
    if (raw === 'Infinity') return Infinity;
    if (raw === '-Infinity') return -Infinity;
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
  }
  return raw;
}

// ---------------------------------------------------------------- gRPC message in

/** A decoded protobufjs message -> canonical. */
export function fromMessage(type: protobuf.Type, msg: protobuf.Message | Record<string, unknown>): Canonical {
  const out: Canonical = {};
  const src = msg as unknown as Record<string, unknown>;
  fieldIndex(type); // resolves the fields
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(src, field.name)) continue;
    const raw = src[field.name];
    if (raw === null || raw === undefined) continue;
    if (field.map) {
      out[field.name] = Object.fromEntries(
        Object.entries(raw as Record<string, unknown>).map(([k, x]) => [k, messageValue(field, x)]),
      );
    } else if (field.repeated) {
      const list = raw as unknown[];
      if (list.length > 0) out[field.name] = list.map((x) => messageValue(field, x));
    } else {
      out[field.name] = messageValue(field, raw);
    }
  }
  return out;
}

function messageValue(field: protobuf.Field, raw: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return wellKnownFromMessage(rt, raw) ?? fromMessage(rt, raw as never);
  return scalarFromMessage(field.type, raw);
}

function scalarFromMessage(type: string, raw: unknown): unknown {
  if (raw instanceof Uint8Array)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (LONG_TYPES.has(type) && typeof raw === 'object' && raw !== null) return Number(String(raw));
  return raw;
}

/** Well-known types as their JSON form; undefined for an ordinary message. */
function wellKnownFromMessage(type: protobuf.Type, raw: unknown): unknown {
  const m = raw as Record<string, unknown>;
  switch (type.fullName) {
    case '.google.protobuf.Struct':
      return structToJson(m);
    case '.google.protobuf.Value':
      return valueToJson(m);
    case '.google.protobuf.ListValue':
      return ((m.values as unknown[]) ?? []).map((v) => valueToJson(v as Record<string, unknown>));
    case '.google.protobuf.Timestamp': {
      const ms = Number(String(m.seconds ?? 0)) * 1000 + Math.floor(Number(m.nanos ?? 0) / 1e6);
      return new Date(ms).toISOString();
    }
    case '.google.protobuf.Duration':
      return `${Number(String(m.seconds ?? 0)) + Number(m.nanos ?? 0) / 1e9}s`;
    case '.google.protobuf.FieldMask':
      return ((m.paths as string[]) ?? []).map(camel).join(',');
    case '.google.protobuf.Empty':
      return {};
    default:
      if (WRAPPERS.has(type.fullName))
        return scalarFromMessage(type.fields.value!.type, m.value ?? defaultOf(type));
      return undefined;
  }
}

function defaultOf(wrapper: protobuf.Type): unknown {
  const t = wrapper.fields.value!.type;
  return t === 'bool' ? false : t === 'string' ? '' : t === 'bytes' ? new Uint8Array() : 0;
}

function structToJson(m: Record<string, unknown>): Record<string, Json> {
  const fields = (m.fields ?? {}) as Record<string, Record<string, unknown>>;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, valueToJson(v)]));
}

// protobufjs defines the well-known types with lowerCamelCase field names (numberValue, ...)
function valueToJson(v: Record<string, unknown>): Json {
  // decoded messages keep defaults on the prototype: only own properties were on the wire
  const has = (k: string) => Object.prototype.hasOwnProperty.call(v, k) && v[k] !== null;
  if (has('structValue')) return structToJson(v.structValue as Record<string, unknown>);
  if (has('listValue')) {
    const values = ((v.listValue as Record<string, unknown>).values ?? []) as Record<string, unknown>[];
    return values.map(valueToJson);
  }
  if (has('stringValue')) return v.stringValue as string;
  if (has('numberValue')) return v.numberValue as number;
  if (has('boolValue')) return v.boolValue as boolean;
  return null;
}

// ---------------------------------------------------------------- out: gRPC message

/** Canonical -> a protobufjs message of `type`, ready for `type.encode`. */
export function toMessage(type: protobuf.Type, value: Canonical): protobuf.Message {
  return type.fromObject(toMessageObject(type, value));
}

function toMessageObject(type: protobuf.Type, value: Canonical): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { byName } = fieldIndex(type);
  for (const [key, raw] of Object.entries(value)) {
    const field = byName.get(key);
    if (!field || raw === null || raw === undefined) continue;
    if (field.map && isPlainObject(raw)) {
      out[field.name] = Object.fromEntries(
        Object.entries(raw).map(([k, x]) => [k, valueToMessageObject(field, x)]),
      );
    } else if (field.repeated && Array.isArray(raw)) {
      out[field.name] = raw.map((x) => valueToMessageObject(field, x));
    } else {
      out[field.name] = valueToMessageObject(field, raw);
    }
  }
  return out;
}

function valueToMessageObject(field: protobuf.Field, raw: unknown): unknown {
  const rt = field.resolvedType;
  if (!(rt instanceof protobuf.Type)) return raw; // protobufjs takes enums, longs and base64 as is
  switch (rt.fullName) {
    case '.google.protobuf.Struct':
      return isPlainObject(raw) ? jsonToStruct(raw) : {};
    case '.google.protobuf.Value':
      return jsonToValue(raw);
    case '.google.protobuf.ListValue':
      return { values: Array.isArray(raw) ? raw.map(jsonToValue) : [] };
    case '.google.protobuf.Timestamp': {
      const ms = typeof raw === 'string' ? Date.parse(raw) : NaN;
      if (Number.isNaN(ms)) return {};
      return { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1e6 };
    }
    default:
      if (WRAPPERS.has(rt.fullName)) return { value: raw };
      return isPlainObject(raw) ? toMessageObject(rt, raw) : {};
  }
}

function jsonToStruct(obj: Record<string, unknown>): Record<string, unknown> {
  return {
    fields: Object.fromEntries(
      Object.entries(obj)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, jsonToValue(v)]),
    ),
  };
}

function jsonToValue(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValue) } };
  if (isPlainObject(v)) return { structValue: jsonToStruct(v) };
  return { stringValue: String(v) };
}

// ---------------------------------------------------------------- out: REST JSON

/** Canonical -> REST JSON: snake_case, and only the fields `type` defines. */
export function encodeJson(type: protobuf.Type, value: Canonical): Canonical {
  const out: Canonical = {};
  const { byName } = fieldIndex(type);
  for (const [key, raw] of Object.entries(value)) {
    const field = byName.get(key);
    if (!field || field.name !== key || raw === undefined) continue;
    const rt = field.resolvedType;
    if (!(rt instanceof protobuf.Type) || rt.fullName.startsWith('.google.protobuf.')) {
      out[key] = raw;
    } else if (field.map && isPlainObject(raw)) {
      out[key] = Object.fromEntries(
        Object.entries(raw).map(([k, x]) => [k, isPlainObject(x) ? encodeJson(rt, x) : x]),
      );
    } else if (field.repeated && Array.isArray(raw)) {
      out[key] = raw.map((x) => (isPlainObject(x) ? encodeJson(rt, x) : x));
    } else {
      out[key] = isPlainObject(raw) ? encodeJson(rt, raw) : raw;
    }
  }
  return out;
}
