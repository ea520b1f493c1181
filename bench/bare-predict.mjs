// The floor for one image prediction from a cold process: tfjs (wasm backend) + CenterNet from
// @vladmandic/human, one sharp decode/resize, one graph execution, the top class printed. It uses
// none of Sibyl's code (no CLI, store, server app or engine), so `bench/run.mjs` can compare the
// embedded CLI path against it.
//
//   node bench/bare-predict.mjs [image] [--timings]
//
// Prints the top COCO class (e.g. "dog 0.639"). With --timings, also writes one JSON line of phase
// times (ms, from process start) to stderr.
import { performance } from 'node:perf_hooks';

const t0 = performance.now();

// The 80 COCO classes in the order the detector numbers them.
// prettier-ignore
const COCO = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
  'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
  'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
  'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase',
  'scissors', 'teddy bear', 'hair drier', 'toothbrush',
];

const args = process.argv.slice(2);
const wantTimings = args.includes('--timings');
const image =
  args.find((a) => !a.startsWith('--')) ??
  new URL('../test/fixtures/photos/dogs.jpg', import.meta.url).pathname;

const [tf, wasm, converter, { default: sharp }, { readFile }, { createRequire }, path] = await Promise.all([
  import('@tensorflow/tfjs-core'),
  import('@tensorflow/tfjs-backend-wasm'),
  import('@tensorflow/tfjs-converter'),
  import('sharp'),
  import('node:fs/promises'),
  import('node:module'),
  import('node:path'),
]);
const tImported = performance.now();

const require = createRequire(import.meta.url);
const pkgDir = (name) => path.dirname(require.resolve(`${name}/package.json`));
wasm.setWasmPaths(path.join(pkgDir('@tensorflow/tfjs-backend-wasm'), 'dist') + path.sep);
if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend did not start');
await tf.ready();
const tBackend = performance.now();

// tfjs's loaders fetch URLs; hand it the files' bytes instead.
// (@vladmandic/human's package.json is not exported, so the folder is found from here.)
const modelDir = new URL('../node_modules/@vladmandic/human/models/', import.meta.url).pathname;
const json = JSON.parse(await readFile(path.join(modelDir, 'centernet.json'), 'utf8'));
const shards = await Promise.all(
  json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(modelDir, p))),
);
const weights = Buffer.concat(shards);
const model = await converter.loadGraphModel({
  load: async () => ({
    modelTopology: json.modelTopology,
    format: json.format,
    signature: json.signature,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }),
});
const tLoaded = performance.now();

const SIZE = 512;
const pixels = await sharp(await readFile(image))
  .removeAlpha()
  .resize(SIZE, SIZE, { fit: 'fill' })
  .raw()
  .toBuffer();
const tDecoded = performance.now();

// Input 'tower_0/images' [1,512,512,3] float 0..255; output [1,100,6]: x1 y1 x2 y2 score class.
const output = tf.tidy(() =>
  model.execute(tf.tensor4d(Float32Array.from(pixels), [1, SIZE, SIZE, 3]), 'tower_0/detections'),
);
const rows = await output.data();
output.dispose();
const tPredicted = performance.now();

let best = -1;
for (let i = 0; i + 6 <= rows.length; i += 6) if (best < 0 || rows[i + 4] > rows[best + 4]) best = i;
console.log(`${COCO[Math.round(rows[best + 5])] ?? 'unknown'} ${rows[best + 4].toFixed(3)}`);

if (wantTimings) {
  const ms = (a, b) => Math.round((b - a) * 10) / 10;
  process.stderr.write(
    JSON.stringify({
      node: ms(0, t0), // performance.now() counts from process start: Node's own start-up
      import: ms(t0, tImported),
      backend: ms(tImported, tBackend),
      load: ms(tBackend, tLoaded),
      decode: ms(tLoaded, tDecoded),
      execute: ms(tDecoded, tPredicted),
      total: ms(0, tPredicted),
    }) + '\n',
  );
}
