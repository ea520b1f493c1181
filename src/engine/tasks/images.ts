import { imageOf } from '../models/inputs.js';
import { rowsOf, type OutputTensor, type TensorInfo } from '../tensors/tensor.js';
import type { DecodedImage, DecodedInput } from '../types.js';
import { pickTensor, outputNamed } from './io.js';
import { checkImageInput, imageSizeOf, imageTensor, readPreprocess, type Preprocess } from './preprocess.js';
import type { TaskContext } from './types.js';

/** The runtime settings every image task reads. */
export const IMAGE_SETTINGS = ['preprocess', 'input'] as const;

/**
 * Feeds images to a network: picks and checks its image input once, then runs batches in the
 * sizes the input allows (all at once when its batch dimension is open, else in fixed chunks).
 */
export class ImageFeeder {
  readonly preprocess: Preprocess;
  readonly input: TensorInfo;
  /** The batch a fixed-batch model takes; undefined when any count fits. */
  private readonly fixedBatch: number | undefined;

  constructor(private readonly ctx: TaskContext) {
    this.preprocess = readPreprocess(ctx.runtime);
    this.input = pickTensor(ctx, 'input', 'input', 'only');
    checkImageInput(this.input, this.preprocess, ctx.file);
    this.fixedBatch = this.input.shape[0] ?? undefined;
  }

  get imageSize(): number {
    return imageSizeOf(this.preprocess);
  }

  /** A mid-grey image of the input size: what upload tries the network on. */
  sample(): DecodedInput {
    const [height, width] = this.preprocess.size;
    return { type: 'image', image: { width, height, rgb: new Uint8Array(width * height * 3).fill(128) } };
  }

  /** Runs one image alone, for outputs whose first dimension is not the batch (detections). */
  async runOne(input: DecodedInput): Promise<Record<string, OutputTensor>> {
    const [outputs] = await this.runPadded([imageOf(input)], this.fixedBatch ?? 1);
    return outputs;
  }

  /** One row of the named output per input, in order. */
  async rows(batch: readonly DecodedInput[], output: string): Promise<Float32Array[]> {
    const images = batch.map(imageOf);
    const chunk = this.fixedBatch ?? images.length;
    const rows: Float32Array[] = [];
    for (let start = 0; start < images.length; start += chunk) {
      const part = images.slice(start, start + chunk);
      const [outputs, count] = await this.runPadded(part, chunk);
      rows.push(...rowsOf(outputNamed(outputs, output), count, output).slice(0, part.length));
    }
    return rows;
  }

  /** A fixed-batch model gets its chunk filled up with copies of the last image; extra rows are dropped. */
  private async runPadded(
    images: DecodedImage[],
    size: number,
  ): Promise<[Record<string, OutputTensor>, number]> {
    const padded = [...images];
    while (padded.length < size) padded.push(images.at(-1)!);
    return [await this.run(padded), padded.length];
  }

  private async run(images: DecodedImage[]): Promise<Record<string, OutputTensor>> {
    const feed = await imageTensor(images, this.preprocess, this.input);
    return this.ctx.model.run({ [this.input.name]: feed });
  }
}
