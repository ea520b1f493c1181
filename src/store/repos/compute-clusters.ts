import type { Selectable, Updateable } from 'kysely';
import { InvalidArgumentError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { ComputeClustersTable } from '../schema.js';
import {
  inserted,
  mustHaveUser,
  patchOwned,
  timestamp,
  windowOf,
  type RepoContext,
  type Window,
} from './common.js';

/**
 * Which rows of a listing: the services page with the built-in `local` items in front of the
 * stored ones, so they ask for rows by offset rather than by page. No limit: all of them.
 */
export interface ComputeClusterRecord {
  userId: string;
  id: string;
  description: string;
  /** Clarifai's cloud_provider.id ('local' unless said). */
  cloudProviderId: string;
  region: string;
  clusterType: string;
  managedBy: string;
  visibility: 'private' | 'public';
  createdAt: string;
  modifiedAt: string;
}

export type ComputeClusterFields = Partial<
  Pick<
    ComputeClusterRecord,
    'description' | 'cloudProviderId' | 'region' | 'clusterType' | 'managedBy' | 'visibility'
  >
>;

export interface NewComputeCluster extends ComputeClusterFields {
  id: string;
}

function toRecord(row: Selectable<ComputeClustersTable>): ComputeClusterRecord {
  return {
    userId: row.user_id,
    id: row.id,
    description: row.description,
    cloudProviderId: row.cloud_provider_id,
    region: row.region,
    clusterType: row.cluster_type,
    managedBy: row.managed_by,
    visibility: row.visibility === 'public' ? 'public' : 'private',
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

function columns(fields: ComputeClusterFields): Updateable<ComputeClustersTable> {
  const set: Updateable<ComputeClustersTable> = {};
  if (fields.description !== undefined) set.description = fields.description;
  if (fields.cloudProviderId !== undefined) set.cloud_provider_id = fields.cloudProviderId;
  if (fields.region !== undefined) set.region = fields.region;
  if (fields.clusterType !== undefined) set.cluster_type = fields.clusterType;
  if (fields.managedBy !== undefined) set.managed_by = fields.managedBy;
  if (fields.visibility !== undefined) set.visibility = fields.visibility;
  return set;
}

/** A user's compute clusters. The built-in `local` one is not stored (server/services adds it). */
export class ComputeClustersRepo {
  constructor(private readonly ctx: RepoContext) {}

  /** Creates a cluster; a taken id is refused. The user must exist. */
  async create(userId: string, cluster: NewComputeCluster): Promise<ComputeClusterRecord> {
    if (!isValidId(cluster.id)) {
      throw new InvalidArgumentError(
        `compute cluster id ${JSON.stringify(cluster.id)} is not valid: use letters, digits, "_", "-" or "."`,
        StatusCode.COMPUTE_CLUSTER_INVALID_ARGUMENT,
      );
    }
    const now = timestamp(this.ctx);
    let result;
    try {
      result = await this.ctx.db
        .insertInto('compute_clusters')
        .values({ user_id: userId, id: cluster.id, created_at: now, modified_at: now, ...columns(cluster) })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
    } catch (err) {
      await mustHaveUser(this.ctx.db, userId);
      throw err;
    }
    if (!inserted(result)) {
      throw new InvalidArgumentError(
        `compute cluster "${cluster.id}" of user "${userId}" already exists`,
        StatusCode.COMPUTE_CLUSTER_INVALID_ARGUMENT,
      );
    }
    return (await this.get(userId, cluster.id))!;
  }

  async get(userId: string, id: string): Promise<ComputeClusterRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('compute_clusters')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** A user's clusters by id, one page. */
  async list(userId: string, page: Window = {}): Promise<ComputeClusterRecord[]> {
    const { limit, offset } = windowOf(page);
    const rows = await this.ctx.db
      .selectFrom('compute_clusters')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toRecord);
  }

  /** Changes a cluster's fields; false when there is no such cluster. */
  async patch(userId: string, id: string, fields: ComputeClusterFields): Promise<boolean> {
    return patchOwned(this.ctx, 'compute_clusters', userId, id, columns(fields));
  }

  /**
   * Deletes a cluster; false if missing. One that still has nodepools is refused, naming them, so
   * that no deployment or runner is left pointing at nothing.
   */
  async delete(userId: string, id: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const pools = await trx
        .selectFrom('nodepools')
        .select('id')
        .where('user_id', '=', userId)
        .where('compute_cluster_id', '=', id)
        .orderBy('id')
        .execute();
      if (pools.length > 0) {
        throw new InvalidArgumentError(
          `compute cluster "${id}" still has nodepools ${pools.map((p) => `"${p.id}"`).join(', ')}: delete them first`,
          StatusCode.COMPUTE_CLUSTER_INVALID_REQUEST,
        );
      }
      const result = await trx
        .deleteFrom('compute_clusters')
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }
}
