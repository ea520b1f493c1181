import type { Data, InferenceParams, InputType, OutputConfig } from '../core/wire.js';
import type { ModelSpec } from './spec.js';

/**
 * What the engine is given per input: media already fetched to bytes by the caller. A media input
 * may carry a text beside it (Clarifai's multimodal inputs: an image and a prompt in one input).
 */
export type EngineInput =
  | { type: 'text'; text: string }
  | { type: 'image' | 'audio'; bytes: Uint8Array; text?: string }
  /** sampleMs: output_config.sample_ms, set by the engine (frames are sampled in the worker). */
  | { type: 'video'; bytes: Uint8Array; text?: string; sampleMs?: number };

/** An image decoded to packed 8-bit RGB, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** Audio decoded to mono float samples in [-1, 1] at the rate the model asked for (spec.audioSampleRate). */
export interface DecodedAudio {
  sampleRate: number;
  samples: Float32Array;
}

/**
 * What a model's hooks receive for each input, by the model's input type. Models that send media
 * on as it came (remote engines) set `LoadedModel.encodedInputs` and get `encoded` inputs.
 */
export type DecodedInput =
  | { type: 'text'; text: string }
  | { type: 'image'; image: DecodedImage }
  | { type: 'audio'; audio: DecodedAudio }
  | { type: 'encoded'; media: 'image' | 'audio' | 'video'; bytes: Uint8Array; text?: string };

/** Tokens a generation read and wrote, as Clarifai's Output reports them. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * One piece of a streamed generation: `data.text.raw` holds the new text only. The last chunk
 * carries the usage and why generation stopped (its text may be empty).
 */
export interface GenerateChunk {
  data: Data;
  usage?: TokenUsage;
  finishReason?: 'stop' | 'length';
}

/** One allowed inference parameter. Plain data: it travels inside a ModelSpec. */
export interface ParamSpec {
  /** `strings`: a list of strings (a single string is taken as a list of one), e.g. stop sequences. */
  type: 'number' | 'integer' | 'string' | 'boolean' | 'strings';
  description: string;
  default?: number | string | boolean | readonly string[];
  min?: number;
  max?: number;
  enum?: readonly string[];
}

export interface LoadOptions {
  /**
   * Run one throw-away prediction after loading so the first real one is not slower than the rest.
   * A server wants it; a one-shot CLI run does not (it would run the network twice).
   */
  warmUp?: boolean;
}

/** A model once loaded: the runtime holds its weights until `unload`. */
export interface LoadedModel {
  /**
   * Turns a batch of decoded inputs into v2 `data`, one per input, in order. The signal fires when
   * every caller waiting for this batch has gone; a runtime that can stop early should.
   */
  predict?(batch: DecodedInput[], params: InferenceParams, signal?: AbortSignal): Promise<Data[]>;
  /**
   * Streams partial outputs for one input (text generation). When the signal fires the runtime
   * stops generating and ends the iteration (or throws); it must not keep the CPU busy.
   */
  generate?(input: DecodedInput, params: InferenceParams, signal?: AbortSignal): AsyncIterable<GenerateChunk>;
  /** Hand media inputs over undecoded (`encoded`): a remote engine wants the original file. */
  encodedInputs?: boolean;
  /** About how many bytes the loaded model holds, for the engine's memory budget. */
  bytes?: number;
  unload(): Promise<void>;
}

/**
 * A way of running models (a network format, a library, a remote engine). One file in runtimes/
 * and one line in the RUNTIMES table. Instances live in a worker thread and hold whatever state
 * their models share there (a wasm backend, a network two models lease).
 */
export interface Runtime {
  /**
   * Checks a model version's files completely before it is registered: files exist, weights
   * load, input shape matches the preprocessing, labels match the output width. Throws an
   * InvalidArgumentError that names what is wrong. May fill in facts it learned (concepts from
   * labels.txt), returned as the spec to store.
   */
  validate?(spec: ModelSpec): Promise<ModelSpec>;
  load(spec: ModelSpec, opts: LoadOptions): Promise<LoadedModel>;
}

export type RuntimeFactory = () => Promise<Runtime>;

export interface PredictOptions {
  params?: InferenceParams;
  outputConfig?: OutputConfig;
  /** The caller has gone: drop its inputs from the queue (and stop its batch if nobody else waits). */
  signal?: AbortSignal;
}

export type { InputType };
