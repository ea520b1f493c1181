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

export interface Database {
  users: UsersTable;
  pats: PatsTable;
  apps: AppsTable;
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  inputs: InputsTable;
}
