import type { InputType } from './wire.js';

/** The input type a Clarifai model type takes, when it takes one kind of input. */
export function inputTypeOfModelType(modelTypeId: string | undefined): InputType | undefined {
  if (!modelTypeId) return undefined;
  if (modelTypeId.startsWith('visual-') || modelTypeId.startsWith('image-')) return 'image';
  if (modelTypeId.startsWith('text-')) return 'text';
  if (modelTypeId.startsWith('audio-')) return 'audio';
  if (modelTypeId.startsWith('video-')) return 'video';
  return undefined;
}

/** Sniffs the first bytes of a file: image, audio and video containers by magic number, else text. */
export function sniffInputType(bytes: Uint8Array): InputType | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 16));
  const ascii = (from: number, to: number) => b.subarray(from, to).toString('latin1');
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image';
  if (b.subarray(0, 8).equals(PNG_SIGNATURE) || /^GIF8[79]a$/.test(ascii(0, 6)) || isBmp(b)) return 'image';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'image';
  if (ascii(0, 4) === 'RIFF')
    return ascii(8, 12) === 'WEBP'
      ? 'image'
      : ascii(8, 12) === 'WAVE'
        ? 'audio'
        : ascii(8, 11) === 'AVI'
          ? 'video'
          : undefined;
  if (ascii(4, 8) === 'ftyp')
    return /^(avif|heic|mif1)/.test(ascii(8, 12)) ? 'image' : ascii(8, 11) === 'M4A' ? 'audio' : 'video';
  if (
    ascii(0, 3) === 'ID3' ||
    ascii(0, 4) === 'fLaC' ||
    ascii(0, 4) === 'OggS' ||
    (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0)
  )
    return 'audio';
  if (ascii(0, 4) === '\x1aE\xdf\xa3') return 'video';
  return looksLikeText(bytes) ? 'text' : undefined;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** "BM", four reserved zero bytes at 6..9, and a pixel-data offset past the headers: text rarely has all three. */
function isBmp(b: Buffer): boolean {
  if (b.length < 14 || b.toString('latin1', 0, 2) !== 'BM') return false;
  const offset = b.readUInt32LE(10);
  return b.readUInt32LE(6) === 0 && offset >= 26 && offset < 1 << 20;
}

function looksLikeText(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, 4096));
    return !bytes.subarray(0, 4096).includes(0);
  } catch {
    return false;
  }
}

const EXTENSIONS: Record<string, InputType> = {
  jpg: 'image',
  jpeg: 'image',
  png: 'image',
  gif: 'image',
  webp: 'image',
  bmp: 'image',
  tif: 'image',
  tiff: 'image',
  avif: 'image',
  wav: 'audio',
  mp3: 'audio',
  flac: 'audio',
  ogg: 'audio',
  m4a: 'audio',
  mp4: 'video',
  mov: 'video',
  webm: 'video',
  mkv: 'video',
  avi: 'video',
  txt: 'text',
  md: 'text',
  csv: 'text',
  json: 'text',
};

/** Guesses from a URL's or path's extension. */
export function inputTypeFromName(name: string): InputType | undefined {
  const path = name.split(/[?#]/)[0] ?? '';
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  return ext ? EXTENSIONS[ext] : undefined;
}
