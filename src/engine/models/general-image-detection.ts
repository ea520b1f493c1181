import { CENTERNET_INPUT_SIZE, DEFAULT_IOU_THRESHOLD, MAX_DETECTIONS } from '../networks/detection.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../media/image-limits.js';
import { describeLimits, type InputLimits, type ModelSpec } from '../spec.js';
import { COCO_DESCRIPTION, COCO_LABELS } from './coco-labels.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

/** See the min_score param: measured on the test photos (dogs 0.45-0.66, clutter below 0.26). */
export const DEFAULT_MIN_REGION_SCORE = 0.3;

const LIMITS: InputLimits = { maxPixels: DEFAULT_MAX_IMAGE_PIXELS };

export const generalImageDetection: ModelSpec = {
  id: 'general-image-detection',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: 'f9e9d3b95f117f02fc8481aef2bc157d',
  name: 'General image detection',
  modelTypeId: 'visual-detector',
  description:
    'Finds objects in an image and returns a region per object, with its bounding box as ' +
    `fractions of the image size and the concept detected. ${COCO_DESCRIPTION}` +
    describeLimits(LIMITS),
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
  concepts: [...COCO_LABELS],
  licence: 'MIT',
  limits: LIMITS,
  runtime: { kind: 'centernet', output: 'regions' },
  // The graph takes one image per execution, so batching would only add waiting.
  batching: { max_batch_size: 1, max_wait_ms: 0 },
};
