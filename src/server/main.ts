import { readFileSync } from 'node:fs';
import type { Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_BODY_BUDGET, DEFAULT_BODY_LIMIT, serviceContextOf, startDraining } from './app.js';
import type { BootstrapResult } from './bootstrap.js';
import { writeBootstrapFile } from './bootstrap.js';
import { createSniffingListener } from './grpc/listener.js';
import type { V2Grpc } from './grpc/v2-service.js';
import { Metrics, requestObserver, type RequestRecord } from './metrics.js';
import { openServerApp, type OpenServerAppOptions } from './open.js';
import { buildOipApp } from './routes/oip/app.js';

/** Connection and body limits of a listening server; every field has its default here. */
export interface ServerLimits {
  /** Largest request body, in bytes (base64 images inflate by a third). */
  bodyLimitBytes: number;
  /** Bytes all request bodies in flight may hold together; past it, 503 with Retry-After. */
  bodyBudgetBytes: number;
  /** Whole request (headers and body) must arrive within this (ms); a dripped body is cut off (408). */
  requestTimeoutMs: number;
  /** Headers must arrive within this (ms); a connection that sends nothing is closed after it too. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: number;
  /** Open connections per port; past it new ones are closed at once (the server stays responsive). */
  maxConnections: number;
  /** On close (SIGTERM, SIGINT), requests in flight get this long (ms) to finish; new ones get 503. */
  shutdownGraceMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  bodyLimitBytes: DEFAULT_BODY_LIMIT,
  bodyBudgetBytes: DEFAULT_BODY_BUDGET,
  requestTimeoutMs: 120_000,
  headersTimeoutMs: 20_000,
  keepAliveTimeoutMs: 5_000,
  // below the usual 1,024 open files per process, leaving room for the database and models
  maxConnections: 768,
  shutdownGraceMs: 10_000,
};

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  /** postgres://... : the store lives there, not in dataDir's SQLite file. */
  databaseUrl?: string;
  allowPrivateUrls: boolean;
  /** One line per request; omitted for a quiet server. */
  logRequest?: (line: string) => void;
  /** One record per request, any transport (`serve --log-format json`); see metrics.ts. */
  requestLog?: (rec: RequestRecord) => void;
  /** Where server faults go with their stack; stderr by default. */
  logError?: (err: unknown, reqId: string) => void;
  /** GET /metrics without a key (`serve --metrics-public`); otherwise it needs an admin key. */
  metricsPublic?: boolean;
  /** Worker threads, memory budget, idle unload: see EngineOptions. */
  engine?: OpenServerAppOptions['engine'];
  /** Serve every model folder under this directory too. */
  modelsDir?: string;
  /** Largest model upload in bytes. */
  maxUploadBytes?: number;
  /** Requests a second each key may send (bursts of twice that); 0 or absent: no limit. */
  keyRequestsPerSecond?: number;
  /** URL inputs downloaded at once, server-wide (see ServiceOptions.urlDownloads). */
  urlDownloads?: number;
  /** All URL inputs of one request must download within this (ms). */
  urlRequestTimeoutMs?: number;
  /**
   * Clarifai's V2 gRPC service on the same port as REST (told apart by the HTTP/2 preface, or by
   * ALPN under TLS). On by default; false serves REST only.
   */
  grpc?: boolean;
  /** Also serve gRPC alone on this port (0: any free port), e.g. for clients that need a fixed one. */
  grpcPort?: number;
  /**
   * Also serve the Open Inference Protocol v2 at its plain paths (`/v2/models/{name}/infer`) on this
   * port (0: any free port); the main port serves it under `/oip` either way. See routes/oip/.
   */
  oipPort?: number;
  /** PEM certificate and key files: every port then speaks TLS (https, and gRPC with SSL credentials). */
  tls?: { certFile: string; keyFile: string };
  /** Browser origins allowed by CORS (`*` for any); none by default. */
  corsOrigins?: string[];
  /** Body, timeout and connection limits; see DEFAULT_SERVER_LIMITS. */
  limits?: Partial<ServerLimits>;
}

export interface RunningServer {
  url: string;
  /** host:port of the separate gRPC port, when one was asked for. */
  grpcAddress?: string;
  /** Base URL of the separate Open Inference Protocol port, when one was asked for. */
  oipUrl?: string;
  bootstrap: BootstrapResult;
  /** Model folders served from `modelsDir`. */
  folders: { name: string; versionId: string }[];
  close(): Promise<void>;
}

