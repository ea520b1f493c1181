/**
 * Real model folders built in code: ONNX graphs written as protobuf and a tfjs layers model saved
 * to model.json + weights.bin, each with hand-set weights whose answers are known, so tests assert
 * on real outputs. Every builder takes the folder to write and `variant`, which changes the
 * weights so a second version of the same model answers differently on the same image.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { stringify } from 'yaml';
import type { DecodedInput } from '../../src/engine/types.js';
import { OnnxGraph } from './onnx-graph.js';

export const COLOURS = ['red', 'green', 'blue'] as const;
export type Colour = (typeof COLOURS)[number];
export const RGB: Record<Colour, [number, number, number]> = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
};
/** What the variant classifiers answer: the weights are rotated one colour on. */
export const VARIANT_ANSWER: Record<Colour, Colour> = { red: 'green', green: 'blue', blue: 'red' };
/** The side of every test model's square input. */
export const SIZE = 32;

export interface FolderOptions {
  /** Different weights: a second version that answers differently. */
  variant?: boolean;
  /** model: block overrides (id, user_id, app_id, visibility, description...). */
  model?: Record<string, unknown>;
  /** runtime: block overrides, merged over the builder's own. */
  runtime?: Record<string, unknown>;
  batching?: { max_batch_size: number; max_wait_ms: number };
  params?: Record<string, unknown>;
  /** limits: block (max_text_chars, max_pixels, ...). */
  limits?: Record<string, unknown>;
}

const PREPROCESS = { size: [SIZE, SIZE], layout: 'nchw', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] };

async function writeFolder(
  dir: string,
  opts: FolderOptions,
  model: Record<string, unknown>,
  runtime: Record<string, unknown>,
  files: Record<string, Uint8Array | string>,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config: Record<string, unknown> = {
    model: { user_id: 'sibyl-tests', app_id: 'models', visibility: 'private', ...model, ...opts.model },
    runtime: { ...runtime, ...opts.runtime },
  };
  if (opts.batching) config.batching = opts.batching;
  if (opts.params) config.params = opts.params;
  if (opts.limits) config.limits = opts.limits;
  await writeFile(path.join(dir, 'config.yaml'), stringify(config));
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  return dir;
}

const LABELS = `${COLOURS.join('\n')}\n`;

/** Row c of a 3x3 matrix answers colour c (rotated one on for the variant), scaled by `gain`. */
function colourMatrix(variant: boolean, gain: number): number[] {
  const m = Array<number>(9).fill(0);
  for (let c = 0; c < 3; c++) m[c * 3 + (variant ? (c + 1) % 3 : c)] = gain;
  return m;
}

/**
 * (a) ONNX colour classifier: [N,3,32,32] -> GlobalAveragePool -> Gemm -> logits, so a solid
 * colour gives logits of 10 for its class (the variant's next colour) and 0 for the others;
 * `runtime.activation: softmax` turns them into 0.9999 / 0.00005.
 */
export async function onnxClassifierFolder(dir: string, opts: FolderOptions = {}): Promise<string> {
  const graph = new OnnxGraph()
    .input('pixels', 'float32', ['N', 3, SIZE, SIZE])
    .constant('weights', [3, 3], colourMatrix(opts.variant ?? false, 10))
    .constant('bias', [3], [0, 0, 0])
    .node('GlobalAveragePool', ['pixels'], ['pooled'])
    .node('Flatten', ['pooled'], ['mean_colour'], { axis: 1 })
    .node('Gemm', ['mean_colour', 'weights', 'bias'], ['logits'])
    .output('logits', 'float32', ['N', 3]);
  return writeFolder(
    dir,
    opts,
    { id: 'colour-classifier', model_type_id: 'visual-classifier', description: 'Names the main colour' },
    { kind: 'onnx', file: 'model.onnx', labels: 'labels.txt', activation: 'softmax', preprocess: PREPROCESS },
    { 'model.onnx': graph.encode(), 'labels.txt': LABELS },
  );
}

/**
 * (b) tfjs layers colour classifier: [N,32,32,3] (NHWC) -> globalAveragePooling2d -> dense(3,
 * softmax), saved as model.json + weights.bin through an IOHandler that writes files.
 */
