import { generalImageDetection } from './models/general-image-detection.js';
import { generalImageRecognition } from './models/general-image-recognition.js';
import { languageIdentification } from './models/language-identification.js';
import type { ModelDefinition } from './types.js';

export type ModelKey = `${string}/${string}/${string}`;

export function modelKey(userId: string, appId: string, modelId: string): ModelKey {
  return `${userId}/${appId}/${modelId}`;
}

/**
 * Every built-in model, keyed `user/app/model`. Adding a model is one file in models/ and one
 * line here; a test checks each key matches its definition's ids.
 */
export const BUILT_IN_MODELS: Readonly<Record<ModelKey, ModelDefinition>> = {
  'clarifai/main/general-image-recognition': generalImageRecognition,
  'clarifai/main/general-image-detection': generalImageDetection,
  'clarifai/main/language-identification': languageIdentification,
};

export function findBuiltInModel(
  userId: string,
  appId: string,
  modelId: string,
): ModelDefinition | undefined {
  const key = modelKey(userId, appId, modelId);
  return Object.hasOwn(BUILT_IN_MODELS, key) ? BUILT_IN_MODELS[key] : undefined;
}
