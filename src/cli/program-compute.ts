import { sub, type Command, type Env } from './program-helpers.js';

const JSON_OPTION = '-o, --output <FORMAT>';

/** `list`'s paging options, as Clarifai's CLI has them. */
function page(cmd: Command, perPage: number): Command {
  return cmd
    .option('--page_no <N>', 'Page number to list', '1')
    .option('--per_page <N>', 'Number of items per page', String(perPage))
    .option(JSON_OPTION, 'text (default) or json');
}

/**
 * `clarifai computecluster|nodepool|deployment`: Clarifai's compute commands, with its names,
 * aliases (cc, np, dp; c, ls, rm), positional arguments and `--config` YAML files
 * (`compute_cluster:`, `nodepool:`, `deployment:`), plus flags for the common cases without a file.
 * Each group registers its commands only when a command line goes into it.
 */
export function registerCompute(program: Command, env: Env): void {
  sub(program, 'computecluster', 'Manage compute clusters.', [
    'clarifai computecluster create gpu-cluster --config compute_cluster.yaml',
    'clarifai cc ls',
    'clarifai cc rm gpu-cluster',
  ])
    .aliases(['cc'])
    .subcommands((cc) => registerClusterCommands(cc, env));
  sub(program, 'nodepool', 'Manage nodepools.', [
    'clarifai nodepool create gpu-cluster runners --config nodepool.yaml',
    'clarifai np c gpu-cluster triton --endpoint oip=http://triton:8000',
    'clarifai np ls gpu-cluster',
  ])
    .aliases(['np'])
    .subcommands((np) => registerNodepoolCommands(np, env));
  sub(program, 'deployment', 'Manage deployments.', [
    'clarifai deployment create runners my-deploy --config deployment.yaml',
    'clarifai dp ls runners',
    'clarifai dp rm my-deploy',
  ])
    .aliases(['dp', 'dpl'])
    .subcommands((dp) => registerDeploymentCommands(dp, env));
}

function registerClusterCommands(cc: Command, env: Env): void {
  sub(cc, 'create', 'Create a new Compute Cluster with the given config file (or flags).', [
    'clarifai computecluster create gpu-cluster --config compute_cluster.yaml',
    'clarifai cc c lab --description "lab machines" -o json',
  ])
    .aliases(['c'])
    .argument('[compute_cluster_id]', "the cluster's id (default: id: in the config)")
    .option('--config <FILE>', 'YAML with a compute_cluster: mapping, as Clarifai writes it')
    .option('--description <TEXT>', 'What the cluster is for')
    .option(JSON_OPTION, 'text (default) or json')
    .action(async (id: string | undefined, opts) =>
      (await import('./commands/compute-cluster/create.js')).run(id, opts, env),
    );
  page(
    sub(cc, 'list', 'List all compute clusters for the user (the built-in "local" first).', [
      'clarifai computecluster list',
      'clarifai cc ls --page_no 2 --per_page 10 -o json',
    ]).aliases(['ls']),
    16,
  ).action(async (opts) => (await import('./commands/compute-cluster/list.js')).run(opts, env));
  sub(cc, 'delete', 'Deletes a compute cluster for the user (delete its nodepools first).', [
    'clarifai computecluster delete gpu-cluster',
  ])
    .aliases(['rm'])
    .argument('<compute_cluster_id>', "the cluster's id")
    .option(JSON_OPTION, 'text (default) or json')
    .action(async (id: string, opts) =>
      (await import('./commands/compute-cluster/delete.js')).run(id, opts, env),
    );
}

