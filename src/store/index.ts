export { openStore, type Store, type StoreOptions } from './db.js';
export {
  checkPostgresUrl,
  DATABASE_FILE,
  redactDatabaseUrl,
  type DialectKind,
  type StoreLocation,
} from './dialect.js';
export type { PageOptions } from './repos/common.js';
export type { UserRecord, NewUser, UsersRepo } from './repos/users.js';
export {
  PAT_PREFIX,
  TOUCH_INTERVAL_MS,
  looksLikePat,
  isScope,
  SCOPES,
  type Scope,
  type NewPat,
  type PatLookup,
  type CreatedPat,
  type PatInfo,
  type PatsRepo,
  type VerifiedPat,
} from './repos/pats.js';
export type { AppRecord, AppsRepo, AppVisibility, NewApp } from './repos/apps.js';
export {
  VERSION_READY,
  type BuiltinModelSpec,
  type ModelListFilter,
  type ModelRecord,
  type ModelVersionRecord,
  type ModelWithVersion,
  type ModelsRepo,
  type NewModel,
  type NewModelVersion,
  type Visibility,
} from './repos/models.js';
export type { InputRecord, InputsRepo, NewInput } from './repos/inputs.js';
export type { Window } from './repos/common.js';
export type {
  ComputeClusterFields,
  ComputeClusterRecord,
  ComputeClustersRepo,
  NewComputeCluster,
} from './repos/compute-clusters.js';
export {
  ENDPOINT_PROTOCOLS,
  type EndpointProtocol,
  type NewNodepool,
  type NodepoolEndpoint,
  type NodepoolFields,
  type NodepoolKind,
  type NodepoolRecord,
  type NodepoolsRepo,
} from './repos/nodepools.js';
export type {
  DeploymentFields,
  DeploymentRecord,
  DeploymentsRepo,
  NewDeployment,
  NodepoolRef,
} from './repos/deployments.js';
export type { NewRunner, RunnerFields, RunnerRecord, RunnersRepo } from './repos/runners.js';
