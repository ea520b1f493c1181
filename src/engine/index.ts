/** The engine's public surface: the server and the embedded transport import only from here. */
export {
  createEngine,
  defaultWorkers,
  DEFAULT_IDLE_UNLOAD_MS,
  DEFAULT_MAX_QUEUED_INPUTS,
  type Engine,
  type EngineOptions,
  type Prediction,
  type Stage,
  type StageTiming,
} from './engine.js';
export { BUILT_IN_MODELS, findBuiltInModel, modelKey, type ModelKey } from './registry.js';
export {
  checkSpec,
  modelName,
  versionKey,
  type BatchingSettings,
  type ModelSpec,
  type RuntimeSettings,
} from './spec.js';
export { REMOTE_RUNTIME_KINDS, runtimeKinds } from './runtimes/index.js';
export { missingRequirement } from './requirements.js';
export { CONFIG_FILE, listFolderFiles, readFolderVisibility, readModelFolder } from './folder.js';
export type { SchedulerStatus, LoadedModelStatus } from './scheduler.js';
export {
  DEFAULT_MAX_CONCEPTS,
  applyOutputConfig,
  resolveOutputConfig,
  type ResolvedOutputConfig,
} from './output-config.js';
export { validateParams } from './params.js';
export { DEFAULT_MAX_IMAGE_PIXELS } from './media/image-limits.js';
export type {
  DecodedImage,
  DecodedInput,
  EngineInput,
  LoadedModel,
  LoadOptions,
  ParamSpec,
  PredictOptions,
  Runtime,
  GenerateChunk,
  TokenUsage,
} from './types.js';
export {
  MODEL_TYPE_PARAMS,
  TEXT_GENERATION_PARAMS,
  TRANSCRIPTION_PARAMS,
  modelTypeParams,
} from './generation-params.js';
