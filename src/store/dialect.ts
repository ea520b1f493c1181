import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { requireCjs } from '../core/cjs.js';
import type { DatabaseConnection, Dialect, SqliteDialectConfig } from 'kysely';
import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver } from './kysely.js';
import { checkPostgresUrl, redactDatabaseUrl } from '../core/database-url.js';

/**
 * The one place that knows which database engine is behind the store. Everything else speaks
 * portable Kysely.
 */
export type StoreLocation =
  /** A data directory (created 0700 if missing) holding `sibyl.db`. */
  | { dataDir: string }
  /** A SQLite file path, or ':memory:' for a private throw-away database. */
  | { sqlitePath: string }
  /** `postgres://user:password@host:port/database`: many server instances on one database. */
  | { postgresUrl: string };

export type DialectKind = 'sqlite' | 'postgres';

export const DATABASE_FILE = 'sibyl.db';

/** How long a SQLite connection waits for another process's write lock before giving up. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Starts every transaction with BEGIN IMMEDIATE, taking the write lock up front: a deferred
 * transaction that reads and then writes fails at once with SQLITE_BUSY when another process
 * (say `clarifai serve` and an embedded CLI on one data directory) wrote in between, whereas an
 * immediate one waits out the busy timeout. Store transactions all write, so nothing is lost.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * SQLite does run DDL in transactions; saying so makes Kysely's Migrator run all pending
 * migrations in one (immediate) transaction, which is also what keeps two processes that open a
 * fresh data directory at once from both applying them.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class SibylSqliteDialect extends SqliteDialect {
  private readonly sqliteConfig: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.sqliteConfig = config;
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.sqliteConfig);
  }

  override createAdapter(): SqliteAdapter {
    return new TransactionalSqliteAdapter();
  }
}

function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') {
    // Create the file 0600 ourselves: SQLite would use the umask (usually 0644). Its -wal and
    // -shm files copy the main file's mode.
    closeSync(openSync(path, 'a', 0o600));
  }
  const sqlite = new (requireCjs('better-sqlite3') as typeof Database)(path);
  try {
    if (path !== ':memory:') {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
    }
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (err) {
    sqlite.close();
    throw err;
  }
  return sqlite;
}

export interface CreatedDialect {
  dialect: Dialect;
  kind: DialectKind;
  /** Where the database is, safe to show (a URL without its password). */
  where: string;
}

export async function createDialect(location: StoreLocation): Promise<CreatedDialect> {
  if ('postgresUrl' in location) {
    // imported only for Postgres: pg costs every SQLite start (every embedded CLI run) ~30 ms
    const { postgresDialect } = await import('./dialect-postgres.js');
    return {
      dialect: postgresDialect(location.postgresUrl),
      kind: 'postgres',
      where: redactDatabaseUrl(location.postgresUrl),
    };
  }
  let path: string;
  if ('dataDir' in location) {
    mkdirSync(location.dataDir, { recursive: true, mode: 0o700 });
    path = join(location.dataDir, DATABASE_FILE);
  } else {
    path = location.sqlitePath;
  }
  return { dialect: new SibylSqliteDialect({ database: openSqlite(path) }), kind: 'sqlite', where: path };
}

export { checkPostgresUrl, redactDatabaseUrl };
