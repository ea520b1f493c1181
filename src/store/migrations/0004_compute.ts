import type { Kysely } from 'kysely';
import { sql } from '../kysely.js';

// Frozen once shipped. Compute as Clarifai models it: a user's compute clusters, their nodepools
// (a pool of remote runners, or an external endpoint), deployments that place a model on nodepools,
// and the runners that register in a nodepool. Only portable types, as in 0001: JSON is TEXT.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('compute_clusters')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('cloud_provider_id', 'text', (c) => c.notNull().defaultTo('local'))
    .addColumn('region', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('cluster_type', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('managed_by', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('private'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('modified_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_clusters_pk', ['user_id', 'id'])
    .execute();

  await db.schema
    .createTable('nodepools')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('compute_cluster_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('runners'))
    .addColumn('endpoint', 'text')
    .addColumn('min_instances', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_instances', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('modified_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('nodepools_pk', ['user_id', 'compute_cluster_id', 'id'])
    // no cascade: a cluster that still has nodepools is refused (repos/compute-clusters.ts)
    .addForeignKeyConstraint('nodepools_cluster_fk', ['user_id', 'compute_cluster_id'], 'compute_clusters', [
      'user_id',
      'id',
    ])
    .addCheckConstraint('nodepools_kind_check', sql`kind in ('runners', 'endpoint')`)
    .execute();

  await db.schema
    .createTable('deployments')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('model_user_id', 'text', (c) => c.notNull())
    .addColumn('model_app_id', 'text', (c) => c.notNull())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('model_version_id', 'text')
    .addColumn('nodepools', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('scheduling_choice', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('min_replicas', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_replicas', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('modified_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('deployments_pk', ['user_id', 'id'])
    .execute();

  await db.schema
    .createTable('runners')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('compute_cluster_id', 'text', (c) => c.notNull())
    .addColumn('nodepool_id', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('worker', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('modified_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('runners_nodepool')
    .on('runners')
    .columns(['user_id', 'compute_cluster_id', 'nodepool_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['runners', 'deployments', 'nodepools', 'compute_clusters']) {
    await db.schema.dropTable(table).execute();
  }
}