function registerNodepoolCommands(np: Command, env: Env): void {
  sub(
    np,
    'create',
    'Create a new Nodepool with the given config file (or flags). Runners register in it, or with --endpoint it forwards to an external model server.',
    [
      'clarifai nodepool create gpu-cluster runners --config nodepool.yaml',
      'clarifai np c gpu-cluster triton --endpoint oip=http://triton:8000 --endpoint-model resnet',
      'clarifai np c gpu-cluster vllm --endpoint openai=http://vllm:8000/v1 --api-key-env VLLM_KEY',
    ],
  )
    .aliases(['c'])
    .argument('[compute_cluster_id]', "the nodepool's cluster (default: compute_cluster.id in the config)")
    .argument('[nodepool_id]', "the nodepool's id (default: id: in the config)")
    .option('--config <FILE>', 'YAML with a nodepool: mapping, as Clarifai writes it')
    .option('--description <TEXT>', 'What the nodepool is for')
    .option('--endpoint <PROTOCOL=URL>', 'Forward to an external server: oip=URL, openai=URL or clarifai=URL')
    .option('--endpoint-model <NAME>', "The endpoint's model name (clarifai: USER/APP/models/MODEL)")
    .option('--api-key-env <VAR>', "Name of the server's environment variable that holds the endpoint's key")
    .option(JSON_OPTION, 'text (default) or json')
    .action(async (cluster: string | undefined, id: string | undefined, opts) =>
      (await import('./commands/nodepool/create.js')).run(cluster, id, opts, env),
    );
  page(
    sub(np, 'list', 'List the nodepools of a compute cluster, or of all of them.', [
      'clarifai nodepool list',
      'clarifai np ls gpu-cluster -o json',
    ])
      .aliases(['ls'])
      .argument('[compute_cluster_id]', 'only this cluster'),
    128,
  ).action(async (cluster: string | undefined, opts) =>
    (await import('./commands/nodepool/list.js')).run(cluster, opts, env),
  );
  sub(np, 'delete', 'Deletes a nodepool for the user, with its runners (not one a deployment uses).', [
    'clarifai nodepool delete gpu-cluster runners',
  ])
    .aliases(['rm'])
    .argument('<compute_cluster_id>', "the nodepool's cluster")
    .argument('<nodepool_id>', "the nodepool's id")
    .option(JSON_OPTION, 'text (default) or json')
    .action(async (cluster: string, id: string, opts) =>
      (await import('./commands/nodepool/delete.js')).run(cluster, id, opts, env),
    );
}

function registerDeploymentCommands(dp: Command, env: Env): void {
  sub(dp, 'create', 'Create a new Deployment with the given config file (or --model).', [
    'clarifai deployment create runners my-deploy --config deployment.yaml',
    'clarifai dp c local my-local --model alice/photos/models/resnet',
  ])
    .aliases(['c'])
    .argument('[nodepool_id]', 'where the model runs, when the config lists no nodepools:')
    .argument('[deployment_id]', "the deployment's id (default: id: in the config)")
    .option('--config <FILE>', 'YAML with a deployment: mapping, as Clarifai writes it')
    .option('--model <MODEL>', 'The model to deploy: USER/APP/models/MODEL[/versions/V] or its URL')
    .option('--description <TEXT>', 'What the deployment is for')
    .option(JSON_OPTION, 'text (default) or json')
    .action(async (pool: string | undefined, id: string | undefined, opts) =>
      (await import('./commands/deployment/create.js')).run(pool, id, opts, env),
    );
  page(
    sub(dp, 'list', 'List all deployments for the nodepool (or all of yours).', [
      'clarifai deployment list',
      'clarifai dp ls runners -o json',
    ])
      .aliases(['ls'])
      .argument('[nodepool_id]', 'only deployments on this nodepool'),
    16,
  ).action(async (pool: string | undefined, opts) =>
    (await import('./commands/deployment/list.js')).run(pool, opts, env),
  );
  sub(dp, 'delete', 'Delete a deployment.', [
    'clarifai deployment delete my-deploy',
    'clarifai dp rm my-deploy',
  ])
    .aliases(['rm'])
    .argument('<deployment_id>', "the deployment's id")
    .option(JSON_OPTION, 'text (default) or json')
    .action(async (id: string, opts) => (await import('./commands/deployment/delete.js')).run(id, opts, env));
}
