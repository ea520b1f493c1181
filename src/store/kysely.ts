import type * as KyselyModule from 'kysely';
import { requireCjs } from '../core/cjs.js';

/**
 * kysely for the whole store, from its CommonJS build through `require`. Its ESM build is about
 * 1,000 modules, and Node 20's ESM loader takes twice as long over them (about 60 ms against 34 ms
 * here) on every CLI start that opens the store, which is every embedded `clarifai` command. One
 * entry point, so every part of the store shares one instance (one `Kysely` class, one `sql`).
 * Types still come from `import type ... from 'kysely'`.
 */
const kysely = requireCjs('kysely') as typeof KyselyModule;

export const { sql, Migrator, PostgresDialect, SqliteDialect, CompiledQuery } = kysely;
// classes also used as types here need both names
export const { Kysely, SqliteAdapter, SqliteDriver } = kysely;
export type Kysely<DB> = KyselyModule.Kysely<DB>;
export type SqliteAdapter = KyselyModule.SqliteAdapter;
export type SqliteDriver = KyselyModule.SqliteDriver;
