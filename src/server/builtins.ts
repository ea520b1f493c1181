import type { Engine } from '../engine/index.js';
import type { ModelDefinition } from '../engine/types.js';
import type { OutputInfo } from '../core/wire.js';
import type { Store } from '../store/index.js';

/**
 * Writes the engine's built-in models into the store at start-up with their fixed version ids,
 * so getting and listing models read one source.
 */
export async function syncBuiltinModels(store: Store, engine: Engine): Promise<void> {
  for (const def of engine.models()) {
    await store.models.upsertBuiltin({
      userId: def.userId,
      appId: def.appId,
      id: def.id,
      name: def.name,
      modelTypeId: def.modelTypeId,
      description: def.description,
      versionId: def.versionId,
      outputInfo: outputInfoOf(def),
      visibility: 'public',
    });
  }
}

function outputInfoOf(def: ModelDefinition): OutputInfo {
  const params: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(def.params))
    if (spec.default !== undefined) params[name] = spec.default;
  const info: OutputInfo = { params };
  if (def.concepts)
    info.data = { concepts: def.concepts.map((name) => ({ id: name.replace(/ /g, '-'), name, value: 1 })) };
  return info;
}
