import { InvalidArgumentError } from './errors.js';
import { sniffInputType } from './media-types.js';
import { StatusCode } from './status.js';

/**
 * Text inputs that are not text. Bytes sent as a text input (base64 or a URL) must be UTF-8; a
 * byte-order mark is honoured (UTF-8's is dropped, UTF-16 with one is decoded), everything else
 * is refused with what it looks like, so a JPEG or a UTF-16 file sent as text is a clear 400
 * rather than a confident language label for garbage.
 */

/** How much of an input is looked at to tell what it is. */
const SAMPLE_BYTES = 4096;

/** Magic numbers of files people send by mistake, named as a person would name them. */
const MAGIC: [prefix: string, at: number, name: string][] = [
  ['\xff\xd8\xff', 0, 'a JPEG image'],
  ['\x89PNG', 0, 'a PNG image'],
  ['GIF8', 0, 'a GIF image'],
  ['WEBP', 8, 'a WebP image'],
  ['WAVE', 8, 'a WAV audio file'],
  ['%PDF', 0, 'a PDF document'],
  ['PK\x03\x04', 0, 'a ZIP archive (or an Office document)'],
  ['\x1f\x8b', 0, 'a gzip archive'],
  ['\x7fELF', 0, 'a program (ELF)'],
  ['ID3', 0, 'an MP3 audio file'],
  ['OggS', 0, 'an Ogg audio file'],
  ['fLaC', 0, 'a FLAC audio file'],
  ['ftyp', 4, 'an MP4 or QuickTime file'],
  ['\x1aE\xdf\xa3', 0, 'a WebM or Matroska file'],
];

function invalid(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, StatusCode.INPUT_INVALID_ARGUMENT, 'Invalid input argument');
}

/** Decodes the bytes of a text input, or throws an InvalidArgumentError saying what they are instead. */
export function decodeTextBytes(bytes: Uint8Array, where: string): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const notText = (what: string) => invalid(`${where} is not UTF-8 text: ${what}`);
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) throw notText(utf32Advice('little'));
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) throw notText(utf32Advice('big'));
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) {
    const endian = b[0] === 0xff ? 'le' : 'be';
    try {
      return new TextDecoder(`utf-16${endian}`, { fatal: true }).decode(b);
    } catch {
      throw notText(`it starts with a UTF-16 byte-order mark but is not valid UTF-16; save it as UTF-8`);
    }
  }
  const head = b.subarray(0, SAMPLE_BYTES);
  const zero = head.indexOf(0);
  if (zero < 0) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      // not UTF-8: say what it is below
    }
  }
  // named only once the bytes are not text, so a text that starts "ID3" or "GIF8" stays text
  const latin1 = head.toString('latin1');
  const magic = MAGIC.find(([prefix, at]) => latin1.startsWith(prefix, at));
  if (magic) throw notText(`it looks like ${magic[2]}`);
  const wide = zero >= 0 ? wideEncoding(head) : undefined;
  if (wide) throw notText(`it looks like ${wide} text without a byte-order mark; save it as UTF-8`);
  const media = sniffInputType(bytes);
  if (media && media !== 'text')
    throw notText(`it looks like ${media === 'audio' ? 'an' : 'a'} ${media} file`);
  if (zero >= 0) throw notText(`it holds a NUL byte at offset ${zero}, so it looks like binary data`);
  const high = head.filter((byte) => byte >= 0x80).length;
  throw notText(
    high / head.length < 0.3
      ? 'it has bytes that are not valid UTF-8, as Latin-1 or Windows-1252 text has; save it as UTF-8'
      : 'it has bytes that are not valid UTF-8, so it looks like binary data',
  );
}

function utf32Advice(endian: 'little' | 'big'): string {
  return `it is UTF-32 (${endian}-endian) text; save it as UTF-8`;
}

/**
 * UTF-16 or UTF-32 without a byte-order mark, told by where the NUL bytes fall: text in a Latin
 * script leaves the high byte of most code units zero.
 */
function wideEncoding(head: Buffer): string | undefined {
  const units = (size: number, zeroAt: number[]) => {
    let n = 0;
    let hits = 0;
    for (let i = 0; i + size <= head.length; i += size, n++) {
      if (zeroAt.every((k) => head[i + k] === 0) && head.subarray(i, i + size).some((x) => x !== 0)) hits++;
    }
    // a stray NUL in a few bytes of text is not a pattern
    return hits >= 4 ? hits / n : 0;
  };
  if (units(4, [1, 2, 3]) > 0.3) return 'UTF-32 (little-endian)';
  if (units(4, [0, 1, 2]) > 0.3) return 'UTF-32 (big-endian)';
  if (units(2, [1]) > 0.3) return 'UTF-16 (little-endian)';
  if (units(2, [0]) > 0.3) return 'UTF-16 (big-endian)';
  return undefined;
}

/** Share of U+FFFD and control characters past which raw text is taken for decoded binary. */
const MAX_GARBAGE_SHARE = 0.25;

/**
 * Raw text (a JSON string) is already text, but a client that decoded a binary file as UTF-8
 * sends it full of replacement characters (U+FFFD) and control codes: refuse that, and NUL, which
 * no text has and C libraries stop at.
 */
export function checkRawText(text: string, where: string): void {
  const sample = text.slice(0, SAMPLE_BYTES);
  const nul = sample.indexOf('\0');
  if (nul >= 0) throw invalid(`${where} holds a NUL character (U+0000) at ${nul}; text never has one`);
  let garbage = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0xfffd || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c)) garbage++;
  }
  if (garbage >= 8 && garbage / sample.length >= MAX_GARBAGE_SHARE) {
    throw invalid(
      `${where} looks like binary data decoded as text: ${garbage} of its first ${sample.length} characters are ` +
        'replacement (U+FFFD) or control characters; send a file as base64 bytes, not as text',
    );
  }
}
