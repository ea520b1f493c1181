import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { ModelSpec } from './spec.js';

/** How long a PATH lookup is trusted: installing a package takes effect within this, not at once. */
const CACHE_MS = 10_000;
const cache = new Map<string, { found: boolean; at: number }>();

/**
 * Whether a program is on PATH (an executable file in one of its folders), remembered briefly so
 * a busy server does not search PATH on every request. The cache is keyed by PATH too, so a
 * changed PATH is looked up afresh.
 */
export function commandOnPath(command: string, searchPath = process.env.PATH ?? ''): boolean {
  const key = `${searchPath}\0${command}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < CACHE_MS) return hit.found;
  const found = command.includes('/')
    ? isExecutable(command)
    : searchPath
        .split(path.delimiter)
        .filter(Boolean)
        .some((dir) => isExecutable(path.join(dir, command)));
  cache.set(key, { found, at: now });
  return found;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Why a model cannot run here, or undefined when it can: a program its runtime runs
 * (`spec.requires`) is not installed. The text names the program and the install command, for
 * model listings and for the error predict gives.
 */
export function missingRequirement(spec: Pick<ModelSpec, 'requires'>): string | undefined {
  const needs = spec.requires;
  if (!needs || commandOnPath(needs.command)) return undefined;
  return `needs the program "${needs.command}", which is not installed here; install it with \`${needs.install}\``;
}
