// Run as a separate process by store-backends.test.ts: a server on the given data directory and
// (optionally) Postgres URL, listening on loopback, printing `LISTENING <url>` once it accepts
// requests. The test kills it with SIGKILL while inputs are being written.
import { openServerApp } from '../../src/server/open.js';

const [dataDir, databaseUrl] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: serve-store-child.ts DATA_DIR [DATABASE_URL]');
const server = await openServerApp({
  dataDir,
  ...(databaseUrl ? { databaseUrl } : {}),
  allowPrivateUrls: false,
  warmUp: false,
  engine: { workers: 1 },
});
const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`LISTENING ${url}\n`);
