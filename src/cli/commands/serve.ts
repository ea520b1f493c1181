import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { defaultDataDir, prepareDataDir } from '../../core/paths.js';
import { checkCorsOrigin } from '../../server/cors.js';
import { checkPostgresUrl, redactDatabaseUrl } from '../../core/database-url.js';
import { SibylError } from '../../core/errors.js';
import { CliUsageError } from '../errors.js';
import { DEFAULT_BODY_LIMIT } from '../../server/app.js';
import type { ServerLimits } from '../../server/main.js';
import { jsonErrorLine, jsonRequestLine, LOG_FORMATS, type LogFormat } from '../../server/request-log.js';

export interface ServeCommandOptions {
  host?: string;
  port?: string;
  dataDir?: string;
  databaseUrl?: string;
  allowPrivateUrls?: boolean;
  quiet?: boolean;
  logFormat?: string;
  metricsPublic?: boolean;
  models?: string;
  workers?: string;
  idleUnload?: string;
  memoryBudget?: string;
  maxUpload?: string;
  rateLimit?: string;
  grpcPort?: string;
  oipPort?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** false with --no-grpc */
  grpc?: boolean;
  corsOrigin?: string[];
  bodyBudget?: string;
  requestTimeout?: string;
  maxConnections?: string;
  urlDownloads?: string;
  urlDeadline?: string;
}

/** A whole-number flag, refused with its allowed range when it is anything else. */
function intFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliUsageError(`${name} must be a whole number from ${min} to ${max}; got "${raw}"`);
  return n;
}

/**
 * --body-budget, --request-timeout and --max-connections onto ServeOptions.limits. The budget holds
 * at least one largest body (64 MiB), else such a body could never be accepted.
 */
function limitFlags(opts: ServeCommandOptions): Partial<ServerLimits> {
  const bodyLimitMib = DEFAULT_BODY_LIMIT / 1048576;
  const budget = intFlag('--body-budget', opts.bodyBudget, bodyLimitMib, 1024 * 1024);
  const timeout = intFlag('--request-timeout', opts.requestTimeout, 1, 24 * 3600);
  const connections = intFlag('--max-connections', opts.maxConnections, 1, 1_000_000);
  return {
    ...(budget !== undefined ? { bodyBudgetBytes: budget * 1048576 } : {}),
    ...(timeout !== undefined ? { requestTimeoutMs: timeout * 1000 } : {}),
    ...(connections !== undefined ? { maxConnections: connections } : {}),
  };
}

/**
 * --tls-cert and --tls-key, checked before anything starts: both or neither, readable, PEM, and
 * the key belongs to the certificate.
 */
function tlsFlags(opts: ServeCommandOptions): { certFile: string; keyFile: string } | undefined {
  const { tlsCert, tlsKey } = opts;
  if (tlsCert === undefined && tlsKey === undefined) return undefined;
  if (tlsCert === undefined)
    throw new CliUsageError(
      '--tls-key needs --tls-cert too: give the certificate and its private key (PEM files)',
    );
  if (tlsKey === undefined)
    throw new CliUsageError(
      '--tls-cert needs --tls-key too: give the certificate and its private key (PEM files)',
    );
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EISDIR'
            ? 'a directory, not a file'
            : `cannot read it (${code})`;
      throw new CliUsageError(`${flag} ${file}: ${why}`);
    }
  };
  const cert = read('--tls-cert', tlsCert);
  const key = read('--tls-key', tlsKey);
  try {
    new X509Certificate(cert);
  } catch {
    throw new CliUsageError(`--tls-cert ${tlsCert}: not a PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  try {
    createPrivateKey(key);
  } catch {
    throw new CliUsageError(
      `--tls-key ${tlsKey}: not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)`,
    );
  }
  try {
    createSecureContext({ cert, key });
  } catch {
    throw new CliUsageError(
      `--tls-key ${tlsKey} is not the private key of the certificate in --tls-cert ${tlsCert}`,
    );
  }
  return { certFile: tlsCert, keyFile: tlsKey };
}

/**
 * --log-format (text or json) and --quiet onto the server's loggers: text keeps the request lines
 * it always printed (faults to stderr as before); json writes one object per request to stdout and
 * each server fault, with its stack, to stderr. --quiet drops the request lines of either.
 */
function logFlags(opts: ServeCommandOptions): {
  logRequest?: (line: string) => void;
  requestLog?: (rec: Parameters<typeof jsonRequestLine>[0]) => void;
  logError?: (err: unknown, reqId: string) => void;
} {
  const format = (opts.logFormat ?? 'text') as LogFormat;
  if (!LOG_FORMATS.includes(format))
    throw new CliUsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')}; got "${opts.logFormat}"`);
  if (format === 'text') {
    return opts.quiet ? {} : { logRequest: (line: string) => process.stdout.write(`${line}\n`) };
  }
  return {
    ...(opts.quiet ? {} : { requestLog: (rec) => process.stdout.write(`${jsonRequestLine(rec)}\n`) }),
    logError: (err, reqId) => process.stderr.write(`${jsonErrorLine(err, reqId)}\n`),
  };
}

