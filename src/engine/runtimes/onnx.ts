import { stat } from 'node:fs/promises';
import type * as Ort from 'onnxruntime-node';
import type { ConfigReader } from '../config-reader.js';
import type { ModelSpec } from '../spec.js';
import { loadTensorModel, validateTensorModel, type TensorBackend } from '../tensors/runtime.js';
import type { OutputTensor, Tensor, TensorInfo, TensorModel } from '../tensors/tensor.js';
import type { LoadedModel, LoadOptions, Runtime } from '../types.js';

/**
 * ONNX models on onnxruntime-node, CPU: `runtime: {kind: onnx, file: model.onnx}`. One intra-op
 * thread by default: the engine already runs a worker thread per core, and each session spawning
 * a pool per core would oversubscribe the machine. `runtime.threads` raises it for a server that
 * runs one big model.
 */
export class OnnxRuntime implements Runtime {
  private readonly backend: TensorBackend = { kind: 'onnx', settings: ['threads'], open: openOnnx };

  validate(spec: ModelSpec): Promise<ModelSpec> {
    return validateTensorModel(this.backend, spec);
  }

  load(spec: ModelSpec, opts: LoadOptions): Promise<LoadedModel> {
    return loadTensorModel(this.backend, spec, opts);
  }
}

async function openOnnx(path: string, runtime: ConfigReader): Promise<TensorModel> {
  if (!path.endsWith('.onnx')) throw new Error('an onnx runtime file must be a .onnx file');
  const threads = runtime.number('threads', { integer: true, min: 1, max: 256 }) ?? 1;
  const { ort, session } = await createOnnxSession(path, threads);
  const fileBytes = (await stat(path)).size;
  const inputs = session.inputMetadata.map(info);
  const outputs = session.outputMetadata.map(info);
  let released: Promise<void> | undefined;
  return {
    inputs,
    outputs,
    // weights plus the arena onnxruntime keeps for activations, roughly as large again
    bytes: fileBytes * 2,
    async run(feeds) {
      const ortFeeds: Record<string, Ort.Tensor> = {};
      for (const input of inputs) {
        const feed = feeds[input.name];
        if (feed) ortFeeds[input.name] = toOrt(ort.Tensor, feed, input.dtype);
      }
      const results = await session.run(ortFeeds);
      const out: Record<string, OutputTensor> = {};
      for (const [name, value] of Object.entries(results)) {
        out[name] = { shape: [...value.dims], data: toFloat32(value.data) };
        value.dispose();
      }
      return out;
    },
    dispose: () => (released ??= session.release()),
  };
}

/**
 * Opens an ONNX file on CPU with the engine's threading (see OnnxRuntime); onnxruntime-node is
 * imported here, on first use. Runtimes that drive a network themselves (silero-vad) share it.
 */
export async function createOnnxSession(
  path: string,
  threads = 1,
): Promise<{ ort: typeof Ort; session: Ort.InferenceSession }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(path, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  return { ort, session };
}

function info(meta: Ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!meta.isTensor) return { name: meta.name, shape: [], dtype: 'non-tensor' };
  // symbolic dimensions ('batch', 'N') and -1 both mean the model leaves them open
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null));
  return { name: meta.name, shape, dtype: meta.type };
}

type TensorClass = typeof Ort.Tensor;

function toOrt(TensorCtor: TensorClass, feed: Tensor, dtype: string): Ort.Tensor {
  const dims = feed.shape;
  switch (dtype) {
    case 'float32':
      return new TensorCtor(
        'float32',
        feed.data instanceof Float32Array ? feed.data : Float32Array.from(feed.data),
        dims,
      );
    case 'int64':
      return new TensorCtor(
        'int64',
        BigInt64Array.from(feed.data, (v) => BigInt(v)),
        dims,
      );
    case 'int32':
      return new TensorCtor(
        'int32',
        feed.data instanceof Int32Array ? feed.data : Int32Array.from(feed.data),
        dims,
      );
    case 'uint8':
      return new TensorCtor('uint8', Uint8Array.from(feed.data), dims);
    case 'float16':
      return new TensorCtor('float16', Uint16Array.from(feed.data, toHalf), dims);
    default:
      throw new Error(
        `input takes ${dtype} values, which this runtime cannot feed (float32, float16, int64, int32, uint8)`,
      );
  }
}

function toFloat32(data: Ort.Tensor['data']): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, Number);
  if (data instanceof Uint16Array) return Float32Array.from(data, fromHalf);
  if (ArrayBuffer.isView(data)) return Float32Array.from(data as unknown as ArrayLike<number>);
  throw new Error('the model returned a non-numeric output (strings), which no task adapter reads');
}

/** IEEE half precision by hand: Node 20 has no Float16Array. */
function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | ((x >>> 13) & 0x3ff);
}

function fromHalf(h: number): number {
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
