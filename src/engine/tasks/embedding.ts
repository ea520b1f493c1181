import type { Embedding } from '../../core/wire.js';

/** Unit length, so a dot product is the cosine similarity; a zero vector stays zero. */
export function l2Normalise(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  return norm > 0 ? vector.map((v) => v / norm) : vector;
}

export function toEmbedding(values: ArrayLike<number>, normalise: boolean): Embedding {
  const vector = Array.from(values);
  return { vector: normalise ? l2Normalise(vector) : vector, num_dimensions: vector.length };
}
