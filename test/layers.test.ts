/**
 * The layer rules of DESIGN.md, checked on the import statements of every source file:
 * imports point down only, and the SDK pulls in nothing heavier than Node built-ins and core,
 * so it runs in any Node app without models or a database.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = new URL('../src/', import.meta.url).pathname;

const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  sdk: ['sdk', 'core'],
  store: ['store', 'core'],
  engine: ['engine', 'core'],
  server: ['server', 'engine', 'store', 'core'],
  embedded: ['embedded', 'sdk', 'server', 'core'],
  runner: ['runner', 'embedded', 'sdk', 'core'],
  cli: ['cli', 'sdk', 'embedded', 'runner', 'core'],
};

/**
 * The one deliberate exception: `clarifai serve` starts the server itself (lazily imported), which
 * is the server's own entry point rather than a use of its internals.
 */
const EXCEPTIONS: Record<string, string[]> = { 'cli/commands/serve.ts': ['server'] };

/** npm packages each layer may import; anything else in core or sdk is a mistake. */
const PACKAGES: Partial<Record<string, RegExp>> = {
  core: /^$/,
  sdk: /^$/,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)].map(
    (m) => m[1]!,
  );
  const dynamic = [...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  return [...found, ...dynamic];
}

describe('layers', () => {
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    const layer = rel.split('/')[0]!;
    it(`${rel} imports only what its layer may`, () => {
      for (const spec of imports(file)) {
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) {
          const target = relative(SRC, join(file, '..', spec)).split('/')[0]!;
          const allowed = [...(ALLOWED[layer] ?? []), ...(EXCEPTIONS[rel] ?? [])];
          assert.ok(
            allowed.includes(target),
            `${rel} imports ${spec} (layer ${target}), not allowed from ${layer}`,
          );
        } else {
          const rule = PACKAGES[layer];
          assert.ok(
            !rule || rule.test(spec),
            `${rel} imports the package ${spec}; ${layer} may use Node built-ins only`,
          );
        }
      }
    });
  }
});
