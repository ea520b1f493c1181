// Run as a separate process by store.test.ts: opens a database and writes a built-in model, so the
// test can start several at once against one fresh database.
import { openStore, type StoreLocation } from '../../src/store/index.js';

const location = process.argv[2];
if (!location) throw new Error('usage: open-store-child.ts LOCATION_JSON');
const store = await openStore(JSON.parse(location) as StoreLocation);
const { version } = await store.models.upsertBuiltin({
  userId: 'clarifai',
  appId: 'main',
  id: 'shared-model',
  name: 'Shared',
  modelTypeId: 'visual-classifier',
  description: 'written by several processes at once',
  versionId: 'shared-v1',
  outputInfo: { params: {} },
});
await store.close();
process.stdout.write(JSON.stringify({ migrated: store.migrated, versionId: version.id }));
