import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { packageDir } from './package-dir.js';

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
}

interface ModelJson {
  modelTopology?: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: object;
  userDefinedMetadata?: Record<string, object>;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/**
 * Loads a tfjs graph model from `model.json` and its weight shards on disk. tfjs's own loaders
 * fetch URLs, and Node's fetch cannot read file:// URLs, so we hand it the bytes through an
 * IOHandler instead. Shards are concatenated in manifest order, which is how tfjs lays out weights.
 */
export async function loadGraphModelFromFiles(jsonPath: string): Promise<GraphModel> {
  await initTfjsWasm();
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  const dir = path.dirname(jsonPath);
  const shardPaths = json.weightsManifest.flatMap((group) => group.paths);
  const shards = await Promise.all(shardPaths.map((p) => readFile(path.join(dir, p))));
  const weightData = concat(shards);
  const handler: tf.io.IOHandler = {
    load: () =>
      Promise.resolve({
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData,
      }),
  };
  return loadGraphModel(handler);
}

function concat(parts: Uint8Array[]): ArrayBuffer {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out.buffer;
}
