import { Command, Option } from 'commander';

type Env = Readonly<Record<string, string | undefined>>;

/** Clarifai's single-dash aliases, shown in help; src/cli/argv.ts rewrites them before parsing. */
const ALIAS_TERMS: Record<string, string> = {
  '--compute_cluster_id': '-cc_id, ',
  '--nodepool_id': '-np_id, ',
  '--deployment_id': '-dpl_id, ',
};

/**
 * Every command is registered here; each command's module is imported only when it runs, so
 * `clarifai --help` loads nothing but commander.
 */
export function buildProgram(env: Env, version: string): Command {
  const program = new Command('clarifai')
    .description(
      "Sibyl: run predictions on AI models the way Clarifai documents, on the embedded engine, a Sibyl server or Clarifai's cloud.",
    )
    .version(version, '--version', 'Show the version and exit.')
    .helpOption('--help', 'Show this message and exit.')
    .configureOutput({ outputError: (text, write) => write(`${text.trimEnd()} (see --help)\n`) })
    .addHelpText(
      'after',
      '\nWith no login, commands run on the embedded engine (data in $SIBYL_HOME, else $XDG_DATA_HOME/sibyl).\n' +
        'After `clarifai login --config login.yaml` they go to that server; `clarifai logout` returns to the embedded engine.',
    );

  program
    .command('login')
    .description(
      "Log in to a Clarifai v2 API (Clarifai's cloud or a Sibyl server) and save it as the current context.",
    )
    .option('--config <PATH>', 'Login YAML with user_id, pat and base_url (or env: prod|staging|dev).')
    .addOption(
      new Option('--env <ENV>', 'Clarifai environment when the file has no base_url.').choices([
        'prod',
        'staging',
        'dev',
      ]),
    )
    .option('--context <NAME>', 'Name of the context to save.', undefined)
    .helpOption('--help', 'Show this message and exit.')
    .action(async (opts) => (await import('./commands/login.js')).run(opts, env));

  program
    .command('logout')
    .description('Forget the current login; commands return to the embedded engine.')
    .option('--context <NAME>', 'Remove this context instead of the current one.')
    .helpOption('--help', 'Show this message and exit.')
    .action(async (opts) => (await import('./commands/logout.js')).run(opts, env));

  const model = program
    .command('model')
    .description('Predict with and list models.')
    .helpOption('--help', 'Show this message and exit.');
  model
    .command('predict')
    .configureHelp({ optionTerm: (opt) => (ALIAS_TERMS[opt.long ?? ''] ?? '') + opt.flags })
    .description('Predict using the given model')
    .option('--config <PATH>', 'Path to the model predict config file.')
    .option('--model_id <TEXT>', 'Model ID of the model used to predict.')
    .option('--user_id <TEXT>', 'User ID of the model used to predict.')
    .option('--app_id <TEXT>', 'App ID of the model used to predict.')
    .option('--model_url <TEXT>', 'Model URL of the model used to predict.')
    .option('--file_path <TEXT>', 'File path of file for the model to predict')
    .option('--url <TEXT>', 'URL to the file for the model to predict')
    .option('--bytes <TEXT>', 'Bytes to the file for the model to predict (sent literally)')
    .option('--input_id <TEXT>', 'Existing input id in the app for the model to predict')
    .option('--input_type <TEXT>', "Type of input: text, image, video or audio (default: the model's)")
    .option('--compute_cluster_id <TEXT>', 'Compute Cluster ID to use for the model')
    .option('--nodepool_id <TEXT>', 'Nodepool ID to use for the model')
    .option('--deployment_id <TEXT>', 'Deployment ID to use for the model')
    .option('--inference_params <TEXT>', 'Inference parameters to override (JSON object)')
    .option(
      '--output_config <TEXT>',
      'Output config to override (JSON: max_concepts, min_value, select_concepts)',
    )
    .option('-o, --output <FORMAT>', 'text (default) or json (the full v2 response)')
    .helpOption('--help', 'Show this message and exit.')
    .action(async (opts) => (await import('./commands/model/predict.js')).run(opts, env));

  model
    .command('upload')
    .argument('<dir>', 'model folder: config.yaml (model and runtime blocks), weights, labels.txt')
    .description(
      'Upload a model folder as a new version of the model its config.yaml names (created if needed), ' +
        'to the embedded engine or the server you are logged in to. The folder is checked completely first.',
    )
    .option('-o, --output <FORMAT>', 'text (default) or json (the new model and version)')
    .helpOption('--help', 'Show this message and exit.')
    .addHelpText(
      'after',
      '\nExample:\n  clarifai model upload ./colour-classifier\n' +
        '  clarifai model predict --model_url https://clarifai.com/me/demo/models/colours --file_path red.png',
    )
    .action(async (dir: string, opts) => (await import('./commands/model/upload.js')).run(dir, opts, env));

  model
    .command('list')
    .description('List the models you can use (public ones and your own).')
    .option('--user_id <TEXT>', 'Only models of this user (with --app_id).')
    .option('--app_id <TEXT>', 'Only models of this app (with --user_id).')
    .option('-o, --output <FORMAT>', 'text (default) or json')
    .helpOption('--help', 'Show this message and exit.')
    .action(async (opts) => (await import('./commands/model/list.js')).run(opts, env));

  const input = program
    .command('input')
    .description('Store inputs to predict on later with --input_id.')
    .helpOption('--help', 'Show this message and exit.');
  input
    .command('upload')
    .description('Upload one input into your own inputs and print its id.')
    .option('--file_path <TEXT>', 'Local file to upload')
    .option('--url <TEXT>', 'URL of the file (fetched by the server when predicting)')
    .option('--bytes <TEXT>', 'Text to upload, taken literally')
    .option('--input_type <TEXT>', 'text, image, video or audio (default: guessed from the content)')
    .option('--input_id <TEXT>', 'Id to give the input (default: a random id)')
    .option('--app_id <TEXT>', 'Your app to store it in', 'default')
    .helpOption('--help', 'Show this message and exit.')
    .action(async (opts) => (await import('./commands/input/upload.js')).run(opts, env));

  program
    .command('serve')
    .description('Run the self-hosted v2 API server (REST JSON, PAT auth) on this machine.')
    .option('--host <HOST>', 'Address to listen on', '127.0.0.1')
    .option('--port <PORT>', 'Port to listen on (0 picks a free one)', '8080')
    .option('--data-dir <PATH>', 'Data directory (default: $SIBYL_HOME, else $XDG_DATA_HOME/sibyl)')
    .option('--allow-private-urls', 'Let URL inputs reach loopback, private and link-local addresses')
    .option('--quiet', 'Do not print a line per request')
    .option('--models <DIR>', 'Also serve every model folder under DIR (each with a config.yaml), in place')
    .option('--workers <N>', 'Worker threads that run models (default: one per core)')
    .option('--idle-unload <SECONDS>', 'Unload a model unused this long (0: never)', '300')
    .option('--memory-budget <MIB>', 'Keep loaded models within about this many MiB (default: half the RAM)')
    .option('--max-upload <MIB>', 'Largest model upload, all files together', '8192')
    .helpOption('--help', 'Show this message and exit.')
    .action(async (opts) => (await import('./commands/serve.js')).run(opts, env));

  return program;
}
