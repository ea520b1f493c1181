import type { Data } from '../../core/wire.js';
import { ImageFeeder, IMAGE_SETTINGS } from './images.js';
import { pickTensor, staticWidth } from './io.js';
import { checkLabelCount, labelsOf, toConcept } from './labels.js';
import type { TaskAdapter } from './types.js';

const ACTIVATIONS = ['none', 'softmax', 'sigmoid'] as const;

/**
 * One concept per label, valued by the output (after `runtime.activation` when the network ends in
 * logits), best first. output_config (max_concepts, min_value) is the engine's, not ours.
 */
export const visualClassifier: TaskAdapter = {
  inputType: 'image',
  params: {},
  settings: [...IMAGE_SETTINGS, 'labels', 'output', 'activation'],
  async bind(ctx) {
    const feeder = new ImageFeeder(ctx);
    const output = pickTensor(ctx, 'output', 'output');
    const labels = await labelsOf(ctx);
    const activation = ctx.runtime.oneOf('activation', ACTIVATIONS, 'none');
    const what = `${ctx.file} output "${output.name}"`;
    const width = staticWidth(output);
    if (width !== undefined) checkLabelCount(width, labels, what);
    return {
      sample: feeder.sample(),
      facts: { concepts: labels, imageSize: feeder.imageSize },
      async predict(batch) {
        const rows = await feeder.rows(batch, output.name);
        return rows.map((row): Data => {
          checkLabelCount(row.length, labels, what);
          const values = activate(row, activation);
          const concepts = labels.map((label, i) => toConcept(label, values[i]!, ctx.spec.appId));
          return { concepts: concepts.sort((a, b) => b.value - a.value) };
        });
      },
    };
  },
};

function activate(row: Float32Array, activation: (typeof ACTIVATIONS)[number]): number[] {
  const values = Array.from(row);
  if (activation === 'sigmoid') return values.map((v) => 1 / (1 + Math.exp(-v)));
  if (activation === 'none') return values;
  // subtracting the largest logit keeps exp from overflowing; the result is the same
  const top = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
