import type { AddressInfo } from 'node:net';
import { createEngine } from '../engine/index.js';
import { openStore } from '../store/index.js';
import { buildApp } from './app.js';
import type { BootstrapResult } from './bootstrap.js';
import { writeBootstrapFile } from './bootstrap.js';
import { syncBuiltinModels } from './builtins.js';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  allowPrivateUrls: boolean;
  /** One line per request; omitted for a quiet server. */
  logRequest?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  bootstrap: BootstrapResult;
  close(): Promise<void>;
}

/** Opens the data directory, writes built-in models, listens, and refreshes bootstrap.yaml. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const store = await openStore({ dataDir: opts.dataDir });
  const engine = createEngine();
  try {
    await syncBuiltinModels(store, engine);
    const app = buildApp({
      store,
      engine,
      service: { allowPrivateUrls: opts.allowPrivateUrls },
      ...(opts.logRequest ? { logRequest: opts.logRequest } : {}),
    });
    await app.listen({ host: opts.host, port: opts.port });
    const addr = app.server.address() as AddressInfo;
    const url = `http://${displayHost(opts.host)}:${addr.port}`;
    const bootstrap = await writeBootstrapFile(store, opts.dataDir, url);
    return {
      url,
      bootstrap,
      close: async () => {
        await app.close();
        await engine.close();
        await store.close();
      },
    };
  } catch (err) {
    await engine.close();
    await store.close();
    throw err;
  }
}

/** A wildcard bind is reached through loopback from this machine. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
