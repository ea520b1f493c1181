import { runListing } from '../../resource-commands.js';
import { enc, pageQuery } from '../compute-cluster/shared.js';

export interface ListOptions {
  page_no?: string;
  per_page?: string;
  output?: string;
}

export interface DeploymentRow {
  id: string;
  worker: { model: { id: string; user_id: string; app_id: string; model_version?: { id?: string } } };
  nodepools?: { id: string; compute_cluster?: { id?: string } }[];
}

/** Where a deployment runs: its nodepools as CLUSTER/NODEPOOL, in order. */
export function placement(d: DeploymentRow): string {
  return (d.nodepools ?? []).map((n) => `${n.compute_cluster?.id ?? '-'}/${n.id}`).join(', ') || '-';
}

/** The caller's deployments, or those on one nodepool (Clarifai's columns). */
export function run(
  nodepoolId: string | undefined,
  opts: ListOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const filter = nodepoolId ? `nodepool_id=${enc(nodepoolId)}&` : '';
  return runListing<DeploymentRow>(opts, env, {
    path: `/v2/users/me/deployments?${filter}${pageQuery(opts, 16)}`,
    field: 'deployments',
    empty:
      'No deployments found.\n  Deploy a model: clarifai deployment create NODEPOOL_ID DEPLOYMENT_ID --config deployment.yaml',
    head: ['ID', 'MODEL_ID', 'MODEL_VERSION', 'NODEPOOL_ID', 'COMPUTE_CLUSTER'],
    row: (d) => [
      d.id,
      d.worker.model.id,
      d.worker.model.model_version?.id?.slice(0, 12) || '-',
      d.nodepools?.[0]?.id ?? '-',
      d.nodepools?.[0]?.compute_cluster?.id ?? '-',
    ],
  });
}
