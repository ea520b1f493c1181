import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../sdk/errors.js';

/**
 * `--health-port`: GET /health answers 200 while the runner's stream to the API is open and 503
 * while it reconnects (or before it first connected), for Kubernetes liveness/readiness probes.
 * Anything else is 404. It listens on every interface, as a probe comes from outside the pod.
 */
export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealth(
  port: number,
  state: () => { open: boolean; runnerId: string; inFlight: number },
): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if ((req.method !== 'GET' && req.method !== 'HEAD') || path !== '/health') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"only GET /health"}\n');
      return;
    }
    const s = state();
    const body = JSON.stringify({
      status: s.open ? 'connected' : 'reconnecting',
      runner_id: s.runnerId,
      in_flight: s.inFlight,
    });
    res.writeHead(s.open ? 200 : 503, { 'content-type': 'application/json' }).end(`${body}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new UsageError(
          `--health-port ${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : err.message}`,
        ),
      ),
    );
    server.listen(port, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
