import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { decodeImage } from '../../src/engine/media/image.js';
import { generalImageDetection } from '../../src/engine/models/general-image-detection.js';
import { generalImageRecognition } from '../../src/engine/models/general-image-recognition.js';
import { CenterNetRuntime } from '../../src/engine/runtimes/centernet.js';
import { tf } from '../../src/engine/runtimes/tfjs-wasm.js';
import { validateParams } from '../../src/engine/params.js';

// The runtime in this thread (the engine runs it in a worker), so its tensors can be counted.
const DOGS = new URL('../fixtures/photos/dogs.jpg', import.meta.url);

describe('CenterNet runtime', () => {
  it('shares one network between both COCO models, leaks no tensors, and frees it with the last', async () => {
    const runtime = new CenterNetRuntime();
    const recognition = await runtime.load(generalImageRecognition, { warmUp: false });
    const detection = await runtime.load(generalImageDetection, { warmUp: false });
    assert.equal(runtime.loads, 1);

    const image = await decodeImage(await readFile(DOGS), { maxSide: 512 });
    const input = [{ type: 'image' as const, image }];
    const params = validateParams(generalImageDetection, {});
    await detection.predict!(input, params);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const [regions] = await detection.predict!(input, params);
      const [concepts] = await recognition.predict!(input, {});
      assert.equal(regions!.regions!.filter((r) => r.data.concepts[0]!.name === 'dog').length, 4);
      assert.equal(concepts!.concepts![0]!.name, 'dog');
    }
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');

    await recognition.unload();
    assert.equal(tf.memory().numTensors, before, 'still held by the detector');
    await detection.unload();
    assert.ok(tf.memory().numTensors < before, 'weights disposed with the last model');
    await assert.rejects(recognition.predict!(input, {}), /unloaded/);

    const again = await runtime.load(generalImageRecognition, { warmUp: false });
    assert.equal(runtime.loads, 2);
    assert.equal((await again.predict!(input, {}))[0]!.concepts![0]!.name, 'dog');
    await again.unload();
  });
});
