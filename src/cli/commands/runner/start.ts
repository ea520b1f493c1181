import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { defaultDataDir, prepareDataDir } from '../../../core/paths.js';
import { normaliseBase } from '../../../sdk/auth.js';
import { V2Client } from '../../../sdk/client.js';
import { HttpTransport } from '../../../sdk/transport.js';
import { checkBase, resolveConnection } from '../../config.js';
import { CliUsageError } from '../../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * What `clarifai runner` and `clarifai model local-runner` share: the API, the PAT and user, and
 * the flags checked before anything starts. The PAT comes from CLARIFAI_PAT or the current login
 * context only, never from a flag (it would land in shell history), and is never printed.
 */

export interface RunnerFlags {
  apiUrl?: string;
  user_id?: string;
  concurrency?: string;
  workers?: string;
  dataDir?: string;
  healthPort?: string;
  models?: string;
  preload?: string[];
  keep?: boolean;
  verbose?: boolean;
}

export interface ApiTarget {
  url: string;
  pat: string;
  userId: string;
}

export async function resolveApi(flags: RunnerFlags, env: Env): Promise<ApiTarget> {
  const conn = await resolveConnection(env);
  if (conn.kind !== 'remote')
    throw new CliUsageError(
      'a runner connects to an API with a PAT: set CLARIFAI_PAT (or `clarifai login --config login.yaml`), and give --api-url or a login whose base_url is that API',
    );
  const url = flags.apiUrl ? normaliseBase(checkBase(flags.apiUrl, '--api-url')) : conn.base;
  let userId = flags.user_id ?? conn.userId;
  if (!userId) {
    // the key's own user, asked of the API (a key knows whom it belongs to)
    const me = await new V2Client(new HttpTransport(url), conn.pat).getMe();
    userId = me.user?.id;
    if (!userId) throw new CliUsageError(`the API at ${url} did not say whose key this is; give --user_id`);
  }
  return { url, pat: conn.pat, userId };
}

export function intFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max)
    throw new CliUsageError(`${name} must be a whole number from ${min} to ${max}; got "${raw}"`);
  return n;
}

/** --workers: the engine's worker threads (its default, one per core, when absent). */
export function workersFlag(flags: RunnerFlags): number | undefined {
  return intFlag('--workers', flags.workers, 1, 1024);
}

export function concurrencyFlag(flags: RunnerFlags): number {
  return intFlag('--concurrency', flags.concurrency, 1, 4096) ?? availableParallelism();
}

/** --preload USER/APP/MODEL, each checked for its three parts. */
export function preloadFlags(flags: RunnerFlags): { userId: string; appId: string; modelId: string }[] {
  return (flags.preload ?? []).map((ref) => {
    const parts = ref.split('/');
    if (parts.length !== 3 || parts.some((p) => p === ''))
      throw new CliUsageError(
        `--preload "${ref}" must be USER/APP/MODEL, e.g. clarifai/main/general-image-recognition`,
      );
    return { userId: parts[0]!, appId: parts[1]!, modelId: parts[2]! };
  });
}

/** --data-dir, else a directory of this nodepool's runners under Sibyl's data directory. */
export function runnerDataDir(flags: RunnerFlags, env: Env, clusterId: string, nodepoolId: string): string {
  const dir = flags.dataDir ?? join(defaultDataDir(env), 'runners', clusterId, nodepoolId);
  prepareDataDir(dir);
  return dir;
}

/** A nodepool, cluster or runner id as Clarifai allows it. */
export function idFlag(name: string, raw: string | undefined, required: boolean): string | undefined {
  if (raw === undefined || raw === '') {
    if (required) throw new CliUsageError(`${name} is required: the id of ${what(name)}`);
    return undefined;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(raw))
    throw new CliUsageError(`${name} "${raw}" is not an id: use letters, digits, _ - . (at most 128)`);
  return raw;
}

function what(name: string): string {
  return name.includes('cluster') ? 'the compute cluster' : name.includes('nodepool') ? 'the nodepool' : 'it';
}
