import path from 'node:path';
import type Sharp from 'sharp';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { Tensor } from '@tensorflow/tfjs-core';
import { requireCjs } from '../../core/cjs.js';
import { COCO_LABELS } from '../models/coco-labels.js';
import { packageDir } from '../runtimes/package-dir.js';
import { loadGraphModelFromFiles, tf } from '../runtimes/tfjs-wasm.js';
import { SerialQueue } from '../serial.js';
import type { DecodedImage } from '../types.js';
import {
  DEFAULT_IOU_THRESHOLD,
  MAX_DETECTIONS,
  CENTERNET_INPUT_SIZE,
  SCORE_FLOOR,
  type DetectOptions,
  type Detection,
} from './detection.js';
import { nmsPerClass, type Box } from './nms.js';

const sharp = requireCjs('sharp') as typeof Sharp;

/**
 * CenterNet (MobileNetV3 backbone, COCO-80) from @vladmandic/human's model folder. Only the
 * weights are used; pre- and post-processing are ours. Facts about this graph: input
 * 'tower_0/images' is [1,512,512,3] float32 in 0..255 (not 0..1); output 'tower_0/detections' is
 * [1,100,6], each row x1, y1, x2, y2 (input pixels), score, class index (0-based COCO-80).
 */
const SIZE = CENTERNET_INPUT_SIZE;
const INPUT = 'tower_0/images';
const OUTPUT = 'tower_0/detections';
const ROW = 6;
const PADDING = { r: 128, g: 128, b: 128 };

export class CenterNetNetwork {
  // The wasm backend is single-threaded: queue executions so one is in flight at a time.
  private readonly queue = new SerialQueue();
  private disposed = false;

  constructor(private readonly model: GraphModel) {}

  async detect(image: DecodedImage, options: DetectOptions = {}): Promise<Detection[]> {
    // Resizing happens before queuing: sharp runs on its own threads, in parallel with inference.
    const placed = await letterbox(image);
    const rows = await this.queue.run(() => this.execute(placed.pixels));
    return toDetections(rows, placed, options);
  }

  private async execute(pixels: Uint8Array): Promise<Float32Array> {
    if (this.disposed) throw new Error('the CenterNet network was unloaded');
    const output = tf.tidy(() => {
      const input = tf.tensor4d(Float32Array.from(pixels), [1, SIZE, SIZE, 3]);
      return this.model.execute({ [INPUT]: input }, OUTPUT) as Tensor;
    });
    try {
      return (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
  }

  /** The first execution compiles kernels and is ~2x slower; doing it at load keeps predicts even. */
  warmUp(): Promise<Float32Array> {
    return this.queue.run(() => this.execute(new Uint8Array(SIZE * SIZE * 3)));
  }

  dispose(): Promise<void> {
    // Queued behind any detection in flight, so weights are never freed under a running graph.
    return this.queue.run(() => {
      this.disposed = true;
      this.model.dispose();
    });
  }
}

/** Where the image sits inside the square network input, in input pixels. */
interface Placement {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/**
 * Letterboxes the image into the 512x512 input: scaled to fit, aspect ratio kept, placed at the
 * top-left corner and padded with mid grey. Stretching to fill is simpler but measurably worse on
 * non-square photos (the skimage cat scored "dog" 0.48 vs "cat" 0.22 stretched; letterboxed it
 * scores "cat" 0.51 and "dog" 0.21), and placing at the corner makes mapping boxes back exact.
 */
async function letterbox(image: DecodedImage): Promise<Placement> {
  const scale = SIZE / Math.max(image.width, image.height);
  const width = Math.max(1, Math.min(SIZE, Math.round(image.width * scale)));
  const height = Math.max(1, Math.min(SIZE, Math.round(image.height * scale)));
  const data = await sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .extend({ right: SIZE - width, bottom: SIZE - height, background: PADDING })
    .raw()
    .toBuffer();
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

function toDetections(rows: Float32Array, placed: Placement, options: DetectOptions): Detection[] {
  const found: Detection[] = [];
  for (let i = 0; i + ROW <= rows.length; i += ROW) {
    const score = rows[i + 4] ?? 0;
    const classIndex = Math.round(rows[i + 5] ?? -1);
    const label = COCO_LABELS[classIndex];
    if (!(score >= SCORE_FLOOR) || label === undefined) continue;
    const box: Box = {
      left: fraction(rows[i], placed.width),
      top: fraction(rows[i + 1], placed.height),
      right: fraction(rows[i + 2], placed.width),
      bottom: fraction(rows[i + 3], placed.height),
    };
    // Boxes wholly in the padding or outside the image collapse to nothing once clamped.
    if (box.bottom <= box.top || box.right <= box.left) continue;
    found.push({ classIndex, label, score, box });
  }
  const kept = nmsPerClass(found, options.iouThreshold ?? DEFAULT_IOU_THRESHOLD);
  return kept.slice(0, options.maxDetections ?? MAX_DETECTIONS);
}

function fraction(pixels: number | undefined, extent: number): number {
  return Math.min(1, Math.max(0, (pixels ?? 0) / extent));
}

/** Loads CenterNet's weights from @vladmandic/human's model folder (and runs it once, if asked). */
export async function loadCenterNet(warmUp: boolean): Promise<CenterNetNetwork> {
  const dir = path.join(packageDir('@vladmandic/human'), 'models');
  const model = await loadGraphModelFromFiles(path.join(dir, 'centernet.json'));
  const network = new CenterNetNetwork(model);
  try {
    if (warmUp) await network.warmUp();
  } catch (error) {
    await network.dispose();
    throw error;
  }
  return network;
}
