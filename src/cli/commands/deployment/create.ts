import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { parseModelRef } from '../../model-ref.js';
import { formatOption } from '../../output-format.js';
import { idFrom, readConfig } from '../compute-cluster/shared.js';
import { type DeploymentRow, placement } from './list.js';

export interface CreateOptions {
  config?: string;
  model?: string;
  description?: string;
  output?: string;
}

const USAGE = 'clarifai deployment create NODEPOOL_ID DEPLOYMENT_ID --config deployment.yaml';

type Env = Readonly<Record<string, string | undefined>>;

/** `--model user/app/models/id[/versions/v]` (or its URL) as a Deployment's worker. */
function workerOf(ref: string): Record<string, unknown> {
  const m = parseModelRef(ref);
  const model: Record<string, unknown> = { id: m.modelId, user_id: m.userId, app_id: m.appId };
  if (m.versionId) model.model_version = { id: m.versionId };
  return { model };
}

/**
 * `clarifai deployment create [NP] [ID] --config FILE`: Clarifai's `deployment:` YAML. Its
 * `nodepools:` say where the model runs; without them, the nodepool NP (found among the user's
 * nodepools by id; an id used in two clusters needs the YAML). `--model` can stand in for
 * `worker:`.
 */
export async function run(
  nodepoolArg: string | undefined,
  idArg: string | undefined,
  opts: CreateOptions,
  env: Env,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  const config = await readConfig(opts.config, 'deployment');
  const id = idFrom(idArg, config, 'deployment', USAGE);
  if (opts.model !== undefined) config.worker = workerOf(opts.model);
  if (config.worker === undefined)
    throw new CliUsageError(
      `say which model to deploy: "worker: {model: {...}}" in --config, or --model USER/APP/models/MODEL`,
    );
  if (opts.description !== undefined) config.description = opts.description;
  const listed = Array.isArray(config.nodepools) && config.nodepools.length > 0;
  if (!listed && !nodepoolArg)
    throw new CliUsageError(`give the nodepool as an argument or as "nodepools:" in --config (${USAGE})`);
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    if (!listed) config.nodepools = [await findNodepool(client, nodepoolArg!)];
    const res = await client.call<{ deployments: DeploymentRow[] }>('POST', '/v2/users/me/deployments', {
      deployments: [{ ...config, id }],
    });
    const d = res.deployments[0]!;
    process.stdout.write(
      format === 'json'
        ? `${JSON.stringify({ deployment: d }, null, 2)}\n`
        : `Created deployment ${d.id}: ${d.worker.model.user_id}/${d.worker.model.app_id}/models/${d.worker.model.id} on ${placement(d)}.\n`,
    );
  });
}

interface PoolRow {
  id: string;
  compute_cluster: { id: string };
}

/** The user's one nodepool with this id, as a Deployment names it. */
async function findNodepool(
  client: V2Client,
  id: string,
): Promise<{ id: string; compute_cluster: { id: string } }> {
  const res = await client.call<{ nodepools?: PoolRow[] }>('GET', '/v2/users/me/nodepools?per_page=1000');
  const found = (res.nodepools ?? []).filter((n) => n.id === id);
  if (found.length === 0) throw new CliUsageError(`you have no nodepool "${id}"; see clarifai nodepool list`);
  if (found.length > 1) {
    const where = found.map((n) => `${n.compute_cluster.id}/${n.id}`).join(', ');
    throw new CliUsageError(
      `nodepool "${id}" is in several compute clusters (${where}): name one under "nodepools:" in --config`,
    );
  }
  return { id, compute_cluster: { id: found[0]!.compute_cluster.id } };
}
