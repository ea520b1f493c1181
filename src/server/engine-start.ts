import { createEngine, findBuiltInModel, type Engine, type EngineOptions } from '../engine/index.js';

export interface StartEngineOptions extends EngineOptions {
  /** A model the caller is about to use: it starts loading in a worker at once. */
  preload?: { userId: string; appId: string; modelId: string };
}

/**
 * Creates the engine and, for a built-in model about to be used, starts loading it in its worker
 * straight away. Kept apart from open.ts so the embedded transport can start it before importing
 * fastify and the store: the worker's imports and weights then load while this thread does that.
 */
export function startEngine(opts: StartEngineOptions): Engine {
  const { preload, ...options } = opts;
  const engine = createEngine(options);
  const builtin = preload && findBuiltInModel(preload.userId, preload.appId, preload.modelId);
  if (builtin) engine.load(builtin).catch(() => undefined); // the request itself reports failures
  return engine;
}
