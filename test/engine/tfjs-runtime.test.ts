import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { readModelFolder } from '../../src/engine/folder.js';
import { TfjsRuntime } from '../../src/engine/runtimes/tfjs.js';
import type { LoadedModel } from '../../src/engine/types.js';
import {
  COLOURS,
  RGB,
  VARIANT_ANSWER,
  brokenFolder,
  decodedImage,
  solidPng,
  tfjsClassifierFolder,
  tfjsGraphClassifierFolder,
} from '../helpers/model-folders.js';

let root: string;
const runtime = new TfjsRuntime();
const loaded: LoadedModel[] = [];

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'sibyl-tfjs-'));
});

after(async () => {
  await Promise.all(loaded.map((m) => m.unload()));
  await rm(root, { recursive: true, force: true });
});

async function load(dir: string): Promise<LoadedModel> {
  const spec = await runtime.validate(await readModelFolder(dir, 'v1'));
  const model = await runtime.load(spec, { warmUp: true });
  loaded.push(model);
  return model;
}

describe('tfjs runtime: a layers model', () => {
  it('names the colour of solid images, in one NHWC batch', async () => {
    const model = await load(await tfjsClassifierFolder(path.join(root, 'classifier')));
    const images = await Promise.all(COLOURS.map(async (c) => decodedImage(await solidPng(RGB[c]))));
    const outputs = await model.predict!(images, {});
    for (const [i, colour] of COLOURS.entries()) {
      const [best] = outputs[i]!.concepts!;
      assert.equal(best!.name, colour);
      assert.ok(Math.abs(best!.value - 1 / (1 + 2 * Math.exp(-10))) < 1e-4, String(best!.value));
    }
  });

  it('a variant answers with its own weights', async () => {
    const model = await load(await tfjsClassifierFolder(path.join(root, 'classifier-v2'), { variant: true }));
    const [data] = await model.predict!([await decodedImage(await solidPng(RGB.green))], {});
    assert.equal(data!.concepts![0]!.name, VARIANT_ANSWER.green);
  });

  it('refuses a model.json whose weight shard is missing, naming it', async () => {
    const broken = await brokenFolder(path.join(root, 'no-shard'), 'missing-shard');
    const spec = await readModelFolder(broken.dir, 'v1');
    await assert.rejects(runtime.validate(spec), (error: unknown) => {
      assert.ok(error instanceof SibylError);
      assert.equal(error.code, StatusCode.MODEL_INVALID_ARGUMENT);
      assert.match(error.message, broken.reason);
      return true;
    });
  });

  it('refuses a layout that does not match the model input', async () => {
    const dir = await tfjsClassifierFolder(path.join(root, 'nchw'), {
      runtime: { preprocess: { size: [32, 32], layout: 'nchw' } },
    });
    await assert.rejects(
      runtime.validate(await readModelFolder(dir, 'v1')),
      /input "pixels" has shape \[\?, 32, 32, 3\].*set runtime\.preprocess\.layout: nhwc/,
    );
  });
});

describe('tfjs runtime: a graph model', () => {
  it('names colours, and a variant answers with its own weights', async () => {
    const model = await load(await tfjsGraphClassifierFolder(path.join(root, 'graph')));
    const variant = await load(
      await tfjsGraphClassifierFolder(path.join(root, 'graph-v2'), { variant: true }),
    );
    const images = await Promise.all(COLOURS.map(async (c) => decodedImage(await solidPng(RGB[c]))));
    const [outputs, variantOutputs] = await Promise.all([
      model.predict!(images, {}),
      variant.predict!(images, {}),
    ]);
    for (const [i, colour] of COLOURS.entries()) {
      assert.equal(outputs[i]!.concepts![0]!.name, colour);
      assert.equal(variantOutputs[i]!.concepts![0]!.name, VARIANT_ANSWER[colour]);
    }
  });
});
