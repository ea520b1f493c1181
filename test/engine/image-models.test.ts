import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError, SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import type { Data, InferenceParams, OutputConfig, Region } from '../../src/core/wire.js';
import {
  createEngine,
  findBuiltInModel,
  type Engine,
  type ModelSpec,
  type StageTiming,
} from '../../src/engine/index.js';

// Real CenterNet weights on real photos: one engine (one network load) for the whole file.
const PHOTOS = new URL('../fixtures/photos/', import.meta.url);
const photo = async (name: string) => ({
  type: 'image' as const,
  bytes: await readFile(new URL(name, PHOTOS)),
});

const timings: StageTiming[] = [];
let engine: Engine;
let recognition: ModelSpec;
let detection: ModelSpec;

before(async () => {
  engine = createEngine({ workers: 1, onTiming: (t) => timings.push(t) });
  recognition = findBuiltInModel('clarifai', 'main', 'general-image-recognition')!;
  detection = findBuiltInModel('clarifai', 'main', 'general-image-detection')!;
  await Promise.all([engine.load(recognition), engine.load(detection)]);
});

after(() => engine.close());

async function recognise(name: string, outputConfig?: OutputConfig): Promise<Data> {
  const [data] = await engine.predict(recognition, [await photo(name)], { outputConfig });
  return data!;
}

async function detect(
  name: string,
  opts: { outputConfig?: OutputConfig; params?: InferenceParams } = {},
): Promise<Region[]> {
  const [data] = await engine.predict(detection, [await photo(name)], opts);
  return data!.regions!;
}

function modelArgument(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof SibylError &&
    error.code === StatusCode.MODEL_INVALID_ARGUMENT &&
    pattern.test(error.message);
}

describe('both COCO models', () => {
  it('are loaded on one worker', () => {
    const status = engine.status();
    assert.equal(status.workers, 1);
    assert.deepEqual(status.loaded.map((m) => m.spec.id).sort(), [
      'general-image-detection',
      'general-image-recognition',
    ]);
  });
});

describe('general-image-recognition', () => {
  it('finds dogs in dogs.jpg', async () => {
    const data = await recognise('dogs.jpg');
    const top = data.concepts![0]!;
    assert.deepEqual(
      { id: top.id, name: top.name, app_id: top.app_id },
      { id: 'dog', name: 'dog', app_id: 'main' },
    );
    assert.ok(top.value > 0.5 && top.value <= 1, `dog scored ${top.value}`);
    const values = data.concepts!.map((c) => c.value);
    assert.deepEqual(
      values,
      [...values].sort((a, b) => b - a),
      'sorted best first',
    );
    assert.equal(
      new Set(data.concepts!.map((c) => c.id)).size,
      data.concepts!.length,
      'one concept per class',
    );
  });

  it('finds the person in astronaut.png, the cat in chelsea.png, the cup in coffee.png', async () => {
    for (const [name, expected] of [
      ['astronaut.png', 'person'],
      ['chelsea.png', 'cat'],
      ['coffee.png', 'cup'],
      ['puppy.jpg', 'dog'],
    ]) {
      const top = (await recognise(name!)).concepts![0]!;
      assert.equal(top.name, expected, `${name}: top concept ${top.name} ${top.value}`);
    }
  });

  it('applies max_concepts, min_value and select_concepts', async () => {
    const three = await recognise('dogs.jpg', { max_concepts: 3 });
    assert.equal(three.concepts!.length, 3);
    assert.equal(three.concepts![0]!.name, 'dog');

    const confident = await recognise('coffee.png', { min_value: 0.3 });
    assert.ok(confident.concepts!.length >= 1);
    assert.ok(confident.concepts!.every((c) => c.value >= 0.3));

    const byName = await recognise('coffee.png', { select_concepts: [{ name: 'dining table' }] });
    const byId = await recognise('coffee.png', { select_concepts: [{ id: 'dining-table' }] });
    assert.deepEqual(
      byName.concepts!.map((c) => c.id),
      ['dining-table'],
    );
    assert.deepEqual(byId, byName);
  });

  it('takes no params', async () => {
    await assert.rejects(
      engine.predict(recognition, [await photo('dogs.jpg')], { params: { max_detections: 5 } }),
      modelArgument(/general-image-recognition takes no inference params, got "max_detections"/),
    );
  });
});

