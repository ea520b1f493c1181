import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { io } from '@tensorflow/tfjs-core';
import type * as TfWasm from '@tensorflow/tfjs-backend-wasm';
import type * as TfConverter from '@tensorflow/tfjs-converter';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { requireCjs } from '../../core/cjs.js';
import { packageDir } from './package-dir.js';
import { shiftKernelStacks } from './tfjs-stack-shift.js';

const tf = requireCjs('@tensorflow/tfjs-core') as typeof TfCore;
const { setWasmPaths } = requireCjs('@tensorflow/tfjs-backend-wasm') as typeof TfWasm;
const { loadGraphModel } = requireCjs('@tensorflow/tfjs-converter') as typeof TfConverter;

export { tf };

let ready: Promise<void> | undefined;

/**
 * Makes tfjs use its wasm backend, once per process. Every caller awaits the same promise, so
 * concurrent first loads do not race `setBackend`; a failed start is forgotten so the next
 * call tries again instead of failing forever.
 */
export function initTfjsWasm(): Promise<void> {
  ready ??= start().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

async function start(): Promise<void> {
  // The backend would otherwise fetch its .wasm files relative to a page URL; in Node we point
  // it at the files shipped inside the package (trailing slash: it is a prefix, not a folder).
  setWasmPaths(path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist') + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not start its wasm backend');
  await tf.ready();
  shiftKernelStacks(tf);
}

interface ModelJson {
  format?: string;
  modelTopology?: Record<string, unknown>;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: object;
  userDefinedMetadata?: Record<string, object>;
  modelInitializer?: object;
  weightsManifest?: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
}

/** Loads a tfjs graph model from `model.json` and its weight shards on disk. */
export async function loadGraphModelFromFiles(jsonPath: string): Promise<GraphModel> {
  await initTfjsWasm();
  return loadGraphModel((await modelFilesHandler(jsonPath)).handler);
}

/**
 * tfjs's own loaders fetch URLs, and Node's fetch cannot read file:// URLs, so model.json and its
 * weight shards are read here and handed over through an IOHandler. Shards are concatenated in
 * manifest order, which is how tfjs lays out weights; a missing shard is named.
 */
export async function modelFilesHandler(
  jsonPath: string,
): Promise<{ handler: io.IOHandler; bytes: number; layers: boolean }> {
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  if (
    typeof json !== 'object' ||
    json === null ||
    !json.modelTopology ||
    !Array.isArray(json.weightsManifest)
  ) {
    throw new Error(
      `${path.basename(jsonPath)} is not a tfjs model.json (it needs modelTopology and weightsManifest)`,
    );
  }
  const dir = path.dirname(jsonPath);
  const shards = await Promise.all(
    json.weightsManifest
      .flatMap((group) => group.paths)
      .map(async (shard) => {
        const full = path.resolve(dir, shard);
        if (path.isAbsolute(shard) || path.relative(dir, full).startsWith('..')) {
          throw new Error(`weight shard ${shard} in model.json must be a file next to model.json`);
        }
        return readFile(full).catch(() => {
          throw new Error(`weight shard ${shard} listed in model.json is missing`);
        });
      }),
  );
  const weightData = concat(shards);
  const layers =
    json.format === 'layers-model' || (json.format === undefined && 'model_config' in json.modelTopology);
  const handler: io.IOHandler = {
    load: () =>
      Promise.resolve({
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
        weightSpecs: json.weightsManifest!.flatMap((group) => group.weights),
        weightData,
      }),
  };
  return { handler, bytes: weightData.byteLength, layers };
}

function concat(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out.buffer;
}
