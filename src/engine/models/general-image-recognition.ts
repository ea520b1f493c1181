import type { Concept } from '../../core/wire.js';
import { CENTERNET_INPUT_SIZE, type Detection } from '../networks/detection.js';
import type { ModelDefinition } from '../types.js';
import { COCO_DESCRIPTION, COCO_LABELS, cocoConcept } from './coco-labels.js';
import { imageOf } from './inputs.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

/**
 * Image-level concepts from an object detector: each class found anywhere in the image, valued by
 * its best detection. There is no ImageNet classifier installable offline (see DESIGN.md), and
 * COCO's 80 everyday classes answer "what is in this photo" well enough to be useful.
 */
export const generalImageRecognition: ModelDefinition = {
  id: 'general-image-recognition',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: '84ff968aadfa64a9fe8749518a766442',
  name: 'General image recognition',
  modelTypeId: 'visual-classifier',
  description:
    'Tags an image with the objects it contains, each valued by the confidence of its best ' +
    `detection. ${COCO_DESCRIPTION}`,
  inputType: 'image',
  imageSize: CENTERNET_INPUT_SIZE,
  params: {},
  concepts: COCO_LABELS,
  async load(opts) {
    // Imported on load, not with the registry, so listing models stays cheap.
    const { acquireCenterNet } = await import('../networks/centernet.js');
    const network = await acquireCenterNet({ warmUp: opts?.warmUp ?? true });
    return {
      predict: (batch) =>
        Promise.all(
          batch.map(async (input) => ({ concepts: bestPerClass(await network.detect(imageOf(input))) })),
        ),
      unload: () => network.release(),
    };
  },
};

function bestPerClass(detections: readonly Detection[]): Concept[] {
  const best = new Map<string, number>();
  for (const d of detections) best.set(d.label, Math.max(best.get(d.label) ?? 0, d.score));
  return [...best].map(([label, value]) => cocoConcept(label, value)).sort((a, b) => b.value - a.value);
}
