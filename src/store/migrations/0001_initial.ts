import type { Kysely } from 'kysely';
import { sql } from '../kysely.js';

// Frozen once shipped: later schema changes go in new files (0002_..., 0003_...), never here.
// Only portable column types and constraints, so the same migration runs on SQLite and Postgres.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('full_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('pats')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_prefix', 'text', (c) => c.notNull())
    .addColumn('token_last4', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .execute();
  await db.schema.createIndex('pats_user_id').on('pats').column('user_id').execute();

  await db.schema
    .createTable('apps')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('apps_pk', ['user_id', 'id'])
    .execute();

  await db.schema
    .createTable('models')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('model_type_id', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('private'))
    .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('modified_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('models_pk', ['user_id', 'app_id', 'id'])
    .addForeignKeyConstraint('models_app_fk', ['user_id', 'app_id'], 'apps', ['user_id', 'id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .addCheckConstraint('models_visibility_check', sql`visibility in ('private', 'public')`)
    .execute();
  await db.schema.createIndex('models_visibility').on('models').column('visibility').execute();

  await db.schema
    .createTable('model_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('output_info', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addForeignKeyConstraint(
      'model_versions_model_fk',
      ['user_id', 'app_id', 'model_id'],
      'models',
      ['user_id', 'app_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addUniqueConstraint('model_versions_seq_unique', ['user_id', 'app_id', 'model_id', 'seq'])
    .execute();

  await db.schema
    .createTable('inputs')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('inputs_pk', ['user_id', 'app_id', 'id'])
    .addForeignKeyConstraint('inputs_app_fk', ['user_id', 'app_id'], 'apps', ['user_id', 'id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('inputs_listing')
    .on('inputs')
    .columns(['user_id', 'app_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['inputs', 'model_versions', 'models', 'apps', 'pats', 'users']) {
    await db.schema.dropTable(table).execute();
  }
}
