import { SibylError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import type { InferenceParams } from '../core/wire.js';
import type { ModelSpec } from './spec.js';
import type { EngineInput, GenerateChunk } from './types.js';
import type { Outcome } from './worker/protocol.js';

/** The scheduler's queue state: what waits for a worker, per model version. */

/** One input waiting for, or running on, a worker. */
export interface Item {
  input: EngineInput;
  params: InferenceParams;
  paramsKey: string;
  enqueued: number;
  signal: AbortSignal | undefined;
  settle: (outcome: Outcome | SibylError) => void;
  settled: boolean;
  /** A generation: it runs alone, and its pieces go here as they come. */
  stream?: (chunk: GenerateChunk) => void;
  job?: Job;
}

export interface Job {
  key: string;
  items: Item[];
  number?: number;
}

/** A model version's queue and what is known of its cost. */
export class ModelQueue {
  readonly items: Item[] = [];
  running = 0;
  /** When this model was last given a worker (a counter, not a clock): the fairness order. */
  lastServed = 0;
  /** Recent service time per input in ms (moving average), for Retry-After. */
  msPerInput: number | undefined;
  constructor(public spec: ModelSpec) {}
}

/** A moving average of a model's recent cost per input. */
export function ewma(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous * 0.8 + sample * 0.2;
}

export function missing(): SibylError {
  return new SibylError(
    StatusCode.MODEL_PREDICTION_FAILED,
    'Model prediction failed',
    'the worker returned no output for this input',
  );
}
