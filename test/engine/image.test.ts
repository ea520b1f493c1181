import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import sharp, { type Color } from 'sharp';
import { InvalidArgumentError, LimitError, SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { decodeImage } from '../../src/engine/media/image.js';

const PHOTOS = new URL('../fixtures/photos/', import.meta.url);

function solid(width: number, height: number, channels: 3 | 4, background: Color) {
  return sharp({ create: { width, height, channels, background } });
}

function invalidInput(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof InvalidArgumentError &&
    error.code === StatusCode.INPUT_INVALID_ARGUMENT &&
    pattern.test(error.message);
}

describe('decodeImage', () => {
  it('decodes a real photo to packed RGB', async () => {
    const image = await decodeImage(await readFile(new URL('dogs.jpg', PHOTOS)));
    const meta = await sharp(await readFile(new URL('dogs.jpg', PHOTOS))).metadata();
    assert.equal(image.width, meta.width);
    assert.equal(image.height, meta.height);
    assert.equal(image.rgb.length, image.width * image.height * 3);
  });

  it('applies EXIF orientation, so width and height are as a viewer shows them', async () => {
    const rotated = await solid(40, 20, 3, '#ff0000').jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const image = await decodeImage(rotated);
    assert.deepEqual([image.width, image.height], [20, 40]);
  });

  it('flattens transparency onto white', async () => {
    const clear = await solid(4, 4, 4, { r: 0, g: 0, b: 0, alpha: 0 }).png().toBuffer();
    const image = await decodeImage(clear);
    assert.equal(image.rgb.length, 4 * 4 * 3);
    assert.ok(image.rgb.every((v) => v === 255));
  });

  it('widens greyscale and narrows 16-bit images to 8-bit RGB', async () => {
    const grey = await solid(4, 4, 3, '#404040').toColourspace('b-w').png().toBuffer();
    assert.deepEqual([...(await decodeImage(grey)).rgb.slice(0, 3)], [64, 64, 64]);
    const deep = await solid(4, 4, 3, '#102030').toColourspace('rgb16').png().toBuffer();
    assert.deepEqual([...(await decodeImage(deep)).rgb.slice(0, 3)], [16, 32, 48]);
  });

  it('decodes webp, gif and tiff too', async () => {
    for (const format of ['webp', 'gif', 'tiff'] as const) {
      const bytes = await solid(8, 6, 3, '#00ff00').toFormat(format).toBuffer();
      const image = await decodeImage(bytes);
      assert.deepEqual([image.width, image.height], [8, 6], format);
    }
  });

  it('refuses bytes that are not an image, naming the supported formats', async () => {
    await assert.rejects(
      decodeImage(new TextEncoder().encode('definitely not an image')),
      invalidInput(/not a supported image; supported formats: jpeg, png, webp, gif, tiff, avif/),
    );
    await assert.rejects(decodeImage(new Uint8Array(0)), invalidInput(/not a supported image/));
  });

  it('refuses SVG, which sharp could otherwise render', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    await assert.rejects(decodeImage(new TextEncoder().encode(svg)), invalidInput(/in svg format/));
  });

  it('refuses a truncated JPEG', async () => {
    const bytes = await readFile(new URL('dogs.jpg', PHOTOS));
    await assert.rejects(
      decodeImage(bytes.subarray(0, bytes.length / 2)),
      invalidInput(/jpeg image could not be decoded/),
    );
  });

  it('refuses images over the pixel limit, naming it', async () => {
    const bytes = await solid(100, 100, 3, '#000000').png().toBuffer();
    await assert.rejects(
      decodeImage(bytes, { maxPixels: 5000 }),
      (error: unknown) =>
        error instanceof LimitError &&
        error.code === StatusCode.REQUEST_TOO_LARGE &&
        /100x100 \(10000 pixels\); the limit is 5000 pixels/.test(error.message),
    );
    assert.equal((await decodeImage(bytes, { maxPixels: 10000 })).width, 100);
  });

  it('throws only SibylErrors for garbage of any length', async () => {
    for (const size of [1, 7, 64, 4096]) {
      const noise = Uint8Array.from({ length: size }, (_, i) => (i * 131 + 7) % 256);
      await assert.rejects(decodeImage(noise), (error: unknown) => error instanceof SibylError);
    }
  });
});
