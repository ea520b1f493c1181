import type { RuntimeFactory } from '../types.js';

/**
 * Every runtime, by `runtime.kind`. Adding one is a file in this folder and a line here. Each is
 * imported when a worker first needs it, so listing models never loads tfjs or onnxruntime.
 */
export const RUNTIMES: Readonly<Record<string, RuntimeFactory>> = {
  centernet: async () => new (await import('./centernet.js')).CenterNetRuntime(),
  cld3: async () => new (await import('./cld3.js')).Cld3Runtime(),
  'face-api': async () => new (await import('./face-api.js')).FaceApiRuntime(),
  'llama-cpp': async () => new (await import('./llama-cpp.js')).LlamaCppRuntime(),
  nsfwjs: async () => new (await import('./nsfwjs.js')).NsfwjsRuntime(),
  oip: async () => new (await import('./oip.js')).OipRuntime(),
  onnx: async () => new (await import('./onnx.js')).OnnxRuntime(),
  openai: async () => new (await import('./openai.js')).OpenAiRuntime(),
  pocketsphinx: async () => new (await import('./pocketsphinx.js')).PocketSphinxRuntime(),
  'silero-vad': async () => new (await import('./silero-vad.js')).SileroVadRuntime(),
  tesseract: async () => new (await import('./tesseract.js')).TesseractRuntime(),
  tfjs: async () => new (await import('./tfjs.js')).TfjsRuntime(),
};

/**
 * Runtimes that call another engine over the network, with a key read from this process's
 * environment (`api_key_env`): whoever configures such a model decides where that key goes.
 */
export const REMOTE_RUNTIME_KINDS: ReadonlySet<string> = new Set(['oip', 'openai']);

export function runtimeKinds(): string[] {
  return Object.keys(RUNTIMES);
}

export function findRuntime(kind: string): RuntimeFactory | undefined {
  return Object.hasOwn(RUNTIMES, kind) ? RUNTIMES[kind] : undefined;
}
