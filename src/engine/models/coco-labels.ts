import type { Concept } from '../../core/wire.js';
import { MAIN_APP_ID } from './owner.js';

/** The 80 COCO 2017 detection classes, in the order detectors trained on COCO number them. */
// prettier-ignore
export const COCO_LABELS: readonly string[] = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
  'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
  'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite',
  'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant',
  'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone',
  'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
];

/** Concept ids are names with spaces turned into dashes ('traffic light' -> 'traffic-light'). */
export function conceptId(name: string): string {
  return name.replace(/\s+/g, '-');
}

export function cocoConcept(label: string, value: number): Concept {
  return { id: conceptId(label), name: label, value, app_id: MAIN_APP_ID };
}

/** The sentence both COCO models put in their description, so users know what they can find. */
export const COCO_DESCRIPTION =
  'It runs the CenterNet object detector (MobileNetV3 backbone) trained on COCO, as shipped in ' +
  '@vladmandic/human, on CPU through TensorFlow.js (wasm). It knows these 80 concepts: ' +
  `${COCO_LABELS.join(', ')}.`;
