/** A box as fractions of the image: top, left, bottom, right. */
export interface Box {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

export interface Scored {
  box: Box;
  score: number;
  classIndex: number;
}

export function iou(a: Box, b: Box): number {
  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  if (h <= 0 || w <= 0) return 0;
  const inter = h * w;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

function area(b: Box): number {
  return Math.max(0, b.bottom - b.top) * Math.max(0, b.right - b.left);
}

/**
 * Greedy non-maximum suppression within each class: a box is dropped when a higher-scoring box of
 * the same class overlaps it by more than `iouThreshold`. Boxes of different classes never
 * suppress each other, so "cup" and "bowl" on one object both survive, which is what a
 * multi-label detector should report. The result is sorted by score, best first.
 */
export function nmsPerClass<T extends Scored>(items: readonly T[], iouThreshold: number): T[] {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const item of sorted) {
    const overlapped = kept.some(
      (k) => k.classIndex === item.classIndex && iou(k.box, item.box) > iouThreshold,
    );
    if (!overlapped) kept.push(item);
  }
  return kept;
}
