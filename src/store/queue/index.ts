import type { Store } from '../db.js';
import { MemoryRunnerQueue } from './memory-queue.js';
import type { RunnerQueue } from './types.js';

export * from './types.js';
export { MemoryRunnerQueue } from './memory-queue.js';

/**
 * The runner queue that fits the store: in this process with SQLite (one API instance), in the
 * database with Postgres so that every instance on it shares one queue. Postgres needs its URL
 * again for the one connection that LISTENs.
 */
export async function openRunnerQueue(store: Store, databaseUrl?: string): Promise<RunnerQueue> {
  if (store.kind !== 'postgres') return new MemoryRunnerQueue();
  if (!databaseUrl) throw new Error('a Postgres store needs its URL for the runner queue');
  const { PostgresRunnerQueue } = await import('./postgres-queue.js');
  return PostgresRunnerQueue.open(store.db, databaseUrl);
}
