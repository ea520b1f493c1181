import type Sharp from 'sharp';
import type { Metadata } from 'sharp';
import { requireCjs } from '../../core/cjs.js';
import { InvalidArgumentError, LimitError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { DecodedImage } from '../types.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from './image-limits.js';

const sharp = requireCjs('sharp') as typeof Sharp;

/** Formats we decode. sharp also reads SVG and PDF, which can reference outside files: refused. */
// AVIF files report themselves as 'heif'; HEIC (HEVC) ones do too but then fail to decode.
const SUPPORTED = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);
const SUPPORTED_LIST = 'jpeg, png, webp, gif, tiff, avif';

export interface DecodeImageOptions {
  /** Refuse images with more pixels than this (width x height, before any resizing). */
  maxPixels?: number;
  /**
   * Shrink so neither side exceeds this, keeping the aspect ratio, while decoding (JPEG decodes at a
   * reduced scale directly). A model that looks at 512x512 never needs a 40-megapixel buffer.
   */
  maxSide?: number;
}

/**
 * Decodes image bytes to packed 8-bit sRGB: EXIF orientation applied (so boxes match what a
 * viewer shows), alpha flattened onto white, greyscale and 16-bit images widened or narrowed to
 * three 8-bit channels. Animated images give their first frame.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeImageOptions = {},
): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  const metadata = await readMetadata(bytes);
  const pixels = (metadata.width ?? 0) * (metadata.height ?? 0);
  // Checked from the header before decoding, so an oversized image costs no memory.
  if (pixels > maxPixels) {
    throw new LimitError(
      StatusCode.REQUEST_TOO_LARGE,
      'Image too large',
      `image is ${metadata.width}x${metadata.height} (${pixels} pixels); the limit is ${maxPixels} pixels`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .autoOrient()
      .resize(
        options.maxSide
          ? { width: options.maxSide, height: options.maxSide, fit: 'inside', withoutEnlargement: true }
          : undefined,
      )
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return {
      width: info.width,
      height: info.height,
      rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (error) {
    throw new InvalidArgumentError(
      `the ${metadata.format === 'heif' ? 'avif/heif' : metadata.format} image could not be decoded (${message(error)})`,
      StatusCode.INPUT_INVALID_ARGUMENT,
      'Invalid input argument',
    );
  }
}

async function readMetadata(bytes: Uint8Array): Promise<Metadata> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch {
    throw notAnImage(bytes.byteLength);
  }
  if (!SUPPORTED.has(metadata.format ?? '')) throw notAnImage(bytes.byteLength, metadata.format);
  return metadata;
}

function notAnImage(size: number, format?: string): InvalidArgumentError {
  const what = format
    ? `in ${format} format, which is not a supported image format`
    : 'not a supported image';
  return new InvalidArgumentError(
    `the input bytes (${size} bytes) are ${what}; supported formats: ${SUPPORTED_LIST}`,
    StatusCode.INPUT_INVALID_ARGUMENT,
    'Invalid input argument',
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
