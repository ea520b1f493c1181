import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Concept, Data } from '../../src/core/wire.js';
import { createEngine, findBuiltInModel, type Engine, type ModelSpec } from '../../src/engine/index.js';

// Real weights: nsfwjs's MobileNetV2 and Tesseract's English LSTM, both from node_modules.
const PHOTOS = ['dogs.jpg', 'puppy.jpg', 'chelsea.png', 'astronaut.png', 'coffee.png'];
const photo = async (name: string) => ({
  type: 'image' as const,
  bytes: await readFile(new URL(`../fixtures/photos/${name}`, import.meta.url)),
});
const image = (bytes: Uint8Array) => ({ type: 'image' as const, bytes });

// Rendered with DejaVu Sans (Debian's fonts-dejavu-core), which fontconfig finds for sharp's SVG text.
const LINES = ['The quick brown fox jumps', 'over the lazy dog.', 'Sibyl read 42 words today'];

async function textImage(lines: readonly string[]): Promise<Buffer> {
  const text = lines
    .map(
      (line, i) => `<text x="40" y="${70 + i * 70}" font-family="DejaVu Sans" font-size="40">${line}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="${40 + lines.length * 70}"><rect width="100%" height="100%" fill="white"/>${text}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Flat colour shapes on a plain background: a drawing, not a photo. */
function flatShapes(): Promise<Buffer> {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"><rect width="400" height="400" fill="#f4f1e8"/>' +
    '<rect x="40" y="40" width="140" height="140" fill="#e63946"/><circle cx="290" cy="110" r="70" fill="#457b9d"/>' +
    '<polygon points="60,360 140,220 220,360" fill="#2a9d8f"/><rect x="240" y="230" width="120" height="120" rx="20" fill="#f4a261"/></svg>';
  return sharp(Buffer.from(svg)).png().toBuffer();
}

let engine: Engine;
let nsfw: ModelSpec;
let ocr: ModelSpec;

before(async () => {
  engine = createEngine({ workers: 1 });
  nsfw = findBuiltInModel('clarifai', 'main', 'nsfw-recognition')!;
  ocr = findBuiltInModel('clarifai', 'main', 'ocr-english')!;
  await Promise.all([engine.load(nsfw), engine.load(ocr)]);
});

after(() => engine.close());

const byName = (concepts: readonly Concept[]) => Object.fromEntries(concepts.map((c) => [c.name, c.value]));

describe('nsfw-recognition', () => {
  it('is a built-in MIT-licensed visual classifier with five concepts', () => {
    assert.equal(nsfw.modelTypeId, 'visual-classifier');
    assert.equal(nsfw.licence, 'MIT');
    assert.deepEqual(nsfw.concepts, ['drawing', 'hentai', 'neutral', 'porn', 'sexy']);
  });

  it('rates every test photo neutral, by a wide margin', async () => {
    for (const name of PHOTOS) {
      const [data] = await engine.predict(nsfw, [await photo(name)]);
      const concepts = data!.concepts!;
      assert.deepEqual(concepts.map((c) => c.name).sort(), [...nsfw.concepts!].sort(), name);
      assert.ok(concepts.every((c) => c.app_id === 'main' && c.id === c.name));
      const sum = concepts.reduce((total, c) => total + c.value, 0);
      assert.ok(Math.abs(sum - 1) < 1e-3, `${name}: values add up to ${sum}`);
      const [top, second] = concepts;
      assert.equal(top!.name, 'neutral', `${name}: ${JSON.stringify(byName(concepts))}`);
      assert.ok(top!.value - second!.value > 0.8, `${name}: ${JSON.stringify(byName(concepts))}`);
    }
  });

  it('gives the same answers for a batch as one by one', async () => {
    const inputs = await Promise.all(PHOTOS.map(photo));
    const together = await engine.predict(nsfw, inputs);
    for (const [i, input] of inputs.entries()) {
      const [alone] = await engine.predict(nsfw, [input]);
      const a = byName(alone!.concepts!);
      for (const [name, value] of Object.entries(byName(together[i]!.concepts!))) {
        assert.ok(Math.abs(value - a[name]!) < 1e-4, `${PHOTOS[i]} ${name}: ${value} vs ${a[name]}`);
      }
    }
  });

  it('finds a flat-colour drawing safe, and more drawing-like than any photo', async () => {
    const [drawing] = await engine.predict(nsfw, [image(await flatShapes())]);
    const scores = byName(drawing!.concepts!);
    assert.ok(scores.neutral! + scores.drawing! > 0.95, JSON.stringify(scores));
    for (const name of PHOTOS) {
      const [data] = await engine.predict(nsfw, [await photo(name)]);
      assert.ok(scores.drawing! > byName(data!.concepts!).drawing! + 0.1, `${name} vs the drawing`);
    }
  });
});

describe('ocr-english', () => {
  let read: Data;
  before(async () => {
    [read] = (await engine.predict(ocr, [image(await textImage(LINES))])) as [Data];
  });

  it('is a built-in Apache-2.0 image-to-text model', () => {
    assert.equal(ocr.modelTypeId, 'image-to-text');
    assert.equal(ocr.licence, 'Apache-2.0');
  });

  it('reads the rendered sentence exactly, one line per line', () => {
    assert.equal(read.text!.raw, LINES.join('\n'));
  });

  it('gives one region per line, top to bottom, with its box, text and confidence', () => {
    const regions = read.regions!;
    assert.deepEqual(
      regions.map((r) => (r.data as Data).text!.raw),
      LINES,
    );
    const boxes = regions.map((r) => r.region_info.bounding_box);
    for (const [i, b] of boxes.entries()) {
      for (const v of [b.top_row, b.left_col, b.bottom_row, b.right_col]) assert.ok(v >= 0 && v <= 1);
      assert.ok(b.top_row < b.bottom_row && b.left_col < b.right_col);
      // Each line was drawn from x = 40 px of 800, its baseline 70 px below the previous one.
      assert.ok(Math.abs(b.left_col - 40 / 800) < 0.01, `line ${i} starts at ${b.left_col}`);
      if (i > 0) assert.ok(b.top_row > boxes[i - 1]!.bottom_row, `line ${i} is below line ${i - 1}`);
    }
    for (const region of regions) {
      assert.ok(region.value! > 0.8 && region.value! <= 1, `confidence ${region.value}`);
      assert.match(region.id, /^[0-9a-f]{32}$/);
    }
  });

  it('leaves out lines under min_confidence', async () => {
    const [none] = await engine.predict(ocr, [image(await textImage(LINES))], {
      params: { min_confidence: 1 },
    });
    assert.deepEqual(none, { text: { raw: '' }, regions: [] });
  });

  it('reads no text into a photo by default (its guesses are under min_confidence), and keeps them at 0', async () => {
    const [guarded] = await engine.predict(ocr, [await photo('astronaut.png')]);
    assert.deepEqual(guarded, { text: { raw: '' }, regions: [] });
    const [all] = await engine.predict(ocr, [await photo('astronaut.png')], {
      params: { min_confidence: 0 },
    });
    assert.ok(all!.regions!.length > 0, 'the noise is there when asked for');
    assert.ok(all!.regions!.every((r) => (r.value ?? 0) < 0.6));
  });

  it('reads nothing in a blank image', async () => {
    const blank = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const [data] = await engine.predict(ocr, [image(blank)]);
    assert.deepEqual(data, { text: { raw: '' }, regions: [] });
  });

  it('stops its tesseract thread on unload and starts a new one when needed again', async () => {
    // A budget that holds one of the two models: each predict unloads the other.
    const small = createEngine({ workers: 1, memoryBudgetBytes: 150 * 1024 * 1024 });
    try {
      const png = image(await textImage(LINES.slice(0, 1)));
      assert.equal((await small.predict(ocr, [png]))[0]!.text!.raw, LINES[0]);
      await small.predict(nsfw, [await photo('dogs.jpg')]);
      assert.deepEqual(
        small.status().loaded.map((m) => m.spec.id),
        ['nsfw-recognition'],
      );
      assert.equal((await small.predict(ocr, [png]))[0]!.text!.raw, LINES[0]);
    } finally {
      await small.close();
    }
  });
});
