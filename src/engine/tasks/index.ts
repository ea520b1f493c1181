import type { TaskAdapter } from './types.js';
import { textEmbedder } from './text-embedder.js';
import { visualClassifier } from './visual-classifier.js';
import { visualDetector } from './visual-detector.js';
import { visualEmbedder } from './visual-embedder.js';

/**
 * Task adapters by `model_type_id`, shared by every tensor runtime (onnx, tfjs). Adding a task is a
 * file in this folder and a line here.
 */
export const TASKS: Readonly<Record<string, TaskAdapter>> = {
  'visual-classifier': visualClassifier,
  'visual-detector': visualDetector,
  'visual-embedder': visualEmbedder,
  'text-embedder': textEmbedder,
};

export function findTask(modelTypeId: string): TaskAdapter | undefined {
  return Object.hasOwn(TASKS, modelTypeId) ? TASKS[modelTypeId] : undefined;
}

export function taskIds(): string[] {
  return Object.keys(TASKS);
}

export type { TaskAdapter };
