import { ImageFeeder, IMAGE_SETTINGS } from './images.js';
import { pickTensor } from './io.js';
import { toEmbedding } from './embedding.js';
import type { TaskAdapter } from './types.js';

/**
 * The named output (else the first), flattened per image: [N, D] and [N, D, 1, 1] pooled feature
 * maps both give a D-long vector. `runtime.normalize: true` makes it unit length.
 */
export const visualEmbedder: TaskAdapter = {
  inputType: 'image',
  params: {},
  settings: [...IMAGE_SETTINGS, 'output', 'normalize'],
  bind(ctx) {
    const feeder = new ImageFeeder(ctx);
    const output = pickTensor(ctx, 'output', 'output');
    const normalise = ctx.runtime.boolean('normalize', false);
    return Promise.resolve({
      sample: feeder.sample(),
      facts: { imageSize: feeder.imageSize },
      async predict(batch) {
        const rows = await feeder.rows(batch, output.name);
        return rows.map((row) => ({ embeddings: [toEmbedding(row, normalise)] }));
      },
    });
  },
};
