import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { Data } from '../../core/wire.js';
import { MAIN_APP_ID } from '../models/owner.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedAudio, DecodedInput, LoadedModel, Runtime } from '../types.js';
import { createOnnxSession } from './onnx.js';
import { packageDir } from './package-dir.js';

/** Silero VAD v5 reads 512 new samples at 16 kHz per call (32 ms)... */
export const VAD_SAMPLE_RATE = 16_000;
const FRAME = 512;
/** ...plus the last 64 of the previous frame, so an onset across a frame boundary is seen whole. */
const CONTEXT = 64;
/** Its LSTM state, carried from frame to frame: [2, 1, 128]. */
const STATE_SIZE = 2 * 128;
/** How often (in frames, ~1 s) a long input checks whether its caller has gone. */
const ABORT_CHECK_FRAMES = 32;

/** One stretch of speech, in samples, and the network's mean speech probability over it. */
export interface SpeechSegment {
  start: number;
  end: number;
  probability: number;
}

export interface SegmentOptions {
  threshold: number;
  minSpeechMs: number;
  minSilenceMs: number;
  speechPadMs: number;
}

/**
 * Silero VAD v5 (snakers4/silero-vad, MIT; the ONNX file shipped in @ricky0123/vad-web) on
 * onnxruntime-node: `runtime: {kind: silero-vad}`. It is driven as vad-web and silero's own
 * `OnnxWrapper` drive it: 512-sample frames at 16 kHz with a 64-sample context and the LSTM state
 * carried over, reset per input. Frame probabilities become segments as silero's
 * `get_speech_timestamps` does (start at `threshold`, end after `min_silence_ms` below
 * `threshold - 0.15`, drop segments under `min_speech_ms`, pad by `speech_pad_ms`).
 */
export class SileroVadRuntime implements Runtime {
  async load(spec: ModelSpec): Promise<LoadedModel> {
    if ((spec.audioSampleRate ?? VAD_SAMPLE_RATE) !== VAD_SAMPLE_RATE) {
      throw new Error(
        `silero-vad takes ${VAD_SAMPLE_RATE} Hz audio; the spec asks for ${spec.audioSampleRate} Hz`,
      );
    }
    const file = path.join(packageDir('@ricky0123/vad-web'), 'dist', 'silero_vad_v5.onnx');
    const { ort, session } = await createOnnxSession(file);
    const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);
    let released: Promise<void> | undefined;
    return {
      async predict(batch, params, signal) {
        const options: SegmentOptions = {
          threshold: params.threshold as number,
          minSpeechMs: params.min_speech_ms as number,
          minSilenceMs: params.min_silence_ms as number,
          speechPadMs: params.speech_pad_ms as number,
        };
        const out: Data[] = [];
        for (const input of batch) {
          const audio = audioOf(input);
          const probs = await frameProbabilities(ort, session, sr, audio.samples, signal);
          out.push(segmentsData(speechSegments(probs, audio.samples.length, options), audio));
        }
        return out;
      },
      // 2.3 MB of weights and a small arena
      bytes: 8 * 1024 * 1024,
      unload: () => (released ??= session.release()),
    };
  }
}

function audioOf(input: DecodedInput): DecodedAudio {
  if (input.type !== 'audio') throw new Error(`expected decoded audio, got ${input.type}`);
  return input.audio;
}

/** The network's speech probability for each whole 512-sample frame (a short tail is zero-padded). */
async function frameProbabilities(
  ort: typeof Ort,
  session: Ort.InferenceSession,
  sr: Ort.Tensor,
  samples: Float32Array,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const frames = Math.ceil(samples.length / FRAME);
  const probs = new Float32Array(frames);
  let state: Ort.Tensor = new ort.Tensor('float32', new Float32Array(STATE_SIZE), [2, 1, 128]);
  const window = new Float32Array(CONTEXT + FRAME);
  for (let f = 0; f < frames; f++) {
    if (f % ABORT_CHECK_FRAMES === 0) signal?.throwIfAborted();
    // slide: the previous frame's last 64 samples become this frame's context
    window.copyWithin(0, FRAME, FRAME + CONTEXT);
    const frame = samples.subarray(f * FRAME, (f + 1) * FRAME);
    window.fill(0, CONTEXT);
    window.set(frame, CONTEXT);
    const input = new ort.Tensor('float32', window.slice(), [1, CONTEXT + FRAME]);
    const out = await session.run({ input, state, sr });
    input.dispose();
    state.dispose();
    state = out.stateN as Ort.Tensor;
    probs[f] = (out.output as Ort.Tensor).data[0] as number;
    out.output?.dispose();
  }
  state.dispose();
  return probs;
}

/** Silero's get_speech_timestamps over frame probabilities; positions in samples. */
export function speechSegments(probs: Float32Array, length: number, o: SegmentOptions): SpeechSegment[] {
  const perMs = VAD_SAMPLE_RATE / 1000;
  const minSpeech = o.minSpeechMs * perMs;
  const minSilence = o.minSilenceMs * perMs;
  const pad = Math.round(o.speechPadMs * perMs);
  const negative = Math.max(o.threshold - 0.15, 0.01);
  const found: { start: number; end: number }[] = [];
  let start = -1;
  let tempEnd = 0;
  for (let f = 0; f < probs.length; f++) {
    const p = probs[f]!;
    const at = f * FRAME;
    if (p >= o.threshold && tempEnd) tempEnd = 0;
    if (p >= o.threshold && start < 0) {
      start = at;
      continue;
    }
    if (p < negative && start >= 0) {
      if (!tempEnd) tempEnd = at;
      if (at - tempEnd < minSilence) continue;
      if (tempEnd - start > minSpeech) found.push({ start, end: tempEnd });
      start = -1;
      tempEnd = 0;
    }
  }
  if (start >= 0 && length - start > minSpeech) found.push({ start, end: length });
  // mean probability over the frames the segment covers, before padding
  const scored = found.map((s) => {
    const first = Math.floor(s.start / FRAME);
    const last = Math.max(first + 1, Math.ceil(s.end / FRAME));
    let sum = 0;
    for (let f = first; f < last; f++) sum += probs[f] ?? 0;
    return { ...s, probability: sum / (last - first) };
  });
  // pad each side, splitting a gap shorter than two pads between its neighbours
  for (let i = 0; i < scored.length; i++) {
    const s = scored[i]!;
    const next = scored[i + 1];
    if (i === 0) s.start = Math.max(0, s.start - pad);
    if (next) {
      const gap = next.start - s.end;
      const give = gap < 2 * pad ? Math.floor(gap / 2) : pad;
      s.end += give;
      next.start = Math.max(0, next.start - give);
    } else {
      s.end = Math.min(length, s.end + pad);
    }
  }
  return scored;
}

/**
 * Clarifai's shape for stretches of audio or video: `data.time_segments[]`, each with
 * `time_info {begin_time, end_time}` (seconds, as floats) and its concepts. These are fields of
 * resources.proto (`Data.time_segments`, `TimeSegment`, `TimeInfo`), so they cross gRPC as well.
 */
function segmentsData(segments: SpeechSegment[], audio: DecodedAudio): Data {
  const seconds = (samples: number) => Math.round((samples / audio.sampleRate) * 1000) / 1000;
  const data: Data = {
    time_segments: segments.map((s, i) => ({
      id: `speech-${i + 1}`,
      data: { concepts: [{ id: 'speech', name: 'speech', value: s.probability, app_id: MAIN_APP_ID }] },
      time_info: { begin_time: seconds(s.start), end_time: seconds(s.end) },
    })),
  };
  return data;
}
