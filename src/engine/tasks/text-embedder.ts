import { readFile } from 'node:fs/promises';
import { folderError } from '../config-reader.js';
import { existingFile } from '../folder-paths.js';
import { textOf } from '../models/inputs.js';
import { shapeText, type Tensor, type TensorInfo } from '../tensors/tensor.js';
import { toEmbedding } from './embedding.js';
import { describeTensors, outputNamed, pickTensor } from './io.js';
import type { TaskAdapter, TaskContext } from './types.js';
import { WordPiece, type Encoding } from './wordpiece.js';

const POOLINGS = ['mean', 'cls', 'none'] as const;
type Pooling = (typeof POOLINGS)[number];
const DEFAULT_MAX_LENGTH = 512;

/** BERT-style encoders' inputs, found by name whatever prefix an exporter added. */
const ROLES = { ids: 'input_ids', mask: 'attention_mask', types: 'token_type_ids' } as const;

/**
 * Sentence embeddings from a BERT-style encoder whose folder ships its WordPiece `vocab.txt`:
 * token ids (and the attention mask and token types, when the network takes them) in, the hidden
 * states mean-pooled over the real tokens out (or the [CLS] row, or an output that is already
 * pooled), optionally made unit length.
 */
export const textEmbedder: TaskAdapter = {
  inputType: 'text',
  params: {},
  settings: ['vocab', 'max_length', 'lowercase', 'output', 'pooling', 'normalize'],
  async bind(ctx) {
    const tokenizer = await readTokenizer(ctx);
    const inputs = tokenInputs(ctx);
    const seqDim = inputs.ids.shape[1] ?? null;
    const maxLength = Math.min(
      ctx.runtime.number('max_length', { integer: true, min: 3 }) ?? seqDim ?? DEFAULT_MAX_LENGTH,
      seqDim ?? Infinity,
    );
    const output = pickTensor(ctx, 'output', 'output');
    const pooling = ctx.runtime.oneOf('pooling', POOLINGS) ?? (output.shape.length === 3 ? 'mean' : 'none');
    if (pooling !== 'none' && output.shape.length !== 3) {
      throw folderError(
        `${ctx.file} output "${output.name}" has shape ${shapeText(output.shape)}; runtime.pooling ${pooling} ` +
          'needs [batch, tokens, dims] hidden states (use pooling: none for an output that is already pooled)',
      );
    }
    const normalise = ctx.runtime.boolean('normalize', false);
    const fixedBatch = inputs.ids.shape[0] ?? undefined;

    const embed = async (encodings: Encoding[]) => {
      const length = seqDim ?? Math.max(...encodings.map((e) => e.ids.length));
      const feeds = tokenFeeds(inputs, encodings, length, tokenizer.pad);
      const out = outputNamed(await ctx.model.run(feeds), output.name);
      return encodings.map((e, n) => pooled(out.data, out.shape, n, e.mask, pooling));
    };
    return {
      sample: { type: 'text', text: 'hello world' },
      facts: {},
      async predict(batch) {
        const encodings = batch.map((input) => tokenizer.encode(textOf(input), maxLength));
        const vectors: Float32Array[] = [];
        const chunk = fixedBatch ?? encodings.length;
        for (let start = 0; start < encodings.length; start += chunk) {
          const part = encodings.slice(start, start + chunk);
          while (part.length < chunk) part.push(part.at(-1)!);
          vectors.push(...(await embed(part)).slice(0, encodings.length - start));
        }
        return vectors.map((v) => ({ embeddings: [toEmbedding(v, normalise)] }));
      },
    };
  },
};

async function readTokenizer(ctx: TaskContext): Promise<WordPiece> {
  const name = ctx.runtime.string('vocab') ?? 'vocab.txt';
  const path = await existingFile(ctx.spec, name, 'runtime.vocab').catch((error: unknown) => {
    throw folderError(
      `a text-embedder needs its tokenizer's vocabulary (vocab.txt, one WordPiece token per line): ${(error as Error).message}`,
    );
  });
  const lines = (await readFile(path, 'utf8')).split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  try {
    return new WordPiece(lines, ctx.runtime.boolean('lowercase', true));
  } catch (error) {
    throw folderError(
      `${name}: ${(error as Error).message}; BERT-style models need [CLS], [SEP], [PAD] and [UNK]`,
    );
  }
}

interface TokenInputs {
  ids: TensorInfo;
  mask?: TensorInfo;
  types?: TensorInfo;
}

function tokenInputs(ctx: TaskContext): TokenInputs {
  const byRole = (role: string) => ctx.model.inputs.find((i) => i.name.toLowerCase().includes(role));
  const ids = byRole(ROLES.ids) ?? (ctx.model.inputs.length === 1 ? ctx.model.inputs[0] : undefined);
  const mask = byRole(ROLES.mask);
  const types = byRole(ROLES.types);
  const known = [ids, mask, types].filter((i) => i !== undefined);
  if (!ids || known.length !== ctx.model.inputs.length) {
    throw folderError(
      `${describeTensors(ctx, 'input')}; a text-embedder feeds ${Object.values(ROLES).join(', ')} ` +
        '(input_ids required), so its inputs must carry those names',
    );
  }
  for (const info of known) {
    if (info.shape.length !== 2) {
      throw folderError(
        `${ctx.file} input "${info.name}" has shape ${shapeText(info.shape)}; token inputs are [batch, tokens]`,
      );
    }
  }
  return { ids, mask, types };
}

function tokenFeeds(
  inputs: TokenInputs,
  encodings: Encoding[],
  length: number,
  pad: number,
): Record<string, Tensor> {
  const shape = [encodings.length, length];
  const ids = new Int32Array(encodings.length * length).fill(pad);
  const mask = new Int32Array(encodings.length * length);
  encodings.forEach((e, n) => {
    ids.set(e.ids.slice(0, length), n * length);
    mask.set(e.mask.slice(0, length), n * length);
  });
  const feeds: Record<string, Tensor> = { [inputs.ids.name]: { shape, data: ids } };
  if (inputs.mask) feeds[inputs.mask.name] = { shape, data: mask };
  if (inputs.types) feeds[inputs.types.name] = { shape, data: new Int32Array(ids.length) };
  return feeds;
}

/** One vector for input n: mean of its real tokens' rows, its [CLS] row, or its pooled row. */
function pooled(
  data: Float32Array,
  shape: number[],
  n: number,
  mask: number[],
  pooling: Pooling,
): Float32Array {
  if (pooling === 'none') {
    const width = data.length / shape[0]!;
    return data.subarray(n * width, (n + 1) * width);
  }
  const [, tokens, dims] = shape as [number, number, number];
  const base = n * tokens * dims;
  if (pooling === 'cls') return data.subarray(base, base + dims);
  const sum = new Float32Array(dims);
  let count = 0;
  for (let t = 0; t < Math.min(tokens, mask.length); t++) {
    if (mask[t] === 0) continue;
    count += 1;
    for (let d = 0; d < dims; d++) sum[d] = sum[d]! + data[base + t * dims + d]!;
  }
  return sum.map((v) => v / Math.max(count, 1));
}
