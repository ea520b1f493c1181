import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';

/**
 * Open Inference Protocol v2 (KServe/Triton) tensors on the REST wire, with Triton's binary
 * tensor data extension: the codec both ends share, the `oip` runtime (client) and the server's
 * OIP routes. It lives in the engine because that is the lower layer both may import.
 *
 * Binary extension: the body is the JSON header (its length in the `Inference-Header-Content-Length`
 * header) followed by each binary tensor's bytes, in the order of the tensors that carry
 * `parameters.binary_data_size`. Numbers are little-endian, row-major; a BYTES element is a 4-byte
 * length and then its bytes.
 */

export const HEADER_LENGTH = 'inference-header-content-length';

export interface OipTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
  data?: unknown[];
}

/** Bytes per element of each fixed-size datatype; BYTES has none (each element says its length). */
const SIZES: Readonly<Record<string, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
};

export const DATATYPES = [...Object.keys(SIZES), 'BYTES'];

export function badTensor(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, StatusCode.INPUT_INVALID_ARGUMENT, 'Invalid input argument');
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Elements a shape holds; every dimension must be a whole number >= 0. */
export function elementCount(shape: unknown, where: string): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
    throw badTensor(`${where}.shape must be a list of whole numbers >= 0, got ${JSON.stringify(shape)}`);
  return (shape as number[]).reduce((a, b) => a * b, 1);
}

/**
 * Splits a body into its JSON header and the binary part after it. Without the header-length
 * header the whole body is JSON.
 */
export function splitBody(
  body: Uint8Array,
  headerLength: string | undefined,
): { json: unknown; binary: Uint8Array } {
  let jsonEnd = body.length;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > body.length)
      throw badTensor(
        `the Inference-Header-Content-Length header must be the JSON header's length in bytes (0 to ${body.length}), got ${JSON.stringify(headerLength)}`,
      );
    jsonEnd = n;
  }
  const text = Buffer.from(body.buffer, body.byteOffset, jsonEnd).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const why =
      headerLength === undefined ? ' (binary tensors need the Inference-Header-Content-Length header)' : '';
    throw badTensor(`the inference header is not valid JSON${why}`);
  }
  return { json, binary: body.subarray(jsonEnd) };
}

/** Joins a JSON header and binary parts into one body; `headerLength` goes in the header. */
export function joinBody(json: unknown, parts: Uint8Array[]): { body: Buffer; headerLength: number } {
  const head = Buffer.from(JSON.stringify(json), 'utf8');
  return { body: Buffer.concat([head, ...parts]), headerLength: head.length };
}

/**
 * Hands out each binary tensor's bytes in turn, checking each takes no more than is there and
 * that none is left over at the end.
 */
export class BinaryReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  take(size: unknown, where: string): Uint8Array {
    if (!Number.isInteger(size) || (size as number) < 0)
      throw badTensor(`${where}.parameters.binary_data_size must be a whole number of bytes`);
    const end = this.offset + (size as number);
    if (end > this.bytes.length)
      throw badTensor(
        `${where}.parameters.binary_data_size is ${size as number} but only ${this.bytes.length - this.offset} bytes of binary data are left in the body`,
      );
    const out = this.bytes.subarray(this.offset, end);
    this.offset = end;
    return out;
  }

  finish(): void {
    if (this.offset !== this.bytes.length)
      throw badTensor(
        `the body has ${this.bytes.length - this.offset} bytes of binary data after the tensors that declare binary_data_size`,
      );
  }
}

/** BYTES elements in the binary form: each a 4-byte little-endian length, then the bytes. */
export function encodeBytes(elements: readonly Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const e of elements) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(e.length);
    parts.push(len, e);
  }
  return Buffer.concat(parts);
}

export function decodeBytes(bytes: Uint8Array, where: string): Buffer[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw badTensor(`${where}: a BYTES element's 4-byte length is cut off`);
    const len = buf.readUInt32LE(at);
    if (at + 4 + len > buf.length)
      throw badTensor(`${where}: a BYTES element says ${len} bytes but fewer are left`);
    out.push(buf.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

export function encodeFp32(values: readonly number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf;
}

/** Numbers of a fixed-size datatype from their binary form (64-bit integers as Numbers). */
export function decodeNumbers(bytes: Uint8Array, datatype: string, where: string): number[] {
  const size = SIZES[datatype];
  if (size === undefined) throw badTensor(`${where}: datatype ${datatype} is not a numeric datatype`);
  if (bytes.length % size !== 0)
    throw badTensor(`${where}: ${bytes.length} bytes is not a whole number of ${datatype} elements`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const read: (at: number) => number = {
    BOOL: (at: number) => buf.readUInt8(at),
    UINT8: (at: number) => buf.readUInt8(at),
    UINT16: (at: number) => buf.readUInt16LE(at),
    UINT32: (at: number) => buf.readUInt32LE(at),
    UINT64: (at: number) => Number(buf.readBigUInt64LE(at)),
    INT8: (at: number) => buf.readInt8(at),
    INT16: (at: number) => buf.readInt16LE(at),
    INT32: (at: number) => buf.readInt32LE(at),
    INT64: (at: number) => Number(buf.readBigInt64LE(at)),
    FP16: (at: number) => halfToFloat(buf.readUInt16LE(at)),
    FP32: (at: number) => buf.readFloatLE(at),
    FP64: (at: number) => buf.readDoubleLE(at),
  }[datatype]!;
  const out: number[] = [];
  for (let at = 0; at < buf.length; at += size) out.push(read(at));
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** JSON tensor data may be flat or nested row-major lists: flattened here. */
export function flatData(data: unknown, where: string): unknown[] {
  if (!Array.isArray(data)) throw badTensor(`${where}.data must be a list`);
  return data.flat(Infinity) as unknown[];
}

/** Checks a tensor's name, datatype and shape, as given in JSON. */
export function checkTensorHead(t: unknown, where: string): OipTensor {
  if (!isRecord(t)) throw badTensor(`${where} must be an object with name, datatype, shape and data`);
  if (typeof t.name !== 'string' || t.name === '')
    throw badTensor(`${where}.name must be a non-empty string`);
  if (typeof t.datatype !== 'string' || !DATATYPES.includes(t.datatype))
    throw badTensor(
      `${where}.datatype must be one of ${DATATYPES.join(', ')}, got ${JSON.stringify(t.datatype)}`,
    );
  elementCount(t.shape, where);
  if (t.parameters !== undefined && !isRecord(t.parameters))
    throw badTensor(`${where}.parameters must be an object`);
  return t as unknown as OipTensor;
}
