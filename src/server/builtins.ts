import type { Engine, ModelSpec } from '../engine/index.js';
import type { Store } from '../store/index.js';
import type { Visibility } from '../store/index.js';
import { outputInfoOf, storedSpec } from './output-info.js';

/**
 * Writes the engine's built-in models into the store at start-up with their fixed version ids
 * and their specs, so getting, listing and predicting all read one source: the store.
 */
export async function syncBuiltinModels(store: Store, engine: Engine): Promise<void> {
  for (const spec of engine.builtins()) await upsertManagedModel(store, spec, 'public');
}

/**
 * A model the server itself manages (a built-in, a `serve --models` folder): written with its
 * version at every start, updated in place when its spec changes, never uploaded over by users.
 */
export async function upsertManagedModel(
  store: Store,
  spec: ModelSpec,
  visibility: Visibility,
  files?: string,
): Promise<void> {
  await store.models.upsertBuiltin({
    userId: spec.userId,
    appId: spec.appId,
    id: spec.id,
    name: spec.name,
    modelTypeId: spec.modelTypeId,
    description: spec.description,
    versionId: spec.versionId,
    outputInfo: outputInfoOf(spec),
    visibility,
    spec: storedSpec(spec),
    ...(files !== undefined ? { files } : {}),
  });
}
