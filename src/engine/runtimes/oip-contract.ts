/**
 * Sibyl's tensor contract on the Open Inference Protocol v2, shared by the server (which answers
 * in it) and the `oip` runtime (which reads it back, so Sibyl -> OIP -> Sibyl gives the local answer).
 *
 * Input: one BYTES tensor of shape [N] named after the model's input type (`image`, `text`,
 * `audio`, `video`), one element per input. Outputs, by what the model type returns:
 * - concepts: `concept_names` BYTES [N,K], `concept_scores` FP32 [N,K], `concept_ids` BYTES [N,K]
 *   (K the most any input has, at most output_config's max_concepts; padded with "" and 0);
 * - regions: `boxes` FP32 [N,R,4] (top_row, left_col, bottom_row, right_col as fractions),
 *   `box_names` BYTES [N,R], `box_scores` FP32 [N,R] (padded with 0 and "");
 * - text: `text` BYTES [N];
 * - embeddings: `embeddings` FP32 [N,D].
 */

export type OipKind = 'concepts' | 'regions' | 'text' | 'embeddings';

export interface OipOutputHead {
  name: string;
  datatype: 'BYTES' | 'FP32';
  /** -1 where the size depends on the request. */
  shape: number[];
}

export const OIP_OUTPUTS: Readonly<Record<OipKind, readonly OipOutputHead[]>> = {
  concepts: [
    { name: 'concept_names', datatype: 'BYTES', shape: [-1, -1] },
    { name: 'concept_scores', datatype: 'FP32', shape: [-1, -1] },
    { name: 'concept_ids', datatype: 'BYTES', shape: [-1, -1] },
  ],
  regions: [
    { name: 'boxes', datatype: 'FP32', shape: [-1, -1, 4] },
    { name: 'box_names', datatype: 'BYTES', shape: [-1, -1] },
    { name: 'box_scores', datatype: 'FP32', shape: [-1, -1] },
  ],
  text: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
  embeddings: [{ name: 'embeddings', datatype: 'FP32', shape: [-1, -1] }],
};

/** What a model type's outputs hold; undefined for types the contract has no tensors for. */
export function oipKindOf(modelTypeId: string): OipKind | undefined {
  if (modelTypeId.endsWith('-classifier')) return 'concepts';
  if (modelTypeId.endsWith('-detector')) return 'regions';
  if (modelTypeId.endsWith('-to-text')) return 'text';
  if (modelTypeId.endsWith('-embedder')) return 'embeddings';
  return undefined;
}

/** Request parameters that are output_config fields; every other parameter is an inference param. */
export const OUTPUT_CONFIG_PARAMETERS = ['max_concepts', 'min_value', 'select_concepts', 'sample_ms'];

/** Parameters of the binary extension itself, never handed to a model. */
export const PROTOCOL_PARAMETERS = ['binary_data_output'];
