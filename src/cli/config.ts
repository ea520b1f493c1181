import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { defaultConfigFile, defaultDataDir } from '../core/paths.js';
import { DEFAULT_BASE, normaliseBase } from '../sdk/auth.js';
import { CliUsageError } from './errors.js';
import { readYamlMapping } from './yaml-file.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One saved login, with the key names Clarifai's own CLI uses. */
export interface ContextValues {
  CLARIFAI_API_BASE?: string;
  CLARIFAI_PAT?: string;
  CLARIFAI_USER_ID?: string;
}

const KEYS = ['CLARIFAI_API_BASE', 'CLARIFAI_PAT', 'CLARIFAI_USER_ID'] as const;

export const ENV_BASES: Record<string, string> = {
  prod: 'https://api.clarifai.com',
  staging: 'https://api-staging.clarifai.com',
  dev: 'https://api-dev.clarifai.com',
};

/** Where the CLI sends requests: a remote v2 API, or the embedded engine on a local data directory. */
export type Connection =
  | {
      kind: 'remote';
      base: string;
      pat: string;
      userId?: string;
      context?: string;
      /** Where the PAT came from, for messages: 'context "default" in <file>' or 'CLARIFAI_PAT'. */
      via: string;
    }
  | { kind: 'embedded'; dataDir: string };

export interface ConfigDoc {
  current_context?: string;
  contexts?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export async function readConfig(path: string): Promise<ConfigDoc> {
  return (await readYamlMapping(path, { label: 'the config file', missingOk: true })) as ConfigDoc;
}

/** Reads a context's values; accepts Clarifai's flat layout and the nested `env:` one. "ENVVAR" means read the variable. */
export function contextValues(doc: ConfigDoc, name: string | undefined, env: Env): ContextValues {
  if (!name) return {};
  const raw = doc.contexts?.[name];
  if (!raw || typeof raw !== 'object') return {};
  const nested = (raw as { env?: unknown }).env;
  const src = (nested && typeof nested === 'object' ? nested : raw) as Record<string, unknown>;
  const out: ContextValues = {};
  for (const key of KEYS) {
    const v = src[key];
    if (typeof v !== 'string' || v === '') continue;
    const value = v === 'ENVVAR' ? env[key] : v;
    if (value) out[key] = value;
  }
  return out;
}

/**
 * Resolves once, at start-up: environment variables, then the current context, then the default.
 * A PAT from any source means a remote server; none means the embedded engine.
 */
export async function resolveConnection(env: Env): Promise<Connection> {
  const file = defaultConfigFile(env);
  const doc = await readConfig(file);
  const ctx = contextValues(doc, doc.current_context, env);
  const pat = env.CLARIFAI_PAT || ctx.CLARIFAI_PAT;
  if (!pat) return { kind: 'embedded', dataDir: defaultDataDir(env) };
  const inContext = `context "${doc.current_context}" in ${file}`;
  const base = env.CLARIFAI_API_BASE
    ? checkBase(env.CLARIFAI_API_BASE, 'CLARIFAI_API_BASE')
    : ctx.CLARIFAI_API_BASE
      ? checkBase(ctx.CLARIFAI_API_BASE, `CLARIFAI_API_BASE of ${inContext}`)
      : DEFAULT_BASE;
  const conn: Connection = {
    kind: 'remote',
    base: normaliseBase(base),
    pat,
    via: env.CLARIFAI_PAT ? 'CLARIFAI_PAT' : inContext,
  };
  const userId = env.CLARIFAI_USER_ID || ctx.CLARIFAI_USER_ID;
  if (userId) conn.userId = userId;
  if (doc.current_context) conn.context = doc.current_context;
  return conn;
}

/**
 * A base URL must say its scheme: "127.0.0.1:8080" would otherwise become https://127.0.0.1:8080,
 * and a plain-HTTP Sibyl server would answer with an OpenSSL error instead of a hint.
 */
export function checkBase(base: string, where: string): string {
  const b = base.trim();
  if (/^https?:\/\/[^/]/i.test(b)) return b;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(b)?.[1];
  if (scheme && b.includes('://'))
    throw new CliUsageError(`${where} "${base}" must start with http:// or https://, not ${scheme}://`);
  throw new CliUsageError(
    `${where} "${base}" has no scheme: write http://${b} (a Sibyl server on this machine speaks plain HTTP) or https://${b}`,
  );
}

/** The contexts in the file, in order, with which one is current. */
export function listContexts(
  doc: ConfigDoc,
  env: Env,
): { name: string; current: boolean; values: ContextValues }[] {
  return Object.keys(doc.contexts ?? {}).map((name) => ({
    name,
    current: name === doc.current_context,
    values: contextValues(doc, name, env),
  }));
}

/** Makes an existing context current; refuses an unknown name with the ones there are. */
export async function useContext(path: string, name: string): Promise<void> {
  const doc = await readConfig(path);
  if (!doc.contexts?.[name]) throw unknownContext(doc, name, path);
  await writeConfig(path, { ...doc, current_context: name });
}

export function unknownContext(doc: ConfigDoc, name: string, path: string): CliUsageError {
  const names = Object.keys(doc.contexts ?? {});
  return new CliUsageError(
    `no context named "${name}" in ${path}; ${names.length > 0 ? `there are: ${names.join(', ')}` : 'there are none (create one with `clarifai login --config FILE --context NAME`)'}`,
  );
}

/** Shows enough of a PAT to tell keys apart, never the whole secret. */
export function maskPat(pat: string | undefined): string {
  if (!pat) return '';
  return pat === 'ENVVAR' ? 'ENVVAR' : `${pat.slice(0, 8)}****`;
}

/**
 * Saves a context and makes it current, keeping every other key in the file and the layout the
 * context already has (flat, or nested under `env:`). A value stored as "ENVVAR" stays so when the
 * new value is what that variable holds, so a key kept out of the file stays out of it. Mode 0600.
 */
export async function saveContext(
  path: string,
  name: string,
  values: Required<ContextValues>,
  env: Env,
): Promise<void> {
  const doc = await readConfig(path);
  const contexts = { ...(doc.contexts ?? {}) };
  const previous = isMapping(contexts[name]) ? contexts[name] : {};
  const nested = isMapping(previous.env);
  const target: Record<string, unknown> = {
    ...(nested ? (previous.env as Record<string, unknown>) : previous),
  };
  for (const key of KEYS) {
    target[key] = target[key] === 'ENVVAR' && env[key] === values[key] ? 'ENVVAR' : values[key];
  }
  contexts[name] = nested ? { ...previous, env: target } : target;
  await writeConfig(path, { ...doc, current_context: name, contexts });
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Removes the current context (or a named one); returns its name, or undefined when there was none. */
export async function removeContext(path: string, name?: string): Promise<string | undefined> {
  const doc = await readConfig(path);
  const target = name ?? doc.current_context;
  if (!target || !doc.contexts?.[target]) {
    if (doc.current_context && !name) {
      const { current_context: _dropped, ...rest } = doc;
      await writeConfig(path, rest);
    }
    return undefined;
  }
  const contexts = { ...doc.contexts };
  delete contexts[target];
  const next: ConfigDoc = { ...doc, contexts };
  if (doc.current_context === target) delete next.current_context;
  await writeConfig(path, next);
  return target;
}

async function writeConfig(path: string, doc: ConfigDoc): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const { stringify } = await import('yaml');
  await writeFile(tmp, stringify(doc), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
