import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { Data, InferenceParams } from '../../core/wire.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedAudio, DecodedInput, LoadedModel, Runtime } from '../types.js';
import { runProgram } from '../media/program.js';

/** Where Debian's pocketsphinx-en-us puts the US English acoustic model, language model and dictionary. */
export const DEBIAN_EN_US = '/usr/share/pocketsphinx/model/en-us';
export const POCKETSPHINX_COMMAND = 'pocketsphinx_continuous';
export const POCKETSPHINX_INSTALL = 'apt-get install pocketsphinx pocketsphinx-en-us';
/** The en-us acoustic model is trained on 16 kHz speech. */
export const POCKETSPHINX_SAMPLE_RATE = 16_000;
/** Decoding runs at ~0.1-0.3x real time on one core; this is far past that. */
const TIMEOUT_BASE_MS = 30_000;
const TIMEOUT_PER_AUDIO_SECOND_MS = 2_000;

/**
 * CMU PocketSphinx 5prealpha (Debian's pocketsphinx, BSD) run as a child process per input:
 * `runtime: {kind: pocketsphinx, model_dir?}`. The decoded samples are written as a 16 kHz mono
 * 16-bit WAV to a private temp folder, `pocketsphinx_continuous -infile` decodes it with the
 * en-us acoustic model, the generic 3-gram language model and CMUdict, and its stdout (one line
 * per utterance) is the transcript. Its logs go to /dev/null: they never reach a client.
 */
export class PocketSphinxRuntime implements Runtime {
  load(spec: ModelSpec): Promise<LoadedModel> {
    const dir = typeof spec.runtime.model_dir === 'string' ? spec.runtime.model_dir : DEBIAN_EN_US;
    const files = { hmm: 'en-us', lm: 'en-us.lm.bin', dict: 'cmudict-en-us.dict' };
    for (const file of Object.values(files)) {
      if (!existsSync(path.join(dir, file))) {
        throw new InvalidArgumentError(
          `pocketsphinx's model file ${path.join(dir, file)} is missing; install it with \`${POCKETSPHINX_INSTALL}\``,
          StatusCode.MODEL_INVALID_ARGUMENT,
        );
      }
    }
    const command = spec.requires?.command ?? POCKETSPHINX_COMMAND;
    const args = ['-hmm', files.hmm, '-lm', files.lm, '-dict', files.dict].map((a, i) =>
      i % 2 ? path.join(dir, a) : a,
    );
    return Promise.resolve({
      async predict(batch, params, signal) {
        checkParams(params);
        const out: Data[] = [];
        for (const input of batch) {
          const text = await transcribe(command, args, audioOf(input), signal);
          out.push({ text: { raw: text } });
        }
        return out;
      },
      // the process's memory is its own; the worker holds only paths
      bytes: 0,
      unload: () => Promise.resolve(),
    });
  }
}

function checkParams(params: InferenceParams): void {
  if (params.task === 'translate') {
    throw new InvalidArgumentError(
      'task "translate" is not available: pocketsphinx recognises English speech only and cannot translate; use task "transcribe"',
      StatusCode.MODEL_INVALID_ARGUMENT,
    );
  }
  const language = params.language;
  if (typeof language === 'string' && !/^en([-_]|$)/i.test(language)) {
    throw new InvalidArgumentError(
      `language "${language}" is not available: this model has only the US English (en) acoustic and language models`,
      StatusCode.MODEL_INVALID_ARGUMENT,
    );
  }
}

function audioOf(input: DecodedInput): DecodedAudio {
  if (input.type !== 'audio') throw new Error(`expected decoded audio, got ${input.type}`);
  if (input.audio.sampleRate !== POCKETSPHINX_SAMPLE_RATE) {
    throw new Error(
      `pocketsphinx takes ${POCKETSPHINX_SAMPLE_RATE} Hz audio, got ${input.audio.sampleRate} Hz`,
    );
  }
  return input.audio;
}

async function transcribe(
  command: string,
  args: string[],
  audio: DecodedAudio,
  signal?: AbortSignal,
): Promise<string> {
  signal?.throwIfAborted();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sibyl-pocketsphinx-'));
  try {
    const file = path.join(dir, 'input.wav');
    await writeFile(file, wav16(audio));
    const timeout = TIMEOUT_BASE_MS + (audio.samples.length / audio.sampleRate) * TIMEOUT_PER_AUDIO_SECOND_MS;
    const stdout = await run(command, ['-infile', file, ...args, '-logfn', '/dev/null'], timeout, signal);
    return stdout
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .join(' ');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the decoder and returns what it printed; stderr is read only to say why it failed. */
async function run(
  command: string,
  args: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  const chunks: Buffer[] = [];
  await runProgram({
    command,
    args,
    timeoutMs,
    ...(signal ? { signal } : {}),
    onOutput: (chunk) => {
      chunks.push(chunk);
      return undefined;
    },
    errors: {
      timedOut: () =>
        new Error(`pocketsphinx took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`),
      aborted: () => (signal?.reason instanceof Error ? signal.reason : new Error('aborted')),
      failed: (stderr, code) =>
        new Error(`pocketsphinx failed: ${stderr.split('\n').slice(-1)[0] || `exit code ${code}`}`),
    },
  });
  return Buffer.concat(chunks).toString('utf8');
}

/** 16-bit PCM mono WAV of float samples (clipped to [-1, 1]). */
export function wav16(audio: DecodedAudio): Buffer {
  const n = audio.samples.length;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(audio.sampleRate, 24);
  b.writeUInt32LE(audio.sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const v = Math.max(-1, Math.min(1, audio.samples[i]!));
    b.writeInt16LE(Math.round(v * 32767), 44 + i * 2);
  }
  return b;
}
