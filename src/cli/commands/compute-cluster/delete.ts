import { deleteByIds } from './shared.js';

export interface DeleteOptions {
  output?: string;
}

/** Deletes one of the caller's compute clusters; the server refuses one that still has nodepools. */
export function run(
  id: string,
  opts: DeleteOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  return deleteByIds(env, opts, {
    path: '/v2/users/me/compute_clusters',
    ids: [id],
    json: { compute_cluster_id: id },
    text: `Deleted compute cluster ${id}.`,
  });
}
