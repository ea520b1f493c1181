import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Element types the test models use, as ONNX numbers them. */
const DTYPES = { float32: 1, uint8: 2, int32: 6, int64: 7 } as const;
export type OnnxDtype = keyof typeof DTYPES;
/** A dimension: a number, or a name for one the model leaves open ('N' for the batch). */
export type Dim = number | string;
type Attr = number | number[] | string;

/**
 * A tiny writer for ONNX graphs, so tests build real model files (protobuf, as any exporter writes
 * them) with hand-set weights whose outputs are computable. Opset 13, IR version 7.
 */
export class OnnxGraph {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];

  input(name: string, dtype: OnnxDtype, shape: Dim[]): this {
    this.inputs.push(valueInfo(name, dtype, shape));
    return this;
  }

  output(name: string, dtype: OnnxDtype, shape: Dim[]): this {
    this.outputs.push(valueInfo(name, dtype, shape));
    return this;
  }

  /** A constant tensor: weights, or the shape argument of Reshape. */
  constant(
    name: string,
    dims: number[],
    values: readonly number[],
    dtype: 'float32' | 'int64' = 'float32',
  ): this {
    this.initializers.push(
      dtype === 'float32'
        ? { name, dims, dataType: DTYPES.float32, floatData: [...values] }
        : { name, dims, dataType: DTYPES.int64, int64Data: [...values] },
    );
    return this;
  }

  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): this {
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: 7, ints: v };
      return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
    });
    this.nodes.push({
      opType: op,
      input: inputs,
      output: outputs,
      name: `${op}_${this.nodes.length}`,
      attribute,
    });
    return this;
  }

  encode(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'sibyl-tests',
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'test',
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dtype: OnnxDtype, shape: Dim[]): onnxProto.onnx.IValueInfoProto {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: DTYPES[dtype], shape: { dim } } } };
}
