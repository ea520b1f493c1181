import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store/index.js';
import { writeFileAtomic } from './atomic-file.js';

export const ADMIN_USER_ID = 'admin';
export const BOOTSTRAP_FILE = 'bootstrap.yaml';

/** The data directory's admin user, created on first use. The embedded engine acts as this user. */
export async function ensureAdminUser(store: Store): Promise<string> {
  const existing = await store.users.findAdmin();
  if (existing) return existing.id;
  // ensure, not create: two processes opening a fresh data directory may both get here
  return (await store.users.ensure({ id: ADMIN_USER_ID, fullName: 'Sibyl admin', isAdmin: true })).id;
}

export interface BootstrapResult {
  path: string;
  userId: string;
  /** True when a new PAT was minted this start (first start, or the file was lost). */
  createdPat: boolean;
}

/**
 * Keeps `<data dir>/bootstrap.yaml` a valid login file (user_id, pat, base_url; mode 0600) for the
 * admin user, so `clarifai login --config <data dir>/bootstrap.yaml` just works. PATs are stored
 * hashed, so this file is the only copy of the admin PAT; a new one is minted only if it is missing
 * or no longer valid. base_url is rewritten at each start to where the server now listens.
 */
export async function writeBootstrapFile(
  store: Store,
  dataDir: string,
  baseUrl: string,
): Promise<BootstrapResult> {
  // imported here: only `clarifai serve` writes this file, and every embedded run would pay for it
  const { parse, stringify } = await import('yaml');
  const userId = await ensureAdminUser(store);
  const path = join(dataDir, BOOTSTRAP_FILE);
  let pat: string | undefined;
  try {
    const doc = parse(await readFile(path, 'utf8')) as { pat?: unknown; user_id?: unknown } | null;
    if (typeof doc?.pat === 'string' && doc.user_id === userId) {
      const found = await store.pats.verify(doc.pat);
      if (found?.userId === userId) pat = doc.pat;
    }
  } catch {
    // missing or unreadable: mint a new key below
  }
  const createdPat = pat === undefined;
  if (pat === undefined) pat = (await store.pats.create(userId, 'bootstrap (admin)')).token;
  const body =
    '# Written by `clarifai serve` at each start. Log in with:\n' +
    `#   clarifai login --config ${path}\n` +
    stringify({ user_id: userId, pat, base_url: baseUrl });
  // atomic: this file holds the only copy of the admin key, so a crash mid-write must not lose it
  await writeFileAtomic(path, body, 0o600);
  return { path, userId, createdPat };
}
