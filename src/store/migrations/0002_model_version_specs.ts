import type { Kysely } from 'kysely';

// Frozen once shipped. A model version's engine spec (runtime kind and settings, params, batching,
// input type) as JSON, and where its files are: the engine runs a version from these alone.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('model_versions').addColumn('spec', 'text').execute();
  await db.schema.alterTable('model_versions').addColumn('files', 'text').execute();
}
