import type { Kysely, Selectable, Updateable } from 'kysely';
import { InvalidArgumentError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { Database, DeploymentsTable } from '../schema.js';
import {
  deleteOwned,
  inserted,
  mustHaveUser,
  parseJson,
  patchOwned,
  timestamp,
  type RepoContext,
  windowOf,
  type Window,
} from './common.js';

/** A nodepool a deployment places its model on, always one of the deployment owner's. */
export interface NodepoolRef {
  computeClusterId: string;
  id: string;
}

export interface DeploymentRecord {
  userId: string;
  id: string;
  description: string;
  /** The deployed model; no versionId: its latest version (Clarifai's deploy_latest_version). */
  model: { userId: string; appId: string; modelId: string; versionId?: string };
  /** In order: the failover order, unless the scheduling choice spreads the work. */
  nodepools: NodepoolRef[];
  /** Clarifai's Deployment.SchedulingChoice number. */
  schedulingChoice: number;
  minReplicas: number;
  maxReplicas: number;
  metadata: Record<string, unknown>;
  createdAt: string;
  modifiedAt: string;
}

export type DeploymentFields = Partial<
  Pick<
    DeploymentRecord,
    'description' | 'model' | 'nodepools' | 'schedulingChoice' | 'minReplicas' | 'maxReplicas' | 'metadata'
  >
>;

export interface NewDeployment extends DeploymentFields {
  id: string;
  model: DeploymentRecord['model'];
  nodepools: NodepoolRef[];
}

type StoredRef = { compute_cluster_id: string; id: string };

function toRecord(row: Selectable<DeploymentsTable>): DeploymentRecord {
  const refs = parseJson<StoredRef[]>(row.nodepools, []);
  return {
    userId: row.user_id,
    id: row.id,
    description: row.description,
    model: {
      userId: row.model_user_id,
      appId: row.model_app_id,
      modelId: row.model_id,
      ...(row.model_version_id !== null ? { versionId: row.model_version_id } : {}),
    },
    nodepools: refs.map((r) => ({ computeClusterId: r.compute_cluster_id, id: r.id })),
    schedulingChoice: Number(row.scheduling_choice),
    minReplicas: Number(row.min_replicas),
    maxReplicas: Number(row.max_replicas),
    metadata: parseJson<Record<string, unknown>>(row.metadata, {}),
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

function columns(fields: DeploymentFields): Updateable<DeploymentsTable> {
  const set: Updateable<DeploymentsTable> = {};
  if (fields.description !== undefined) set.description = fields.description;
  if (fields.model !== undefined) {
    set.model_user_id = fields.model.userId;
    set.model_app_id = fields.model.appId;
    set.model_id = fields.model.modelId;
    set.model_version_id = fields.model.versionId ?? null;
  }
  if (fields.nodepools !== undefined) {
    const refs: StoredRef[] = fields.nodepools.map((r) => ({
      compute_cluster_id: r.computeClusterId,
      id: r.id,
    }));
    set.nodepools = JSON.stringify(refs);
  }
  if (fields.schedulingChoice !== undefined) set.scheduling_choice = fields.schedulingChoice;
  if (fields.minReplicas !== undefined) set.min_replicas = fields.minReplicas;
  if (fields.maxReplicas !== undefined) set.max_replicas = fields.maxReplicas;
  if (fields.metadata !== undefined) set.metadata = JSON.stringify(fields.metadata);
  return set;
}

/**
 * Ids of a user's deployments that name a nodepool. Deployments are few per user and keep their
 * nodepools as a JSON list, so they are read and matched here rather than by a JSON query that
 * SQLite and Postgres would spell differently.
 */
export async function deploymentsUsing(
  db: Kysely<Database>,
  userId: string,
  clusterId: string,
  nodepoolId: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('deployments')
    .select(['id', 'nodepools'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
  return rows
    .filter((r) =>
      parseJson<StoredRef[]>(r.nodepools, []).some(
        (n) => n.compute_cluster_id === clusterId && n.id === nodepoolId,
      ),
    )
    .map((r) => r.id);
}

/** A user's deployments. Whether the model and nodepools exist is checked by the caller. */
export class DeploymentsRepo {
  constructor(private readonly ctx: RepoContext) {}

  /** Creates a deployment; a taken id is refused. The user must exist. */
  async create(userId: string, d: NewDeployment): Promise<DeploymentRecord> {
    if (!isValidId(d.id)) {
      throw new InvalidArgumentError(
        `deployment id ${JSON.stringify(d.id)} is not valid: use letters, digits, "_", "-" or "."`,
        StatusCode.DEPLOYMENT_INVALID_ARGUMENT,
      );
    }
    const now = timestamp(this.ctx);
    let result;
    try {
      result = await this.ctx.db
        .insertInto('deployments')
        .values({
          user_id: userId,
          id: d.id,
          created_at: now,
          modified_at: now,
          model_user_id: d.model.userId,
          model_app_id: d.model.appId,
          model_id: d.model.modelId,
          ...columns(d),
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
    } catch (err) {
      await mustHaveUser(this.ctx.db, userId);
      throw err;
    }
    if (!inserted(result)) {
      throw new InvalidArgumentError(
        `deployment "${d.id}" of user "${userId}" already exists`,
        StatusCode.DEPLOYMENT_INVALID_ARGUMENT,
      );
    }
    return (await this.get(userId, d.id))!;
  }

  async get(userId: string, id: string): Promise<DeploymentRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('deployments')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /**
   * A user's deployments by id, one page; with `computeClusterId` and/or `nodepoolId`, only those
   * placed on a matching nodepool (matched after reading, see deploymentsUsing).
   */
  async list(
    userId: string,
    filter: Window & { computeClusterId?: string; nodepoolId?: string } = {},
  ): Promise<DeploymentRecord[]> {
    const { limit, offset } = windowOf(filter);
    const query = this.ctx.db
      .selectFrom('deployments')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id');
    if (filter.computeClusterId === undefined && filter.nodepoolId === undefined) {
      return (await query.limit(limit).offset(offset).execute()).map(toRecord);
    }
    const matches = (r: NodepoolRef): boolean =>
      (filter.computeClusterId === undefined || r.computeClusterId === filter.computeClusterId) &&
      (filter.nodepoolId === undefined || r.id === filter.nodepoolId);
    const all = (await query.execute()).map(toRecord).filter((d) => d.nodepools.some(matches));
    return all.slice(offset, offset + limit);
  }

  /** Changes a deployment's fields; false when there is no such deployment. */
  async patch(userId: string, id: string, fields: DeploymentFields): Promise<boolean> {
    return patchOwned(this.ctx, 'deployments', userId, id, columns(fields));
  }

  async delete(userId: string, id: string): Promise<boolean> {
    return deleteOwned(this.ctx, 'deployments', userId, id);
  }
}
