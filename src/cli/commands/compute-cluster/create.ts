import { createOne, idFrom, readConfig } from './shared.js';

export interface CreateOptions {
  config?: string;
  description?: string;
  output?: string;
}

interface Created {
  id: string;
  user_id: string;
}

/** `clarifai computecluster create [ID] --config FILE`: Clarifai's `compute_cluster:` YAML, or flags. */
export async function run(
  id: string | undefined,
  opts: CreateOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const config = await readConfig(opts.config, 'compute_cluster');
  const clusterId = idFrom(id, config, 'compute cluster', 'clarifai computecluster create ID');
  if (opts.description !== undefined) config.description = opts.description;
  await createOne<Created>(
    env,
    opts,
    {
      path: '/v2/users/me/compute_clusters',
      body: { compute_clusters: [{ ...config, id: clusterId }] },
      field: 'compute_clusters',
      single: 'compute_cluster',
    },
    (c) => `Created compute cluster ${c.id} of user ${c.user_id}.`,
  );
}
