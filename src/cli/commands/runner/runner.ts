import { findModelFolders } from '../../../runner/model-folder.js';
import { serveRunner } from './lifecycle.js';
import {
  concurrencyFlag,
  idFlag,
  intFlag,
  preloadFlags,
  resolveApi,
  runnerDataDir,
  type RunnerFlags,
  workersFlag,
} from './start.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface RunnerCommandOptions extends RunnerFlags {
  compute_cluster_id?: string;
  nodepool_id?: string;
  runner_id?: string;
}

/**
 * `clarifai runner`: this machine's engine serves a nodepool of the API through Clarifai's runner
 * protocol (ProcessRunnerItems), until stopped.
 */
export async function run(opts: RunnerCommandOptions, env: Env): Promise<void> {
  const clusterId = idFlag('--compute_cluster_id', opts.compute_cluster_id, true)!;
  const nodepoolId = idFlag('--nodepool_id', opts.nodepool_id, true)!;
  const runnerId = idFlag('--runner_id', opts.runner_id, false);
  const concurrency = concurrencyFlag(opts);
  const healthPort = intFlag('--health-port', opts.healthPort, 0, 65535);
  const preload = preloadFlags(opts);
  // checked before the API is asked anything, so a typo fails at once
  if (opts.models) await findModelFolders(opts.models);
  const target = await resolveApi(opts, env);
  const dataDir = runnerDataDir(opts, env, clusterId, nodepoolId);
  await serveRunner({
    target,
    dataDir,
    preload,
    computeClusterId: clusterId,
    nodepoolId,
    concurrency,
    ...(workersFlag(opts) !== undefined ? { workers: workersFlag(opts)! } : {}),
    keep: opts.keep === true,
    verbose: opts.verbose === true,
    ...(opts.models ? { modelsDir: opts.models } : {}),
    ...(runnerId ? { runnerId } : {}),
    ...(healthPort !== undefined ? { healthPort } : {}),
  });
}
