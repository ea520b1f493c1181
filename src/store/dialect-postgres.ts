import pg from 'pg';
import type { Dialect } from 'kysely';
import { PostgresDialect } from './kysely.js';
import { checkPostgresUrl } from '../core/database-url.js';

const PG_INT8_OID = 20;
const PG_NUMERIC_OID = 1700;

/**
 * pg hands out int8 (count(), sum()) and numeric as strings, since they can exceed 2^53; ours are
 * counts and small integers, so they become numbers, as SQLite gives them. Set on this pool only,
 * not on pg's global table.
 */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8_OID || oid === PG_NUMERIC_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Postgres, for several server instances on one database. Transactions are READ COMMITTED
 * (Kysely's default); the repos get BEGIN IMMEDIATE's guarantees from row locks instead: every
 * transaction that reads-then-writes (version seq allocation) first writes the row it depends on,
 * and inserts use ON CONFLICT, which waits for a concurrent insert of the same key. Migrations run
 * in one transaction under Kysely's advisory lock, so instances starting together apply them once.
 */
function openPostgres(url: string): pg.Pool {
  checkPostgresUrl(url);
  const pool = new pg.Pool({ connectionString: url, types: pgTypes, application_name: 'sibyl' });
  // An idle connection dropped by the server (restart, timeout) is reported here; without a
  // listener it would crash the process. The next query opens a fresh connection or fails.
  pool.on('error', () => {});
  return pool;
}

export function postgresDialect(url: string): Dialect {
  return new PostgresDialect({ pool: openPostgres(url) });
}