/** Opens the data directory, listens, and refreshes bootstrap.yaml with where it listens. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...opts.limits };
  // Prometheus metrics at GET /metrics, fed by every transport and the engine's stage timings. No
  // Readiness is passed: the app is built after the store, migrations, built-ins and engine, and
  // the port opens after that, so /ready answers 503 only while draining.
  const metrics = new Metrics();
  const server = await openServerApp({
    dataDir: opts.dataDir,
    ...(opts.databaseUrl !== undefined ? { databaseUrl: opts.databaseUrl } : {}),
    allowPrivateUrls: opts.allowPrivateUrls,
    warmUp: true,
    ...(opts.logRequest ? { logRequest: opts.logRequest } : {}),
    ...(opts.logError ? { logError: opts.logError } : {}),
    onTiming: metrics.onTiming,
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.modelsDir !== undefined ? { modelsDir: opts.modelsDir } : {}),
    service: {
      ...(opts.maxUploadBytes !== undefined ? { maxUploadBytes: opts.maxUploadBytes } : {}),
      ...(opts.keyRequestsPerSecond !== undefined ? { keyRequestsPerSecond: opts.keyRequestsPerSecond } : {}),
      ...(opts.urlDownloads !== undefined ? { urlDownloads: opts.urlDownloads } : {}),
      ...(opts.urlRequestTimeoutMs !== undefined ? { urlRequestTimeoutMs: opts.urlRequestTimeoutMs } : {}),
    },
    // gRPC-web goes with gRPC: `grpc: false` leaves the port to REST alone
    http: {
      grpcWeb: opts.grpc !== false,
      ...(opts.corsOrigins ? { corsOrigins: opts.corsOrigins } : {}),
      bodyLimit: limits.bodyLimitBytes,
      bodyBudget: limits.bodyBudgetBytes,
      metrics,
      ...(opts.metricsPublic ? { metricsPublic: true } : {}),
      ...(opts.requestLog ? { requestLog: opts.requestLog } : {}),
    },
  });
  const httpServer = server.app.server;
  httpServer.requestTimeout = limits.requestTimeoutMs;
  httpServer.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  httpServer.keepAliveTimeout = limits.keepAliveTimeoutMs;
  trackTimeouts(httpServer);
  let inFlight = 0;
  let drained: (() => void) | undefined;
  httpServer.on('request', (_req, res: ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0) drained?.();
    });
  });
  const listeners: Server[] = [];
  const sockets = new Set<Socket>();
  let grpc: V2Grpc | undefined;
  let oipApp: FastifyInstance | undefined;
  const close = async () => {
    // the OIP port's requests in flight finish before the store and engine go
    const oipClosed = oipApp?.close();
    // a listener's close waits for its connections, so they are cut after it stops accepting
    const closed = listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
    // requests in flight finish (within the grace period); new ones on open connections get 503
    startDraining(server.app);
    httpServer.closeIdleConnections();
    const grpcClosed = grpc?.close();
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, limits.shutdownGraceMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await grpcClosed;
    await oipClosed;
    for (const s of sockets) s.destroy();
    await Promise.all(closed);
    await server.close();
  };
  try {
    const tls = opts.tls
      ? { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) }
      : undefined;
    if (opts.grpc !== false || opts.grpcPort !== undefined) {
      // loaded only here: the embedded engine never pays for the gRPC schema
      const { createV2Grpc } = await import('./grpc/v2-service.js');
      const observe = requestObserver(metrics, opts.requestLog);
      grpc = createV2Grpc(serviceContextOf(server.app), {
        ...(opts.logRequest ? { logRequest: opts.logRequest } : {}),
        ...(observe ? { observe } : {}),
        ...(opts.logError ? { logError: opts.logError } : {}),
      });
    }
    const g = grpc;
    const listen = async (port: number, http2Only: boolean): Promise<number> => {
      const listener = createSniffingListener({
        http: server.app.server,
        firstBytesTimeoutMs: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
        ...(g && (opts.grpc !== false || http2Only) ? { http2: (socket) => g.inject(socket) } : {}),
        ...(tls ? { tls } : {}),
      });
      listener.maxConnections = limits.maxConnections;
      listener.on('connection', (s: Socket) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      });
      listeners.push(listener);
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen({ host: opts.host, port }, () => {
          listener.off('error', reject);
          resolve();
        });
      });
      return (listener.address() as AddressInfo).port;
    };
    const port = await listen(opts.port, false);
    const url = `${tls ? 'https' : 'http'}://${displayHost(opts.host)}:${port}`;
    const grpcAddress =
      opts.grpcPort !== undefined
        ? `${displayHost(opts.host)}:${await listen(opts.grpcPort, true)}`
        : undefined;
    let oipUrl: string | undefined;
    if (opts.oipPort !== undefined) {
      oipApp = buildOipApp(serviceContextOf(server.app), {
        bodyLimit: limits.bodyLimitBytes,
        bodyBudget: limits.bodyBudgetBytes,
        ...(opts.logError ? { logError: opts.logError } : {}),
        ...(tls ? { tls } : {}),
      });
      oipApp.server.requestTimeout = limits.requestTimeoutMs;
      oipApp.server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
      oipApp.server.keepAliveTimeout = limits.keepAliveTimeoutMs;
      oipApp.server.maxConnections = limits.maxConnections;
      await oipApp.listen({ host: opts.host, port: opts.oipPort });
      const oipPort = (oipApp.server.address() as AddressInfo).port;
      oipUrl = `${tls ? 'https' : 'http'}://${displayHost(opts.host)}:${oipPort}`;
    }
    const bootstrap = await writeBootstrapFile(server.store, opts.dataDir, url);
    return {
      url,
      bootstrap,
      close,
      folders: server.folders,
      ...(grpcAddress ? { grpcAddress } : {}),
      ...(oipUrl ? { oipUrl } : {}),
    };
  } catch (err) {
    // closes the listening sockets too, so a failed start never leaves the process hanging
    await close();
    throw err;
  }
}

/** A wildcard bind is reached through loopback from this machine. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Node enforces requestTimeout and headersTimeout from a check it starts when a server begins
 * listening. This server never listens itself (the sniffing listener hands it connections), so
 * the check is started here, on an interval short enough for the timeouts set.
 */
function trackTimeouts(server: HttpServer): void {
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.max(
    250,
    Math.min(30_000, Math.floor(Math.min(server.headersTimeout, server.requestTimeout) / 4)),
  );
  for (const listener of server.listeners('listening')) {
    if (listener.name === 'setupConnectionsTracking') (listener as () => void).call(server);
  }
}
