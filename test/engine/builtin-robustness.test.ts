/**
 * Every built-in model, fed what a careless or hostile client sends: corrupt, truncated and empty
 * images, a PNG whose header claims 50 megapixels, bytes of the wrong kind, inputs of the wrong
 * type, audio in no known format, text over the limit, binary bytes as text. Each must be a clear
 * 4xx-class SibylError (InvalidArgumentError or LimitError) with no stack trace or install path in
 * its message; afterwards every model still answers a good input correctly. Real weights.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { BusyError, InvalidArgumentError, LimitError, SibylError } from '../../src/core/errors.js';
import { decodeTextBytes } from '../../src/core/text-bytes.js';
import type { Data } from '../../src/core/wire.js';
import {
  BUILT_IN_MODELS,
  createEngine,
  type Engine,
  type EngineInput,
  type ModelSpec,
} from '../../src/engine/index.js';
import { missingRequirement } from '../../src/engine/requirements.js';
import { makeWav, rawS16ToWav } from '../helpers/wav.js';

const fixture = (path: string) => readFile(new URL(`../fixtures/${path}`, import.meta.url));

let engine: Engine;
let dogs: Buffer;
let astronaut: Buffer;
let pngBytes: Buffer;
let speech: Buffer;

before(async () => {
  engine = createEngine({ workers: 2, warmUp: false });
  dogs = await fixture('photos/dogs.jpg');
  astronaut = await fixture('photos/astronaut.png');
  pngBytes = await fixture('photos/chelsea.png');
  speech = rawS16ToWav(await fixture('audio/goforward.raw'), 16_000);
});
after(() => engine?.close());

/** Deterministic bytes that are no known format (a linear congruential generator). */
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  // never a JPEG/PNG/WAV/... signature by chance
  out[0] = 0x42;
  return out;
}

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A valid tiny PNG whose IHDR (CRC fixed) claims width x height: a decompression bomb's header. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } })
      .png()
      .toBuffer(),
  );
  // signature (8), IHDR length (4), "IHDR" (4), width, height, ...; CRC over type + data (17 bytes)
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A WAV header that says it holds `seconds` of audio with only a little of it (a truncated file). */
function wavClaiming(seconds: number): Buffer {
  const wav = makeWav([new Float32Array(1600)]);
  const dataBytes = seconds * 16_000 * 2;
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.writeUInt32LE(dataBytes, 40);
  return wav;
}

/** A real WAV of `seconds` of silence, kept small: 8-bit samples at 1 kHz. */
const longWav = (seconds: number) =>
  makeWav([new Float32Array(seconds * 1000)], { flavour: 'u8', sampleRate: 1000 });

const image = (bytes: Uint8Array): EngineInput => ({ type: 'image', bytes });
const audio = (bytes: Uint8Array): EngineInput => ({ type: 'audio', bytes });

