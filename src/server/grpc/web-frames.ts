/**
 * gRPC-web's wire format (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md): a body is
 * a sequence of frames, each a flag byte, a 4-byte big-endian length and that many bytes. Flag
 * 0x00 is a message, 0x80 the trailers (HTTP/1 header lines: `grpc-status:0\r\n`), and bit 0x01
 * marks a compressed message. The text form is the same bytes in base64; a client may send several
 * base64 chunks one after another, each with its own padding.
 */

export const GRPC_WEB_TYPES = {
  binary: 'application/grpc-web+proto',
  text: 'application/grpc-web-text+proto',
} as const;

export type GrpcWebFormat = keyof typeof GRPC_WEB_TYPES;

/**
 * The format a content type asks for: `application/grpc-web[+proto]` or
 * `application/grpc-web-text[+proto]`; undefined for any other (`+json`, plain gRPC...).
 */
export function grpcWebFormat(contentType: string | undefined): GrpcWebFormat | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/grpc-web' || type === 'application/grpc-web+proto') return 'binary';
  if (type === 'application/grpc-web-text' || type === 'application/grpc-web-text+proto') return 'text';
  return undefined;
}

const FLAG_TRAILERS = 0x80;
const FLAG_COMPRESSED = 0x01;

/** The frames of a request were not what gRPC-web promises. */
export class FrameError extends Error {
  constructor(
    message: string,
    /** The gRPC status to answer with: INTERNAL for a broken body, UNIMPLEMENTED for compression. */
    readonly grpcStatus: number,
  ) {
    super(message);
  }
}

/** The base64 of the text form, chunk by chunk (each chunk ends at its own padding). */
export function decodeText(body: Buffer): Buffer {
  const text = body.toString('latin1').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/=]*$/.test(text)) throw new FrameError('the grpc-web-text body is not base64', 13);
  const chunks = text.split(/(?<==)(?=[^=])/);
  return Buffer.concat(chunks.map((c) => Buffer.from(c, 'base64')));
}

/** The request's messages, in order; trailer frames (none are expected from a client) are skipped. */
export function readMessages(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 5) throw new FrameError('the body ends inside a frame header', 13);
    const flag = body[at]!;
    const length = body.readUInt32BE(at + 1);
    const end = at + 5 + length;
    if (end > body.length) {
      throw new FrameError(`a frame declares ${length} bytes but the body ends first`, 13);
    }
    if ((flag & FLAG_TRAILERS) === 0) {
      if (flag & FLAG_COMPRESSED) {
        throw new FrameError('compressed messages are not supported: send grpc-encoding identity', 12);
      }
      out.push(body.subarray(at + 5, end));
    }
    at = end;
  }
  return out;
}

function frame(flag: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export function messageFrame(message: Uint8Array): Buffer {
  return frame(0, Buffer.from(message.buffer, message.byteOffset, message.byteLength));
}

/** The trailers frame: grpc-status and grpc-message, as HTTP/1 header lines. */
export function trailersFrame(status: number, message = ''): Buffer {
  return frame(
    FLAG_TRAILERS,
    Buffer.from(`grpc-status:${status}\r\ngrpc-message:${encodeGrpcMessage(message)}\r\n`, 'latin1'),
  );
}

/** grpc-message is percent-encoded: everything outside printable ASCII, and `%` itself. */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The `grpc-timeout` header (`10S`, `500m`, ...) in milliseconds; undefined when absent or bad. */
export function grpcTimeoutMs(header: string | undefined): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec((header ?? '').trim());
  if (!m) return undefined;
  const unitMs = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }[m[2] as 'H'];
  return Number(m[1]) * unitMs;
}
