import { CliUsageError } from '../../errors.js';
import { createOne, enc, idFrom, readConfig } from '../compute-cluster/shared.js';

export interface CreateOptions {
  config?: string;
  description?: string;
  endpoint?: string;
  endpointModel?: string;
  apiKeyEnv?: string;
  output?: string;
}

interface Created {
  id: string;
  compute_cluster: { id: string; user_id: string };
  metadata?: { sibyl?: { kind?: string } };
}

const USAGE = 'clarifai nodepool create COMPUTE_CLUSTER_ID NODEPOOL_ID';

/** `--endpoint PROTOCOL=URL` (with --endpoint-model, --api-key-env) as `metadata.sibyl`. */
function endpointOf(opts: CreateOptions): Record<string, unknown> | undefined {
  if (opts.endpoint === undefined) {
    if (opts.endpointModel !== undefined || opts.apiKeyEnv !== undefined)
      throw new CliUsageError('--endpoint-model and --api-key-env go with --endpoint PROTOCOL=URL');
    return undefined;
  }
  const m = /^([a-z]+)=(.+)$/.exec(opts.endpoint);
  if (!m)
    throw new CliUsageError(
      `--endpoint must read PROTOCOL=URL (oip=http://host:8081, openai=https://host/v1, clarifai=https://api.clarifai.com); got "${opts.endpoint}"`,
    );
  const endpoint: Record<string, string> = { protocol: m[1]!, base_url: m[2]! };
  if (opts.endpointModel !== undefined) endpoint.model = opts.endpointModel;
  if (opts.apiKeyEnv !== undefined) endpoint.api_key_env = opts.apiKeyEnv;
  return { kind: 'endpoint', endpoint };
}

/**
 * `clarifai nodepool create [CC] [NP] --config FILE`: Clarifai's `nodepool:` YAML (its
 * `compute_cluster.id` when no CC is given), or flags; `--endpoint` makes an endpoint nodepool.
 */
export async function run(
  clusterArg: string | undefined,
  idArg: string | undefined,
  opts: CreateOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const config = await readConfig(opts.config, 'nodepool');
  const inConfig = config.compute_cluster as { id?: unknown } | undefined;
  const clusterId = clusterArg ?? (typeof inConfig?.id === 'string' ? inConfig.id : undefined);
  if (!clusterId)
    throw new CliUsageError(
      `give the compute cluster id as an argument or as "compute_cluster: {id: ...}" in --config (${USAGE})`,
    );
  const id = idFrom(idArg, config, 'nodepool', USAGE);
  if (opts.description !== undefined) config.description = opts.description;
  const sibyl = endpointOf(opts);
  if (sibyl) config.metadata = { ...((config.metadata as object | undefined) ?? {}), sibyl };
  await createOne<Created>(
    env,
    opts,
    {
      path: `/v2/users/me/compute_clusters/${enc(clusterId)}/nodepools`,
      body: { nodepools: [{ ...config, id, compute_cluster: { id: clusterId } }] },
      field: 'nodepools',
      single: 'nodepool',
    },
    (n) => `Created nodepool ${n.compute_cluster.id}/${n.id} (${n.metadata?.sibyl?.kind ?? 'runners'}).`,
  );
}
