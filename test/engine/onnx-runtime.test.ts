import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Data } from '../../src/core/wire.js';
import { readModelFolder } from '../../src/engine/folder.js';
import { OnnxRuntime } from '../../src/engine/runtimes/onnx.js';
import type { ModelSpec } from '../../src/engine/spec.js';
import type { DecodedInput, LoadedModel } from '../../src/engine/types.js';
import {
  COLOURS,
  RGB,
  VARIANT_ANSWER,
  decodedImage,
  detectorBox,
  expectedImageEmbedding,
  expectedTextEmbedding,
  halvesPng,
  onnxClassifierFolder,
  onnxDetectorFolder,
  onnxImageEmbedderFolder,
  onnxTextEmbedderFolder,
  solidPng,
  vocabId,
  type Colour,
  type DetectorLayout,
} from '../helpers/model-folders.js';

let root: string;
const runtime = new OnnxRuntime();
const loaded: LoadedModel[] = [];

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'sibyl-onnx-'));
});

after(async () => {
  await Promise.all(loaded.map((m) => m.unload()));
  await rm(root, { recursive: true, force: true });
});

/** Reads a folder, validates it as upload would, and loads what validate returned. */
async function load(dir: string): Promise<{ spec: ModelSpec; model: LoadedModel }> {
  const spec = await runtime.validate(await readModelFolder(dir, `v-${path.basename(dir)}`));
  const model = await runtime.load(spec, { warmUp: false });
  loaded.push(model);
  return { spec, model };
}

const solid = async (colour: Colour) => decodedImage(await solidPng(RGB[colour]));

async function predict(model: LoadedModel, inputs: DecodedInput[], params = {}): Promise<Data[]> {
  return model.predict!(inputs, params);
}

describe('onnx runtime: visual-classifier', () => {
  it('names the colour of solid images, best first, in one batch', async () => {
    const { spec, model } = await load(await onnxClassifierFolder(path.join(root, 'classifier')));
    assert.deepEqual(spec.concepts, ['red', 'green', 'blue']);
    assert.equal(spec.imageSize, 32);
    const outputs = await predict(model, await Promise.all(COLOURS.map(solid)));
    for (const [i, colour] of COLOURS.entries()) {
      const concepts = outputs[i]!.concepts!;
      assert.equal(concepts.length, 3);
      assert.equal(concepts[0]!.name, colour);
      assert.equal(concepts[0]!.id, colour);
      assert.equal(concepts[0]!.app_id, 'models');
      // logits 10, 0, 0 through softmax
      assert.ok(
        Math.abs(concepts[0]!.value - 1 / (1 + 2 * Math.exp(-10))) < 1e-5,
        String(concepts[0]!.value),
      );
      assert.ok(concepts[1]!.value >= concepts[2]!.value);
    }
  });

  it('a variant of the same model answers with its own weights', async () => {
    const { model } = await load(
      await onnxClassifierFolder(path.join(root, 'classifier-v2'), { variant: true }),
    );
    const outputs = await predict(model, [await solid('red'), await solid('blue')]);
    assert.equal(outputs[0]!.concepts![0]!.name, VARIANT_ANSWER.red);
    assert.equal(outputs[1]!.concepts![0]!.name, VARIANT_ANSWER.blue);
  });

  it('a half red, half blue image scores red and blue alike', async () => {
    const { model } = await load(await onnxClassifierFolder(path.join(root, 'classifier-halves')));
    const [data] = await predict(model, [await decodedImage(await halvesPng(RGB.red, RGB.blue))]);
    const [first, second, third] = data!.concepts!;
    assert.deepEqual([first!.name, second!.name].sort(), ['blue', 'red']);
    assert.ok(Math.abs(first!.value - second!.value) < 1e-3);
    assert.equal(third!.name, 'green');
  });
});

