import type { Concept, Data } from '../../core/wire.js';
import { OIP_OUTPUTS, type OipKind } from '../../engine/runtimes/oip-contract.js';
import { badTensor, encodeBytes, encodeFp32, type OipTensor } from '../../engine/runtimes/oip-tensors.js';
import { PredictionError } from '../../core/errors.js';

/**
 * One prediction's `data` per input turned into the output tensors of Sibyl's OIP contract
 * (engine/runtimes/oip-contract.ts), and those tensors into JSON or the binary extension.
 */

/** An output tensor before encoding: FP32 data as numbers, BYTES data as strings. */
export interface OutputTensor {
  name: string;
  datatype: 'FP32' | 'BYTES';
  shape: number[];
  data: number[] | string[];
}

export function outputTensors(kind: OipKind, data: readonly Data[]): OutputTensor[] {
  const n = data.length;
  switch (kind) {
    case 'concepts': {
      const lists = data.map((d) => d.concepts ?? []);
      const k = Math.max(0, ...lists.map((l) => l.length));
      const cell = <T>(pick: (c: Concept) => T, pad: T) =>
        lists.flatMap((l) => Array.from({ length: k }, (_, j) => (l[j] ? pick(l[j]) : pad)));
      return [
        { name: 'concept_names', datatype: 'BYTES', shape: [n, k], data: cell((c) => c.name, '') },
        { name: 'concept_scores', datatype: 'FP32', shape: [n, k], data: cell((c) => c.value, 0) },
        { name: 'concept_ids', datatype: 'BYTES', shape: [n, k], data: cell((c) => c.id, '') },
      ];
    }
    case 'regions': {
      const lists = data.map((d) => d.regions ?? []);
      const r = Math.max(0, ...lists.map((l) => l.length));
      const boxes: number[] = [];
      const names: string[] = [];
      const scores: number[] = [];
      for (const list of lists) {
        for (let j = 0; j < r; j++) {
          const region = list[j];
          const box = region?.region_info.bounding_box;
          boxes.push(box?.top_row ?? 0, box?.left_col ?? 0, box?.bottom_row ?? 0, box?.right_col ?? 0);
          const top = region?.data.concepts[0];
          names.push(top?.name ?? '');
          scores.push(region ? (region.value ?? top?.value ?? 0) : 0);
        }
      }
      return [
        { name: 'boxes', datatype: 'FP32', shape: [n, r, 4], data: boxes },
        { name: 'box_names', datatype: 'BYTES', shape: [n, r], data: names },
        { name: 'box_scores', datatype: 'FP32', shape: [n, r], data: scores },
      ];
    }
    case 'text':
      return [{ name: 'text', datatype: 'BYTES', shape: [n], data: data.map((d) => d.text?.raw ?? '') }];
    case 'embeddings': {
      const vectors = data.map((d, i) => {
        const v = d.embeddings?.[0]?.vector;
        if (!v)
          throw new PredictionError(
            `the model gave input ${i} no embedding at the top level (per-region embeddings have no OIP tensor)`,
          );
        return v;
      });
      const dim = vectors[0]!.length;
      if (vectors.some((v) => v.length !== dim))
        throw new PredictionError('the model gave embeddings of different lengths; an OIP tensor needs one');
      return [{ name: 'embeddings', datatype: 'FP32', shape: [n, dim], data: vectors.flat() }];
    }
  }
}

/** A requested output: `{name, parameters: {binary_data}}`. */
export interface OutputRequest {
  name: string;
  binary: boolean;
}

/**
 * The response's `outputs` (those asked for, else all) with each binary one's bytes, in order.
 * FP32 data in JSON keeps the scores' full precision (JSON numbers); binary FP32 rounds to float.
 */
export function encodeOutputs(
  kind: OipKind,
  tensors: OutputTensor[],
  requested: OutputRequest[] | undefined,
  binaryByDefault: boolean,
): { outputs: OipTensor[]; binary: Buffer[] } {
  const known = OIP_OUTPUTS[kind].map((o) => o.name);
  const wanted =
    requested ?? tensors.map((t) => ({ name: t.name, binary: binaryByDefault }) satisfies OutputRequest);
  const outputs: OipTensor[] = [];
  const binary: Buffer[] = [];
  for (const want of wanted) {
    const t = tensors.find((x) => x.name === want.name);
    if (!t)
      throw badTensor(`outputs: this model has no output "${want.name}"; its outputs: ${known.join(', ')}`);
    if (!want.binary) {
      outputs.push({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data });
      continue;
    }
    const bytes =
      t.datatype === 'FP32'
        ? encodeFp32(t.data as number[])
        : encodeBytes((t.data as string[]).map((s) => Buffer.from(s, 'utf8')));
    outputs.push({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      parameters: { binary_data_size: bytes.length },
    });
    binary.push(bytes);
  }
  return { outputs, binary };
}
