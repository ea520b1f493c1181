import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import type { Data, InferenceParams } from '../../src/core/wire.js';
import {
  createEngine,
  findBuiltInModel,
  missingRequirement,
  type Engine,
  type ModelSpec,
} from '../../src/engine/index.js';
import { decodeAudio, resample } from '../../src/engine/media/audio.js';
import { makeWav, rawS16ToWav } from '../helpers/wav.js';

// Real recordings from Debian's pocketsphinx-testdata (scripts/fetch-audio.sh), real weights.
const AUDIO = new URL('../fixtures/audio/', import.meta.url);
const fixture = (name: string) => readFile(new URL(name, AUDIO));
const POCKETSPHINX = spawnSync('sh', ['-c', 'command -v pocketsphinx_continuous']).status === 0;

interface Segment {
  id: string;
  data: Data;
  time_info: { begin_time: number; end_time: number };
}
const segmentsOf = (data: Data) => (data as Data & { time_segments: Segment[] }).time_segments;

/** Word error rate: word-level edit distance over the reference's length. */
function wordErrorRate(reference: string, hypothesis: string): number {
  const ref = reference.toLowerCase().split(/\s+/).filter(Boolean);
  const hyp = hypothesis.toLowerCase().split(/\s+/).filter(Boolean);
  let row = hyp.map((_, j) => j + 1);
  row.unshift(0);
  for (let i = 1; i <= ref.length; i++) {
    const next = [i];
    for (let j = 1; j <= hyp.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[hyp.length]! / ref.length;
}

/** Seeded noise, so the "low noise" input is the same on every run. */
function noise(n: number, amplitude: number): Float32Array {
  let seed = 12345;
  return Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return amplitude * (seed / 0x3fffffff - 1);
  });
}

let engine: Engine;
let vad: ModelSpec;
let asr: ModelSpec;
let goforward: Buffer;
let austen: Buffer;
let reference: string;

before(async () => {
  const fetched = spawnSync('bash', [new URL('../../scripts/fetch-audio.sh', import.meta.url).pathname], {
    stdio: 'inherit',
  });
  assert.equal(fetched.status, 0, 'scripts/fetch-audio.sh failed');
  goforward = rawS16ToWav(await fixture('goforward.raw'), 16_000);
  austen = await fixture('austen-0920.wav');
  const transcripts = (await fixture('librivox-transcription')).toString();
  reference = /<s> (.*) <\/s> \(sense_and_sensibility_01_austen_64kb-0920\)/.exec(transcripts)![1]!;
  engine = createEngine({ workers: 1, warmUp: false });
  vad = findBuiltInModel('clarifai', 'main', 'voice-activity-detection')!;
  asr = findBuiltInModel('clarifai', 'main', 'speech-recognition')!;
});

after(() => engine?.close());

const audio = (bytes: Uint8Array) => ({ type: 'audio' as const, bytes });

describe('voice-activity-detection (Silero VAD v5 on onnxruntime-node)', () => {
  const detect = async (bytes: Uint8Array, params?: InferenceParams) =>
    segmentsOf((await engine.predict(vad, [audio(bytes)], { params }))[0]!);

  it('finds the speech in a real recording, placed where it was put', async () => {
    // 1 s of silence, "go forward ten meters", 1.5 s of silence
    const speech = (await decodeAudio(goforward)).samples;
    const padded = new Float32Array(16_000 + speech.length + 24_000);
    padded.set(speech, 16_000);
    const segments = await detect(makeWav([padded]));
    assert.ok(segments.length >= 1, 'no speech found');
    const speechEnd = 1 + speech.length / 16_000;
    for (const s of segments) {
      assert.ok(
        s.time_info.begin_time >= 1 - 0.05,
        `segment starts at ${s.time_info.begin_time} s, in the silence`,
      );
      assert.ok(
        s.time_info.end_time <= speechEnd + 0.1,
        `segment ends at ${s.time_info.end_time} s, in the silence`,
      );
      assert.ok(s.time_info.end_time > s.time_info.begin_time);
      const [concept] = s.data.concepts!;
      assert.equal(concept!.id, 'speech');
      assert.ok(concept!.value >= 0.5 && concept!.value <= 1, `speech probability ${concept!.value}`);
    }
    // the words take most of the clip between its own leading and trailing quiet
    const covered = segments.reduce((sum, s) => sum + s.time_info.end_time - s.time_info.begin_time, 0);
    assert.ok(covered > 1.2, `only ${covered} s of speech found`);
  });

  it('covers a LibriVox sentence, also from 44.1 kHz stereo (resampled on decode)', async () => {
    const native = await detect(austen);
    assert.ok(native.length >= 1);
    const samples = (await decodeAudio(austen)).samples;
    const duration = samples.length / 16_000;
    const covered = native.reduce((sum, s) => sum + s.time_info.end_time - s.time_info.begin_time, 0);
    assert.ok(covered > duration * 0.6, `${covered} s of ${duration} s`);
    const up = resample(samples, 16_000, 44_100);
    const stereo = await detect(makeWav([up, up], { sampleRate: 44_100, flavour: 'f32' }));
    assert.equal(stereo.length, native.length);
    stereo.forEach((s, i) => {
      assert.ok(Math.abs(s.time_info.begin_time - native[i]!.time_info.begin_time) < 0.1);
      assert.ok(Math.abs(s.time_info.end_time - native[i]!.time_info.end_time) < 0.1);
    });
  });

  it('finds nothing in silence or low noise', async () => {
    assert.deepEqual(await detect(makeWav([new Float32Array(32_000)])), []);
    assert.deepEqual(await detect(makeWav([noise(48_000, 0.01)])), []);
  });

  it('honours its params', async () => {
    assert.deepEqual(await detect(austen, { min_speech_ms: 60_000 }), []);
    const padded = await detect(austen, { speech_pad_ms: 300 });
    const plain = await detect(austen, { speech_pad_ms: 0 });
    assert.ok(padded[0]!.time_info.begin_time <= plain[0]!.time_info.begin_time);
    await assert.rejects(engine.predict(vad, [audio(austen)], { params: { threshold: 2 } }), /threshold/);
  });
});

