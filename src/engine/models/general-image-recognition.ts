import { CENTERNET_INPUT_SIZE } from '../networks/detection.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../media/image-limits.js';
import { describeLimits, type InputLimits, type ModelSpec } from '../spec.js';
import { COCO_DESCRIPTION, COCO_LABELS } from './coco-labels.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

const LIMITS: InputLimits = { maxPixels: DEFAULT_MAX_IMAGE_PIXELS };

/**
 * Image-level concepts from an object detector: each class found anywhere in the image, valued by
 * its best detection. There is no ImageNet classifier installable offline (see DESIGN.md), and
 * COCO's 80 everyday classes answer "what is in this photo" well enough to be useful.
 */
export const generalImageRecognition: ModelSpec = {
  id: 'general-image-recognition',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: '84ff968aadfa64a9fe8749518a766442',
  name: 'General image recognition',
  modelTypeId: 'visual-classifier',
  description:
    'Tags an image with the objects it contains, each valued by the confidence of its best ' +
    `detection. ${COCO_DESCRIPTION}` +
    describeLimits(LIMITS),
  inputType: 'image',
  imageSize: CENTERNET_INPUT_SIZE,
  params: {},
  concepts: [...COCO_LABELS],
  licence: 'MIT',
  limits: LIMITS,
  runtime: { kind: 'centernet', output: 'concepts' },
  batching: { max_batch_size: 1, max_wait_ms: 0 },
};
