import type { Data, InferenceParams, InputType, OutputConfig } from '../core/wire.js';

/** What the engine is given per input: media already fetched to bytes by the caller. */
export type EngineInput =
  { type: 'text'; text: string } | { type: 'image' | 'audio' | 'video'; bytes: Uint8Array };

/** An image decoded to packed 8-bit RGB, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** What a model's `predict` hook receives for each input, by the model's input type. */
export type DecodedInput = { type: 'text'; text: string } | { type: 'image'; image: DecodedImage };

/** One allowed inference parameter. */
export interface ParamSpec {
  type: 'number' | 'integer' | 'string' | 'boolean';
  description: string;
  default?: number | string | boolean;
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
  /** Turns a batch of decoded inputs into v2 `data`, one per input, in order. */
  predict(batch: DecodedInput[], params: InferenceParams): Promise<Data[]>;
  unload(): Promise<void>;
}

/**
 * A built-in model: one file in engine/models/ plus one line in the registry table.
 * The engine owns loading once, decoding media, validating params and applying output_config.
 */
export interface ModelDefinition {
  id: string;
  userId: string;
  appId: string;
  /** Fixed, so a model's version id is the same on every machine and every start. */
  versionId: string;
  name: string;
  modelTypeId: string;
  description: string;
  inputType: InputType;
  params: Readonly<Record<string, ParamSpec>>;
  /** For image models: the largest side the model looks at; images are shrunk to it when decoded. */
  imageSize?: number;
  /** The concept names the model can output, when it has a fixed label set. */
  concepts?: readonly string[];
  load(opts?: LoadOptions): Promise<LoadedModel>;
}

export interface PredictOptions {
  params?: InferenceParams;
  outputConfig?: OutputConfig;
}
