import { Kysely, Migrator } from './kysely.js';
import { SibylError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import { createDialect, type DialectKind, type StoreLocation } from './dialect.js';
import { migrationProvider } from './migrations/index.js';
import { AppsRepo } from './repos/apps.js';
import { ComputeClustersRepo } from './repos/compute-clusters.js';
import { DeploymentsRepo } from './repos/deployments.js';
import { NodepoolsRepo } from './repos/nodepools.js';
import { RunnersRepo } from './repos/runners.js';
import type { RepoContext } from './repos/common.js';
import { InputsRepo } from './repos/inputs.js';
import { ModelsRepo } from './repos/models.js';
import { PatsRepo } from './repos/pats.js';
import { UsersRepo } from './repos/users.js';
import type { Database } from './schema.js';

export type StoreOptions = StoreLocation & {
  /** Clock for timestamps (tests pass a fake one). Default: the real time. */
  now?: () => Date;
};

export interface Store {
  readonly kind: DialectKind;
  readonly users: UsersRepo;
  readonly pats: PatsRepo;
  readonly apps: AppsRepo;
  readonly models: ModelsRepo;
  readonly inputs: InputsRepo;
  readonly computeClusters: ComputeClustersRepo;
  readonly nodepools: NodepoolsRepo;
  readonly deployments: DeploymentsRepo;
  readonly runners: RunnersRepo;
  /** Names of the migrations this open applied (empty when the schema was already current). */
  readonly migrated: readonly string[];
  /** The query builder, for tests and store-internal use; other layers go through the repos. */
  readonly db: Kysely<Database>;
  close(): Promise<void>;
}

async function migrate(db: Kysely<Database>, where: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    // `where` never holds a password; neither do the drivers' messages.
    throw new SibylError(
      StatusCode.INTERNAL_ERROR,
      'Database migration failed',
      `${where}: ${failed ? `${failed}: ` : ''}${describeError(error)}`,
      { cause: error },
    );
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** A driver error's message, with its code when the message is empty (pg's ECONNREFUSED is). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof AggregateError && !error.message) return describeError(error.errors[0]);
  const code = (error as NodeJS.ErrnoException).code;
  return error.message || code || error.name;
}

/** Opens (creating if needed) the store and brings its schema up to date before returning. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const { dialect, kind, where } = await createDialect(opts);
  const db = new Kysely<Database>({ dialect });
  let migrated: string[];
  try {
    migrated = await migrate(db, where);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const ctx: RepoContext = { db, now: opts.now ?? (() => new Date()) };
  let closed = false;
  return {
    kind,
    db,
    migrated,
    users: new UsersRepo(ctx),
    pats: new PatsRepo(ctx),
    apps: new AppsRepo(ctx),
    models: new ModelsRepo(ctx),
    inputs: new InputsRepo(ctx),
    computeClusters: new ComputeClustersRepo(ctx),
    nodepools: new NodepoolsRepo(ctx),
    deployments: new DeploymentsRepo(ctx),
    runners: new RunnersRepo(ctx),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
