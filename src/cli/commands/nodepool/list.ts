import { runListing } from '../../resource-commands.js';
import { enc, pageQuery } from '../compute-cluster/shared.js';

export interface ListOptions {
  page_no?: string;
  per_page?: string;
  output?: string;
}

interface Row {
  id: string;
  description?: string;
  compute_cluster: { id: string; user_id: string };
  metadata?: { sibyl?: { kind?: string; endpoint?: { protocol?: string; base_url?: string } } };
}

/** The nodepools of one compute cluster, or of all of them (`local/local` first). */
export function run(
  clusterId: string | undefined,
  opts: ListOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const where = clusterId ? `compute_clusters/${enc(clusterId)}/nodepools` : 'nodepools';
  return runListing<Row>(opts, env, {
    path: `/v2/users/me/${where}?${pageQuery(opts, 128)}`,
    field: 'nodepools',
    empty:
      'no nodepools; create one with: clarifai nodepool create COMPUTE_CLUSTER_ID NODEPOOL_ID --config nodepool.yaml',
    head: ['ID', 'USER_ID', 'COMPUTE_CLUSTER_ID', 'DESCRIPTION', 'KIND'],
    row: (n) => {
      const s = n.metadata?.sibyl;
      const kind = s?.endpoint
        ? `${s.kind} ${s.endpoint.protocol} ${s.endpoint.base_url}`
        : (s?.kind ?? 'runners');
      return [n.id, n.compute_cluster.user_id, n.compute_cluster.id, n.description ?? '', kind];
    },
  });
}
