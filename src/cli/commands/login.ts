import { defaultConfigFile } from '../../core/paths.js';
import { normaliseBase } from '../../sdk/auth.js';
import { V2Client } from '../../sdk/client.js';
import { ApiError, ConnectionError } from '../../sdk/errors.js';
import { HttpTransport } from '../../sdk/transport.js';
import { checkBase, ENV_BASES, saveContext } from '../config.js';
import { AnsweredError, CliUsageError } from '../errors.js';
import { readYamlMapping } from '../yaml-file.js';

export interface LoginOptions {
  config?: string;
  env?: string;
  context?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const LOGIN_KEYS = ['user_id', 'pat', 'base_url', 'env'] as const;

/**
 * Reads user_id, pat and base_url (or env: prod|staging|dev) from a login YAML, with the
 * CLARIFAI_* variables filling what it leaves out (or marks "ENVVAR"), checks the key with
 * GET /v2/users/me, and saves it as the current context. The PAT is never printed.
 */
export async function run(opts: LoginOptions, env: Env): Promise<void> {
  const file = opts.config
    ? await readYamlMapping(opts.config, {
        label: '--config',
        keys: LOGIN_KEYS,
        shape: 'with user_id, pat and base_url',
      })
    : {};
  const fromFile = (key: string): string | undefined => {
    const v = file[key];
    if (v !== undefined && v !== null && typeof v !== 'string')
      throw new CliUsageError(`${key} in ${opts.config} must be text`);
    return v === '' || v === 'ENVVAR' ? undefined : (v ?? undefined);
  };
  const base = normaliseBase(resolveBase(opts, fromFile, env));
  const pat = fromFile('pat') ?? env.CLARIFAI_PAT;
  if (!pat) {
    throw new CliUsageError(
      `no PAT: put "pat: <your PAT>" in ${opts.config || 'a login file given with --config'}, or set CLARIFAI_PAT`,
    );
  }
  if (/^YOUR_/.test(pat))
    throw new CliUsageError(
      `the pat in ${opts.config} is still the placeholder "${pat}"; put your own PAT there`,
    );
  const wantedUser = fromFile('user_id') ?? env.CLARIFAI_USER_ID;

  const client = new V2Client(new HttpTransport(base, { timeoutMs: 30_000 }), pat);
  let userId: string;
  try {
    userId = (await client.getMe()).user.id;
  } catch (err) {
    if (err instanceof ApiError && err.httpStatus === 401) {
      throw new ApiError({
        httpStatus: 401,
        code: err.code,
        description: 'login failed',
        details: `${base} refused the PAT (${err.details ?? err.description})`,
      });
    }
    if (err instanceof ConnectionError && err.description.startsWith('cannot reach')) {
      const local = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]?/.test(base);
      throw new AnsweredError(
        err,
        base,
        local
          ? 'is `clarifai serve` running there? start it first (it writes the login file when it is ready)'
          : 'check the network and base_url',
      );
    }
    throw err;
  }
  if (wantedUser && wantedUser !== userId) {
    throw new CliUsageError(
      `the PAT belongs to user "${userId}" on ${base}, but user_id says "${wantedUser}"`,
    );
  }
  const context = opts.context ?? 'default';
  const path = defaultConfigFile(env);
  await saveContext(
    path,
    context,
    { CLARIFAI_API_BASE: base, CLARIFAI_PAT: pat, CLARIFAI_USER_ID: userId },
    env,
  );
  process.stdout.write(`Logged in to ${base} as ${userId} (context "${context}" saved in ${path}).\n`);
}

/** The --env flag, then the file's base_url or env, then CLARIFAI_API_BASE, then Clarifai's cloud. */
function resolveBase(opts: LoginOptions, fromFile: (key: string) => string | undefined, env: Env): string {
  const envName = opts.env ?? fromFile('env');
  if (envName !== undefined && !ENV_BASES[envName]) {
    throw new CliUsageError(`env must be one of ${Object.keys(ENV_BASES).join(', ')}; got "${envName}"`);
  }
  const given = fromFile('base_url');
  const fileBase = given === undefined ? undefined : checkBase(given, `base_url in ${opts.config}`);
  if (opts.env !== undefined) {
    if (fileBase) throw new CliUsageError(`give either --env or base_url in ${opts.config}, not both`);
    return ENV_BASES[opts.env]!;
  }
  return (
    fileBase ??
    (envName ? ENV_BASES[envName] : undefined) ??
    (env.CLARIFAI_API_BASE ? checkBase(env.CLARIFAI_API_BASE, 'CLARIFAI_API_BASE') : undefined) ??
    ENV_BASES.prod!
  );
}
