import type { AddressInfo } from 'node:net';
import type { BootstrapResult } from './bootstrap.js';
import { writeBootstrapFile } from './bootstrap.js';
import { openServerApp } from './open.js';

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

/** Opens the data directory, listens, and refreshes bootstrap.yaml with where it listens. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const server = await openServerApp({
    dataDir: opts.dataDir,
    allowPrivateUrls: opts.allowPrivateUrls,
    warmUp: true,
    ...(opts.logRequest ? { logRequest: opts.logRequest } : {}),
  });
  try {
    await server.app.listen({ host: opts.host, port: opts.port });
    const addr = server.app.server.address() as AddressInfo;
    const url = `http://${displayHost(opts.host)}:${addr.port}`;
    const bootstrap = await writeBootstrapFile(server.store, opts.dataDir, url);
    return { url, bootstrap, close: server.close };
  } catch (err) {
    // closes the listening socket too, so a failed start never leaves the process hanging
    await server.close();
    throw err;
  }
}

/** A wildcard bind is reached through loopback from this machine. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
