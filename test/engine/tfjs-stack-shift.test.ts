/**
 * The adaptive stack padding of tfjs's wasm kernels (src/engine/runtimes/tfjs-stack-shift.ts): which
 * padding an op uses as its calls' times come in, and that the wrapped kernels still compute what
 * they computed (a convolution and a matmul against tfjs's pure-JS reference backend).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as TfCore from '@tensorflow/tfjs-core';
import { requireCjs } from '../../src/core/cjs.js';
import { newOp, paddingFor, record, shiftedKernels } from '../../src/engine/runtimes/tfjs-stack-shift.js';
import { initTfjsWasm } from '../../src/engine/runtimes/tfjs-wasm.js';

describe('choosing a padding', () => {
  it('tries each of the four once, then keeps the fastest', () => {
    const op = newOp();
    const times = [9, 5, 7, 6];
    times.forEach((ms, i) => {
      assert.equal(paddingFor(op), i);
      record(op, i, ms);
    });
    assert.equal(paddingFor(op), 1);
    // calls near the best keep it
    record(op, 1, 6.5);
    record(op, 1, 5.2);
    assert.equal(paddingFor(op), 1);
  });

  it('moves on after two slow calls in a row, not after one', () => {
    const op = newOp();
    [5, 9, 9, 9].forEach((ms, i) => record(op, i, ms));
    assert.equal(paddingFor(op), 0);
    record(op, 0, 11); // one slow call (the depth may have moved, or a neighbour ran)
    record(op, 0, 5.1); // back to normal: the strike is forgotten
    record(op, 0, 11);
    assert.equal(paddingFor(op), 0);
    record(op, 0, 12); // two in a row: the stack depth is bad now
    assert.equal(paddingFor(op), 1);
  });
});

describe('the wrapped kernels', () => {
  it('give the same convolution and matmul as the reference backend', async () => {
    await initTfjsWasm();
    const tf = requireCjs('@tensorflow/tfjs-core') as typeof TfCore;
    requireCjs('@tensorflow/tfjs-backend-cpu');
    const compute = () =>
      tf.tidy(() => {
        const image = tf.tensor4d(
          Array.from({ length: 2 * 9 * 9 * 3 }, (_, i) => Math.sin(i)),
          [2, 9, 9, 3],
        );
        const filter = tf.tensor4d(
          Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)),
          [3, 3, 3, 4],
        );
        const a = tf.tensor2d(
          Array.from({ length: 6 * 5 }, (_, i) => i / 7),
          [6, 5],
        );
        const b = tf.tensor2d(
          Array.from({ length: 5 * 4 }, (_, i) => 1 - i / 9),
          [5, 4],
        );
        return [...tf.conv2d(image, filter, 1, 'same').dataSync(), ...tf.matMul(a, b).dataSync()];
      });
    assert.equal(tf.getBackend(), 'wasm');
    for (const name of ['Conv2D', 'FusedConv2D', 'BatchMatMul', '_FusedMatMul'])
      assert.ok(
        shiftedKernels.has(tf.getKernel(name, 'wasm')!.kernelFunc),
        `${name} runs through the padding`,
      );
    // every padding in turn, then the chosen one
    const wasm = Array.from({ length: 6 }, compute);
    await tf.setBackend('cpu');
    try {
      const reference = compute();
      for (const run of wasm) {
        assert.equal(run.length, reference.length);
        run.forEach((v, i) =>
          assert.ok(Math.abs(v - reference[i]!) < 1e-4, `value ${i}: ${v} vs ${reference[i]}`),
        );
      }
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
