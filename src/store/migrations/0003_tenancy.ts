import type { Kysely } from 'kysely';

// Frozen once shipped. Tenancy: PAT scopes, expiry and revocation; app visibility and description.
// Existing PATs (the admin's bootstrap key among them) keep full access through the default scopes.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('pats')
    .addColumn('scopes', 'text', (c) => c.notNull().defaultTo('predict read write admin'))
    .execute();
  await db.schema.alterTable('pats').addColumn('expires_at', 'text').execute();
  await db.schema.alterTable('pats').addColumn('revoked_at', 'text').execute();
  await db.schema
    .alterTable('apps')
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('private'))
    .execute();
  await db.schema
    .alterTable('apps')
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
}
