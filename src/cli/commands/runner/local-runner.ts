import { StatusCode } from '../../../core/status.js';
import { RunnerApi } from '../../../runner/api.js';
import { readFolderIds, uploadFolder, type FolderModel } from '../../../runner/model-folder.js';
import type { Json } from '../../../runner/proto.js';
import { V2Client } from '../../../sdk/client.js';
import { ApiError } from '../../../sdk/errors.js';
import { HttpTransport } from '../../../sdk/transport.js';
import { serveRunner } from './lifecycle.js';
import {
  concurrencyFlag,
  intFlag,
  preloadFlags,
  resolveApi,
  runnerDataDir,
  type ApiTarget,
  type RunnerFlags,
  workersFlag,
} from './start.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The resource ids Clarifai's `clarifai model local-runner` uses, so its instructions carry over. */
export const LOCAL_CLUSTER = 'local-runner-compute-cluster';
export const LOCAL_NODEPOOL = 'local-runner-nodepool';
export const LOCAL_DEPLOYMENT = 'local-runner-deployment';

/** Codes meaning "no such resource": then it is created. */
const MISSING = new Set<number>([
  StatusCode.COMPUTE_CLUSTER_DOES_NOT_EXIST,
  StatusCode.NODEPOOL_DOES_NOT_EXIST,
  StatusCode.DEPLOYMENT_DOES_NOT_EXIST,
  StatusCode.MODEL_DOES_NOT_EXIST,
  StatusCode.CONN_DOES_NOT_EXIST,
]);

/**
 * `clarifai model local-runner [MODEL_PATH]`, Clarifai's command done Sibyl's way: make sure the
 * compute cluster, nodepool, model (uploaded from the folder when the API lacks it) and deployment
 * exist on the API, print the predict command that reaches it, then serve it from this machine
 * until stopped.
 */
export async function run(modelPath: string, opts: RunnerFlags, env: Env): Promise<void> {
  const folder = await readFolderIds(modelPath);
  const concurrency = concurrencyFlag(opts);
  const healthPort = intFlag('--health-port', opts.healthPort, 0, 65535);
  const preload = preloadFlags(opts);
  const target = await resolveApi(opts, env);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const api = new RunnerApi(target.url, target.pat);
  let versionId: string;
  try {
    const user = { user_app_id: { user_id: target.userId } };
    await ensure(
      api,
      say,
      `compute cluster ${LOCAL_CLUSTER}`,
      'GetComputeCluster',
      { ...user, compute_cluster_id: LOCAL_CLUSTER },
      'PostComputeClusters',
      {
        ...user,
        compute_clusters: [{ id: LOCAL_CLUSTER, description: 'Sibyl local runners' }],
      },
    );
    await ensure(
      api,
      say,
      `nodepool ${LOCAL_NODEPOOL}`,
      'GetNodepool',
      { ...user, compute_cluster_id: LOCAL_CLUSTER, nodepool_id: LOCAL_NODEPOOL },
      'PostNodepools',
      {
        ...user,
        compute_cluster_id: LOCAL_CLUSTER,
        nodepools: [
          {
            id: LOCAL_NODEPOOL,
            description: 'Runners started by clarifai model local-runner',
            compute_cluster: { id: LOCAL_CLUSTER, user_id: target.userId },
            metadata: { sibyl: { kind: 'runners' } },
          },
        ],
      },
    );
    versionId = await ensureModel(target, folder, say);
    await ensure(
      api,
      say,
      `deployment ${LOCAL_DEPLOYMENT}`,
      'GetDeployment',
      { ...user, deployment_id: LOCAL_DEPLOYMENT },
      'PostDeployments',
      {
        ...user,
        deployments: [
          {
            id: LOCAL_DEPLOYMENT,
            description: `clarifai model local-runner for ${folder.modelId}`,
            worker: { model: modelWorker(folder, versionId) },
            nodepools: [
              { id: LOCAL_NODEPOOL, compute_cluster: { id: LOCAL_CLUSTER, user_id: target.userId } },
            ],
          },
        ],
      },
    );
  } finally {
    api.close();
  }
  // text models take --bytes; image, audio and video models a file
  const input = /^(text|multimodal)-/.test(folder.modelTypeId)
    ? '--bytes "Hello" --input_type text'
    : '--file_path FILE';
  say(
    `try it: clarifai model predict --model_id ${folder.modelId} --user_id ${folder.userId} --app_id ${folder.appId} --deployment_id ${LOCAL_DEPLOYMENT} ${input}`,
  );
  await serveRunner({
    target,
    dataDir: runnerDataDir(opts, env, LOCAL_CLUSTER, LOCAL_NODEPOOL),
    modelsDir: folder.folder,
    preload,
    computeClusterId: LOCAL_CLUSTER,
    nodepoolId: LOCAL_NODEPOOL,
    concurrency,
    ...(workersFlag(opts) !== undefined ? { workers: workersFlag(opts)! } : {}),
    worker: { model: modelWorker(folder, versionId) },
    keep: opts.keep === true,
    verbose: opts.verbose === true,
    ...(healthPort !== undefined ? { healthPort } : {}),
  });
}

function modelWorker(folder: FolderModel, versionId: string): Json {
  return {
    id: folder.modelId,
    user_id: folder.userId,
    app_id: folder.appId,
    ...(versionId ? { model_version: { id: versionId } } : {}),
  };
}

/** Gets a resource, creating it when the API says it does not exist. */
async function ensure(
  api: RunnerApi,
  say: (line: string) => void,
  what: string,
  getRpc: string,
  getRequest: Json,
  postRpc: string,
  postRequest: Json,
): Promise<void> {
  try {
    await api.call(getRpc, getRequest);
    say(`${what}: ready`);
    return;
  } catch (err) {
    if (!(err instanceof ApiError) || !MISSING.has(err.code)) throw err;
  }
  await api.call(postRpc, postRequest);
  say(`${what}: created`);
}

/** The model's version on the API: the one it has, or a new one uploaded from the folder. */
async function ensureModel(
  target: ApiTarget,
  folder: FolderModel,
  say: (line: string) => void,
): Promise<string> {
  const client = new V2Client(new HttpTransport(target.url), target.pat);
  const name = `${folder.userId}/${folder.appId}/${folder.modelId}`;
  try {
    const res = await client.getModel(folder);
    say(`model ${name}: ready`);
    return res.model.model_version?.id ?? '';
  } catch (err) {
    if (!(err instanceof ApiError) || !MISSING.has(err.code)) throw err;
  }
  const versionId = await uploadFolder(client, folder);
  say(`model ${name}: uploaded from ${folder.folder} (version ${versionId})`);
  return versionId;
}
