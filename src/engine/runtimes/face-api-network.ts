import { createRequire } from 'node:module';
import path from 'node:path';
import type { Tensor3D } from '@tensorflow/tfjs-core';
import { SerialQueue } from '../serial.js';
import type { DecodedImage } from '../types.js';
import { packageDir } from './package-dir.js';
import { initTfjsWasm, tf } from './tfjs-wasm.js';

/**
 * @vladmandic/face-api's networks on our tfjs wasm backend. Its `face-api.node-wasm.js` build
 * requires `@tensorflow/tfjs` and the wasm backend as packages, which resolve to the same tfjs-core
 * module and engine our `tfjs-wasm.ts` starts, so the backend is set up once, there. Weights are
 * read by path with face-api's `loadFromDisk` (fs, no fetch).
 */
const require = createRequire(import.meta.url);

export interface FaceBox {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** One face as the networks see it; which parts are filled depends on what was asked for. */
export interface Face {
  score: number;
  /** Fractions of the image height (top, bottom) and width (left, right), within [0, 1]. */
  box: FaceBox;
  age?: number;
  /** Probability that the face looks female, per AgeGenderNet (labels `female`/`male`). */
  female?: number;
  expressions?: Record<string, number>;
  descriptor?: Float32Array;
}

export type FaceOutput = 'attributes' | 'embeddings';

export interface FindOptions {
  minScore: number;
  maxFaces: number;
  output: FaceOutput;
}

/**
 * SSD MobileNet v1 finds faces well (every face in face-api's demo photos) but also scores animal
 * faces high: dlib's dogs.jpg 0.79, skimage's cat 0.93. TinyFaceDetector gives those 0.19 and 0.09
 * at a 512 input while every real face SSD found scored 0.28 or more there, so an SSD face counts
 * only when TinyFaceDetector sees a box over it too (intersection over union at least CONFIRM_IOU).
 */
const CONFIRM_SIZE = 512;
const CONFIRM_SCORE = 0.25;
const CONFIRM_IOU = 0.3;

// face-api's own objects, only as far as we use them (its bundled .d.ts types a different tfjs).
interface Rect {
  top: number;
  left: number;
  bottom: number;
  right: number;
  width: number;
  height: number;
}
interface ApiDetection {
  score: number;
  relativeBox: Rect;
}
interface ApiResult {
  detection: ApiDetection;
  age?: number;
  gender?: string;
  genderProbability?: number;
  expressions?: Record<string, number>;
  descriptor?: Float32Array;
}
/** What face-api's detection task chains to; awaiting a step runs it. */
interface FaceTask extends PromiseLike<ApiResult[]> {
  withFaceExpressions(): FaceTask;
  withAgeAndGender(): FaceTask;
  withFaceDescriptors(): FaceTask;
}
interface DetectTask extends PromiseLike<ApiDetection[]> {
  withFaceLandmarks(): FaceTask;
}
interface Net {
  loadFromDisk(dir: string): Promise<void>;
  dispose(): void;
}
/** The networks both models use (face-api's `nets` holds others we never load). */
const NETS = [
  'ssdMobilenetv1',
  'tinyFaceDetector',
  'faceLandmark68Net',
  'ageGenderNet',
  'faceExpressionNet',
  'faceRecognitionNet',
] as const;
interface FaceApi {
  nets: Record<(typeof NETS)[number], Net>;
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults: number }) => object;
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => object;
  detectAllFaces(input: Tensor3D, options: object): DetectTask;
}

export class FaceNetworks {
  // The wasm backend is single-threaded: one image at a time, and never disposed under a run.
  private readonly queue = new SerialQueue();
  private disposed = false;

  constructor(private readonly api: FaceApi) {}

  find(image: DecodedImage, options: FindOptions): Promise<Face[]> {
    return this.queue.run(() => this.run(image, options));
  }

  private async run(image: DecodedImage, options: FindOptions): Promise<Face[]> {
    if (this.disposed) throw new Error('the face-api networks were unloaded');
    const { api } = this;
    const input = tf.tensor3d(Int32Array.from(image.rgb), [image.height, image.width, 3], 'int32');
    try {
      const ssd = new api.SsdMobilenetv1Options({ minConfidence: options.minScore, maxResults: 100 });
      const located = api.detectAllFaces(input, ssd).withFaceLandmarks();
      const results = await (options.output === 'embeddings'
        ? located.withFaceDescriptors()
        : located.withFaceExpressions().withAgeAndGender());
      if (results.length === 0) return [];
      const tiny = new api.TinyFaceDetectorOptions({
        inputSize: CONFIRM_SIZE,
        scoreThreshold: CONFIRM_SCORE,
      });
      const confirming = await api.detectAllFaces(input, tiny);
      return results
        .filter((r) => confirming.some((c) => iou(c.relativeBox, r.detection.relativeBox) >= CONFIRM_IOU))
        .sort((a, b) => b.detection.score - a.detection.score)
        .slice(0, options.maxFaces)
        .map(toFace);
    } finally {
      input.dispose();
    }
  }

  /** The first run compiles kernels; doing it at load keeps the first predict as fast as the rest. */
  async warmUp(): Promise<void> {
    const size = 64;
    await this.find(
      { width: size, height: size, rgb: new Uint8Array(size * size * 3) },
      {
        minScore: 0.5,
        maxFaces: 1,
        output: 'attributes',
      },
    );
  }

  dispose(): Promise<void> {
    return this.queue.run(() => {
      this.disposed = true;
      for (const name of NETS) this.api.nets[name].dispose();
    });
  }
}

function toFace(r: ApiResult): Face {
  const b = r.detection.relativeBox;
  const face: Face = {
    score: r.detection.score,
    box: { top: clamp(b.top), left: clamp(b.left), bottom: clamp(b.bottom), right: clamp(b.right) },
  };
  if (r.age !== undefined) face.age = r.age;
  if (r.gender !== undefined && r.genderProbability !== undefined)
    face.female = r.gender === 'female' ? r.genderProbability : 1 - r.genderProbability;
  if (r.expressions) face.expressions = { ...r.expressions };
  if (r.descriptor) face.descriptor = r.descriptor;
  return face;
}

function clamp(fraction: number): number {
  return Math.min(1, Math.max(0, fraction));
}

function iou(a: Rect, b: Rect): number {
  const w = Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left));
  const h = Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Weights of all six networks, about 13 MB on disk, plus the backend's working memory. */
export const FACE_NETWORKS_BYTES = 96 * 1024 * 1024;

/** Loads face-api and every network both face models use, from the package's model folder. */
export async function loadFaceNetworks(warmUp: boolean): Promise<FaceNetworks> {
  await initTfjsWasm();
  const dir = packageDir('@vladmandic/face-api');
  const api = require(path.join(dir, 'dist', 'face-api.node-wasm.js')) as FaceApi;
  const weights = path.join(dir, 'model');
  const networks = new FaceNetworks(api);
  try {
    await Promise.all(NETS.map((name) => api.nets[name].loadFromDisk(weights)));
    if (warmUp) await networks.warmUp();
  } catch (error) {
    await networks.dispose();
    throw error;
  }
  return networks;
}
