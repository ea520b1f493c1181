import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, type Proc } from '../helpers/process-group.js';

/** `clarifai serve` on a given port and data directory; resolves once it listens. */
export async function startServer(
  port: number,
  dataDir: string,
  env: Record<string, string>,
): Promise<Proc & { url: string; pat: string }> {
  const proc = startCli(['serve', '--port', String(port), '--data-dir', dataDir], env);
  try {
    await proc.waitFor(/clarifai login --config/);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const pat = /pat: (\S+)/.exec(readFileSync(join(dataDir, 'bootstrap.yaml'), 'utf8'))![1]!;
  return Object.assign(proc, { url: `http://127.0.0.1:${port}`, pat });
}

/** A v2 REST call with the server's key; the parsed body, whatever the status. */
export async function rest(
  server: { url: string; pat: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown> & { status: { code: number; description?: string; details?: string } }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Key ${server.pat}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as never;
}

/** GET /health on a runner's health port: the HTTP status, or 0 when nothing listens. */
export async function health(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).status;
  } catch {
    return 0;
  }
}

/** Polls `probe` until it returns `want` (or throws after `ms`). */
export async function until<T>(probe: () => Promise<T>, want: T, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await probe();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`still ${String(last)} after ${ms} ms, waiting for ${String(want)}`);
}
