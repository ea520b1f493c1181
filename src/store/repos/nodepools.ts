import type { Selectable, Updateable } from 'kysely';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { NodepoolsTable } from '../schema.js';
import { parseJson, timestamp, type RepoContext, windowOf, type Window } from './common.js';
import { deploymentsUsing } from './deployments.js';

/**
 * What serves a nodepool's work: remote runners that register in it, an external model server
 * (`endpoint`), or, for the built-in `local/local` pool only, this server's own workers.
 */
export type NodepoolKind = 'runners' | 'endpoint' | 'local';

export const ENDPOINT_PROTOCOLS = ['oip', 'openai', 'clarifai'] as const;
export type EndpointProtocol = (typeof ENDPOINT_PROTOCOLS)[number];

/** An external model server a nodepool of kind `endpoint` forwards predictions to. */
export interface NodepoolEndpoint {
  protocol: EndpointProtocol;
  /** Absolute http(s) URL. */
  baseUrl: string;
  /** The remote model's name (oip, openai) or `user/app/models/id` (clarifai). */
  model?: string;
  /** Name of a variable in the server's environment holding the key; never the key itself. */
  apiKeyEnv?: string;
}

export interface NodepoolRecord {
  userId: string;
  computeClusterId: string;
  id: string;
  description: string;
  kind: NodepoolKind;
  /** Set for kind `endpoint` only. */
  endpoint?: NodepoolEndpoint;
  minInstances: number;
  maxInstances: number;
  /** The wire metadata as sent (Sibyl's kind and endpoint under `sibyl`). */
  metadata: Record<string, unknown>;
  createdAt: string;
  modifiedAt: string;
}

export interface NodepoolFields {
  description?: string;
  /** With `endpoint` for kind `endpoint`; kind `runners` clears the endpoint. */
  kind?: 'runners' | 'endpoint';
  endpoint?: NodepoolEndpoint;
  minInstances?: number;
  maxInstances?: number;
  metadata?: Record<string, unknown>;
}

export interface NewNodepool extends NodepoolFields {
  id: string;
}

interface StoredEndpoint {
  protocol: EndpointProtocol;
  base_url: string;
  model?: string;
  api_key_env?: string;
}

