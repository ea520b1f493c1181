/**
 * Model types whose output is generated piece by piece (GenerateModelOutputs streams their text);
 * every other model answers a generate request with its whole prediction at once.
 */
export const GENERATIVE_MODEL_TYPES: readonly string[] = ['text-to-text', 'multimodal-to-text'];

export function isGenerative(modelTypeId: string | undefined): boolean {
  return modelTypeId !== undefined && GENERATIVE_MODEL_TYPES.includes(modelTypeId);
}
