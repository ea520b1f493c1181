import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { io, Tensor, Tensor3D } from '@tensorflow/tfjs-core';
import type { Concept, Data } from '../../core/wire.js';
import { imageOf } from '../models/inputs.js';
import { MAIN_APP_ID } from '../models/owner.js';
import { SerialQueue } from '../serial.js';
import type { DecodedImage, LoadedModel, LoadOptions, Runtime } from '../types.js';
import { packageDir } from './package-dir.js';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import { requireCjs } from '../../core/cjs.js';

/** The network's five outputs, in order (nsfwjs's NSFW_CLASSES), as lower-case concept names. */
export const NSFW_CLASSES = ['drawing', 'hentai', 'neutral', 'porn', 'sexy'] as const;

/** nsfwjs's MobileNetV2 looks at 224x224 RGB scaled to 0..1. */
export const NSFW_INPUT_SIZE = 224;

/**
 * nsfwjs 4.3.0's MobileNetV2 classifier (`runtime: {kind: nsfwjs}`) on the shared tfjs wasm
 * backend. Only its weights are used: nsfwjs itself imports the whole @tensorflow/tfjs bundle.
 */
export class NsfwjsRuntime implements Runtime {
  async load(_spec: unknown, opts: LoadOptions): Promise<LoadedModel> {
    const { initTfjsWasm, tf } = await import('./tfjs-wasm.js');
    await initTfjsWasm();
    const { loadLayersModel } = requireCjs('@tensorflow/tfjs-layers') as typeof TfLayers;
    const artifacts = readBundledModel('mobilenet_v2');
    const model = await loadLayersModel({ load: () => Promise.resolve(artifacts) });
    const queue = new SerialQueue();
    let released = false;

    const classify = (images: DecodedImage[]): Promise<Float32Array> =>
      queue.run(async () => {
        if (released) throw new Error('this nsfwjs model was unloaded');
        const output = tf.tidy(() => {
          const batch = tf.stack(images.map((image) => inputTensor(tf, image)));
          return model.predict(batch) as Tensor;
        });
        try {
          return (await output.data()) as Float32Array;
        } finally {
          output.dispose();
        }
      });

    // The first run compiles the wasm kernels; doing it here keeps the first request as fast as the rest.
    if (opts.warmUp ?? true) await classify([blankImage()]);
    return {
      predict: async (batch) => {
        const scores = await classify(batch.map(imageOf));
        return batch.map((_, i) => toData(scores.subarray(i * NSFW_CLASSES.length)));
      },
      bytes: artifacts.weightData.byteLength + WORKING_BYTES,
      unload: () =>
        queue.run(() => {
          if (released) return;
          released = true;
          model.dispose();
        }),
    };
  }
}

/** The wasm backend's activations for a small batch of 224x224 inputs. */
const WORKING_BYTES = 48 * 1024 * 1024;

type Tf = typeof TfCore;

/** As nsfwjs's `infer`: pixels / 255, stretched (not letterboxed) bilinearly to 224x224. */
function inputTensor(tf: Tf, image: DecodedImage): Tensor3D {
  const pixels = tf.tensor3d(image.rgb, [image.height, image.width, 3], 'int32');
  const scaled = tf.div<Tensor3D>(tf.cast(pixels, 'float32'), 255);
  if (image.height === NSFW_INPUT_SIZE && image.width === NSFW_INPUT_SIZE) return scaled;
  return tf.image.resizeBilinear(scaled, [NSFW_INPUT_SIZE, NSFW_INPUT_SIZE], true);
}

function blankImage(): DecodedImage {
  const rgb = new Uint8Array(NSFW_INPUT_SIZE * NSFW_INPUT_SIZE * 3);
  return { width: NSFW_INPUT_SIZE, height: NSFW_INPUT_SIZE, rgb };
}

function toData(probabilities: Float32Array): Data {
  const concepts: Concept[] = NSFW_CLASSES.map((name, i) => ({
    id: name,
    name,
    value: probabilities[i]!,
    app_id: MAIN_APP_ID,
  }));
  return { concepts: concepts.sort((a, b) => b.value - a.value) };
}

interface BundledModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
}

/**
 * nsfwjs ships each model as browserify bundles under dist/models/<name>/: `model.min.js` exports
 * the model.json object and each `group1-shardNofM.min.js` exports one weight shard as a base64
 * string. They are CommonJS, so requiring them is how nsfwjs's own `import()` reads them too;
 * nothing is fetched. Their cache entries are dropped afterwards, so the worker does not keep
 * the base64 text alive beside the decoded weights.
 */
function readBundledModel(name: string): io.ModelArtifacts & { weightData: ArrayBuffer } {
  const dir = path.join(packageDir('nsfwjs'), 'dist', 'models', name);
  const require = createRequire(path.join(dir, 'model.min.js'));
  const load = (file: string): unknown => {
    const full = path.join(dir, file);
    try {
      return require(full);
    } finally {
      delete require.cache[full];
    }
  };
  const json = load('model.min.js') as BundledModelJson;
  const shards = json.weightsManifest
    .flatMap((group) => group.paths)
    .map((shard) => {
      const base64 = load(`${shard}.min.js`);
      if (typeof base64 !== 'string') throw new Error(`nsfwjs ${name}: ${shard}.min.js holds no weights`);
      return Buffer.from(base64, 'base64');
    });
  const weightData = new Uint8Array(shards.reduce((sum, shard) => sum + shard.byteLength, 0));
  let offset = 0;
  for (const shard of shards) {
    weightData.set(shard, offset);
    offset += shard.byteLength;
  }
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: weightData.buffer,
  };
}
