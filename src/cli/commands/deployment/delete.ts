import { deleteByIds } from '../compute-cluster/shared.js';

export interface DeleteOptions {
  output?: string;
}

/** Deletes one of the caller's deployments. */
export function run(
  id: string,
  opts: DeleteOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  return deleteByIds(env, opts, {
    path: '/v2/users/me/deployments',
    ids: [id],
    json: { deployment_id: id },
    text: `Deployment '${id}' deleted.`,
  });
}
