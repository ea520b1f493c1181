import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_model_version_specs.js';
import * as m0003 from './0003_tenancy.js';
import * as m0004 from './0004_compute.js';
import * as m0005 from './0005_runner_items.js';

/**
 * Every migration, by name. Names sort in the order they run; append new ones, never rename,
 * edit or remove a shipped one (the name is what the migration table remembers).
 *
 * A static table rather than a folder scan, so migrations work the same from `src/` under tsx,
 * from `dist/`, and bundled.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_model_version_specs': m0002,
  '0003_tenancy': m0003,
  '0004_compute': m0004,
  '0005_runner_items': m0005,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