/** --database-url, else DATABASE_URL: Postgres instead of the data directory's SQLite file. */
function databaseUrlFlag(
  opts: ServeCommandOptions,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const flag = opts.databaseUrl !== undefined;
  const url = flag ? opts.databaseUrl : env.DATABASE_URL || undefined;
  if (url === undefined) return undefined;
  try {
    checkPostgresUrl(url);
  } catch (err) {
    const why = err instanceof SibylError ? (err.details ?? err.message) : String(err);
    throw new CliUsageError(`${flag ? '--database-url' : 'DATABASE_URL'}: ${why}`);
  }
  return url;
}

export async function run(
  opts: ServeCommandOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const port = Number(opts.port ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliUsageError(`--port must be an integer from 0 to 65535; got "${opts.port}"`);
  const dataDir = opts.dataDir ?? defaultDataDir(env);
  // a file or an impossible path fails here with its reason, not as a raw EEXIST from SQLite's setup
  prepareDataDir(dataDir);
  const workers = intFlag('--workers', opts.workers, 1, 256);
  const idleSeconds = intFlag('--idle-unload', opts.idleUnload, 0, 7 * 24 * 3600);
  const budgetMib = intFlag('--memory-budget', opts.memoryBudget, 16, 16 * 1024 * 1024);
  const uploadMib = intFlag('--max-upload', opts.maxUpload, 1, 1024 * 1024);
  const rateLimit = intFlag('--rate-limit', opts.rateLimit, 0, 1_000_000);
  const urlDownloads = intFlag('--url-downloads', opts.urlDownloads, 1, 4096);
  const urlDeadline = intFlag('--url-deadline', opts.urlDeadline, 1, 3600);
  const grpcPort = intFlag('--grpc-port', opts.grpcPort, 0, 65535);
  if (grpcPort !== undefined && grpcPort !== 0 && grpcPort === port)
    throw new CliUsageError(
      `--grpc-port ${grpcPort} is the --port: gRPC is on --port already; give another port for gRPC alone`,
    );
  const oipPort = intFlag('--oip-port', opts.oipPort, 0, 65535);
  if (oipPort !== undefined && oipPort !== 0 && (oipPort === port || oipPort === grpcPort))
    throw new CliUsageError(
      `--oip-port ${oipPort} is already --port or --grpc-port; give the Open Inference Protocol its own port`,
    );
  const limits = limitFlags(opts);
  const logs = logFlags(opts);
  const tls = tlsFlags(opts);
  const databaseUrl = databaseUrlFlag(opts, env);
  const corsOrigins = opts.corsOrigin ?? [];
  for (const origin of corsOrigins) {
    const problem = checkCorsOrigin(origin);
    if (problem) throw new CliUsageError(`--cors-origin ${problem}`);
  }
  const engine = {
    ...(workers !== undefined ? { workers } : {}),
    ...(idleSeconds !== undefined ? { idleUnloadMs: idleSeconds * 1000 } : {}),
    ...(budgetMib !== undefined ? { memoryBudgetBytes: budgetMib * 1024 * 1024 } : {}),
  };
  const { startServer } = await import('../../server/main.js');
  let server;
  try {
    server = await startServer({
      host: opts.host ?? '127.0.0.1',
      port,
      dataDir,
      ...(databaseUrl !== undefined ? { databaseUrl } : {}),
      allowPrivateUrls: opts.allowPrivateUrls ?? false,
      ...logs,
      ...(opts.metricsPublic ? { metricsPublic: true } : {}),
      engine,
      ...(opts.models !== undefined ? { modelsDir: opts.models } : {}),
      ...(uploadMib !== undefined ? { maxUploadBytes: uploadMib * 1024 * 1024 } : {}),
      ...(rateLimit !== undefined ? { keyRequestsPerSecond: rateLimit } : {}),
      ...(urlDownloads !== undefined ? { urlDownloads } : {}),
      ...(urlDeadline !== undefined ? { urlRequestTimeoutMs: urlDeadline * 1000 } : {}),
      grpc: opts.grpc !== false,
      ...(grpcPort !== undefined ? { grpcPort } : {}),
      ...(oipPort !== undefined ? { oipPort } : {}),
      ...(tls ? { tls } : {}),
      ...(corsOrigins.length > 0 ? { corsOrigins } : {}),
      limits,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // the port that failed: --port, --grpc-port or --oip-port
    const failed = (err as { port?: number }).port ?? port;
    const flag =
      failed === port
        ? '--port'
        : grpcPort !== undefined && failed === grpcPort
          ? '--grpc-port'
          : oipPort !== undefined && failed === oipPort
            ? '--oip-port'
            : '--port';
    if (code === 'EADDRINUSE')
      throw new Error(
        `port ${failed} on ${opts.host ?? '127.0.0.1'} is already in use; pick another with ${flag}`,
        { cause: err },
      );
    if (code === 'EACCES')
      throw new Error(`not allowed to listen on port ${failed}; use a port above 1023 with ${flag}`, {
        cause: err,
      });
    throw err;
  }
  process.stdout.write(
    `Sibyl v2 API listening on ${server.url} (data in ${dataDir}` +
      (databaseUrl !== undefined ? `, database ${redactDatabaseUrl(databaseUrl)})\n` : ')\n') +
      grpcLines(server.url, server.grpcAddress, opts.grpc !== false, tls !== undefined, corsOrigins) +
      (server.oipUrl
        ? `Open Inference Protocol v2 on ${server.oipUrl} (--oip-port); also under ${server.url}/oip\n`
        : '') +
      `${server.bootstrap.createdPat ? 'Created' : 'Refreshed'} the admin login file ${server.bootstrap.path}; log in with:\n` +
      `  clarifai login --config ${server.bootstrap.path}\n` +
      (opts.allowPrivateUrls
        ? 'URL inputs may reach private and loopback addresses (--allow-private-urls).\n'
        : '') +
      server.folders.map((f) => `Serving model folder ${f.name} (version ${f.versionId})\n`).join(''),
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.stdout.write('Shutting down...\n');
      void server.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Where gRPC and gRPC-web listen, for the start-up message. */
function grpcLines(
  url: string,
  grpcAddress: string | undefined,
  onMainPort: boolean,
  tls: boolean,
  corsOrigins: string[],
): string {
  const channel = tls ? 'TLS' : 'plaintext: an insecure channel';
  const lines = [];
  if (onMainPort) {
    lines.push(
      `gRPC (Clarifai's V2 service) on ${url.replace(/^https?:\/\//, '')} too (${channel}); gRPC-web at ${url}/clarifai.api.V2/<Method>`,
    );
  } else {
    lines.push(`REST only on ${url} (--no-grpc): no gRPC, no gRPC-web`);
  }
  if (grpcAddress) lines.push(`gRPC alone on ${grpcAddress} (--grpc-port, ${channel})`);
  if (corsOrigins.length > 0) {
    const who = corsOrigins.includes('*') ? 'any origin (*)' : corsOrigins.join(', ');
    lines.push(`CORS: browser pages from ${who} may call the API with a key`);
  }
  return lines.map((l) => `${l}\n`).join('');
}
