#!/usr/bin/env node
// The `clarifai` (and `sibyl`) command. The TypeScript is compiled to dist/ by `npm ci` (prepare).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'error: Sibyl is not built yet; run `npm run build` in its folder (npm ci does it too)\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
