import { createHash } from 'node:crypto';
import type { Region } from '../../core/wire.js';
import {
  CENTERNET_INPUT_SIZE,
  DEFAULT_IOU_THRESHOLD,
  MAX_DETECTIONS,
  type Detection,
} from '../networks/detection.js';
import type { ModelDefinition } from '../types.js';
import { COCO_DESCRIPTION, COCO_LABELS, cocoConcept } from './coco-labels.js';
import { imageOf } from './inputs.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

/** See the min_score param: measured on the test photos (dogs 0.45-0.66, clutter below 0.26). */
export const DEFAULT_MIN_REGION_SCORE = 0.3;

export const generalImageDetection: ModelDefinition = {
  id: 'general-image-detection',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: 'f9e9d3b95f117f02fc8481aef2bc157d',
  name: 'General image detection',
  modelTypeId: 'visual-detector',
  description:
    'Finds objects in an image and returns a region per object, with its bounding box as ' +
    `fractions of the image size and the concept detected. ${COCO_DESCRIPTION}`,
  inputType: 'image',
  imageSize: CENTERNET_INPUT_SIZE,
  params: {
    min_score: {
      type: 'number',
      description:
        'Regions scoring below this are not returned. The network scores clear objects 0.3-0.7 and ' +
        'clutter 0.1-0.25, so the default keeps objects and drops most false alarms; lower it to see more.',
      default: DEFAULT_MIN_REGION_SCORE,
      min: 0,
      max: 1,
    },
    max_detections: {
      type: 'integer',
      description: 'The most regions to return per image, best first.',
      default: MAX_DETECTIONS,
      min: 1,
      max: MAX_DETECTIONS,
    },
    iou_threshold: {
      type: 'number',
      description:
        'Non-maximum suppression: a box overlapping a better box of the same concept by more than ' +
        'this intersection-over-union is dropped. Lower removes more overlapping boxes.',
      default: DEFAULT_IOU_THRESHOLD,
      min: 0,
      max: 1,
    },
  },
  concepts: COCO_LABELS,
  async load(opts) {
    // Imported on load, not with the registry, so listing models stays cheap.
    const { acquireCenterNet } = await import('../networks/centernet.js');
    const network = await acquireCenterNet({ warmUp: opts?.warmUp ?? true });
    return {
      predict: (batch, params) =>
        Promise.all(
          batch.map(async (input) => {
            const detections = await network.detect(imageOf(input), {
              maxDetections: params.max_detections as number,
              iouThreshold: params.iou_threshold as number,
            });
            const minScore = params.min_score as number;
            return { regions: detections.filter((d) => d.score >= minScore).map(toRegion) };
          }),
        ),
      unload: () => network.release(),
    };
  },
};

function toRegion(d: Detection): Region {
  const bounding_box = {
    top_row: d.box.top,
    left_col: d.box.left,
    bottom_row: d.box.bottom,
    right_col: d.box.right,
  };
  return {
    id: regionId(d),
    region_info: { bounding_box },
    data: { concepts: [cocoConcept(d.label, d.score)] },
    value: d.score,
  };
}

/** Derived from what was found, so the same image gives the same region ids on every call. */
function regionId(d: Detection): string {
  const key = `${d.classIndex}:${d.box.top}:${d.box.left}:${d.box.bottom}:${d.box.right}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
