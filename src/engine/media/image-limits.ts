/**
 * 40 megapixels: a large camera photo, whose decoded RGB alone is 120 MB. Kept apart from
 * image.ts so callers can name the limit without importing sharp.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;
