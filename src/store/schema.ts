/**
 * Row types of the current schema, as Kysely sees them. They describe the result of every
 * migration in order; migrations themselves never import this file (a migration is frozen the day
 * it ships, while these types follow the latest schema).
 *
 * Column conventions (see README.md): ids and timestamps are TEXT (ISO-8601 UTC strings, which sort
 * as text), booleans are INTEGER 0/1, JSON is TEXT. These behave the same on SQLite and Postgres.
 */

import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  full_name: string;
  is_admin: number;
  created_at: string;
}

export interface PatsTable {
  id: string;
  user_id: string;
  /** SHA-256 of the whole token, lowercase hex. The token itself is never stored. */
  token_hash: string;
  /** First characters of the token (`sbl_` and four more), for telling keys apart in a list. */
  token_prefix: string;
  token_last4: string;
  description: string;
  created_at: string;
  last_used_at: string | null;
  /** Space-separated scope names (predict read write admin); keys made before 0003 have all four. */
  scopes: Generated<string>;
  /** ISO-8601 UTC; null: never expires. */
  expires_at: string | null;
  /** ISO-8601 UTC when revoked; a revoked key is kept so auth can say why it is refused. */
  revoked_at: string | null;
}

export interface AppsTable {
  user_id: string;
  id: string;
  created_at: string;
  /** 'private' or 'public': a public app's inputs may be read by any key. */
  visibility: Generated<string>;
  description: Generated<string>;
}

export interface ModelsTable {
  user_id: string;
  app_id: string;
  id: string;
  name: string;
  model_type_id: string;
  description: string;
  visibility: string;
  builtin: number;
  /** JSON object. */
  metadata: string;
  created_at: string;
  modified_at: string;
}

export interface ModelVersionsTable {
  id: string;
  user_id: string;
  app_id: string;
  model_id: string;
  /** 1, 2, 3... per model: orders versions without relying on clock resolution. */
  seq: number;
  /** JSON: v2 `output_info` (params spec, output config, concepts in `data`). */
  output_info: string;
  /** v2 status code of the version. */
  status: number;
  created_at: string;
  /** JSON: the engine's ModelSpec for this version; null for a version no engine can run. */
  spec: string | null;
  /**
   * Where the version's files live: a path relative to the data directory (uploads), or an
   * absolute one (`serve --models` folders, used in place); null for built-in models.
   */
  files: string | null;
}

export interface InputsTable {
  user_id: string;
  app_id: string;
  id: string;
  /** JSON: v2 `data`. */
  data: string;
  created_at: string;
}

export interface ComputeClustersTable {
  user_id: string;
  id: string;
  description: Generated<string>;
  /** Clarifai's cloud_provider.id; 'local' for a cluster of this server's own making. */
  cloud_provider_id: Generated<string>;
  region: Generated<string>;
  cluster_type: Generated<string>;
  managed_by: Generated<string>;
  /** 'private' or 'public', kept as sent; only the owner (or an admin) reads a cluster. */
  visibility: Generated<string>;
  created_at: string;
  modified_at: string;
}

export interface NodepoolsTable {
  user_id: string;
  compute_cluster_id: string;
  id: string;
  description: Generated<string>;
  /** 'runners' (remote runners register in it) or 'endpoint' (an external model server). */
  kind: Generated<string>;
  /** JSON: the endpoint (protocol, base_url, model?, api_key_env?); null for kind 'runners'. */
  endpoint: string | null;
  min_instances: Generated<number>;
  max_instances: Generated<number>;
  /** JSON object: the wire metadata as sent (Sibyl's own part under "sibyl"). */
  metadata: Generated<string>;
  created_at: string;
  modified_at: string;
}

export interface DeploymentsTable {
  user_id: string;
  id: string;
  description: Generated<string>;
  model_user_id: string;
  model_app_id: string;
  model_id: string;
  /** null: the model's latest version (Clarifai's deploy_latest_version). */
  model_version_id: string | null;
  /** JSON: ordered list of {compute_cluster_id, id}, all the deployment owner's. */
  nodepools: Generated<string>;
  /** Clarifai's Deployment.SchedulingChoice number. */
  scheduling_choice: Generated<number>;
  min_replicas: Generated<number>;
  max_replicas: Generated<number>;
  /** JSON object. */
  metadata: Generated<string>;
  created_at: string;
  modified_at: string;
}

export interface RunnersTable {
  /** Globally unique (newId() unless the creator chose one). */
  id: string;
  user_id: string;
  compute_cluster_id: string;
  nodepool_id: string;
  description: Generated<string>;
  /** JSON: Clarifai's Worker (the model it serves); null when not said. */
  worker: string | null;
  /** JSON object. */
  metadata: Generated<string>;
  created_at: string;
  modified_at: string;
}

export interface Database {
  users: UsersTable;
  pats: PatsTable;
  apps: AppsTable;
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  inputs: InputsTable;
  compute_clusters: ComputeClustersTable;
  nodepools: NodepoolsTable;
  deployments: DeploymentsTable;
  runners: RunnersTable;
}
