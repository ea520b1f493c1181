import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError, LimitError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { decodeAudio, resample, sniffAudio } from '../../src/engine/media/audio.js';
import type { ModelSpec } from '../../src/engine/spec.js';
import { decodeInput } from '../../src/engine/worker/decode.js';
import { makeWav, sine, type WavFlavour } from '../helpers/wav.js';

/** Power of a signal at one frequency (a single DFT bin, Goertzel-style), normalised to amplitude. */
function amplitudeAt(x: Float32Array, freq: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    const a = (2 * Math.PI * freq * i) / rate;
    re += x[i]! * Math.cos(a);
    im -= x[i]! * Math.sin(a);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

/** The strongest frequency in 10 Hz steps over a range. */
function peakFrequency(x: Float32Array, rate: number, from: number, to: number): number {
  let best = from;
  let bestAmp = -1;
  for (let f = from; f <= to; f += 10) {
    const a = amplitudeAt(x, f, rate);
    if (a > bestAmp) [best, bestAmp] = [f, a];
  }
  return best;
}

function rms(x: Float32Array, skip = 0): number {
  let s = 0;
  for (let i = skip; i < x.length - skip; i++) s += x[i]! ** 2;
  return Math.sqrt(s / (x.length - 2 * skip));
}

const refused =
  (pattern: RegExp, type: typeof InvalidArgumentError | typeof LimitError = InvalidArgumentError) =>
  (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.match((error as Error).message, pattern);
    return true;
  };

describe('WAV decoding', () => {
  const tone = sine(440, 16_000, 0.25);
  const tolerance: Record<WavFlavour, number> = {
    u8: 1 / 127,
    s16: 1 / 32000,
    s24: 1e-6,
    s32: 1e-7,
    f32: 1e-7,
    f64: 1e-7,
  };

  for (const flavour of Object.keys(tolerance) as WavFlavour[]) {
    for (const extensible of [false, true]) {
      it(`reads ${flavour}${extensible ? ' (WAVE_FORMAT_EXTENSIBLE)' : ''} samples exactly`, async () => {
        const audio = await decodeAudio(makeWav([tone], { flavour, extensible }));
        assert.equal(audio.sampleRate, 16_000);
        assert.equal(audio.samples.length, tone.length);
        let worst = 0;
        for (let i = 0; i < tone.length; i++) worst = Math.max(worst, Math.abs(audio.samples[i]! - tone[i]!));
        assert.ok(worst <= tolerance[flavour], `${flavour}: off by ${worst}`);
      });
    }
  }

  it('skips other chunks (odd-sized ones padded) before the data', async () => {
    const wav = makeWav([tone], {
      extraChunks: [
        { id: 'LIST', body: new Uint8Array(7) },
        { id: 'fact', body: new Uint8Array(4) },
      ],
    });
    const audio = await decodeAudio(wav);
    assert.equal(audio.samples.length, tone.length);
    assert.ok(Math.abs(audio.samples[100]! - tone[100]!) < 1e-4);
  });

  it('mixes any number of channels down to mono', async () => {
    const left = sine(440, 16_000, 0.1);
    const right = left.map((v) => -v);
    const cancelled = await decodeAudio(makeWav([left, right], { flavour: 'f32' }));
    assert.ok(rms(cancelled.samples) < 1e-7);
    const n = 1600;
    const constants = [0.5, 0.25, -0.15].map((v) => new Float32Array(n).fill(v));
    const three = await decodeAudio(makeWav(constants, { flavour: 's24', extensible: true }));
    assert.ok(Math.abs(three.samples[800]! - 0.2) < 1e-5);
    const six = await decodeAudio(makeWav([...constants, ...constants], { flavour: 's16' }));
    assert.ok(Math.abs(six.samples[0]! - 0.2) < 1e-4);
  });

  it('clips float samples out of range and NaNs', async () => {
    const audio = await decodeAudio(makeWav([Float32Array.from([2, -3, NaN, 0.5])], { flavour: 'f32' }));
    assert.deepEqual([...audio.samples], [1, -1, 0, 0.5]);
  });

  it('hands the model the rate its spec asks for (decode.ts)', async () => {
    const spec = { audioSampleRate: 8000 } as ModelSpec;
    const decoded = await decodeInput(spec, { type: 'audio', bytes: makeWav([tone]) }, 1e6);
    assert.equal(decoded.type, 'audio');
    if (decoded.type !== 'audio') return;
    assert.equal(decoded.audio.sampleRate, 8000);
    assert.equal(decoded.audio.samples.length, tone.length / 2);
  });
});

describe('resampling (Kaiser-windowed sinc)', () => {
  for (const [from, to, freq] of [
    [48_000, 16_000, 1000],
    [44_100, 16_000, 3000],
    [8_000, 16_000, 440],
    [22_050, 16_000, 5000],
    [16_000, 44_100, 6000],
  ] as const) {
    it(`keeps a ${freq} Hz tone at ${freq} Hz and its level from ${from} to ${to} Hz`, async () => {
      const audio = await decodeAudio(
        makeWav([sine(freq, from, 0.5)], { sampleRate: from, flavour: 'f32' }),
        {
          sampleRate: to,
        },
      );
      assert.equal(audio.sampleRate, to);
      assert.ok(Math.abs(audio.samples.length - to * 0.5) <= 1);
      assert.equal(peakFrequency(audio.samples, to, freq - 200, freq + 200), freq);
      // 0.5 amplitude is 0.354 RMS; edges (filter half-width) skipped
      assert.ok(
        Math.abs(rms(audio.samples, 200) - 0.5 / Math.SQRT2) < 0.01,
        `rms ${rms(audio.samples, 200)}`,
      );
    });
  }

  it('removes what lies above the new Nyquist frequency instead of folding it back (anti-aliasing)', () => {
    // 12 kHz at 48 kHz would alias to 4 kHz at 16 kHz with plain decimation or linear interpolation
    const out = resample(sine(12_000, 48_000, 0.5), 48_000, 16_000);
    assert.ok(rms(out, 100) < 0.005, `alias left at rms ${rms(out, 100)}`);
    assert.ok(amplitudeAt(out, 4000, 16_000) < 0.005);
    // inside the passband (6 kHz) stays
    const kept = resample(sine(6000, 48_000, 0.5), 48_000, 16_000);
    assert.ok(rms(kept, 100) > 0.33);
  });
});

describe('audio refusals', () => {
  it('refuses empty input', async () => {
    await assert.rejects(decodeAudio(new Uint8Array(0)), refused(/audio input is empty/));
  });

  it('refuses a truncated WAV, naming the sizes', async () => {
    const wav = makeWav([sine(440, 16_000, 0.1)]);
    await assert.rejects(decodeAudio(wav.subarray(0, 10)), refused(/truncated/));
    await assert.rejects(
      decodeAudio(wav.subarray(0, wav.length - 100)),
      refused(/truncated: its data chunk says 3200 bytes but 3100 follow/),
    );
    await assert.rejects(decodeAudio(wav.subarray(0, 30)), refused(/fmt chunk is truncated or corrupt/));
  });

  it('refuses corrupt headers', async () => {
    const wav = makeWav([sine(440, 16_000, 0.1)]);
    const badAlign = Buffer.from(wav);
    badAlign.writeUInt16LE(3, 32);
    await assert.rejects(decodeAudio(badAlign), refused(/corrupt: block align 3 for 1 x 16-bit/));
    const noFmt = Buffer.from(wav);
    noFmt.write('junk', 12, 'ascii');
    await assert.rejects(decodeAudio(noFmt), refused(/data chunk comes before its fmt chunk/));
    const adpcm = Buffer.from(wav);
    adpcm.writeUInt16LE(2, 20);
    await assert.rejects(decodeAudio(adpcm), refused(/format code 2 \(compressed\)/));
    const bits12 = Buffer.from(wav);
    bits12.writeUInt16LE(12, 34);
    await assert.rejects(decodeAudio(bits12), refused(/12-bit PCM samples; allowed: 8, 16, 24, 32 bits/));
    const zeroRate = Buffer.from(wav);
    zeroRate.writeUInt32LE(0, 24);
    await assert.rejects(decodeAudio(zeroRate), refused(/sample rate 0 Hz is outside/));
    const noSamples = makeWav([new Float32Array(0)]);
    await assert.rejects(decodeAudio(noSamples), refused(/no samples/));
  });

  it('refuses audio over 10 minutes from its header, naming the limit', async () => {
    // 601 s of 8-bit 8 kHz audio: 4.8 MB
    const long = makeWav([new Float32Array(601 * 8000)], { flavour: 'u8', sampleRate: 8000 });
    await assert.rejects(
      decodeAudio(long),
      refused(/audio is 601\.0 s long; the limit is 600 s \(10 minutes\)/, LimitError),
    );
    const short = makeWav([sine(440, 16_000, 2)]);
    await assert.rejects(decodeAudio(short, { maxSeconds: 1 }), refused(/the limit is 1 s/, LimitError));
    await assert.rejects(
      decodeAudio(short, { maxBytes: 1000 }),
      (error: unknown) =>
        error instanceof LimitError &&
        error.code === StatusCode.REQUEST_TOO_LARGE &&
        /audio is 64044 bytes; the limit is 1000 bytes/.test(error.message),
    );
  });

  it('names the format and the install command for compressed audio without ffmpeg', async () => {
    const inputs: [string, number[]][] = [
      ['mp3', [0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, 0, 0]],
      ['ogg', [0x4f, 0x67, 0x67, 0x53, 0, 2, 0, 0, 0, 0, 0, 0]],
      ['flac', [0x66, 0x4c, 0x61, 0x43, 0, 0, 0, 0x22, 0, 0, 0, 0]],
      ['webm', [0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0]],
      ['m4a', [0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, 0x4d, 0x34, 0x41, 0x20]],
    ];
    for (const [format, bytes] of inputs) {
      assert.equal(sniffAudio(Uint8Array.from(bytes)), format);
      await assert.rejects(
        decodeAudio(Uint8Array.from(bytes), { ffmpeg: false }),
        refused(
          new RegExp(
            `this audio is ${format}; only WAV is decoded without ffmpeg: install it with \`apt-get install ffmpeg\``,
          ),
        ),
      );
    }
    await assert.rejects(
      decodeAudio(Buffer.from('hello, not audio'), { ffmpeg: false }),
      refused(/this audio is in an unknown format; only WAV/),
    );
  });
});

describe("ffmpeg decoding (a stand-in program with ffmpeg's pipes)", () => {
  let dir: string;
  const script = async (name: string, body: string) => {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  };
  const ogg = Buffer.from('OggS\0\x02 some ogg bytes');

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sibyl-ffmpeg-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads f32le samples from its stdout at the asked rate, on one thread', async () => {
    // 0.25 s of zeros at 8 kHz; the stand-in checks it was asked for mono f32le at 8000 Hz, decoded
    // and filtered on one thread (the worker's one core), and fails otherwise
    const ffmpeg = await script(
      'ok',
      'case "$*" in *"-filter_threads 1 -threads 1 -i pipe:0 -f f32le -ac 1 -ar 8000 pipe:1"*) cat >/dev/null; exec head -c 8000 /dev/zero;; esac; exit 3',
    );
    const audio = await decodeAudio(ogg, { ffmpeg, sampleRate: 8000 });
    assert.equal(audio.sampleRate, 8000);
    assert.equal(audio.samples.length, 2000);
  });

  it('stops it past the duration limit and on abort', async () => {
    const endless = await script('endless', 'cat >/dev/null; exec cat /dev/zero');
    await assert.rejects(
      decodeAudio(ogg, { ffmpeg: endless, maxSeconds: 1 }),
      refused(/the limit is 1 s/, LimitError),
    );
    const slow = await script('slow', 'exec sleep 30');
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(decodeAudio(ogg, { ffmpeg: slow, signal: abort.signal }), { name: 'AbortError' });
  });

  it('reports its failure with the end of its stderr', async () => {
    const failing = await script(
      'failing',
      'cat >/dev/null; echo "pipe:0: Invalid data found when processing input" >&2; exit 1',
    );
    await assert.rejects(
      decodeAudio(ogg, { ffmpeg: failing }),
      refused(/ffmpeg could not decode this audio: pipe:0: Invalid data found/),
    );
  });
});
