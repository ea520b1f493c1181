import type { Transport } from '../sdk/transport.js';
import { HttpTransport } from '../sdk/transport.js';
import type { Connection } from './config.js';
import { resolveConnection } from './config.js';

export interface Session {
  connection: Connection;
  transport: Transport;
  /** The PAT to send; the embedded engine needs none. */
  pat?: string;
  /** The caller's user id when known without a request. */
  userId?: string;
  close(): Promise<void>;
}

/**
 * Opens the connection a command works through. The embedded engine (models, SQLite) is imported
 * only here and only when needed, so `--help` and remote use stay light.
 */
export async function openSession(env: Readonly<Record<string, string | undefined>>): Promise<Session> {
  const connection = await resolveConnection(env);
  if (connection.kind === 'remote') {
    const session: Session = {
      connection,
      transport: new HttpTransport(connection.base),
      pat: connection.pat,
      close: async () => {},
    };
    if (connection.userId) session.userId = connection.userId;
    return session;
  }
  const { EmbeddedTransport } = await import('../embedded/index.js');
  const transport = await EmbeddedTransport.open({
    dataDir: connection.dataDir,
    ...(env.SIBYL_DEBUG
      ? { logError: (err: unknown, reqId: string) => console.error(`[${reqId}]`, err) }
      : {}),
  });
  return { connection, transport, userId: transport.userId, close: () => transport.close() };
}
