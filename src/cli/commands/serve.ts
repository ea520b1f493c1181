import { defaultDataDir, prepareDataDir } from '../../core/paths.js';
import { CliUsageError } from '../errors.js';

export interface ServeCommandOptions {
  host?: string;
  port?: string;
  dataDir?: string;
  allowPrivateUrls?: boolean;
  quiet?: boolean;
  models?: string;
  workers?: string;
  idleUnload?: string;
  memoryBudget?: string;
  maxUpload?: string;
}

/** A whole-number flag, refused with its allowed range when it is anything else. */
function intFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliUsageError(`${name} must be a whole number from ${min} to ${max}; got "${raw}"`);
  return n;
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
      allowPrivateUrls: opts.allowPrivateUrls ?? false,
      ...(opts.quiet ? {} : { logRequest: (line: string) => process.stdout.write(`${line}\n`) }),
      engine,
      ...(opts.models !== undefined ? { modelsDir: opts.models } : {}),
      ...(uploadMib !== undefined ? { maxUploadBytes: uploadMib * 1024 * 1024 } : {}),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new Error(
        `port ${port} on ${opts.host ?? '127.0.0.1'} is already in use; pick another with --port`,
        { cause: err },
      );
    if (code === 'EACCES')
      throw new Error(`not allowed to listen on port ${port}; use a port above 1023`, { cause: err });
    throw err;
  }
  process.stdout.write(
    `Sibyl v2 API listening on ${server.url} (data in ${dataDir})\n` +
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