describe('onnx runtime: visual-detector', () => {
  const layouts: DetectorLayout[] = ['rows', 'boxes-scores-classes', 'yolo'];
  for (const layout of layouts) {
    it(`${layout}: one region per colour present, boxes as fractions of the image`, async () => {
      const { model } = await load(
        await onnxDetectorFolder(path.join(root, `detector-${layout}`), { layout }),
      );
      const [red, halves] = await predict(model, [
        await solid('red'),
        await decodedImage(await halvesPng(RGB.red, RGB.blue)),
      ]);
      assert.equal(red!.regions!.length, 1, JSON.stringify(red));
      const region = red!.regions![0]!;
      assert.equal(region.data.concepts[0]!.name, 'red');
      assert.ok(Math.abs(region.value! - 1) < 1e-5);
      assertBox(region.region_info.bounding_box, detectorBox('red'));
      assert.match(region.id, /^[0-9a-f]{32}$/);
      // min_score 0.5 keeps a colour covering half the image (score 0.5)
      assert.deepEqual(halves!.regions!.map((r) => r.data.concepts[0]!.name).sort(), ['blue', 'red']);
    });
  }

  it('params: min_score, max_detections and iou_threshold change what comes back', async () => {
    const { spec, model } = await load(
      await onnxDetectorFolder(path.join(root, 'detector-params'), { layout: 'yolo' }),
    );
    assert.equal(spec.params.min_score!.default, 0.5);
    const image = await decodedImage(await halvesPng(RGB.red, RGB.blue));
    const high = await predict(model, [image], { min_score: 0.6 });
    assert.equal(high[0]!.regions!.length, 0);
    const one = await predict(model, [image], { max_detections: 1 });
    assert.equal(one[0]!.regions!.length, 1);
    // the shifted red anchor (0.9 x red, IoU 0.78 with the red box) survives only a looser NMS
    const red = await solid('red');
    assert.equal((await predict(model, [red]))[0]!.regions!.length, 1);
    const loose = await predict(model, [red], { iou_threshold: 0.9 });
    assert.deepEqual(
      loose[0]!.regions!.map((r) => r.value!.toFixed(2)),
      ['1.00', '0.90'],
    );
  });

  it('a variant puts its boxes elsewhere', async () => {
    const { model } = await load(await onnxDetectorFolder(path.join(root, 'detector-v2'), { variant: true }));
    const [data] = await predict(model, [await solid('green')]);
    assertBox(data!.regions![0]!.region_info.bounding_box, detectorBox('green', true));
  });

  it('config.yaml params set the defaults', async () => {
    const dir = await onnxDetectorFolder(path.join(root, 'detector-defaults'), {
      params: { min_score: 0.7 },
    });
    const { spec, model } = await load(dir);
    assert.equal(spec.params.min_score!.default, 0.7);
    assert.equal(spec.params.min_score!.max, 1);
    const [data] = await predict(model, [await decodedImage(await halvesPng(RGB.red, RGB.blue))]);
    assert.equal(data!.regions!.length, 0);
  });
});

function assertBox(
  got: { top_row: number; left_col: number; bottom_row: number; right_col: number },
  want: { top: number; left: number; bottom: number; right: number },
): void {
  const pairs = [
    [got.top_row, want.top],
    [got.left_col, want.left],
    [got.bottom_row, want.bottom],
    [got.right_col, want.right],
  ];
  for (const [g, w] of pairs)
    assert.ok(Math.abs(g! - w!) < 1e-5, `${JSON.stringify(got)} != ${JSON.stringify(want)}`);
}

function assertVector(got: number[], want: number[]): void {
  assert.equal(got.length, want.length);
  for (const [i, w] of want.entries()) assert.ok(Math.abs(got[i]! - w) < 1e-5, `${got} != ${want}`);
}

describe('onnx runtime: visual-embedder', () => {
  it('embeds the mean colour through the projection, per image', async () => {
    const { model } = await load(await onnxImageEmbedderFolder(path.join(root, 'embedder')));
    const outputs = await predict(model, [
      await solid('red'),
      await decodedImage(await halvesPng(RGB.green, RGB.blue)),
    ]);
    const [red, halves] = outputs.map((d) => d.embeddings![0]!);
    assert.equal(red!.num_dimensions, 4);
    assertVector(red!.vector, expectedImageEmbedding([1, 0, 0]));
    assertVector(halves!.vector, expectedImageEmbedding([0, 0.5, 0.5]));
  });

  it('a variant embeds differently', async () => {
    const { model } = await load(
      await onnxImageEmbedderFolder(path.join(root, 'embedder-v2'), { variant: true }),
    );
    const [data] = await predict(model, [await solid('red')]);
    assertVector(data!.embeddings![0]!.vector, expectedImageEmbedding([1, 0, 0], true));
  });
});

describe('onnx runtime: text-embedder', () => {
  const ids = (...tokens: string[]) => ['[CLS]', ...tokens, '[SEP]'].map(vocabId);
  it('tokenizes with the folder vocab, mean-pools over real tokens and normalises', async () => {
    const { model } = await load(await onnxTextEmbedderFolder(path.join(root, 'text')));
    // different lengths in one batch: the shorter is padded, and padding must not count
    const outputs = await predict(model, [
      { type: 'text', text: 'Hello, World' },
      { type: 'text', text: 'reds blue' },
      { type: 'text', text: 'purple' },
    ]);
    const [hello, colours, unknown] = outputs.map((d) => d.embeddings![0]!);
    assert.equal(hello!.num_dimensions, 11);
    assertVector(
      hello!.vector,
      expectedTextEmbedding(ids('hello', ',', 'world').map((id) => (id < 0 ? vocabId('[UNK]') : id))),
    );
    assertVector(colours!.vector, expectedTextEmbedding(ids('red', '##s', 'blue')));
    assertVector(unknown!.vector, expectedTextEmbedding(ids('[UNK]')));
  });

  it('a variant embeds differently', async () => {
    const { model } = await load(await onnxTextEmbedderFolder(path.join(root, 'text-v2'), { variant: true }));
    const [data] = await predict(model, [{ type: 'text', text: 'hello world' }]);
    assertVector(data!.embeddings![0]!.vector, expectedTextEmbedding(ids('hello', 'world'), true));
  });
});