const ABSOLUTE_PATH = /(^|[\s('"=:])\/(usr|work|home|tmp|opt|root|var|srv|app|[\w.-]+\/[\w.-]+\/)/;

/** A refusal a client can act on: 4xx-class, and nothing of the server's insides in its text. */
function assertClientError(error: unknown, what: string): void {
  assert.ok(error instanceof SibylError, `${what}: not a SibylError: ${String(error)}`);
  assert.ok(
    (error instanceof InvalidArgumentError || error instanceof LimitError) && !(error instanceof BusyError),
    `${what}: ${error.constructor.name} ${error.message}`,
  );
  for (const text of [error.message, error.description, error.details ?? '']) {
    assert.doesNotMatch(text, ABSOLUTE_PATH, `${what}: a path in ${text}`);
    assert.ok(!text.includes('node_modules'), `${what}: node_modules in ${text}`);
    assert.ok(!text.includes('    at '), `${what}: a stack trace in ${text}`);
  }
}

/** Sends the inputs in requests of up to 64 and checks every outcome is a client error. */
async function assertAllRefused(spec: ModelSpec, inputs: EngineInput[], what: string): Promise<number> {
  const requests = [];
  for (let i = 0; i < inputs.length; i += 64) {
    requests.push(
      engine.predictEach(spec, inputs.slice(i, i + 64)).then((outcomes) =>
        outcomes.forEach((o, j) => {
          assert.ok(
            o instanceof SibylError,
            `${spec.id} ${what} #${i + j} was answered: ${JSON.stringify(o)}`,
          );
          assertClientError(o, `${spec.id} ${what} #${i + j}`);
        }),
      ),
    );
  }
  await Promise.all(requests);
  return inputs.length;
}

/** The whole call refused up front (wrong type, over a limit checked before queueing). */
async function assertCallRefused(spec: ModelSpec, inputs: EngineInput[], what: string, pattern: RegExp) {
  await assert.rejects(engine.predictEach(spec, inputs), (error: unknown) => {
    assertClientError(error, `${spec.id} ${what}`);
    assert.match((error as Error).message, pattern);
    return true;
  });
}

function badImages(): EngineInput[] {
  const out: EngineInput[] = [image(new Uint8Array(0))];
  for (let i = 0; i < 60; i++) out.push(image(noise(16 + i * 97, i + 1)));
  for (const src of [dogs, pngBytes]) {
    for (let k = 1; k < 40; k++) out.push(image(src.subarray(0, Math.floor((src.length * k) / 40))));
  }
  out.push(image(speech), image(Buffer.from('just some text, not an image')));
  return out;
}

function badAudio(): EngineInput[] {
  const out: EngineInput[] = [audio(new Uint8Array(0)), audio(wavClaiming(2 * 3600))];
  // truncated WAV headers and bodies: refused by the WAV reader, no ffmpeg
  for (let k = 1; k < 44; k += 2) out.push(audio(speech.subarray(0, k)));
  // a RIFF/WAVE header followed by garbage chunks: refused by the WAV reader
  for (let i = 0; i < 150; i++) {
    const body = noise(40 + i * 13, 1000 + i);
    const head = Buffer.from('RIFF\0\0\0\0WAVE', 'latin1');
    head.writeUInt32LE(body.length + 4, 4);
    out.push(audio(Buffer.concat([head, body])));
  }
  // unknown formats: each one costs an ffmpeg run (~0.1 s), so only a few
  for (let i = 0; i < 6; i++) out.push(audio(noise(500 + i * 300, 100 + i)));
  out.push(audio(dogs));
  return out;
}

const available = Object.values(BUILT_IN_MODELS).filter((spec) => !missingRequirement(spec));

describe('built-in models refuse bad inputs clearly and keep working', () => {
  let refused = 0;

  it('every built-in states its input limits', () => {
    for (const spec of Object.values(BUILT_IN_MODELS)) {
      assert.ok(spec.limits && Object.keys(spec.limits).length > 0, `${spec.id} has no limits`);
      assert.match(spec.description, /Input limit: /, spec.id);
    }
  });

  for (const spec of available.filter((s) => s.inputType === 'image')) {
    it(`${spec.id}: corrupt, truncated, empty, wrong-kind and 50-megapixel images`, async () => {
      refused += await assertAllRefused(spec, badImages(), 'bad image');
      const bomb = await pngClaiming(10_000, 5_000);
      refused += await assertAllRefused(spec, [image(bomb)], '50-megapixel PNG');
      await assert.rejects(engine.predict(spec, [image(bomb)]), (error: unknown) => {
        assert.ok(error instanceof LimitError);
        assert.match(error.message, /10000x5000 \(50000000 pixels\); the limit is \d+ pixels/);
        return true;
      });
      await assertCallRefused(
        spec,
        [{ type: 'text', text: 'a dog' }],
        'text',
        /takes image inputs, got text/,
      );
      await assertCallRefused(spec, [audio(speech)], 'audio', /takes image inputs, got audio/);
    });
  }

  for (const spec of available.filter((s) => s.inputType === 'audio')) {
    it(`${spec.id}: empty, truncated, too long, unknown-format and wrong-type audio`, async () => {
      refused += await assertAllRefused(spec, badAudio(), 'bad audio');
      await assertCallRefused(spec, [image(dogs)], 'image', /takes audio inputs, got image/);
    });
  }

  it('language-identification: empty, oversized, wrong-type and binary-as-text inputs', async () => {
    const spec = BUILT_IN_MODELS['clarifai/main/language-identification']!;
    const blanks: EngineInput[] = Array.from({ length: 100 }, (_, i) => ({
      type: 'text',
      text: ' \n\t'.repeat(i % 5),
    }));
    refused += await assertAllRefused(spec, blanks, 'blank text');
    for (let i = 0; i < 50; i++) {
      await assertCallRefused(
        spec,
        [{ type: 'text', text: 'x'.repeat(100_001 + i * 10_000) }],
        'oversized text',
        /at most 100000 characters/,
      );
    }
    await assertCallRefused(spec, [image(dogs)], 'image', /takes text inputs, got image/);
    // bytes that reach a text model as a file: refused where the server turns bytes into text
    for (const [bytes, pattern] of [
      [dogs, /looks like a JPEG image/],
      [pngBytes, /looks like a PNG image/],
      [speech, /looks like a WAV audio file/],
      [Buffer.from('Bonjour tout le monde', 'utf16le'), /UTF-16 \(little-endian\)/],
      [noise(4000, 7), /binary data/],
    ] as const) {
      assert.throws(
        () => decodeTextBytes(bytes, 'inputs[0].data.text'),
        (error: unknown) => {
          assertClientError(error, 'binary as text');
          assert.match((error as Error).message, pattern);
          return true;
        },
      );
    }
    refused += 50;
  });

  it('language-identification answers correctly after 200 texts of 100 kB', async () => {
    const spec = BUILT_IN_MODELS['clarifai/main/language-identification']!;
    const big = (i: number): EngineInput => ({
      type: 'text',
      text: `${i} Das ist ein kleiner Hund, der gerne im Garten spielt. 東京は日本の首都です。 `
        .repeat(1400)
        .slice(0, 100_000),
    });
    for (let i = 0; i < 200; i += 25) {
      const out = await engine.predict(
        spec,
        Array.from({ length: 25 }, (_, j) => big(i + j)),
      );
      assert.equal(out.length, 25);
    }
    const [data] = await engine.predict(spec, [{ type: 'text', text: 'The weather is lovely today' }]);
    assert.equal(data!.concepts![0]!.id, 'en', JSON.stringify(data!.concepts));
  });

  it('after hundreds of refusals every model still answers a good input correctly', async () => {
    assert.ok(refused > 500, `only ${refused} bad inputs were sent`);
    const checks: Record<string, [EngineInput, (data: Data) => void]> = {
      'general-image-recognition': [
        image(dogs),
        (d) =>
          assert.ok(
            d.concepts!.some((c) => c.name === 'dog'),
            JSON.stringify(d.concepts),
          ),
      ],
      'general-image-detection': [
        image(dogs),
        (d) => assert.ok(d.regions!.some((r) => r.data.concepts![0]!.name === 'dog')),
      ],
      'nsfw-recognition': [image(dogs), (d) => assert.equal(d.concepts![0]!.name, 'neutral')],
      'face-detection': [image(astronaut), (d) => assert.equal(d.regions!.length, 1)],
      'face-embedding': [
        image(astronaut),
        (d) => assert.equal(d.regions![0]!.data.embeddings![0]!.vector.length, 128),
      ],
      'ocr-english': [
        image(await textImage('Robust models answer')),
        (d) => assert.equal(d.text!.raw, 'Robust models answer'),
      ],
      'language-identification': [
        { type: 'text', text: 'Where is the railway station, please?' },
        (d) => assert.equal(d.concepts![0]!.id, 'en'),
      ],
      'voice-activity-detection': [audio(speech), (d) => assert.ok(d.time_segments!.length >= 1)],
      'speech-recognition': [audio(speech), (d) => assert.match(d.text!.raw!, /forward/)],
    };
    await Promise.all(
      available.map(async (spec) => {
        const check = checks[spec.id];
        assert.ok(check, `no good input for ${spec.id}`);
        const [data] = await engine.predict(spec, [check[0]]);
        check[1](data!);
      }),
    );
  });

  it('audio over its limit is refused from the header, before decoding', async () => {
    const spec = available.find((s) => s.id === 'voice-activity-detection')!;
    await assert.rejects(engine.predict(spec, [audio(longWav(601))]), (error: unknown) => {
      assertClientError(error, 'long audio');
      assert.ok(error instanceof LimitError);
      assert.match(error.message, /601\.0 s long; the limit is 600 s/);
      return true;
    });
    // and a spec's own, tighter limit is the one applied
    const tight: ModelSpec = { ...spec, versionId: 'tight', limits: { maxAudioSeconds: 10 } };
    await assert.rejects(engine.predict(tight, [audio(longWav(11))]), /11\.0 s long; the limit is 10 s/);
  });
});

async function textImage(line: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="120"><rect width="100%" height="100%" fill="white"/><text x="40" y="70" font-family="DejaVu Sans" font-size="40">${line}</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
