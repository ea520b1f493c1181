import type { Engine } from '../engine/index.js';
import type { Store } from '../store/index.js';
import { outputInfoOf, storedSpec } from './output-info.js';

/**
 * Writes the engine's built-in models into the store at start-up with their fixed version ids
 * and their specs, so getting, listing and predicting all read one source: the store.
 */
export async function syncBuiltinModels(store: Store, engine: Engine): Promise<void> {
  for (const spec of engine.builtins()) {
    await store.models.upsertBuiltin({
      userId: spec.userId,
      appId: spec.appId,
      id: spec.id,
      name: spec.name,
      modelTypeId: spec.modelTypeId,
      description: spec.description,
      versionId: spec.versionId,
      outputInfo: outputInfoOf(spec),
      visibility: 'public',
      spec: storedSpec(spec),
    });
  }
}
