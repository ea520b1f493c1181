/**
 * Clarifai v2 REST JSON, as it appears on the wire: field names stay snake_case so that
 * documentation examples paste unchanged. Only the fields Sibyl reads or writes are typed;
 * clarifai-grpc's resources.proto is the full reference.
 */

export interface Status {
  code: number;
  description: string;
  details?: string;
  req_id?: string;
}

export interface Concept {
  id: string;
  name: string;
  value: number;
  app_id?: string;
}

export interface BoundingBox {
  top_row: number;
  left_col: number;
  bottom_row: number;
  right_col: number;
}

export interface Region {
  id: string;
  region_info: { bounding_box: BoundingBox };
  /** A region's own outputs: its concepts (maybe none), and for some models its text, embeddings or metadata. */
  data: Data & { concepts: Concept[] };
  value?: number;
}

export interface Media {
  url?: string;
  base64?: string;
  raw?: string;
}

export interface Embedding {
  vector: number[];
  num_dimensions: number;
}

export type InputType = 'text' | 'image' | 'video' | 'audio';
export const INPUT_TYPES: readonly InputType[] = ['text', 'image', 'video', 'audio'];

export interface Data {
  image?: Media;
  video?: Media;
  audio?: Media;
  text?: Media;
  concepts?: Concept[];
  regions?: Region[];
  embeddings?: Embedding[];
  /** A video's sampled frames, each with the model's outputs for it (output_config.sample_ms apart). */
  frames?: Frame[];
  /** Stretches of audio or video (speech found by voice activity detection), in seconds. */
  time_segments?: TimeSegment[];
  metadata?: Record<string, unknown>;
}

/** One sampled frame of a video (resources.proto Frame). */
export interface Frame {
  id?: string;
  /** `index`: the frame's place in the sampling; `time`: milliseconds into the video. */
  frame_info: { index: number; time: number };
  data: Data;
}

export interface TimeSegment {
  id: string;
  data: Data;
  time_info: { begin_time: number; end_time: number };
}

export interface Input {
  id?: string;
  data: Data;
  created_at?: string;
  status?: Status;
}

export interface SelectConcept {
  id?: string;
  name?: string;
}

export interface OutputConfig {
  max_concepts?: number;
  min_value?: number;
  select_concepts?: SelectConcept[];
  sample_ms?: number;
}

export type InferenceParams = Record<string, unknown>;

export interface OutputInfo {
  output_config?: OutputConfig;
  params?: InferenceParams;
  /** Each inference param the version takes: its type, default, range or choices (Clarifai's ModelTypeField). */
  params_specs?: ModelTypeField[];
  data?: Data;
  message?: string;
}

/** The field types of Clarifai's ModelTypeField that a model's inference params use. */
export type ModelTypeFieldType = 'BOOLEAN' | 'STRING' | 'NUMBER' | 'ENUM' | 'ARRAY_OF_STRINGS';

/** One inference param as Clarifai's API describes it (output_info.params_specs). */
export interface ModelTypeField {
  /** The param's key in `params` (and in inference_params). */
  path: string;
  name?: string;
  field_type: ModelTypeFieldType | string;
  default_value?: unknown;
  description?: string;
  model_type_enum_options?: { id: string; description?: string }[];
  /** Bounds; `step: 1` marks a whole number. For a list, `max` is its most items. */
  model_type_range_info?: { min?: number; max?: number; step?: number };
  required?: boolean;
}

export interface ModelVersion {
  id: string;
  created_at?: string;
  /** MODEL_TRAINED when it can run here; MODEL_NOT_DEPLOYED, with why, when it cannot. */
  status?: Status;
  output_info?: OutputInfo;
  license?: string;
}

export interface WireModel {
  id: string;
  name?: string;
  user_id?: string;
  app_id?: string;
  model_type_id?: string;
  description?: string;
  created_at?: string;
  modified_at?: string;
  visibility?: { gettable: number };
  output_info?: OutputInfo;
  model_version?: ModelVersion;
  metadata?: Record<string, unknown>;
}

export interface RunnerSelector {
  deployment?: { id: string; user_id?: string };
  nodepool?: { id: string; compute_cluster?: { id: string; user_id?: string } };
}

export interface PostModelOutputsRequest {
  inputs: Input[];
  model?: {
    model_version?: { id?: string; output_info?: OutputInfo };
    output_info?: OutputInfo;
  };
  runner_selector?: RunnerSelector;
}

export interface Output {
  id: string;
  status: Status;
  created_at: string;
  model?: WireModel;
  input?: Input;
  data: Data;
  /** Tokens a generation read and wrote (uint32 in the proto; absent for other models). */
  prompt_tokens?: number;
  completion_tokens?: number;
}

export interface MultiOutputResponse {
  status: Status;
  outputs: Output[];
}

export interface User {
  id: string;
  created_at?: string;
  first_name?: string;
  last_name?: string;
}

export interface SingleUserResponse {
  status: Status;
  user: User;
}

export interface SingleModelResponse {
  status: Status;
  model: WireModel;
}

export interface MultiModelResponse {
  status: Status;
  models: WireModel[];
}

export interface PostInputsRequest {
  inputs: Input[];
}

export interface MultiInputResponse {
  status: Status;
  inputs: Input[];
}

export interface SingleInputResponse {
  status: Status;
  input: Input;
}

export interface BaseResponse {
  status: Status;
}

/** Visibility values as Clarifai encodes them: 10 private, 50 public. */
export const Visibility = { PRIVATE: 10, PUBLIC: 50 } as const;

/** At most this many inputs per predict or upload request. */
export const MAX_INPUTS_PER_REQUEST = 128;
