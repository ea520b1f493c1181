import type { Box } from './nms.js';

/**
 * What a detector network gives back, and its limits. Kept apart from the network itself so
 * model definitions can name these without importing tfjs (which takes ~0.5 s to import).
 */
export interface Detection {
  classIndex: number;
  label: string;
  score: number;
  /** Fractions of the image height (top, bottom) and width (left, right), within [0, 1]. */
  box: Box;
}

export interface DetectOptions {
  iouThreshold?: number;
  maxDetections?: number;
}

/**
 * CenterNet's scores are low even for clear objects (0.2 to 0.6), so we keep anything above this
 * floor and let output_config's min_value decide what a caller sees.
 */
export const SCORE_FLOOR = 0.1;

/** CenterNet's input is CENTERNET_INPUT_SIZE square; images are decoded no larger than that. */
export const CENTERNET_INPUT_SIZE = 512;
/** The graph emits a fixed 100 candidate rows per image. */
export const MAX_DETECTIONS = 100;
export const DEFAULT_IOU_THRESHOLD = 0.5;
