import { LimitError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { DecodedAudio } from '../types.js';
import { FFMPEG_INSTALL, findFfmpeg, mediaError as invalid, runFfmpeg } from './ffmpeg.js';

/** What audio models hear unless their spec says otherwise (spec.audioSampleRate). */
export const DEFAULT_AUDIO_SAMPLE_RATE = 16_000;
/** Longer audio is refused before its samples are decoded: 10 minutes is ~38 MB of floats at 16 kHz. */
export const MAX_AUDIO_SECONDS = 600;
/** Encoded bytes accepted (10 minutes of 48 kHz stereo 24-bit WAV is 173 MB). */
export const MAX_AUDIO_BYTES = 200 * 1024 * 1024;

export interface AudioDecodeOptions {
  /** The rate to resample to (default 16000). */
  sampleRate?: number;
  maxSeconds?: number;
  maxBytes?: number;
  /** Stops an ffmpeg decode (the process is killed). */
  signal?: AbortSignal;
  /** Where to look for ffmpeg (default: PATH); tests point it elsewhere. */
  ffmpeg?: string | false;
}

/**
 * Decodes audio to mono float samples at the requested rate. WAV (every PCM and float flavour,
 * WAVE_FORMAT_EXTENSIBLE too) is parsed here; other formats go through Debian's ffmpeg when it is
 * installed. Limits (bytes, then duration from the header) are checked before any sample is read.
 */
export async function decodeAudio(bytes: Uint8Array, opts: AudioDecodeOptions = {}): Promise<DecodedAudio> {
  const rate = opts.sampleRate ?? DEFAULT_AUDIO_SAMPLE_RATE;
  const maxSeconds = opts.maxSeconds ?? MAX_AUDIO_SECONDS;
  const maxBytes = opts.maxBytes ?? MAX_AUDIO_BYTES;
  if (bytes.length === 0) throw invalid('the audio input is empty (0 bytes)');
  if (bytes.length > maxBytes) {
    throw new LimitError(
      StatusCode.REQUEST_TOO_LARGE,
      'Audio too large',
      `audio is ${bytes.length} bytes; the limit is ${maxBytes} bytes`,
    );
  }
  const format = sniffAudio(bytes);
  if (format === 'wav') {
    const wav = parseWav(bytes);
    const seconds = wav.frames / wav.sampleRate;
    if (seconds > maxSeconds) throw tooLong(seconds, maxSeconds);
    return { sampleRate: rate, samples: resample(readMono(bytes, wav), wav.sampleRate, rate) };
  }
  const ffmpeg = findFfmpeg(opts.ffmpeg);
  if (!ffmpeg) {
    throw invalid(
      `this audio is ${format ?? 'in an unknown format'}; only WAV is decoded without ffmpeg: install it with \`${FFMPEG_INSTALL}\``,
    );
  }
  const samples = await decodeWithFfmpeg(ffmpeg, bytes, rate, maxSeconds, opts.signal);
  if (samples.length === 0) throw invalid(`ffmpeg found no audio samples in this ${format ?? 'input'}`);
  return { sampleRate: rate, samples };
}

/** The container by its magic bytes; undefined when it is none we know. */
export function sniffAudio(b: Uint8Array): string | undefined {
  const ascii = (at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
  // a RIFF too short to say WAVE is taken as a truncated WAV, so the refusal says so
  if (ascii(0, 4) === 'RIFF' && (b.length < 12 || ascii(8, 4) === 'WAVE')) return 'wav';
  // read by ffmpeg only: big-endian and 64-bit WAV are rare enough not to parse here
  if (ascii(0, 4) === 'RIFX') return 'big-endian WAV (RIFX)';
  if (ascii(0, 4) === 'RF64') return 'RF64 WAV';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (ascii(0, 3) === 'ID3' || (b[0] === 0xff && b.length > 1 && (b[1]! & 0xe0) === 0xe0)) {
    // an ADTS AAC header is 0xFFF1/0xFFF9; MPEG audio is the rest
    return b[0] === 0xff && (b[1]! & 0xf6) === 0xf0 ? 'aac' : 'mp3';
  }
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'webm';
  if (ascii(4, 4) === 'ftyp') return 'm4a';
  if (ascii(0, 4) === 'FORM' && ascii(8, 4).startsWith('AIF')) return 'aiff';
  if (ascii(0, 4) === '.snd') return 'au';
  return undefined;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

interface WavLayout {
  float: boolean;
  bits: number;
  channels: number;
  sampleRate: number;
  /** Byte offset of the sample data and how many whole frames it holds. */
  dataOffset: number;
  frames: number;
}

/** Reads a WAV's chunks, refusing what is not a little-endian RIFF of PCM or float samples. */
export function parseWav(b: Uint8Array): WavLayout {
  if (b.length < 12) throw invalid(`the WAV file is truncated (${b.length} bytes; a header alone is 44)`);
  if (String.fromCharCode(...b.subarray(0, 4)) !== 'RIFF') throw invalid('this is not a RIFF WAV file');
  if (String.fromCharCode(...b.subarray(8, 12)) !== 'WAVE') throw invalid('this RIFF file is not WAVE audio');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let fmt: Omit<WavLayout, 'dataOffset' | 'frames'> | undefined;
  let blockAlign = 0;
  for (let at = 12; at + 8 <= b.length;) {
    const id = String.fromCharCode(...b.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > b.length) throw invalid('the WAV fmt chunk is truncated or corrupt');
      let code = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      blockAlign = view.getUint16(body + 12, true);
      const bits = view.getUint16(body + 14, true);
      if (code === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40) throw invalid('the WAV fmt chunk says WAVE_FORMAT_EXTENSIBLE but is too short');
        // the first two bytes of the SubFormat GUID are the format code
        code = view.getUint16(body + 24, true);
      }
      if (code !== WAVE_FORMAT_PCM && code !== WAVE_FORMAT_IEEE_FLOAT) {
        throw invalid(
          `this WAV holds format code ${code} (compressed); only PCM (1) and IEEE float (3) WAV is read without ffmpeg`,
        );
      }
      const float = code === WAVE_FORMAT_IEEE_FLOAT;
      const allowed = float ? [32, 64] : [8, 16, 24, 32];
      if (!allowed.includes(bits)) {
        throw invalid(
          `this WAV has ${bits}-bit ${float ? 'float' : 'PCM'} samples; allowed: ${allowed.join(', ')} bits`,
        );
      }
      if (channels < 1) throw invalid('the WAV header says 0 channels');
      if (sampleRate < 1000 || sampleRate > 384_000) {
        throw invalid(`the WAV header's sample rate ${sampleRate} Hz is outside 1000-384000 Hz`);
      }
      if (blockAlign !== channels * (bits / 8)) {
        throw invalid(
          `the WAV header is corrupt: block align ${blockAlign} for ${channels} x ${bits}-bit samples`,
        );
      }
      fmt = { float, bits, channels, sampleRate };
    } else if (id === 'data') {
      if (!fmt) throw invalid('the WAV data chunk comes before its fmt chunk');
      // Streamed WAVs write 0 or 0xFFFFFFFF as the size; take what is there then.
      const declared = size === 0 || size === 0xffffffff ? b.length - body : size;
      const available = Math.min(declared, b.length - body);
      if (declared > b.length - body && size !== 0 && size !== 0xffffffff) {
        throw invalid(
          `the WAV file is truncated: its data chunk says ${declared} bytes but ${b.length - body} follow`,
        );
      }
      const frames = Math.floor(available / blockAlign);
      if (frames === 0) throw invalid('the WAV file has no samples');
      return { ...fmt, dataOffset: body, frames };
    }
    at = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw invalid(
    fmt ? 'the WAV file has no data chunk (truncated?)' : 'the WAV file has no fmt chunk (corrupt header)',
  );
}

/** Every channel averaged into one, as floats in [-1, 1]. */
function readMono(b: Uint8Array, wav: WavLayout): Float32Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const { channels, frames, bits, float } = wav;
  const width = bits / 8;
  const read: (at: number) => number = float
    ? bits === 32
      ? (at) => view.getFloat32(at, true)
      : (at) => view.getFloat64(at, true)
    : bits === 8
      ? (at) => (view.getUint8(at) - 128) / 128
      : bits === 16
        ? (at) => view.getInt16(at, true) / 32768
        : bits === 24
          ? (at) =>
              (view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8388608
          : (at) => view.getInt32(at, true) / 2147483648;
  const out = new Float32Array(frames);
  let at = wav.dataOffset;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, at += width) sum += read(at);
    const v = sum / channels;
    // float WAVs may hold NaN or overs; keep the models' input in range
    out[i] = v > 1 ? 1 : v < -1 ? -1 : v === v ? v : 0;
  }
  return out;
}