export async function tfjsClassifierFolder(dir: string, opts: FolderOptions = {}): Promise<string> {
  const { initTfjsWasm, tf } = await import('../../src/engine/runtimes/tfjs-wasm.js');
  const tfl = await import('@tensorflow/tfjs-layers');
  await initTfjsWasm();
  const input = tfl.input({ shape: [SIZE, SIZE, 3], name: 'pixels' });
  const pooled = tfl.layers
    .globalAveragePooling2d({ dataFormat: 'channelsLast', name: 'mean_colour' })
    .apply(input);
  const dense = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'colour' });
  const model = tfl.model({ inputs: input, outputs: dense.apply(pooled) as ReturnType<typeof tfl.input> });
  const kernel = tf.tensor2d(colourMatrix(opts.variant ?? false, 10), [3, 3]);
  const bias = tf.zeros([3]);
  model.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
  let json = '';
  let weights = new Uint8Array();
  await model.save({
    save: (artifacts) => {
      const data = artifacts.weightData;
      weights = new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data!);
      json = JSON.stringify({
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      });
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    },
  });
  model.dispose();
  return writeFolder(
    dir,
    opts,
    {
      id: 'colour-classifier',
      model_type_id: 'visual-classifier',
      description: 'Names the main colour (tfjs)',
    },
    { kind: 'tfjs', file: 'model.json', labels: 'labels.txt', preprocess: { ...PREPROCESS, layout: 'nhwc' } },
    { 'model.json': json, 'weights.bin': weights, 'labels.txt': LABELS },
  );
}

/**
 * (b') tfjs GRAPH model colour classifier, as tensorflowjs_converter writes one from a SavedModel:
 * a GraphDef in model.json (Placeholder -> Mean over height and width -> MatMul -> Softmax) with
 * its constants in one weight shard.
 */
export async function tfjsGraphClassifierFolder(dir: string, opts: FolderOptions = {}): Promise<string> {
  const type = (t: string) => ({ type: t });
  const dims = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const constant = (name: string, dtype: string, ...shape: number[]) => ({
    name,
    op: 'Const',
    attr: { dtype: type(dtype), value: { tensor: { dtype, tensorShape: dims(...shape) } } },
  });
  const json = {
    format: 'graph-model',
    generatedBy: 'sibyl-tests',
    convertedBy: 'model-folders.ts',
    modelTopology: {
      node: [
        {
          name: 'pixels',
          op: 'Placeholder',
          attr: { dtype: type('DT_FLOAT'), shape: { shape: dims(-1, SIZE, SIZE, 3) } },
        },
        constant('axes', 'DT_INT32', 2),
        constant('weights', 'DT_FLOAT', 3, 3),
        {
          name: 'mean_colour',
          op: 'Mean',
          input: ['pixels', 'axes'],
          attr: { keep_dims: { b: false }, T: type('DT_FLOAT'), Tidx: type('DT_INT32') },
        },
        {
          name: 'logits',
          op: 'MatMul',
          input: ['mean_colour', 'weights'],
          attr: { transpose_a: { b: false }, transpose_b: { b: false }, T: type('DT_FLOAT') },
        },
        { name: 'probabilities', op: 'Softmax', input: ['logits'], attr: { T: type('DT_FLOAT') } },
      ],
      library: {},
      versions: { producer: 1 },
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'axes', shape: [2], dtype: 'int32' },
          { name: 'weights', shape: [3, 3], dtype: 'float32' },
        ],
      },
    ],
  };
  const shard = Buffer.alloc(2 * 4 + 9 * 4);
  shard.writeInt32LE(1, 0);
  shard.writeInt32LE(2, 4);
  colourMatrix(opts.variant ?? false, 10).forEach((v, i) => shard.writeFloatLE(v, 8 + i * 4));
  return writeFolder(
    dir,
    opts,
    {
      id: 'colour-classifier',
      model_type_id: 'visual-classifier',
      description: 'Names the main colour (tfjs graph)',
    },
    { kind: 'tfjs', file: 'model.json', labels: 'labels.txt', preprocess: { ...PREPROCESS, layout: 'nhwc' } },
    { 'model.json': JSON.stringify(json), 'group1-shard1of1.bin': shard, 'labels.txt': LABELS },
  );
}

