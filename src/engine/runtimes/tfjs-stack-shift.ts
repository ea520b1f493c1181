import type * as TfCore from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Why tfjs's heaviest wasm kernels are called through a frame of a size chosen here.
 *
 * V8 compiles XNNPACK's GEMM and convolution microkernels (nearly all of a model's time) with
 * 16-byte SIMD spill slots on a stack it keeps only 8-byte aligned. At some stack depths one of
 * those slots straddles a 4 KiB page, and the inner loop stores and reloads it on every iteration:
 * the kernel runs at about half speed for as long as it is called from that depth (a 1x1 conv
 * swept over depths 8 bytes apart: up to 2.4x slower at 25 of 526 of them). The depth is set by
 * the thread's stack base and every frame between the event loop and the kernel, so it changes
 * when V8 re-optimises a caller. Seen as face-api in an engine worker that had run nsfwjs: 290 ms
 * predicts became 405-475 ms after about ten of them, for good, and never in the main thread.
 *
 * So each call of these kernels goes through one more frame, padded by a number of unused
 * arguments, and an op (kernel and shapes) whose calls turn much slower than the fastest seen
 * moves to the next padding. Two paddings of each 8-byte parity, 256 or more bytes apart: more
 * than the ~200 bytes of spill slots a kernel has, so one run of unlucky depths never takes in
 * two of them.
 */
const KERNELS = [
  'Conv2D',
  'FusedConv2D',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2D',
  'Conv2DBackpropInput',
  'BatchMatMul',
  '_FusedMatMul',
];

/** Paddings in bytes, as argument lists of that many 8-byte stack slots. */
const PADDINGS = [0, 8, 264, 272].map((bytes) => new Array<undefined>(bytes / 8));

/** A call this much slower than the op's fastest counts against its padding... */
const SLOW = 1.4;
/** ...and this many such calls in a row move the op to the next padding. */
const STRIKES = 2;
/** Ops remembered (kernel, shapes, attributes); models with varying input sizes would grow it. */
const MAX_OPS = 4096;

/** One op's padding choice (exported for its tests). */
export interface Op {
  /** Calls so far; the first PADDINGS.length try each padding once. */
  calls: number;
  padding: number;
  fastest: number;
  tried: number[];
  strikes: number;
}

interface Call {
  kernel: KernelFunc;
  params: Parameters<KernelFunc>[0];
}

// `this` carries the call, so the padding arguments are all the frame holds.
function callPadded(this: Call): TensorInfo | TensorInfo[] {
  return this.kernel(this.params);
}

const ops = new Map<string, Op>();
let installed = false;
/** The wrappers registered in place of the kernels (so a test can tell they are in place). */
export const shiftedKernels = new WeakSet<KernelFunc>();

/** Wraps the wasm backend's GEMM and convolution kernels, once per process; see above. */
export function shiftKernelStacks(tf: typeof TfCore): void {
  if (installed) return;
  installed = true;
  for (const name of KERNELS) {
    const config = tf.getKernel(name, 'wasm');
    if (!config) continue;
    const kernel = config.kernelFunc;
    tf.unregisterKernel(name, 'wasm');
    const shifted: KernelFunc = (params) => {
      const op = opOf(name, params.inputs, params.attrs);
      const padding = paddingFor(op);
      const start = performance.now();
      const out = Reflect.apply(callPadded, { kernel, params }, PADDINGS[padding]!) as
        TensorInfo | TensorInfo[];
      record(op, padding, performance.now() - start);
      return out;
    };
    shiftedKernels.add(shifted);
    tf.registerKernel({ ...config, kernelFunc: shifted });
  }
}

function opOf(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap | undefined): Op {
  let key = name;
  for (const input of Object.values(inputs)) if (input) key += `|${input.shape.join('x')}`;
  if (attrs) key += JSON.stringify(attrs);
  let op = ops.get(key);
  if (!op) {
    if (ops.size >= MAX_OPS) ops.clear();
    op = newOp();
    ops.set(key, op);
  }
  return op;
}

/** A new op: it will try each padding once, then keep the fastest. */
export function newOp(): Op {
  return { calls: 0, padding: 0, fastest: Infinity, tried: [], strikes: 0 };
}

/** The padding the op's next call uses. */
export function paddingFor(op: Op): number {
  return op.calls < PADDINGS.length ? op.calls : op.padding;
}

/** Records a call's time, and moves the op to the next padding after STRIKES slow calls in a row. */
export function record(op: Op, padding: number, ms: number): void {
  op.calls += 1;
  if (op.calls <= PADDINGS.length) {
    op.tried[padding] = ms;
    op.fastest = Math.min(op.fastest, ms);
    // (the first call also builds the op's XNNPACK operator: padding 0 starts at a disadvantage)
    if (op.calls === PADDINGS.length) op.padding = op.tried.indexOf(op.fastest);
    return;
  }
  if (ms <= op.fastest * SLOW) {
    op.fastest = Math.min(op.fastest, ms);
    op.strikes = 0;
  } else if (++op.strikes >= STRIKES) {
    op.padding = (op.padding + 1) % PADDINGS.length;
    op.strikes = 0;
  }
}
