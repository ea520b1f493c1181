// Run as a separate process by store.test.ts: opens a data directory and writes a built-in model,
// so the test can start several at once against one fresh directory.
import { openStore } from '../../src/store/index.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: open-store-child.ts DATA_DIR');
const store = await openStore({ dataDir });
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
