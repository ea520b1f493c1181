/** WAV files built in code for tests: every PCM and float flavour the decoder reads. */
export type WavFlavour = 'u8' | 's16' | 's24' | 's32' | 'f32' | 'f64';

export interface WavOptions {
  flavour?: WavFlavour;
  sampleRate?: number;
  /** WAVE_FORMAT_EXTENSIBLE header (40-byte fmt chunk with a SubFormat GUID). */
  extensible?: boolean;
  /** Extra chunks before the data chunk (LIST, odd-sized, ...), to test chunk walking. */
  extraChunks?: { id: string; body: Uint8Array }[];
}

const BITS: Record<WavFlavour, number> = { u8: 8, s16: 16, s24: 24, s32: 32, f32: 32, f64: 64 };

/** channels[c][i] in [-1, 1]. */
export function makeWav(channels: Float32Array[] | Float64Array[], opts: WavOptions = {}): Buffer {
  const flavour = opts.flavour ?? 's16';
  const rate = opts.sampleRate ?? 16_000;
  const bits = BITS[flavour];
  const width = bits / 8;
  const float = flavour === 'f32' || flavour === 'f64';
  const n = channels[0]!.length;
  const count = channels.length;
  const fmtSize = opts.extensible ? 40 : 16;
  const extra = (opts.extraChunks ?? []).map(({ id, body }) => {
    const chunk = Buffer.alloc(8 + body.length + (body.length & 1));
    chunk.write(id, 0, 'ascii');
    chunk.writeUInt32LE(body.length, 4);
    chunk.set(body, 8);
    return chunk;
  });
  const data = Buffer.alloc(n * count * width);
  let at = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < count; c++, at += width) {
      const v = channels[c]![i]!;
      switch (flavour) {
        case 'u8':
          data.writeUInt8(Math.max(0, Math.min(255, Math.round(v * 128 + 128))), at);
          break;
        case 's16':
          data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32768))), at);
          break;
        case 's24':
          data.writeIntLE(Math.max(-8388608, Math.min(8388607, Math.round(v * 8388608))), at, 3);
          break;
        case 's32':
          data.writeInt32LE(Math.max(-2147483648, Math.min(2147483647, Math.round(v * 2147483648))), at);
          break;
        case 'f32':
          data.writeFloatLE(v, at);
          break;
        case 'f64':
          data.writeDoubleLE(v, at);
          break;
      }
    }
  }
  const fmt = Buffer.alloc(8 + fmtSize);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(fmtSize, 4);
  fmt.writeUInt16LE(opts.extensible ? 0xfffe : float ? 3 : 1, 8);
  fmt.writeUInt16LE(count, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate * count * width, 16);
  fmt.writeUInt16LE(count * width, 20);
  fmt.writeUInt16LE(bits, 22);
  if (opts.extensible) {
    fmt.writeUInt16LE(22, 24); // cbSize
    fmt.writeUInt16LE(bits, 26); // valid bits
    fmt.writeUInt32LE(count === 1 ? 0x4 : 0x3, 28); // channel mask
    // SubFormat GUID: format code, then 0000-0010-8000-00aa00389b71
    fmt.writeUInt16LE(float ? 3 : 1, 32);
    Buffer.from('000000001000800000aa00389b71', 'hex').copy(fmt, 34);
  }
  const head = Buffer.alloc(12);
  const body = Buffer.concat([fmt, ...extra, Buffer.from('data'), u32(data.length), data]);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(4 + body.length, 4);
  head.write('WAVE', 8, 'ascii');
  return Buffer.concat([head, body]);
}

/** A raw 16-bit little-endian mono PCM file (pocketsphinx's goforward.raw) wrapped as a WAV. */
export function rawS16ToWav(raw: Uint8Array, sampleRate: number): Buffer {
  const samples = new Float32Array(Math.floor(raw.length / 2));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
  return makeWav([samples], { sampleRate });
}

export function sine(freq: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}
