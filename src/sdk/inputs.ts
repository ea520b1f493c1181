import { readFile } from 'node:fs/promises';
import type { Input, InputType } from '../core/wire.js';
import { INPUT_TYPES } from '../core/wire.js';
import { UsageError } from './errors.js';

/** Checks an input type given by a caller, naming the allowed ones. */
export function checkInputType(inputType: unknown): InputType {
  if (typeof inputType === 'string' && (INPUT_TYPES as readonly string[]).includes(inputType)) {
    return inputType as InputType;
  }
  throw new UsageError(
    `input type must be one of ${INPUT_TYPES.join(', ')}; got ${JSON.stringify(inputType)}`,
  );
}

/**
 * An input from raw bytes: text is sent as `text.raw` (UTF-8), media as base64, as Clarifai's SDKs
 * do. Text bytes that are not UTF-8 (a JPEG, a UTF-16 file) go as base64 instead of being decoded
 * into replacement characters, so the server can say what they are.
 */
export function inputFromBytes(bytes: Uint8Array, inputType: InputType, id?: string): Input {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = inputType === 'text' ? utf8(buf) : undefined;
  const data = raw !== undefined ? { text: { raw } } : { [inputType]: { base64: buf.toString('base64') } };
  return id ? { id, data } : { data };
}

function utf8(buf: Buffer): string | undefined {
  if (buf.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return undefined;
  }
}

/** An input the server fetches from a URL. */
export function inputFromUrl(url: string, inputType: InputType, id?: string): Input {
  const data = { [inputType]: { url } };
  return id ? { id, data } : { data };
}

/** Reads a local input file on the client (the server never sees paths), with a usable error. */
export async function readInputFile(path: string, label = 'file'): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reasons: Record<string, string> = {
      ENOENT: 'no such file',
      EISDIR: 'it is a directory',
      EACCES: 'permission denied',
    };
    throw new UsageError(
      `cannot read ${label} ${path}: ${(code && reasons[code]) ?? (err as Error).message}`,
    );
  }
}