describe('speech-recognition (pocketsphinx)', () => {
  const missing = 'pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)';
  // in CI (which installs it) a missing pocketsphinx fails rather than skips
  if (!POCKETSPHINX && (process.env.CI === 'true' || process.env.CI === '1')) {
    it('has pocketsphinx in CI', () => assert.fail(missing));
  }
  const skip = POCKETSPHINX ? false : missing;
  const transcribe = async (bytes: Uint8Array, params?: InferenceParams) =>
    (await engine.predict(asr, [audio(bytes)], { params }))[0]!.text!.raw!;

  it('transcribes "go forward ten meters"', { skip }, async () => {
    const text = await transcribe(goforward);
    // measured: exact. One word of four may slip on another build of the decoder.
    assert.ok(wordErrorRate('go forward ten meters', text) <= 0.25, text);
  });

  it(
    'transcribes a LibriVox sentence close to its reference, from 16 kHz or 44.1 kHz stereo',
    { skip },
    async () => {
      // Measured: 4 errors in 19 words (WER 0.21). The package's own expected output for this clip
      // (librivox/test-lm.match) has 3: a small generic 3-gram LM on 64 kbps MP3-sourced audio.
      // 0.35 leaves room for decoder builds without letting a broken pipeline (noise: WER ~1) pass.
      const text = await transcribe(austen);
      assert.ok(wordErrorRate(reference, text) <= 0.35, `"${text}" vs "${reference}"`);
      const samples = (await decodeAudio(austen)).samples;
      const up = resample(samples, 16_000, 44_100);
      const resampled = await transcribe(makeWav([up, up], { sampleRate: 44_100, flavour: 's24' }));
      assert.ok(wordErrorRate(reference, resampled) <= 0.35, `"${resampled}" vs "${reference}"`);
    },
  );

  it('refuses translate and languages other than English, saying why', { skip }, async () => {
    await assert.rejects(transcribe(goforward, { task: 'translate' }), /cannot translate/);
    await assert.rejects(transcribe(goforward, { language: 'fr' }), /only the US English/);
    assert.ok((await transcribe(goforward, { task: 'transcribe', language: 'en' })).includes('forward'));
  });

  it('is refused, with the install command, when pocketsphinx is not on PATH', () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      assert.match(missingRequirement(asr)!, /apt-get install pocketsphinx pocketsphinx-en-us/);
      assert.equal(missingRequirement(vad), undefined);
      assert.throws(
        () => engine.check(asr, ['audio']),
        (error: unknown) =>
          error instanceof SibylError &&
          error.code === StatusCode.MODEL_NOT_DEPLOYED &&
          /pocketsphinx_continuous.*not installed.*`apt-get install pocketsphinx pocketsphinx-en-us`/.test(
            error.message,
          ),
      );
    } finally {
      process.env.PATH = saved;
    }
    if (POCKETSPHINX) assert.equal(missingRequirement(asr), undefined);
  });
});
