import { InvalidArgumentError } from '../../../core/errors.js';
import { StatusCode } from '../../../core/status.js';

/**
 * A minimal multipart/form-data reader (RFC 7578) for OpenAI's audio uploads, so the server needs
 * no multipart package: the whole body is already in memory (fastify caps its size), and only
 * what the audio endpoints send is read: text fields and files, each named once.
 */

/** OpenAI's own cap on an audio upload, plus room for the form's other fields. */
export const MAX_FORM_BYTES = 25 * 1024 * 1024 + 64 * 1024;
const MAX_PARTS = 32;
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 8 * 1024;

export interface FormFile {
  filename: string;
  contentType: string;
  bytes: Buffer;
}

/**
 * A parsed form. A class, not a plain object, so the JSON limits hook (which walks plain parsed
 * JSON) leaves it alone.
 */
export class MultipartForm {
  constructor(
    readonly fields: Readonly<Record<string, string>>,
    readonly files: Readonly<Record<string, FormFile>>,
  ) {}
}

function bad(details: string): InvalidArgumentError {
  return new InvalidArgumentError(`multipart/form-data: ${details}`, StatusCode.CONN_BAD_REQUEST_FORMAT);
}

function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary || boundary.length > 70) throw bad('the content-type has no valid boundary');
  return boundary;
}

/** The value of a header parameter such as `name="file"` (quoted or not). */
function headerParam(header: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s;]+))`, 'i').exec(header);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

export function parseMultipart(body: Buffer, contentType: string): MultipartForm {
  const delimiter = Buffer.from(`\r\n--${boundaryOf(contentType)}`);
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const files: Record<string, FormFile> = Object.create(null) as Record<string, FormFile>;
  // a leading CRLF lets the first delimiter match the same pattern as the others
  const data = Buffer.concat([Buffer.from('\r\n'), body]);
  let at = data.indexOf(delimiter);
  if (at < 0) throw bad('the body does not contain the boundary');
  for (let parts = 0; ; parts++) {
    at += delimiter.length;
    if (data.subarray(at, at + 2).toString() === '--') break; // the closing delimiter
    if (data.subarray(at, at + 2).toString() !== '\r\n')
      throw bad('a boundary is not followed by a line break');
    if (parts >= MAX_PARTS) throw bad(`more than ${MAX_PARTS} parts`);
    const start = at + 2;
    const end = data.indexOf(delimiter, start);
    if (end < 0) throw bad('the body ends before its closing boundary');
    readPart(data.subarray(start, end), fields, files);
    at = end;
  }
  return new MultipartForm(fields, files);
}

function readPart(part: Buffer, fields: Record<string, string>, files: Record<string, FormFile>): void {
  const split = part.indexOf('\r\n\r\n');
  if (split < 0 || split > MAX_HEADER_BYTES) throw bad('a part has no headers, or headers too long');
  const headers = new Map<string, string>();
  for (const line of part.subarray(0, split).toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get('content-disposition') ?? '';
  const name = headerParam(disposition, 'name');
  if (!/^form-data\b/i.test(disposition) || !name)
    throw bad('a part has no content-disposition form-data name');
  if (name in fields || name in files) throw bad(`the field "${name}" is sent twice`);
  const bytes = part.subarray(split + 4);
  const filename = headerParam(disposition, 'filename');
  if (filename !== undefined) {
    files[name] = {
      filename,
      contentType: headers.get('content-type') ?? 'application/octet-stream',
      bytes: Buffer.from(bytes),
    };
    return;
  }
  if (bytes.length > MAX_FIELD_BYTES)
    throw bad(`the field "${name}" is longer than ${MAX_FIELD_BYTES} bytes`);
  fields[name] = bytes.toString('utf8');
}
