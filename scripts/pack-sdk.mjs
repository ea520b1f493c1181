// Packs the SDK as its own npm package, @sibyl/sdk, with no dependencies: dist/sdk and the
// dist/core files it imports. The SDK's imports are held to Node built-ins and core by
// test/layers.test.ts, so this package installs and runs without models or a database.
// Usage: node scripts/pack-sdk.mjs [OUT_DIR]   (prints the tarball path)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = resolve(process.argv[2] ?? join(root, 'dist-pkg'));
if (!existsSync(join(root, 'dist/sdk/index.js'))) {
  console.error('pack-sdk: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { version, license } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const stage = mkdtempSync(join(tmpdir(), 'sibyl-sdk-pack-'));
try {
  for (const dir of ['sdk', 'core'])
    cpSync(join(root, 'dist', dir), join(stage, 'dist', dir), { recursive: true });
  writeFileSync(
    join(stage, 'package.json'),
    `${JSON.stringify(
      {
        name: '@sibyl/sdk',
        version,
        description:
          "Sibyl's Node SDK for Clarifai's v2 API (Clarifai's cloud or a Sibyl server); no dependencies.",
        license,
        type: 'module',
        engines: { node: '>=20.9' },
        exports: { '.': { types: './dist/sdk/index.d.ts', default: './dist/sdk/index.js' } },
        files: ['dist'],
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(join(stage, 'README.md'), '# @sibyl/sdk\n\nSee the Sibyl README, section SDK.\n');
  mkdirSync(out, { recursive: true });
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], {
    cwd: stage,
    encoding: 'utf8',
  }).trim();
  console.log(join(out, name.split('\n').at(-1)));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
