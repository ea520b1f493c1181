import { InvalidArgumentError } from './errors.js';

/** Database URLs as users give them (`--database-url`, DATABASE_URL): checked and shown safely. */

/**
 * The URL with its password replaced by `***`, for messages and logs: a database URL is never
 * shown whole. A string that does not parse as a URL is not shown at all.
 */
export function redactDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(an unparsable database URL)';
  }
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** Refuses anything but a postgres:// (or postgresql://) URL with a host, without echoing secrets. */
export function checkPostgresUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(
      'the database URL is not a URL; expected postgres://user:password@host:port/database',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new InvalidArgumentError(
      `the database URL starts with ${JSON.stringify(parsed.protocol)}, not postgres://; only Postgres is supported (SQLite is the default, in the data directory)`,
    );
  if (!parsed.hostname || parsed.pathname.length <= 1)
    throw new InvalidArgumentError(
      `the database URL ${redactDatabaseUrl(url)} needs a host and a database: postgres://user:password@host:port/database`,
    );
}
