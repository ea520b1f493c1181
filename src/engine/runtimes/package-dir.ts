import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The folder an installed npm package lives in, so weights and wasm files can be read by path.
 * Resolving `<name>/package.json` is the usual way, but some packages (e.g. @vladmandic/human)
 * publish an `exports` map that hides it; then we walk the same node_modules folders Node would
 * search and take the first one whose package.json carries that name.
 */
export function packageDir(name: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    for (const base of require.resolve.paths(name) ?? []) {
      const dir = path.join(base, name);
      if (hasPackageJsonNamed(dir, name)) return dir;
    }
  }
  throw new Error(
    `npm package ${name} is not installed (searched ${(require.resolve.paths(name) ?? []).join(', ')})`,
  );
}

function hasPackageJsonNamed(dir: string, name: string): boolean {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === name;
  } catch {
    return false;
  }
}
