/**
 * What the task adapters see of a network, whichever library runs it (onnxruntime, tfjs, later a
 * remote Triton). Kept this small on purpose: named inputs and outputs with shapes, and `run`.
 */

/**
 * An input or output as the model declares it. `null` is a dimension the model leaves open; an
 * empty shape means the model does not say (tfjs graph models often leave outputs undeclared).
 */
export interface TensorInfo {
  name: string;
  shape: (number | null)[];
  /** The library's element type name: float32, int32, int64, uint8, bool... */
  dtype: string;
}

/**
 * Values fed to or read from a model, row-major. Tasks feed float32 or int32 data and the runtime
 * converts to the dtype the model declares (int64 for BERT's ids in ONNX, uint8 for TF's detection
 * API); outputs always come back as float32, which every adapter reads.
 */
export interface Tensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface OutputTensor {
  shape: number[];
  data: Float32Array;
}

export interface TensorModel {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** About how many bytes the weights take in memory, for the engine's memory budget. */
  readonly bytes: number;
  run(feeds: Record<string, Tensor>): Promise<Record<string, OutputTensor>>;
  dispose(): Promise<void>;
}

export function isFloatType(dtype: string): boolean {
  return dtype.startsWith('float');
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** `[1, 3, ?, ?]` for messages: what users see in Netron, so they can match it up. */
export function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * Splits a batch output into one row per input. A model with a fixed batch of 1 may drop the
 * batch dimension; then the whole output is the one row.
 */
export function rowsOf(output: OutputTensor, batchSize: number, name: string): Float32Array[] {
  if (output.shape[0] !== batchSize) {
    if (batchSize === 1) return [output.data];
    throw new Error(
      `output ${name} has shape ${shapeText(output.shape)}; expected ${batchSize} rows, one per input`,
    );
  }
  const width = output.data.length / batchSize;
  return Array.from({ length: batchSize }, (_, i) => output.data.subarray(i * width, (i + 1) * width));
}
