import type { ModelTypeField } from '../../core/wire.js';
import type { ParamSpec } from '../../engine/index.js';

/**
 * A version's inference params as Clarifai's `output_info.params_specs` (ModelTypeField): what
 * each param is, its default and what it allows, so any client (Sibyl's `--info`, Clarifai's SDKs,
 * the playground) can show and check params without knowing the model's runtime.
 */
export function paramsSpecs(params: Readonly<Record<string, ParamSpec>>): ModelTypeField[] {
  return Object.entries(params).map(([name, spec]) => {
    const field: ModelTypeField = {
      path: name,
      name,
      field_type: fieldType(spec),
      description: spec.description,
    };
    if (spec.default !== undefined) field.default_value = spec.default;
    if (spec.enum) field.model_type_enum_options = spec.enum.map((id) => ({ id }));
    if (spec.min !== undefined || spec.max !== undefined || spec.type === 'integer') {
      field.model_type_range_info = {
        ...(spec.min !== undefined ? { min: spec.min } : {}),
        ...(spec.max !== undefined ? { max: spec.max } : {}),
        // step 1: a whole number, as Clarifai's range info says it
        ...(spec.type === 'integer' ? { step: 1 } : {}),
      };
    }
    return field;
  });
}

function fieldType(spec: ParamSpec): ModelTypeField['field_type'] {
  if (spec.enum) return 'ENUM';
  switch (spec.type) {
    case 'number':
    case 'integer':
      return 'NUMBER';
    case 'boolean':
      return 'BOOLEAN';
    case 'strings':
      return 'ARRAY_OF_STRINGS';
    default:
      return 'STRING';
  }
}
