import { faceDetection } from './models/face-detection.js';
import { faceEmbedding } from './models/face-embedding.js';
import { generalImageDetection } from './models/general-image-detection.js';
import { generalImageRecognition } from './models/general-image-recognition.js';
import { languageIdentification } from './models/language-identification.js';
import { nsfwRecognition } from './models/nsfw-recognition.js';
import { ocrEnglish } from './models/ocr-english.js';
import { speechRecognition } from './models/speech-recognition.js';
import { voiceActivityDetection } from './models/voice-activity-detection.js';
import type { ModelSpec } from './spec.js';

export type ModelKey = `${string}/${string}/${string}`;

export function modelKey(userId: string, appId: string, modelId: string): ModelKey {
  return `${userId}/${appId}/${modelId}`;
}

/**
 * Every built-in model, keyed `user/app/model`. A built-in model is a spec like any uploaded one;
 * adding one is a file in models/ and a line here (a test checks each key matches its spec's ids).
 * The server writes these into the store at start-up.
 */
export const BUILT_IN_MODELS: Readonly<Record<ModelKey, ModelSpec>> = {
  'clarifai/main/general-image-recognition': generalImageRecognition,
  'clarifai/main/general-image-detection': generalImageDetection,
  'clarifai/main/language-identification': languageIdentification,
  'clarifai/main/nsfw-recognition': nsfwRecognition,
  'clarifai/main/ocr-english': ocrEnglish,
  'clarifai/main/face-detection': faceDetection,
  'clarifai/main/face-embedding': faceEmbedding,
  'clarifai/main/voice-activity-detection': voiceActivityDetection,
  'clarifai/main/speech-recognition': speechRecognition,
};

export function findBuiltInModel(userId: string, appId: string, modelId: string): ModelSpec | undefined {
  const key = modelKey(userId, appId, modelId);
  return Object.hasOwn(BUILT_IN_MODELS, key) ? BUILT_IN_MODELS[key] : undefined;
}