function toRecord(row: Selectable<NodepoolsTable>): NodepoolRecord {
  const record: NodepoolRecord = {
    userId: row.user_id,
    computeClusterId: row.compute_cluster_id,
    id: row.id,
    description: row.description,
    kind: row.kind === 'endpoint' ? 'endpoint' : 'runners',
    minInstances: Number(row.min_instances),
    maxInstances: Number(row.max_instances),
    metadata: parseJson<Record<string, unknown>>(row.metadata, {}),
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
  const stored = row.endpoint === null ? null : parseJson<StoredEndpoint | null>(row.endpoint, null);
  if (record.kind === 'endpoint' && stored) {
    record.endpoint = { protocol: stored.protocol, baseUrl: stored.base_url };
    if (stored.model !== undefined) record.endpoint.model = stored.model;
    if (stored.api_key_env !== undefined) record.endpoint.apiKeyEnv = stored.api_key_env;
  }
  return record;
}

function storedEndpoint(e: NodepoolEndpoint): string {
  const out: StoredEndpoint = { protocol: e.protocol, base_url: e.baseUrl };
  if (e.model !== undefined) out.model = e.model;
  if (e.apiKeyEnv !== undefined) out.api_key_env = e.apiKeyEnv;
  return JSON.stringify(out);
}

function columns(fields: NodepoolFields): Updateable<NodepoolsTable> {
  const set: Updateable<NodepoolsTable> = {};
  if (fields.kind === 'endpoint' && !fields.endpoint) {
    throw new InvalidArgumentError(
      'a nodepool of kind "endpoint" needs its endpoint',
      StatusCode.NODEPOOL_INVALID_ARGUMENT,
    );
  }
  if (fields.kind !== undefined) {
    set.kind = fields.kind;
    set.endpoint = fields.kind === 'endpoint' ? storedEndpoint(fields.endpoint!) : null;
  }
  if (fields.description !== undefined) set.description = fields.description;
  if (fields.minInstances !== undefined) set.min_instances = fields.minInstances;
  if (fields.maxInstances !== undefined) set.max_instances = fields.maxInstances;
  if (fields.metadata !== undefined) set.metadata = JSON.stringify(fields.metadata);
  return set;
}

/** A user's nodepools, each in one of the user's stored compute clusters. */
export class NodepoolsRepo {
  constructor(private readonly ctx: RepoContext) {}

  /** Creates a nodepool in an existing cluster of the user's; a taken id is refused. */
  async create(userId: string, clusterId: string, pool: NewNodepool): Promise<NodepoolRecord> {
    if (!isValidId(pool.id)) {
      throw new InvalidArgumentError(
        `nodepool id ${JSON.stringify(pool.id)} is not valid: use letters, digits, "_", "-" or "."`,
        StatusCode.NODEPOOL_INVALID_ARGUMENT,
      );
    }
    const now = timestamp(this.ctx);
    const inserted = await this.ctx.db.transaction().execute(async (trx) => {
      // asked directly rather than read from a foreign-key error, which differs per database
      const cluster = await trx
        .selectFrom('compute_clusters')
        .select('id')
        .where('user_id', '=', userId)
        .where('id', '=', clusterId)
        .executeTakeFirst();
      if (!cluster) return 'no-cluster' as const;
      const taken = await trx
        .selectFrom('nodepools')
        .select('id')
        .where('user_id', '=', userId)
        .where('compute_cluster_id', '=', clusterId)
        .where('id', '=', pool.id)
        .executeTakeFirst();
      if (taken) return 'taken' as const;
      await trx
        .insertInto('nodepools')
        .values({
          user_id: userId,
          compute_cluster_id: clusterId,
          id: pool.id,
          created_at: now,
          modified_at: now,
          ...columns({ kind: 'runners', ...pool }),
        })
        .execute();
      return 'ok' as const;
    });
    if (inserted === 'no-cluster') {
      throw new NotFoundError(
        StatusCode.COMPUTE_CLUSTER_DOES_NOT_EXIST,
        'Compute cluster does not exist',
        `compute cluster "${clusterId}" does not exist for user "${userId}"`,
      );
    }
    if (inserted === 'taken') {
      throw new InvalidArgumentError(
        `nodepool "${pool.id}" already exists in compute cluster "${clusterId}" of user "${userId}"`,
        StatusCode.NODEPOOL_INVALID_ARGUMENT,
      );
    }
    return (await this.get(userId, clusterId, pool.id))!;
  }

  async get(userId: string, clusterId: string, id: string): Promise<NodepoolRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('nodepools')
      .selectAll()
      .where('user_id', '=', userId)
      .where('compute_cluster_id', '=', clusterId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** A user's nodepools (in one cluster, or all), by cluster and id, one page. */
  async list(userId: string, filter: Window & { computeClusterId?: string } = {}): Promise<NodepoolRecord[]> {
    const { limit, offset } = windowOf(filter);
    let query = this.ctx.db.selectFrom('nodepools').selectAll().where('user_id', '=', userId);
    if (filter.computeClusterId !== undefined)
      query = query.where('compute_cluster_id', '=', filter.computeClusterId);
    const rows = await query
      .orderBy('compute_cluster_id')
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toRecord);
  }

  /** Changes a nodepool's fields; false when there is no such nodepool. */
  async patch(userId: string, clusterId: string, id: string, fields: NodepoolFields): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('nodepools')
      .set({ ...columns(fields), modified_at: timestamp(this.ctx) })
      .where('user_id', '=', userId)
      .where('compute_cluster_id', '=', clusterId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Deletes a nodepool with the runners registered in it; false if missing. One that a deployment
   * still names is refused, naming the deployments.
   */
  async delete(userId: string, clusterId: string, id: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const users = await deploymentsUsing(trx, userId, clusterId, id);
      if (users.length > 0) {
        throw new InvalidArgumentError(
          `nodepool "${id}" of compute cluster "${clusterId}" is used by deployments ${users.map((d) => `"${d}"`).join(', ')}: delete or change them first`,
          StatusCode.NODEPOOL_INVALID_REQUEST,
        );
      }
      await trx
        .deleteFrom('runners')
        .where('user_id', '=', userId)
        .where('compute_cluster_id', '=', clusterId)
        .where('nodepool_id', '=', id)
        .execute();
      const result = await trx
        .deleteFrom('nodepools')
        .where('user_id', '=', userId)
        .where('compute_cluster_id', '=', clusterId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }
}
