import { prepareDataDir } from '../core/paths.js';
import { ApiError, ConnectionError, UsageError } from '../sdk/errors.js';
import type { Transport } from '../sdk/transport.js';
import { HttpTransport } from '../sdk/transport.js';
import type { Connection } from './config.js';
import { resolveConnection } from './config.js';
import { AnsweredError, CliUsageError } from './errors.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface Session {
  connection: Connection;
  transport: Transport;
  /** The PAT to send; the embedded engine needs none. */
  pat?: string;
  /** The caller's user id when known without a request. */
  userId?: string;
  /** Who answers this session's requests, for messages: "the embedded engine (data in ...)". */
  by: string;
  close(): Promise<void>;
}

/**
 * Opens the connection a command works through. The embedded engine (models, SQLite) is imported
 * only here and only when needed, so `--help` and remote use stay light.
 */
export interface SessionOptions {
  /** The model the command is about to use: the embedded engine starts loading it at once. */
  preload?: { userId: string; appId: string; modelId: string };
}

export async function openSession(env: Env, opts: SessionOptions = {}): Promise<Session> {
  const connection = await resolveConnection(env);
  if (connection.kind === 'remote') {
    const session: Session = {
      connection,
      transport: new HttpTransport(connection.base),
      pat: connection.pat,
      by: `the server at ${connection.base}, ${connection.via}`,
      close: async () => {},
    };
    if (connection.userId) session.userId = connection.userId;
    return session;
  }
  // checked here, before SQLite or a worker starts: a bad path fails at once with its reason
  prepareDataDir(connection.dataDir);
  const { EmbeddedTransport } = await import('../embedded/index.js');
  const transport = await EmbeddedTransport.open({
    dataDir: connection.dataDir,
    ...(env.SIBYL_DEBUG
      ? { logError: (err: unknown, reqId: string) => console.error(`[${reqId}]`, err) }
      : {}),
    ...(opts.preload ? { preload: opts.preload } : {}),
  });
  return {
    connection,
    transport,
    userId: transport.userId,
    by: `the embedded engine, data in ${connection.dataDir}`,
    close: () => transport.close(),
  };
}

/**
 * Runs a command's work in a session, closes it, and marks any error from the other side with
 * who answered and what to do next. Usage errors found before sending stay as they are.
 */
export async function withSession<T>(
  env: Env,
  work: (session: Session) => Promise<T>,
  opts: SessionOptions = {},
): Promise<T> {
  const session = await openSession(env, opts);
  try {
    return await work(session);
  } catch (err) {
    throw explain(err, session);
  } finally {
    await session.close();
  }
}

export function explain(err: unknown, session: Session): unknown {
  if (err instanceof AnsweredError || err instanceof CliUsageError || err instanceof UsageError) return err;
  if (!(err instanceof ApiError || err instanceof ConnectionError)) return err;
  return new AnsweredError(err, session.by, nextStep(err, session.connection));
}

/** What a user can do about an error, given where the command went. */
function nextStep(err: ApiError | ConnectionError, conn: Connection): string | undefined {
  if (conn.kind !== 'remote') return undefined;
  const leave =
    conn.via === 'CLARIFAI_PAT'
      ? '`unset CLARIFAI_PAT` to use the embedded engine'
      : '`clarifai logout` to use the embedded engine';
  if (err instanceof ConnectionError) {
    if (!err.description.startsWith('cannot reach')) return undefined;
    const url = new URL(conn.base);
    const local = ['127.0.0.1', 'localhost', '[::1]', '0.0.0.0'].includes(url.hostname);
    const via = conn.via === 'CLARIFAI_PAT' ? 'CLARIFAI_API_BASE' : conn.via;
    return local
      ? `the address comes from ${via}; is the server running? start it with \`clarifai serve --port ${url.port || 80}\`, or ${leave}`
      : `check the network and the base URL (${via}), or ${leave}`;
  }
  if (err.httpStatus === 401)
    return `log in again with \`clarifai login --config FILE\` (the key came from ${conn.via}), or ${leave}`;
  return undefined;
}
