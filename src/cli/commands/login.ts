import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { defaultConfigFile } from '../../core/paths.js';
import { normaliseBase } from '../../sdk/auth.js';
import { V2Client } from '../../sdk/client.js';
import { ApiError } from '../../sdk/errors.js';
import { HttpTransport } from '../../sdk/transport.js';
import { ENV_BASES, saveContext } from '../config.js';
import { CliUsageError } from '../errors.js';

export interface LoginOptions {
  config?: string;
  env?: string;
  context?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads user_id, pat and base_url (or env: prod|staging|dev) from a login YAML, with the
 * CLARIFAI_* variables filling what it leaves out, checks the key with GET /v2/users/me, and
 * saves it as the current context. The PAT is never printed.
 */
export async function run(opts: LoginOptions, env: Env): Promise<void> {
  const file = opts.config ? await readLoginFile(opts.config) : {};
  const pick = (key: string, envName: string): string | undefined => {
    const v = file[key];
    if (typeof v === 'string' && v !== '' && v !== 'ENVVAR') return v;
    return env[envName] || undefined;
  };
  const envName = opts.env ?? (typeof file.env === 'string' ? file.env : undefined);
  if (envName !== undefined && !ENV_BASES[envName]) {
    throw new CliUsageError(`env must be one of ${Object.keys(ENV_BASES).join(', ')}; got "${envName}"`);
  }
  const base = normaliseBase(
    pick('base_url', 'CLARIFAI_API_BASE') ?? (envName ? ENV_BASES[envName]! : ENV_BASES.prod!),
  );
  const pat = pick('pat', 'CLARIFAI_PAT');
  if (!pat) {
    throw new CliUsageError(
      `no PAT: put "pat: <your PAT>" in ${opts.config ?? 'a login file given with --config'}, or set CLARIFAI_PAT`,
    );
  }
  if (/^YOUR_/.test(pat))
    throw new CliUsageError(
      `the pat in ${opts.config} is still the placeholder "${pat}"; put your own PAT there`,
    );
  const wantedUser = pick('user_id', 'CLARIFAI_USER_ID');

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
    throw err;
  }
  if (wantedUser && wantedUser !== userId) {
    throw new CliUsageError(
      `the PAT belongs to user "${userId}" on ${base}, but user_id says "${wantedUser}"`,
    );
  }
  const context = opts.context ?? 'default';
  const path = defaultConfigFile(env);
  await saveContext(path, context, { CLARIFAI_API_BASE: base, CLARIFAI_PAT: pat, CLARIFAI_USER_ID: userId });
  process.stdout.write(`Logged in to ${base} as ${userId} (context "${context}" saved in ${path}).\n`);
}

async function readLoginFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliUsageError(
      `cannot read --config ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new CliUsageError(`--config ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new CliUsageError(`--config ${path} must be a YAML mapping with user_id, pat and base_url`);
  }
  const allowed = ['user_id', 'pat', 'base_url', 'env'];
  const unknown = Object.keys(doc).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw new CliUsageError(
      `--config ${path} has unknown key ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`,
    );
  return doc as Record<string, unknown>;
}
