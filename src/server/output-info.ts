import type { OutputInfo } from '../core/wire.js';
import type { ModelSpec } from '../engine/index.js';

/** What a model version shows clients as `output_info`: its params' defaults and its concepts. */
export function outputInfoOf(spec: ModelSpec): OutputInfo {
  const params: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(spec.params))
    if (param.default !== undefined) params[name] = param.default;
  const info: OutputInfo = { params };
  if (spec.concepts)
    info.data = {
      concepts: spec.concepts.map((name) => ({ id: name.replace(/\s+/g, '-'), name, value: 1 })),
    };
  return info;
}

/** A spec as stored with its version: ids live in the row, the folder is resolved at run time. */
export function storedSpec(spec: ModelSpec): Record<string, unknown> {
  const { folder: _folder, ...rest } = spec;
  return { ...rest };
}
