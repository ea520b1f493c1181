/** The engine's public surface: the server and the embedded transport import only from here. */
export { createEngine, type Engine, type EngineOptions, type Stage, type StageTiming } from './engine.js';
export { BUILT_IN_MODELS, findBuiltInModel, modelKey, type ModelKey } from './registry.js';
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
  ModelDefinition,
  ParamSpec,
  PredictOptions,
} from './types.js';