describe('general-image-detection', () => {
  it('finds the four dogs in dogs.jpg, one per quadrant', async () => {
    const dogs = (await detect('dogs.jpg')).filter((r) => r.data.concepts[0]!.name === 'dog');
    assert.ok(dogs.length >= 4, `found ${dogs.length} dogs`);
    for (const region of dogs) {
      const b = region.region_info.bounding_box;
      for (const v of [b.top_row, b.left_col, b.bottom_row, b.right_col]) assert.ok(v >= 0 && v <= 1);
      assert.ok(b.top_row < b.bottom_row && b.left_col < b.right_col);
      assert.equal(region.value, region.data.concepts[0]!.value);
      assert.match(region.id, /^[0-9a-f]{32}$/);
    }
    const quadrants = dogs.slice(0, 4).map((r) => {
      const b = r.region_info.bounding_box;
      return `${(b.top_row + b.bottom_row) / 2 < 0.5 ? 'top' : 'bottom'}-${(b.left_col + b.right_col) / 2 < 0.5 ? 'left' : 'right'}`;
    });
    assert.equal(new Set(quadrants).size, 4, `quadrants: ${quadrants.join(', ')}`);
  });

  it('gives the same regions, ids included, for the same image', async () => {
    assert.deepEqual(await detect('dogs.jpg'), await detect('dogs.jpg'));
  });

  it('maps boxes back to the original aspect ratio', async () => {
    // chelsea.png is 451x300: the cat fills most of the frame in both directions.
    const [cat] = await detect('chelsea.png', { outputConfig: { select_concepts: [{ name: 'cat' }] } });
    const b = cat!.region_info.bounding_box;
    assert.ok(b.bottom_row - b.top_row > 0.8 && b.right_col - b.left_col > 0.8, JSON.stringify(b));
  });

  it('applies output_config to each region and drops regions left empty', async () => {
    assert.deepEqual(
      await detect('dogs.jpg', { outputConfig: { select_concepts: [{ name: 'zebra' }] } }),
      [],
    );
    const strong = await detect('dogs.jpg', { outputConfig: { min_value: 0.5 } });
    assert.ok(strong.length >= 1 && strong.every((r) => r.data.concepts[0]!.value >= 0.5));
    const onlyDogs = await detect('dogs.jpg', { outputConfig: { select_concepts: [{ id: 'dog' }] } });
    assert.ok(onlyDogs.length >= 4 && onlyDogs.every((r) => r.data.concepts[0]!.id === 'dog'));
  });

  it('honours max_detections and validates its params', async () => {
    const two = await detect('dogs.jpg', { params: { max_detections: 2 } });
    assert.equal(two.length, 2);
    assert.ok(two[0]!.value! >= two[1]!.value!);
    await assert.rejects(
      detect('dogs.jpg', { params: { iou_threshold: 2 } }),
      modelArgument(/"iou_threshold" must be a number from 0 to 1, got 2/),
    );
    await assert.rejects(
      detect('dogs.jpg', { params: { temperature: 0.5 } }),
      modelArgument(/no inference param "temperature"; allowed: min_score, max_detections, iou_threshold/),
    );
  });

  it('drops low-scoring clutter by default, and min_score brings it back', async () => {
    const plain = await detect('dogs.jpg');
    assert.deepEqual(
      plain.map((r) => r.data.concepts[0]!.name),
      ['dog', 'dog', 'dog', 'dog'],
    );
    const all = await detect('dogs.jpg', { params: { min_score: 0.1 } });
    assert.ok(all.length > plain.length, `${all.length} vs ${plain.length}`);
    assert.ok(all.every((r) => r.value! >= 0.1));
  });

  it('suppresses fewer overlapping boxes with a higher iou_threshold', async () => {
    const strict = await detect('chelsea.png', { params: { iou_threshold: 0.1 } });
    const loose = await detect('chelsea.png', { params: { iou_threshold: 1 } });
    assert.ok(loose.length > strict.length, `${loose.length} vs ${strict.length}`);
  });
});

describe('engine with image models', () => {
  it('refuses text for an image model, naming both types', async () => {
    await assert.rejects(
      engine.predict(recognition, [{ type: 'text', text: 'a dog' }], {}),
      (error: unknown) =>
        error instanceof InvalidArgumentError &&
        error.code === StatusCode.INPUT_INVALID_ARGUMENT &&
        /model general-image-recognition takes image inputs, got text/.test(error.message),
    );
  });

  it('refuses undecodable bytes', async () => {
    await assert.rejects(
      engine.predict(
        detection,
        [{ type: 'image', bytes: new TextEncoder().encode('GIF89a but not really') }],
        {},
      ),
      (error: unknown) =>
        error instanceof InvalidArgumentError && error.code === StatusCode.INPUT_INVALID_ARGUMENT,
    );
  });

  it('refuses unknown output_config keys before running the model', async () => {
    await assert.rejects(
      engine.predict(recognition, [await photo('dogs.jpg')], { outputConfig: { top_k: 3 } as OutputConfig }),
      modelArgument(
        /output_config has no field "top_k"; allowed: max_concepts, min_value, select_concepts, sample_ms/,
      ),
    );
  });

  it('answers a batch larger than one chunk in input order', async () => {
    const names = ['dogs.jpg', 'astronaut.png', 'chelsea.png', 'coffee.png', 'puppy.jpg', 'astronaut.png'];
    const out = await engine.predict(recognition, await Promise.all(names.map(photo)), {
      outputConfig: { max_concepts: 1 },
    });
    assert.deepEqual(
      out.map((d) => d.concepts![0]!.name),
      ['dog', 'person', 'cat', 'cup', 'dog', 'person'],
    );
  });

  it('serves concurrent predicts on both models with the same answers as sequential ones', async () => {
    const dogs = await photo('dogs.jpg');
    const alone = await engine.predict(detection, [dogs]);
    const together = await Promise.all([
      engine.predict(detection, [dogs]),
      engine.predict(recognition, [dogs]),
      engine.predict(detection, [dogs]),
    ]);
    assert.deepEqual(together[0], alone);
    assert.deepEqual(together[2], alone);
    assert.equal(together[1][0]!.concepts![0]!.name, 'dog');
  });

  it('reports the time of each stage', () => {
    const stages = new Set(
      timings.filter((t) => t.model === 'clarifai/main/general-image-detection').map((t) => t.stage),
    );
    assert.deepEqual([...stages].sort(), ['decode', 'load', 'postprocess', 'predict']);
    assert.ok(timings.every((t) => t.ms >= 0));
  });
});
