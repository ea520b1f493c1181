import type { Stats } from 'node:fs';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** Sibyl's data directory: SIBYL_HOME, else $XDG_DATA_HOME/sibyl, else ~/.local/share/sibyl. */
export function defaultDataDir(env: Env): string {
  if (env.SIBYL_HOME) return env.SIBYL_HOME;
  const xdg = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(xdg, 'sibyl');
}

/** The config file Clarifai's own CLI uses: $XDG_CONFIG_HOME/clarifai/config, else ~/.config/clarifai/config. */
export function defaultConfigFile(env: Env): string {
  const xdg = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(xdg, 'clarifai', 'config');
}

/** The data directory cannot be used: its path and the reason are in the message. */
export class DataDirError extends Error {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`cannot use the data directory ${dir}: ${reason}`);
    this.name = 'DataDirError';
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

/**
 * Makes sure the data directory exists and is a writable directory, creating missing levels one
 * at a time. Recursive mkdir is avoided on purpose: under a pseudo file system such as /proc it
 * fails with ENOENT for a parent that exists, and Node's recursive mkdir then retries forever.
 * Every failure names the path and the reason, instead of a raw EEXIST or ENOENT.
 */
export function prepareDataDir(dir: string): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  let probe = abs;
  for (;;) {
    let st: Stats;
    try {
      st = statSync(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a file sits somewhere up the path; walking up finds and names it
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new DataDirError(dir, reasonOf(err, probe));
      missing.unshift(probe);
      const parent = dirname(probe);
      if (parent === probe) throw new DataDirError(dir, 'no file system root found');
      probe = parent;
      continue;
    }
    if (!st.isDirectory()) {
      throw new DataDirError(
        dir,
        probe === abs ? 'it is a file, not a directory' : `${probe} is a file, not a directory`,
      );
    }
    break;
  }
  for (const level of missing) {
    try {
      mkdirSync(level, { mode: 0o700 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(level).isDirectory()) continue;
      const why =
        code === 'ENOENT'
          ? `${dirname(level)} does not allow creating directories in it`
          : reasonOf(err, level);
      throw new DataDirError(dir, why);
    }
  }
  try {
    accessSync(abs, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new DataDirError(dir, `it is not writable (${reasonOf(err, abs)})`);
  }
}

function reasonOf(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  const known = code ? REASONS[code] : undefined;
  return known ? `${known} (${path})` : (err as Error).message;
}