/** Zero crossings of the sinc on each side: with the Kaiser window, a narrow transition band. */
const SINC_ZEROS = 16;
/** Kernel table resolution (points per zero crossing), interpolated linearly between points. */
const TABLE_STEPS = 512;
/** The cut-off as a fraction of the lower Nyquist frequency: room for the filter's transition band. */
const CUTOFF = 0.95;
const KERNEL = kaiserSincTable(8.6);

/**
 * Band-limited resampling: a Kaiser-windowed sinc (beta 8.6, 16 zero crossings each side), its
 * cut-off at 95% of the lower Nyquist frequency. Downsampling 44.1/48 kHz to 16 kHz with plain
 * linear interpolation would fold everything above 8 kHz (sibilants, hiss) back into the speech
 * band; this filter removes it first. Measured 48 -> 16 kHz: flat to 6.5 kHz (-0.02 dB), -0.8 dB
 * at 7 kHz, -35 dB at 8.5 kHz, below -85 dB from 9 kHz; upsampling gets no images either. The
 * kernel is tabulated once, so the cost is ~32 x (input/output rate) multiply-adds per output
 * sample: about 0.4 s per minute of 48 kHz audio on one core.
 */
export function resample(input: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return input;
  const ratio = to / from;
  const outLength = Math.floor(input.length * ratio);
  const out = new Float32Array(outLength);
  // below 1 when downsampling: the filter widens (in input samples) and its cut-off drops
  const scale = Math.min(1, ratio) * CUTOFF;
  const half = SINC_ZEROS / scale; // half width in input samples
  const step = 1 / ratio;
  for (let i = 0; i < outLength; i++) {
    const t = i * step;
    const lo = Math.max(0, Math.ceil(t - half));
    const hi = Math.min(input.length - 1, Math.floor(t + half));
    let sum = 0;
    for (let j = lo; j <= hi; j++) {
      const pos = Math.abs(t - j) * scale * TABLE_STEPS;
      const k = pos | 0;
      if (k >= KERNEL.length - 1) continue;
      const w = KERNEL[k]! + (KERNEL[k + 1]! - KERNEL[k]!) * (pos - k);
      sum += input[j]! * w;
    }
    out[i] = sum * scale;
  }
  return out;
}

