import type { Data, InferenceParams } from '../../core/wire.js';
import type { ModelSpec } from '../spec.js';
import type { EngineInput, GenerateChunk, TokenUsage } from '../types.js';
import type { WireError } from './errors.js';

/** Messages between the engine (main thread) and one worker thread. Plain data: structured clone. */

export interface WorkerSettings {
  /** Images with more pixels are refused before decoding. */
  maxImagePixels: number;
  /** Warm each model up once after loading it. */
  warmUp: boolean;
}

export type ToWorker =
  | { op: 'run'; job: number; spec: ModelSpec; inputs: EngineInput[]; params: InferenceParams }
  /** Streams one input's generation as `chunk` messages, then `generated`. */
  | { op: 'generate'; job: number; spec: ModelSpec; input: EngineInput; params: InferenceParams }
  | { op: 'validate'; job: number; spec: ModelSpec }
  | { op: 'load'; job: number; spec: ModelSpec }
  | { op: 'unload'; job: number; key: string }
  | { op: 'abort'; job: number };

/** One input's result: its data (and the tokens it took, for generation), or why that input alone failed. */
export type Outcome = { data: Data; usage?: TokenUsage } | { error: WireError };

export interface RunTimings {
  /** Present when this job had to load the model first. */
  loadMs?: number;
  decodeMs: number;
  predictMs: number;
}

export type FromWorker =
  | { op: 'ran'; job: number; outcomes: Outcome[]; timings: RunTimings; bytes: number }
  /** A piece of a generation; the job is not over until `generated` or `failed`. */
  | { op: 'chunk'; job: number; chunk: GenerateChunk }
  | { op: 'generated'; job: number; timings: RunTimings; bytes: number }
  | { op: 'validated'; job: number; spec: ModelSpec }
  | { op: 'loaded'; job: number; bytes: number; ms: number }
  | { op: 'unloaded'; job: number }
  /** The job failed as a whole. `fatal`: the worker's state cannot be trusted (a wasm trap); restart it. */
  | { op: 'failed'; job: number; error: WireError; fatal: boolean; dropped?: string };
