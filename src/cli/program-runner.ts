import type { Command } from './args/command.js';
import { collect, sub, type Env } from './program-helpers.js';

/** Options `clarifai runner` and `clarifai model local-runner` share. */
function runnerOptions(cmd: Command): Command {
  return cmd
    .option(
      '--api-url <URL>',
      "The API's base URL (default: the current login's base_url); the PAT comes from CLARIFAI_PAT or the login",
    )
    .option('--user_id <ID>', "The nodepool's user (default: the PAT's user)")
    .option('--concurrency <N>', 'Work items run at once (default: the number of CPU cores)')
    .option('--workers <N>', 'Worker threads that run models (default: one per core)')
    .option(
      '--data-dir <DIR>',
      "The runner's own data directory (default: $SIBYL_HOME/runners/CLUSTER/NODEPOOL)",
    )
    .option(
      '--health-port <PORT>',
      'Serve GET /health on this port: 200 while connected, 503 while reconnecting (default: off)',
    )
    .option('--preload <USER/APP/MODEL>', 'Load this model at start (repeatable)', collect)
    .option(
      '--keep',
      'Leave the runner registered on exit (a runner this process created is deleted by default)',
    )
    .option('--verbose', 'One line per work item');
}

/** `clarifai runner`: serve a nodepool of an API from this machine (Clarifai's runner protocol). */
export function registerRunner(program: Command, env: Env): void {
  runnerOptions(
    sub(
      program,
      'runner',
      "Serve a nodepool of a Sibyl (or Clarifai) API from this machine's engine, through Clarifai's runner protocol, until stopped (SIGTERM/Ctrl-C finish the items in hand).",
      [
        'CLARIFAI_PAT=... clarifai runner --compute_cluster_id gpu-cluster --nodepool_id runners --api-url http://api.internal:8080',
        'clarifai runner -cc_id gpu-cluster -np_id runners --models ./model-repository --concurrency 4',
        'clarifai runner -cc_id gpu-cluster -np_id runners --runner_id box-7 --keep --health-port 8081',
      ],
    )
      .option('--compute_cluster_id <ID>', 'Compute cluster of the nodepool (alias -cc_id; required)')
      .option('--nodepool_id <ID>', 'Nodepool to serve (alias -np_id; required)')
      .option(
        '--runner_id <ID>',
        'Serve as this runner: an existing one, or the id to register (default: a new id)',
      )
      .option(
        '--models <DIR>',
        'Also serve the model folders in DIR (or DIR itself), matched by model id, as `clarifai serve --models`',
      ),
  ).action(async (opts) => (await import('./commands/runner/runner.js')).run(opts, env));
}

/** `clarifai model local-runner`: Clarifai's command, serving one model folder through a deployment. */
export function registerLocalRunner(model: Command, env: Env): void {
  runnerOptions(
    sub(
      model,
      'local-runner',
      'Serve a model folder from this machine: ensures the compute cluster local-runner-compute-cluster, nodepool local-runner-nodepool, the model and the deployment local-runner-deployment on the API, then runs a runner for it until stopped.',
      [
        'clarifai model local-runner ./my-model',
        'clarifai model local-runner ./my-model --api-url http://127.0.0.1:8080 --concurrency 2',
      ],
    ).argument('[model_path]', 'A Sibyl model folder (config.yaml and weights); default: the current folder'),
  ).action(async (modelPath: string | undefined, opts) =>
    (await import('./commands/runner/local-runner.js')).run(modelPath ?? '.', opts, env),
  );
}
