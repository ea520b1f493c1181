import { createHash } from 'node:crypto';
import type { Data, InferenceParams, Region } from '../../core/wire.js';
import { nmsPerClass, type Scored } from '../networks/nms.js';
import { DETECTION_SETTINGS, detectionDecoder } from './detections.js';
import { ImageFeeder, IMAGE_SETTINGS } from './images.js';
import { labelsOf, toConcept } from './labels.js';
import type { TaskAdapter } from './types.js';

export const MAX_DETECTIONS = 1000;

/**
 * One region per object: boxes as fractions of the image, each with its label's concept. Decoding
 * the output layouts is detections.ts's; here we filter by score, suppress overlaps within a class
 * (harmless for layouts that already did) and keep the best `max_detections`.
 */
export const visualDetector: TaskAdapter = {
  inputType: 'image',
  params: {
    min_score: {
      type: 'number',
      description: 'Regions scoring below this are not returned.',
      default: 0.5,
      min: 0,
      max: 1,
    },
    iou_threshold: {
      type: 'number',
      description:
        'Non-maximum suppression: a box overlapping a better box of the same concept by more than ' +
        'this intersection-over-union is dropped.',
      default: 0.5,
      min: 0,
      max: 1,
    },
    max_detections: {
      type: 'integer',
      description: 'The most regions to return per image, best first.',
      default: 100,
      min: 1,
      max: MAX_DETECTIONS,
    },
  },
  settings: [...IMAGE_SETTINGS, 'labels', ...DETECTION_SETTINGS],
  async bind(ctx) {
    const feeder = new ImageFeeder(ctx);
    const labels = await labelsOf(ctx);
    const decoder = detectionDecoder(ctx, labels, feeder.preprocess.size);
    const region = (d: Scored): Region => {
      const label = labels[d.classIndex] ?? `class ${d.classIndex}`;
      return {
        id: regionId(d),
        region_info: {
          bounding_box: {
            top_row: d.box.top,
            left_col: d.box.left,
            bottom_row: d.box.bottom,
            right_col: d.box.right,
          },
        },
        data: { concepts: [toConcept(label, d.score, ctx.spec.appId)] },
        value: d.score,
      };
    };
    return {
      sample: feeder.sample(),
      facts: { concepts: labels, imageSize: feeder.imageSize },
      async predict(batch, params) {
        const data: Data[] = [];
        // detection outputs have no batch dimension to split on, so images run one at a time
        for (const input of batch) {
          const found = select(decoder.decode(await feeder.runOne(input)), params);
          data.push({ regions: found.map(region) });
        }
        return data;
      },
    };
  },
};

function select(candidates: Scored[], params: InferenceParams): Scored[] {
  const minScore = params.min_score as number;
  const kept = candidates.filter(
    (d) => d.score >= minScore && d.classIndex >= 0 && d.box.bottom > d.box.top && d.box.right > d.box.left,
  );
  return nmsPerClass(kept, params.iou_threshold as number).slice(0, params.max_detections as number);
}

/** Derived from what was found, so the same image gives the same region ids on every call. */
function regionId(d: Scored): string {
  const key = `${d.classIndex}:${d.box.top}:${d.box.left}:${d.box.bottom}:${d.box.right}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