export type DetectorLayout = 'rows' | 'boxes-scores-classes' | 'yolo';
export interface Box {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/**
 * Where the detector puts each colour's box, as fractions: the variant moves every box, so two
 * versions give different regions for the same image.
 */
export function detectorBox(colour: Colour, variant = false): Box {
  const normal: Record<Colour, Box> = {
    red: { top: 0, left: 0, bottom: 0.5, right: 0.5 },
    green: { top: 0, left: 0.5, bottom: 0.5, right: 1 },
    blue: { top: 0.5, left: 0, bottom: 1, right: 1 },
  };
  const moved: Record<Colour, Box> = {
    red: { top: 0.5, left: 0.5, bottom: 1, right: 1 },
    green: { top: 0.5, left: 0, bottom: 1, right: 0.5 },
    blue: { top: 0, left: 0, bottom: 0.5, right: 1 },
  };
  return (variant ? moved : normal)[colour];
}

/**
 * (c) ONNX colour detector, batch 1: one candidate box per colour, at a fixed place (detectorBox),
 * scored by how much of that colour the image holds (its mean channel, 0..1). So a red image gives
 * one `red` region scoring 1, and a half red, half blue image gives red and blue at 0.5. The yolo
 * layout adds a fourth anchor, a shifted copy of the red box scoring 0.9 x red, which
 * non-maximum suppression must remove (IoU with the red box: 225/287 = 0.78).
 */
export async function onnxDetectorFolder(
  dir: string,
  opts: FolderOptions & { layout?: DetectorLayout } = {},
): Promise<string> {
  const layout = opts.layout ?? 'rows';
  const boxes = COLOURS.map((c) => detectorBox(c, opts.variant));
  const graph = new OnnxGraph()
    .input('image', 'float32', [1, 3, SIZE, SIZE])
    .node('GlobalAveragePool', ['image'], ['pooled']);
  const runtime: Record<string, unknown> = {
    kind: 'onnx',
    file: 'model.onnx',
    labels: 'labels.txt',
    preprocess: PREPROCESS,
  };
  if (layout === 'rows') {
    // x1, y1, x2, y2 in input pixels, then score, then class
    const xyxy = boxes.flatMap((b) => [b.left, b.top, b.right, b.bottom].map((v) => v * SIZE));
    graph
      .constant('boxes', [3, 4], xyxy)
      .constant('classes', [3, 1], [0, 1, 2])
      .constant('column', [2], [3, 1], 'int64')
      .node('Reshape', ['pooled', 'column'], ['scores'])
      .node('Concat', ['boxes', 'scores', 'classes'], ['detections'], { axis: 1 })
      .output('detections', 'float32', [3, 6]);
  } else if (layout === 'boxes-scores-classes') {
    // TF object-detection API: ymin, xmin, ymax, xmax as fractions; 1-based classes
    const yxyx = boxes.flatMap((b) => [b.top, b.left, b.bottom, b.right]);
    graph
      .constant('boxes', [1, 3, 4], yxyx)
      .constant('classes', [1, 3], [1, 2, 3])
      .constant('count', [1], [3])
      .constant('row', [2], [1, 3], 'int64')
      .node('Identity', ['boxes'], ['detection_boxes'])
      .node('Identity', ['classes'], ['detection_classes'])
      .node('Identity', ['count'], ['num_detections'])
      .node('Reshape', ['pooled', 'row'], ['detection_scores'])
      .output('detection_boxes', 'float32', [1, 3, 4])
      .output('detection_scores', 'float32', [1, 3])
      .output('detection_classes', 'float32', [1, 3])
      .output('num_detections', 'float32', [1]);
    runtime.class_offset = 1;
  } else {
    // [1, 4 + 3 classes, 4 anchors]: cx, cy, w, h in pixels per anchor, then a score per class
    const anchors = [
      ...boxes,
      {
        ...boxes[0]!,
        top: boxes[0]!.top + 1 / SIZE,
        left: boxes[0]!.left + 1 / SIZE,
        bottom: boxes[0]!.bottom + 1 / SIZE,
        right: boxes[0]!.right + 1 / SIZE,
      },
    ];
    const cxcywh = [
      anchors.map((b) => ((b.left + b.right) / 2) * SIZE),
      anchors.map((b) => ((b.top + b.bottom) / 2) * SIZE),
      anchors.map((b) => (b.right - b.left) * SIZE),
      anchors.map((b) => (b.bottom - b.top) * SIZE),
    ].flat();
    // score of class c at anchor a: mean colour c times mask[c][a]
    const mask = [1, 0, 0, 0.9, 0, 1, 0, 0, 0, 0, 1, 0];
    graph
      .constant('anchor_boxes', [1, 4, 4], cxcywh)
      .constant('mask', [1, 3, 4], mask)
      .constant('column', [3], [1, 3, 1], 'int64')
      .node('Reshape', ['pooled', 'column'], ['colour'])
      .node('Mul', ['colour', 'mask'], ['class_scores'])
      .node('Concat', ['anchor_boxes', 'class_scores'], ['output0'], { axis: 1 })
      .output('output0', 'float32', [1, 7, 4]);
  }
  return writeFolder(
    dir,
    opts,
    { id: 'colour-detector', model_type_id: 'visual-detector', description: 'Finds colours' },
    runtime,
    { 'model.onnx': graph.encode(), 'labels.txt': LABELS },
  );
}

/** The embedder's projection: row c is what a pure colour c maps to. */
export function embedderMatrix(variant = false): number[][] {
  return variant
    ? [
        [0, 0, 1, -1],
        [1, 0, 0, -1],
        [0, 1, 0, -1],
      ]
    : [
        [1, 0, 0, 1],
        [0, 1, 0, 1],
        [0, 0, 1, 1],
      ];
}

/** What the embedder gives for an image whose mean colour (0..1 per channel) is `rgb`. */
export function expectedImageEmbedding(rgb: readonly number[], variant = false): number[] {
  const m = embedderMatrix(variant);
  return [0, 1, 2, 3].map((d) => rgb.reduce((sum, v, c) => sum + v * m[c]![d]!, 0));
}

/** (d) ONNX visual embedder: mean colour [N,3] times a 3x4 matrix: a 4-d embedding. */
export async function onnxImageEmbedderFolder(dir: string, opts: FolderOptions = {}): Promise<string> {
  const graph = new OnnxGraph()
    .input('pixels', 'float32', ['batch', 3, SIZE, SIZE])
    .constant('projection', [3, 4], embedderMatrix(opts.variant).flat())
    .node('GlobalAveragePool', ['pixels'], ['pooled'])
    .node('Flatten', ['pooled'], ['mean_colour'], { axis: 1 })
    .node('MatMul', ['mean_colour', 'projection'], ['embedding'])
    .output('embedding', 'float32', ['batch', 4]);
  return writeFolder(
    dir,
    opts,
    { id: 'colour-embedder', model_type_id: 'visual-embedder' },
    { kind: 'onnx', file: 'model.onnx', preprocess: PREPROCESS },
    { 'model.onnx': graph.encode() },
  );
}

/** The text embedder's vocabulary, a token per line: ids are line numbers. */
export const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  'hello',
  'world',
  'red',
  'green',
  'blue',
  '##s',
  '.',
];

