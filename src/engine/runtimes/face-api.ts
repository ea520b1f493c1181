import { createHash } from 'node:crypto';
import type { Concept, Data, InferenceParams, Region } from '../../core/wire.js';
import { FACE_CONCEPT, FACE_EXPRESSIONS, FEMININE, MASCULINE } from '../models/face-detection.js';
import { FACE_EMBEDDING_DIMENSIONS } from '../models/face-embedding.js';
import { imageOf } from '../models/inputs.js';
import { MAIN_APP_ID } from '../models/owner.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedInput, LoadedModel, LoadOptions, Runtime } from '../types.js';
import {
  FACE_NETWORKS_BYTES,
  loadFaceNetworks,
  type Face,
  type FaceNetworks,
  type FaceOutput as Output,
} from './face-api-network.js';

/**
 * @vladmandic/face-api's networks behind both built-in face models (`runtime: {kind: face-api,
 * output: attributes|embeddings}`). Both lease one copy of the networks per worker: it loads with
 * the first model and is freed when the last one unloads.
 */
export class FaceApiRuntime implements Runtime {
  private networks: Promise<FaceNetworks> | undefined;
  private users = 0;
  /** How many times the networks were loaded by this runtime instance (tests check sharing). */
  loads = 0;

  async load(spec: ModelSpec, opts: LoadOptions): Promise<LoadedModel> {
    const output = spec.runtime.output;
    if (output !== 'attributes' && output !== 'embeddings')
      throw new Error(
        `face-api runtime: output must be "attributes" (age, gender, expression) or "embeddings", got ${String(output)}`,
      );
    const networks = await this.acquire(opts.warmUp ?? true);
    let released = false;
    return {
      predict: async (batch, params) => {
        if (released) throw new Error('this face model was unloaded');
        const data: Data[] = [];
        for (const input of batch) data.push(await describe(networks, input, params, output));
        return data;
      },
      bytes: FACE_NETWORKS_BYTES,
      unload: async () => {
        if (released) return;
        released = true;
        await this.release(networks);
      },
    };
  }

  private async acquire(warmUp: boolean): Promise<FaceNetworks> {
    if (!this.networks) {
      const loading = loadFaceNetworks(warmUp);
      this.networks = loading;
      this.loads += 1;
      // a failed load is forgotten so the next model retries it
      loading.catch(() => {
        if (this.networks === loading) this.networks = undefined;
      });
    }
    this.users += 1;
    try {
      return await this.networks;
    } catch (error) {
      this.users -= 1;
      throw error;
    }
  }

  private async release(networks: FaceNetworks): Promise<void> {
    this.users -= 1;
    if (this.users > 0) return;
    this.networks = undefined;
    await networks.dispose();
  }
}

async function describe(
  networks: FaceNetworks,
  input: DecodedInput,
  params: InferenceParams,
  output: Output,
): Promise<Data> {
  const faces = await networks.find(imageOf(input), {
    minScore: params.min_score as number,
    maxFaces: params.max_faces as number,
    output,
  });
  return { regions: faces.map((face) => toRegion(face, output)) };
}

function toRegion(face: Face, output: Output): Region {
  const concepts: Concept[] = [concept(FACE_CONCEPT, face.score)];
  const data: Region['data'] = { concepts };
  if (output === 'attributes') {
    const female = face.female ?? 0.5;
    concepts.push(concept(FEMININE, female), concept(MASCULINE, 1 - female));
    for (const name of FACE_EXPRESSIONS) concepts.push(concept(name, face.expressions?.[name] ?? 0));
    if (face.age !== undefined) data.metadata = { age: Math.round(face.age * 10) / 10 };
  } else {
    data.embeddings = [{ vector: unitLength(face.descriptor), num_dimensions: FACE_EMBEDDING_DIMENSIONS }];
  }
  return {
    id: regionId(face, output),
    region_info: {
      bounding_box: {
        top_row: face.box.top,
        left_col: face.box.left,
        bottom_row: face.box.bottom,
        right_col: face.box.right,
      },
    },
    data,
    value: face.score,
  };
}

function concept(name: string, value: number): Concept {
  return { id: name, name, value, app_id: MAIN_APP_ID };
}

/** Scaled to length 1 so cosine similarity and Euclidean distance rank pairs the same way. */
function unitLength(descriptor: Float32Array | undefined): number[] {
  if (!descriptor || descriptor.length !== FACE_EMBEDDING_DIMENSIONS)
    throw new Error(
      `FaceRecognitionNet gave ${descriptor?.length ?? 0} numbers, expected ${FACE_EMBEDDING_DIMENSIONS}`,
    );
  const norm = Math.hypot(...descriptor) || 1;
  return Array.from(descriptor, (x) => x / norm);
}

/** Derived from what was found, so the same image gives the same region ids on every call. */
function regionId(face: Face, output: Output): string {
  const key = `face:${output}:${face.box.top}:${face.box.left}:${face.box.bottom}:${face.box.right}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