/** sinc(x) * kaiser(x / SINC_ZEROS) for x in [0, SINC_ZEROS], TABLE_STEPS points per unit. */
function kaiserSincTable(beta: number): Float32Array {
  const n = SINC_ZEROS * TABLE_STEPS + 2;
  const table = new Float32Array(n);
  const i0beta = besselI0(beta);
  for (let k = 0; k < n; k++) {
    const x = k / TABLE_STEPS;
    const r = x / SINC_ZEROS;
    const window = r >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0beta;
    table[k] = (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)) * window;
  }
  return table;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/**
 * Decodes through ffmpeg: bytes in on stdin, mono f32le at the rate out on stdout. Output past the
 * duration limit, the timeout or the caller's abort kill it (media/ffmpeg.ts).
 */
async function decodeWithFfmpeg(
  command: string,
  bytes: Uint8Array,
  rate: number,
  maxSeconds: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const maxOut = Math.ceil(maxSeconds * rate) * 4;
  const chunks: Buffer[] = [];
  let outBytes = 0;
  await runFfmpeg({
    command,
    args: ['-i', 'pipe:0', '-f', 'f32le', '-ac', '1', '-ar', String(rate), 'pipe:1'],
    stdin: bytes,
    what: 'audio',
    ...(signal ? { signal } : {}),
    onOutput: (chunk) => {
      outBytes += chunk.length;
      if (outBytes > maxOut) return tooLong(undefined, maxSeconds);
      chunks.push(chunk);
      return undefined;
    },
  });
  const all = Buffer.concat(chunks);
  const samples = new Float32Array(Math.floor(all.length / 4));
  for (let i = 0; i < samples.length; i++) samples[i] = all.readFloatLE(i * 4);
  return samples;
}

function tooLong(seconds: number | undefined, maxSeconds: number): LimitError {
  const length = seconds === undefined ? 'longer than that' : `${seconds.toFixed(1)} s long`;
  return new LimitError(
    StatusCode.REQUEST_TOO_LARGE,
    'Audio too long',
    `audio is ${length}; the limit is ${maxSeconds} s (${maxSeconds / 60} minutes)`,
  );
}
