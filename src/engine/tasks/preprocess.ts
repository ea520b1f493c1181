import { folderError, type ConfigReader } from '../config-reader.js';
import { isFloatType, shapeText, type Tensor, type TensorInfo } from '../tensors/tensor.js';
import type { DecodedImage } from '../types.js';
import type Sharp from 'sharp';
import { requireCjs } from '../../core/cjs.js';

/** How an image becomes the model's input tensor: `runtime.preprocess` in config.yaml. */
export interface Preprocess {
  /** Height, width the image is resized to (stretched: boxes map back as plain fractions). */
  size: [number, number];
  layout: 'nchw' | 'nhwc';
  /** Pixels (0..255) are multiplied by scale, then mean is subtracted and the result divided by std. */
  scale: number;
  mean: number[];
  std: number[];
  /** bgr for models trained on OpenCV-loaded images. */
  channels: 'rgb' | 'bgr';
}

export const PREPROCESS_KEYS = ['size', 'layout', 'scale', 'mean', 'std', 'channels'] as const;
const MAX_SIDE = 4096;

/** Reads `runtime.preprocess`. The defaults suit most exported models: 0..1 floats, NCHW. */
export function readPreprocess(runtime: ConfigReader): Preprocess {
  const block = runtime.child('preprocess');
  block.allowOnly(PREPROCESS_KEYS);
  const size = block.block.size;
  const ok =
    Array.isArray(size) &&
    size.length === 2 &&
    size.every((side) => Number.isInteger(side) && side >= 1 && side <= MAX_SIDE);
  if (!ok) throw block.error('size', `[height, width], two integers from 1 to ${MAX_SIDE}`, size);
  return {
    size: [size[0] as number, size[1] as number],
    layout: block.oneOf('layout', ['nchw', 'nhwc'] as const, 'nchw'),
    scale: block.number('scale') ?? 1 / 255,
    mean: block.numbers('mean', 3) ?? [0, 0, 0],
    std: block.numbers('std', 3, { positive: true }) ?? [1, 1, 1],
    channels: block.oneOf('channels', ['rgb', 'bgr'] as const, 'rgb'),
  };
}

/** The larger side of preprocess.size: the engine decodes images no larger than this. */
export function imageSizeOf(p: Preprocess): number {
  return Math.max(p.size[0], p.size[1]);
}

/**
 * Checks the model's image input against the preprocessing before anything runs, so a folder
 * whose network wants 224x224 but whose config says 256x256 is refused at upload.
 */
export function checkImageInput(info: TensorInfo, p: Preprocess, file: string): void {
  // an undeclared shape is checked by the sample run at upload instead
  if (info.shape.length === 0) return;
  const [h, w] = p.size;
  const want = p.layout === 'nchw' ? [null, 3, h, w] : [null, h, w, 3];
  const fits = info.shape.length === 4 && info.shape.every((d, i) => d === null || i === 0 || d === want[i]);
  if (fits) return;
  const other = p.layout === 'nchw' ? 'nhwc' : 'nchw';
  const hint =
    info.shape.length === 4 && info.shape[p.layout === 'nchw' ? 3 : 1] === 3
      ? `; the channels are where layout ${other} puts them, so set runtime.preprocess.layout: ${other}`
      : '';
  throw folderError(
    `${file}: input "${info.name}" has shape ${shapeText(info.shape)}, but runtime.preprocess ` +
      `(size [${h}, ${w}], layout ${p.layout}) makes images of shape ${shapeText(want)}${hint}`,
  );
}

/**
 * Resizes each image to the exact input size and lays the batch out as the model wants. Float
 * inputs get scale/mean/std; integer inputs (TF's detection API takes uint8) get raw 0..255.
 */
export async function imageTensor(
  images: readonly DecodedImage[],
  p: Preprocess,
  info: TensorInfo,
): Promise<Tensor> {
  const [h, w] = p.size;
  const plane = h * w;
  const float = isFloatType(info.dtype);
  const data = float
    ? new Float32Array(images.length * 3 * plane)
    : new Int32Array(images.length * 3 * plane);
  const factor = [0, 1, 2].map((c) => p.scale / p.std[c]!);
  const offset = [0, 1, 2].map((c) => p.mean[c]! / p.std[c]!);
  for (const [n, image] of images.entries()) {
    const rgb = await resized(image, w, h);
    const base = n * 3 * plane;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) {
        const pixel = rgb[i * 3 + (p.channels === 'rgb' ? c : 2 - c)]!;
        const at = p.layout === 'nchw' ? base + c * plane + i : base + i * 3 + c;
        data[at] = float ? pixel * factor[c]! - offset[c]! : pixel;
      }
    }
  }
  const shape = p.layout === 'nchw' ? [images.length, 3, h, w] : [images.length, h, w, 3];
  return { shape, data };
}

async function resized(image: DecodedImage, width: number, height: number): Promise<Uint8Array> {
  if (image.width === width && image.height === height) return image.rgb;
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  // loaded here: the main thread reads folder configs through this file and never resizes
  const sharp = requireCjs('sharp') as typeof Sharp;
  const out = await sharp(image.rgb, { raw }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
