import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { iou, nmsPerClass } from '../../src/engine/networks/nms.js';

const box = (top: number, left: number, bottom: number, right: number) => ({ top, left, bottom, right });

describe('iou', () => {
  it('is 1 for the same box, 0 for disjoint ones, and the overlap ratio otherwise', () => {
    assert.equal(iou(box(0, 0, 1, 1), box(0, 0, 1, 1)), 1);
    assert.equal(iou(box(0, 0, 0.5, 0.5), box(0.5, 0.5, 1, 1)), 0);
    // Two unit-area halves overlapping by a quarter: 0.25 / (0.5 + 0.5 - 0.25).
    assert.equal(iou(box(0, 0, 1, 0.5), box(0, 0.25, 1, 0.75)), 0.25 / 0.75);
  });
});

describe('nmsPerClass', () => {
  it('drops a weaker overlapping box of the same class only', () => {
    const items = [
      { classIndex: 16, score: 0.4, box: box(0, 0, 0.5, 0.5) },
      { classIndex: 16, score: 0.6, box: box(0, 0.02, 0.5, 0.52) },
      { classIndex: 15, score: 0.3, box: box(0, 0, 0.5, 0.5) },
      { classIndex: 16, score: 0.2, box: box(0.5, 0.5, 1, 1) },
    ];
    const kept = nmsPerClass(items, 0.5);
    assert.deepEqual(
      kept.map((k) => [k.classIndex, k.score]),
      [
        [16, 0.6],
        [15, 0.3],
        [16, 0.2],
      ],
    );
  });

  it('keeps everything with a threshold of 1', () => {
    const same = { classIndex: 0, score: 0.5, box: box(0, 0, 1, 1) };
    assert.equal(nmsPerClass([same, { ...same, score: 0.4 }], 1).length, 2);
  });
});