export function vocabId(token: string): number {
  return VOCAB.indexOf(token);
}

/**
 * What the text embedder gives for these token ids (with [CLS] and [SEP]): each token's one-hot
 * row (moved one on for the variant), averaged, then made unit length.
 */
export function expectedTextEmbedding(ids: readonly number[], variant = false): number[] {
  const v = Array<number>(VOCAB.length).fill(0);
  for (const id of ids) v[variant ? (id + 1) % VOCAB.length : id]! += 1 / ids.length;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/**
 * (e) ONNX text embedder: input_ids [N,L] -> Gather from a one-hot embedding table -> hidden
 * states masked by attention_mask [N,L,V]. The adapter mean-pools over the mask and normalises,
 * so "hello world" gives 0.5 at [CLS], hello, world and [SEP]. token_type_ids is taken and unused,
 * as in many exports.
 */
export async function onnxTextEmbedderFolder(dir: string, opts: FolderOptions = {}): Promise<string> {
  const v = VOCAB.length;
  const table = Array<number>(v * v).fill(0);
  for (let i = 0; i < v; i++) table[i * v + (opts.variant ? (i + 1) % v : i)] = 1;
  const graph = new OnnxGraph()
    .input('input_ids', 'int64', ['batch', 'tokens'])
    .input('attention_mask', 'int64', ['batch', 'tokens'])
    .input('token_type_ids', 'int64', ['batch', 'tokens'])
    .constant('embeddings', [v, v], table)
    .constant('last_axis', [1], [2], 'int64')
    .node('Gather', ['embeddings', 'input_ids'], ['token_rows'])
    .node('Cast', ['attention_mask'], ['mask_float'], { to: 1 })
    .node('Unsqueeze', ['mask_float', 'last_axis'], ['mask_column'])
    .node('Mul', ['token_rows', 'mask_column'], ['last_hidden_state'])
    .output('last_hidden_state', 'float32', ['batch', 'tokens', v]);
  return writeFolder(
    dir,
    opts,
    { id: 'word-embedder', model_type_id: 'text-embedder' },
    { kind: 'onnx', file: 'model.onnx', vocab: 'vocab.txt', normalize: true, max_length: 16 },
    { 'model.onnx': graph.encode(), 'vocab.txt': `${VOCAB.join('\n')}\n` },
  );
}

export type BrokenKind =
  | 'missing-weights'
  | 'corrupt-weights'
  | 'wrong-input-size'
  | 'wrong-layout'
  | 'labels-mismatch'
  | 'unknown-config-key'
  | 'unknown-runtime-key'
  | 'bad-kind'
  | 'missing-vocab'
  | 'missing-shard';

/**
 * (f) A folder with one mistake, and the reason it must be refused with. `stage` says who finds
 * it: reading the folder (config.yaml and named files) or the runtime's validate (the weights).
 */
export async function brokenFolder(
  dir: string,
  kind: BrokenKind,
): Promise<{ dir: string; stage: 'read' | 'validate'; reason: RegExp }> {
  await rm(dir, { recursive: true, force: true });
  switch (kind) {
    case 'missing-weights':
      await onnxClassifierFolder(dir);
      await rm(path.join(dir, 'model.onnx'));
      return {
        dir,
        stage: 'read',
        reason: /runtime\.file names model\.onnx, which is not in the model folder/,
      };
    case 'corrupt-weights':
      await onnxClassifierFolder(dir);
      await writeFile(path.join(dir, 'model.onnx'), 'not a protobuf at all');
      return { dir, stage: 'validate', reason: /model\.onnx does not load as a onnx model/ };
    case 'wrong-input-size':
      await onnxClassifierFolder(dir, { runtime: { preprocess: { ...PREPROCESS, size: [64, 64] } } });
      return {
        dir,
        stage: 'validate',
        reason: /input "pixels" has shape \[\?, 3, 32, 32\], but runtime\.preprocess \(size \[64, 64\]/,
      };
    case 'wrong-layout':
      await onnxClassifierFolder(dir, { runtime: { preprocess: { ...PREPROCESS, layout: 'nhwc' } } });
      return { dir, stage: 'validate', reason: /set runtime\.preprocess\.layout: nchw/ };
    case 'labels-mismatch':
      await onnxClassifierFolder(dir);
      await writeFile(path.join(dir, 'labels.txt'), 'red\ngreen\nblue\nyellow\n');
      return {
        dir,
        stage: 'validate',
        reason: /output "logits" has 3 values per input but runtime\.labels lists 4 labels/,
      };
    case 'unknown-config-key':
      await onnxClassifierFolder(dir, { model: { model_typ_id: 'visual-classifier' } });
      return { dir, stage: 'read', reason: /unknown key model\.model_typ_id; allowed in model: id, user_id/ };
    case 'unknown-runtime-key':
      await onnxClassifierFolder(dir, { runtime: { preproces: PREPROCESS } });
      return {
        dir,
        stage: 'validate',
        reason: /unknown key runtime\.preproces; allowed in runtime: kind, file/,
      };
    case 'bad-kind':
      await onnxClassifierFolder(dir, { runtime: { kind: 'pytorch' } });
      return { dir, stage: 'read', reason: /runtime\.kind must be one of .*onnx.*tfjs.*, got "pytorch"/ };
    case 'missing-vocab':
      await onnxTextEmbedderFolder(dir);
      await rm(path.join(dir, 'vocab.txt'));
      return { dir, stage: 'validate', reason: /needs its tokenizer's vocabulary.*vocab\.txt/ };
    case 'missing-shard':
      await tfjsClassifierFolder(dir);
      await rm(path.join(dir, 'weights.bin'));
      return { dir, stage: 'validate', reason: /weight shard weights\.bin listed in model\.json is missing/ };
  }
}

/** A solid-colour PNG, as a user would upload. */
export function solidPng(rgb: readonly [number, number, number], width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

/** Image bytes decoded as the engine hands them to a runtime: packed 8-bit RGB. */
export async function decodedImage(png: Buffer): Promise<DecodedInput> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { type: 'image', image: { width: info.width, height: info.height, rgb: new Uint8Array(data) } };
}

/** `left` colour on the left half, `right` on the right; not square, so resizing is exercised too. */
export function halvesPng(
  left: readonly number[],
  right: readonly number[],
  width = 64,
  height = 48,
): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) rgb.set(x < width / 2 ? left : right, (y * width + x) * 3);
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
