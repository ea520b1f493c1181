import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BUILT_IN_MODELS, modelKey } from '../../src/engine/registry.js';
import { packageDir } from '../../src/engine/runtimes/package-dir.js';

describe('registry', () => {
  it('keys each model by its own user/app/model ids', () => {
    for (const [key, def] of Object.entries(BUILT_IN_MODELS)) {
      assert.equal(key, modelKey(def.userId, def.appId, def.id));
    }
  });

  it('gives every model a fixed 32-hex version id, distinct from the others', () => {
    const versions = Object.values(BUILT_IN_MODELS).map((def) => def.versionId);
    for (const v of versions) assert.match(v, /^[0-9a-f]{32}$/);
    assert.equal(new Set(versions).size, versions.length);
  });

  it('describes the COCO models plainly, listing their concepts', () => {
    for (const id of ['general-image-recognition', 'general-image-detection']) {
      const def = BUILT_IN_MODELS[`clarifai/main/${id}`];
      assert.ok(def);
      assert.equal(def.concepts?.length, 80);
      assert.match(def.description, /CenterNet/);
      assert.match(def.description, /MobileNetV3/);
      assert.match(def.description, /@vladmandic\/human/);
      assert.match(def.description, /traffic light, fire hydrant/);
    }
  });
});

describe('packageDir', () => {
  it('finds packages whose exports map hides package.json', () => {
    assert.ok(existsSync(path.join(packageDir('@vladmandic/human'), 'models', 'centernet.json')));
  });

  it('finds ordinary packages', () => {
    assert.ok(
      existsSync(
        path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist', 'tfjs-backend-wasm-simd.wasm'),
      ),
    );
  });

  it('names a package that is not installed', () => {
    assert.throws(
      () => packageDir('@sibyl/no-such-package'),
      /npm package @sibyl\/no-such-package is not installed/,
    );
  });
});
