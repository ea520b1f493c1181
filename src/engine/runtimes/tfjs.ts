import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { io, Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { ConfigReader } from '../config-reader.js';
import type { ModelSpec } from '../spec.js';
import { loadTensorModel, validateTensorModel, type TensorBackend } from '../tensors/runtime.js';
import type { OutputTensor, Tensor, TensorInfo, TensorModel } from '../tensors/tensor.js';
import type { LoadedModel, LoadOptions, Runtime } from '../types.js';

/**
 * TensorFlow.js models on the wasm backend: `runtime: {kind: tfjs, file: model.json}`, either a
 * layers model (Keras, `tfjs.converters.save_keras_model`) or a graph model (tensorflowjs_converter
 * from a SavedModel); model.json's `format` says which.
 */
export class TfjsRuntime implements Runtime {
  private readonly backend: TensorBackend = { kind: 'tfjs', settings: [], open: openTfjs };

  validate(spec: ModelSpec): Promise<ModelSpec> {
    return validateTensorModel(this.backend, spec);
  }

  load(spec: ModelSpec, opts: LoadOptions): Promise<LoadedModel> {
    return loadTensorModel(this.backend, spec, opts);
  }
}

interface ModelJson {
  format?: string;
  modelTopology?: Record<string, unknown>;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: object;
  userDefinedMetadata?: Record<string, object>;
  modelInitializer?: object;
  weightsManifest?: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
}

async function openTfjs(jsonPath: string, _runtime: ConfigReader): Promise<TensorModel> {
  if (path.basename(jsonPath).split('.').pop() !== 'json')
    throw new Error('a tfjs runtime file must be a model.json');
  const { tf, initTfjsWasm } = await import('./tfjs-wasm.js');
  await initTfjsWasm();
  const { handler, bytes, layers } = await filesHandler(jsonPath);
  if (layers) {
    const tfl = await import('@tensorflow/tfjs-layers');
    const model = await tfl.loadLayersModel(handler);
    const inputs = model.inputs.map((t, i) => ({
      name: model.inputNames[i] ?? t.name,
      shape: t.shape,
      dtype: t.dtype,
    }));
    const outputs = model.outputs.map((t, i) => ({
      name: model.outputNames[i] ?? t.name,
      shape: t.shape,
      dtype: t.dtype,
    }));
    return tensorModel(
      inputs,
      outputs,
      bytes,
      async (feeds) => {
        const result = model.predict(feeds);
        return Array.isArray(result) ? result : [result];
      },
      () => model.dispose(),
    );
  }
  const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
  const model = await loadGraphModel(handler);
  const describe = (t: { name: string; shape?: number[]; dtype: string }): TensorInfo => ({
    name: t.name,
    shape: (t.shape ?? []).map((d) => (d >= 0 ? d : null)),
    dtype: t.dtype,
  });
  const inputs = model.inputs.map(describe);
  const outputs = model.outputs.map(describe);
  // execute() is synchronous and quiet; graphs with control flow need executeAsync(), which
  // logs a warning on every call when it was not needed, so we learn which one on the first run
  let needsAsync = false;
  return tensorModel(
    inputs,
    outputs,
    bytes,
    async (feeds) => {
      const named = Object.fromEntries(inputs.map((info, i) => [info.name, feeds[i]!]));
      const names = outputs.map((o) => o.name);
      let result: TfTensor | TfTensor[] | undefined;
      if (!needsAsync) {
        try {
          result = model.execute(named, names);
        } catch (error) {
          if (!/executeAsync/.test(String(error))) throw error;
          needsAsync = true;
        }
      }
      result ??= await model.executeAsync(named, names);
      return Array.isArray(result) ? result : [result];
    },
    () => model.dispose(),
  );

  /** Both model kinds share feeding (positional, in input order) and reading back as float32. */
  function tensorModel(
    inputs: TensorInfo[],
    outputs: TensorInfo[],
    weightBytes: number,
    execute: (feeds: TfTensor[]) => Promise<TfTensor[]>,
    dispose: () => void,
  ): TensorModel {
    let disposed = false;
    return {
      inputs,
      outputs,
      // weights, plus the wasm heap's working memory for activations, roughly as large again
      bytes: weightBytes * 2,
      async run(feeds: Record<string, Tensor>) {
        const tensors = inputs.map((info) => {
          const feed = feeds[info.name];
          if (!feed) throw new Error(`no value for input "${info.name}"`);
          const dtype = info.dtype === 'float32' ? 'float32' : 'int32';
          return tf.tensor(feed.data, feed.shape, dtype);
        });
        let results: TfTensor[] = [];
        try {
          results = await execute(tensors);
          const out: Record<string, OutputTensor> = {};
          for (const [i, t] of results.entries()) {
            const data = await t.data();
            out[outputs[i]!.name] = {
              shape: t.shape,
              data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>),
            };
          }
          return out;
        } finally {
          tf.dispose([...tensors, ...results]);
        }
      },
      dispose: () => {
        if (!disposed) dispose();
        disposed = true;
        return Promise.resolve();
      },
    };
  }
}

/**
 * tfjs's own loaders fetch URLs, and Node's fetch cannot read file:// URLs, so model.json and its
 * weight shards are read here and handed over through an IOHandler. Shards are concatenated in
 * manifest order, which is how tfjs lays out weights; a missing shard is named.
 */
async function filesHandler(
  jsonPath: string,
): Promise<{ handler: io.IOHandler; bytes: number; layers: boolean }> {
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  if (
    typeof json !== 'object' ||
    json === null ||
    !json.modelTopology ||
    !Array.isArray(json.weightsManifest)
  ) {
    throw new Error(
      `${path.basename(jsonPath)} is not a tfjs model.json (it needs modelTopology and weightsManifest)`,
    );
  }
  const dir = path.dirname(jsonPath);
  const shards = await Promise.all(
    json.weightsManifest
      .flatMap((group) => group.paths)
      .map(async (shard) => {
        const full = path.resolve(dir, shard);
        if (path.isAbsolute(shard) || path.relative(dir, full).startsWith('..')) {
          throw new Error(`weight shard ${shard} in model.json must be a file next to model.json`);
        }
        return readFile(full).catch(() => {
          throw new Error(`weight shard ${shard} listed in model.json is missing`);
        });
      }),
  );
  const weightData = concat(shards);
  const layers =
    json.format === 'layers-model' || (json.format === undefined && 'model_config' in json.modelTopology);
  const handler: io.IOHandler = {
    load: () =>
      Promise.resolve({
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
        weightSpecs: json.weightsManifest!.flatMap((group) => group.weights),
        weightData,
      }),
  };
  return { handler, bytes: weightData.byteLength, layers };
}

function concat(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out.buffer;
}
