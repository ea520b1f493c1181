import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { defaultConfigFile, defaultDataDir } from '../core/paths.js';
import { DEFAULT_BASE, normaliseBase } from '../sdk/auth.js';
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
  | { kind: 'remote'; base: string; pat: string; userId?: string; context?: string }
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
  const doc = await readConfig(defaultConfigFile(env));
  const ctx = contextValues(doc, doc.current_context, env);
  const pat = env.CLARIFAI_PAT || ctx.CLARIFAI_PAT;
  if (!pat) return { kind: 'embedded', dataDir: defaultDataDir(env) };
  const conn: Connection = {
    kind: 'remote',
    base: normaliseBase(env.CLARIFAI_API_BASE || ctx.CLARIFAI_API_BASE || DEFAULT_BASE),
    pat,
  };
  const userId = env.CLARIFAI_USER_ID || ctx.CLARIFAI_USER_ID;
  if (userId) conn.userId = userId;
  if (doc.current_context) conn.context = doc.current_context;
  return conn;
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
  await writeFile(tmp, stringify(doc), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
