import { createHash } from 'node:crypto';
import type { Concept, Data, InferenceParams, Region } from '../../core/wire.js';
import { cocoConcept } from '../models/coco-labels.js';
import { imageOf } from '../models/inputs.js';
import { loadCenterNet, type CenterNetNetwork } from '../networks/centernet.js';
import type { Detection } from '../networks/detection.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedInput, LoadedModel, LoadOptions, Runtime } from '../types.js';

/**
 * The COCO-80 CenterNet network from @vladmandic/human, behind both built-in COCO models
 * (`runtime: {kind: centernet, output: concepts|regions}`). Both lease one copy of the weights per
 * worker: it loads with the first model and is freed when the last one unloads.
 */
export class CenterNetRuntime implements Runtime {
  private network: Promise<CenterNetNetwork> | undefined;
  private users = 0;
  /** How many times the weights were loaded by this runtime instance (tests check sharing). */
  loads = 0;

  async load(spec: ModelSpec, opts: LoadOptions): Promise<LoadedModel> {
    const output = spec.runtime.output;
    if (output !== 'concepts' && output !== 'regions')
      throw new Error(
        `centernet runtime: output must be "concepts" (image-level) or "regions" (one per object), got ${String(output)}`,
      );
    const network = await this.acquire(opts.warmUp ?? true);
    let released = false;
    const predict = output === 'concepts' ? recognise : detect;
    return {
      predict: (batch, params) => {
        if (released) return Promise.reject(new Error('this CenterNet model was unloaded'));
        return Promise.all(batch.map((input) => predict(network, input, params)));
      },
      bytes: CENTERNET_BYTES,
      unload: async () => {
        if (released) return;
        released = true;
        await this.release(network);
      },
    };
  }

  private async acquire(warmUp: boolean): Promise<CenterNetNetwork> {
    if (!this.network) {
      const loading = loadCenterNet(warmUp);
      this.network = loading;
      this.loads += 1;
      // a failed load is forgotten so the next model retries it
      loading.catch(() => {
        if (this.network === loading) this.network = undefined;
      });
    }
    this.users += 1;
    try {
      return await this.network;
    } catch (error) {
      this.users -= 1;
      throw error;
    }
  }

  private async release(network: CenterNetNetwork): Promise<void> {
    this.users -= 1;
    if (this.users > 0) return;
    this.network = undefined;
    await network.dispose();
  }
}

/** The weights (about 7 MB) plus the wasm backend's working memory for a 512x512 input. */
const CENTERNET_BYTES = 64 * 1024 * 1024;

async function recognise(network: CenterNetNetwork, input: DecodedInput): Promise<Data> {
  return { concepts: bestPerClass(await network.detect(imageOf(input))) };
}

async function detect(
  network: CenterNetNetwork,
  input: DecodedInput,
  params: InferenceParams,
): Promise<Data> {
  const detections = await network.detect(imageOf(input), {
    maxDetections: params.max_detections as number,
    iouThreshold: params.iou_threshold as number,
  });
  const minScore = params.min_score as number;
  return { regions: detections.filter((d) => d.score >= minScore).map(toRegion) };
}

/** Image-level concepts from detections: each class found anywhere, valued by its best box. */
function bestPerClass(detections: readonly Detection[]): Concept[] {
  const best = new Map<string, number>();
  for (const d of detections) best.set(d.label, Math.max(best.get(d.label) ?? 0, d.score));
  return [...best].map(([label, value]) => cocoConcept(label, value)).sort((a, b) => b.value - a.value);
}

function toRegion(d: Detection): Region {
  const bounding_box = {
    top_row: d.box.top,
    left_col: d.box.left,
    bottom_row: d.box.bottom,
    right_col: d.box.right,
  };
  return {
    id: regionId(d),
    region_info: { bounding_box },
    data: { concepts: [cocoConcept(d.label, d.score)] },
    value: d.score,
  };
}

/** Derived from what was found, so the same image gives the same region ids on every call. */
function regionId(d: Detection): string {
  const key = `${d.classIndex}:${d.box.top}:${d.box.left}:${d.box.bottom}:${d.box.right}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
