import { deleteByIds, enc } from '../compute-cluster/shared.js';

export interface DeleteOptions {
  output?: string;
}

/** Deletes a nodepool with its runners; the server refuses one a deployment still names. */
export function run(
  clusterId: string,
  id: string,
  opts: DeleteOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  return deleteByIds(env, opts, {
    path: `/v2/users/me/compute_clusters/${enc(clusterId)}/nodepools`,
    ids: [id],
    json: { compute_cluster_id: clusterId, nodepool_id: id },
    text: `Deleted nodepool ${clusterId}/${id}.`,
  });
}
