// The store's tests run on every backend: SQLite always, Postgres when SIBYL_TEST_DATABASE_URL
// names one (a role that may CREATE DATABASE: each test gets a fresh database, dropped after).
// Without it the Postgres tests are skipped with a message, except in CI (CI=true), where they fail:
// CI must prove both backends (.ci/run starts a Postgres).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { openStore, type Store, type StoreLocation } from '../../src/store/index.js';

export const TEST_DATABASE_URL = process.env.SIBYL_TEST_DATABASE_URL || undefined;
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty database; `reopenable` when the test opens it more than once (SQLite: a file). */
  fresh(reopenable?: boolean): Promise<StoreLocation>;
  /** A store on a fresh database. */
  open(opts?: { now?: () => Date }): Promise<Store>;
  /** Drops every database fresh() made (the describe block calls it when done). */
  cleanup(): Promise<void>;
}

function sqliteBackend(): StoreBackend {
  const dirs: string[] = [];
  const backend: StoreBackend = {
    name: 'sqlite',
    async fresh(reopenable = false) {
      if (!reopenable) return { sqlitePath: ':memory:' };
      const dir = mkdtempSync(join(tmpdir(), 'sibyl-store-'));
      dirs.push(dir);
      return { dataDir: dir };
    },
    async open(opts = {}) {
      return openStore({ ...(await backend.fresh()), ...opts });
    },
    async cleanup() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
  return backend;
}

let counter = 0;

/** Runs SQL as the test role on the database named in SIBYL_TEST_DATABASE_URL. */
async function admin(url: string, query: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

/** A fresh database on the test server, as a URL (same role and host, new database name). */
export async function freshPostgresDatabase(baseUrl: string): Promise<{ url: string; name: string }> {
  const name = `sibyl_t_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  await admin(baseUrl, `create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

export async function dropPostgresDatabase(baseUrl: string, name: string): Promise<void> {
  await admin(baseUrl, `drop database if exists ${name} with (force)`);
}

function postgresBackend(baseUrl: string): StoreBackend {
  const made: string[] = [];
  const backend: StoreBackend = {
    name: 'postgres',
    async fresh() {
      const { url, name } = await freshPostgresDatabase(baseUrl);
      made.push(name);
      return { postgresUrl: url };
    },
    async open(opts = {}) {
      return openStore({ ...(await backend.fresh()), ...opts });
    },
    async cleanup() {
      for (const name of made.splice(0)) await dropPostgresDatabase(baseUrl, name);
    },
  };
  return backend;
}

export const POSTGRES_MISSING =
  'Postgres tests skipped: set SIBYL_TEST_DATABASE_URL=postgres://user:pass@host:port/db ' +
  '(a role that may create databases; `bash scripts/start-postgres.sh` starts one and prints it)';

/**
 * Declares the Postgres part of a test file: `fn` runs when SIBYL_TEST_DATABASE_URL is set;
 * otherwise a skipped describe says why, or, in CI, a failing test does.
 */
export function describePostgres(name: string, fn: (baseUrl: string) => void): void {
  if (TEST_DATABASE_URL && !/^postgres(ql)?:\/\/[^\s]+$/.test(TEST_DATABASE_URL)) {
    // pg resolves a string that is not a URL against postgres://base, so a polluted variable would
    // otherwise fail every test with "getaddrinfo ENOTFOUND base"
    describe(name, () => {
      test('SIBYL_TEST_DATABASE_URL is a postgres:// URL', () => {
        throw new Error(
          `SIBYL_TEST_DATABASE_URL must be one postgres://user:pass@host:port/db URL; got ${JSON.stringify(TEST_DATABASE_URL.replace(/:[^:@/]*@/, ':***@'))}`,
        );
      });
    });
  } else if (TEST_DATABASE_URL) {
    describe(name, () => fn(TEST_DATABASE_URL));
  } else if (IN_CI) {
    describe(name, () => {
      test('needs a Postgres in CI', () => {
        throw new Error(`SIBYL_TEST_DATABASE_URL is not set, and CI=true. ${POSTGRES_MISSING}`);
      });
    });
  } else {
    describe(name, { skip: POSTGRES_MISSING }, () => {});
  }
}

/** Declares `fn`'s tests once per backend, as "<name> (sqlite)" and "<name> (postgres)". */
export function describeEachBackend(name: string, fn: (backend: StoreBackend) => void): void {
  describe(`${name} (sqlite)`, () => {
    const backend = sqliteBackend();
    after(() => backend.cleanup());
    fn(backend);
  });
  describePostgres(`${name} (postgres)`, (baseUrl) => {
    const backend = postgresBackend(baseUrl);
    after(() => backend.cleanup());
    fn(backend);
  });
}
