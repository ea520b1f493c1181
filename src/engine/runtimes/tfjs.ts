import path from 'node:path';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { ConfigReader } from '../config-reader.js';
import type { ModelSpec } from '../spec.js';
import { loadTensorModel, validateTensorModel, type TensorBackend } from '../tensors/runtime.js';
import type { OutputTensor, Tensor, TensorInfo, TensorModel } from '../tensors/tensor.js';
import type { LoadedModel, LoadOptions, Runtime } from '../types.js';
import { modelFilesHandler } from './tfjs-wasm.js';
import type * as TfConverter from '@tensorflow/tfjs-converter';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import { requireCjs } from '../../core/cjs.js';

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

async function openTfjs(jsonPath: string, _runtime: ConfigReader): Promise<TensorModel> {
  if (path.basename(jsonPath).split('.').pop() !== 'json')
    throw new Error('a tfjs runtime file must be a model.json');
  const { tf, initTfjsWasm } = await import('./tfjs-wasm.js');
  await initTfjsWasm();
  const { handler, bytes, layers } = await modelFilesHandler(jsonPath);
  if (layers) {
    const tfl = requireCjs('@tensorflow/tfjs-layers') as typeof TfLayers;
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
  const { loadGraphModel } = requireCjs('@tensorflow/tfjs-converter') as typeof TfConverter;
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
