import type { Kysely } from 'kysely';

// Frozen once shipped. The runner work queue when the store is Postgres (store/queue/): items of
// work waiting for, or leased to, a runner replica, and which replicas were seen alive when. With
// SQLite the queue lives in the server's memory and these tables stay empty. Times are epoch
// milliseconds (bigint), since leases are compared with arithmetic, not sorted as text.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('runner_items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('pool_user_id', 'text', (c) => c.notNull())
    .addColumn('compute_cluster_id', 'text', (c) => c.notNull())
    .addColumn('nodepool_id', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('method_type', 'integer', (c) => c.notNull().defaultTo(1))
    // queued | leased | done | failed | cancelled
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('take_within_ms', 'bigint', (c) => c.notNull())
    // retried items go before new ones
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('runner_id', 'text')
    .addColumn('replica_id', 'text')
    .addColumn('leased_until', 'bigint')
    .addColumn('take_by', 'bigint', (c) => c.notNull())
    .addColumn('output', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('runner_items_pool_state')
    .on('runner_items')
    .columns(['pool_user_id', 'compute_cluster_id', 'nodepool_id', 'state', 'priority', 'created_at'])
    .execute();
  await db.schema.createIndex('runner_items_replica').on('runner_items').column('replica_id').execute();

  await db.schema
    .createTable('runner_presence')
    .addColumn('replica_id', 'text', (c) => c.primaryKey())
    .addColumn('runner_id', 'text', (c) => c.notNull())
    .addColumn('pool_user_id', 'text', (c) => c.notNull())
    .addColumn('compute_cluster_id', 'text', (c) => c.notNull())
    .addColumn('nodepool_id', 'text', (c) => c.notNull())
    .addColumn('seen_at', 'bigint', (c) => c.notNull())
    .execute();
}
