// Runs every test file under test/ with node's built-in runner through tsx, after making sure
// the real photos and speech the model tests use are present (taken from Debian packages, see
// fetch-photos.sh and fetch-audio.sh).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const build = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
if (build.status !== 0) process.exit(build.status ?? 1);
for (const script of ['fetch-photos.sh', 'fetch-audio.sh']) {
  const fetched = spawnSync('bash', [join(root, 'scripts', script)], { stdio: 'inherit' });
  if (fetched.status !== 0) process.exit(fetched.status ?? 1);
}

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}
const only = process.argv.slice(2);
const files = only.length > 0 ? only : find(join(root, 'test')).sort();
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(run.status ?? 1);
