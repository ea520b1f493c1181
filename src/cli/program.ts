import { Command } from './args/command.js';
import { Option } from './args/option.js';
import { collect, HELP, sub, type Env } from './program-helpers.js';
import { registerTenancy } from './program-tenancy.js';
import { registerCompute } from './program-compute.js';
import { registerLocalRunner, registerRunner } from './program-runner.js';
import { registerServe } from './program-serve.js';

/** Clarifai's single-dash aliases, shown in help; src/cli/argv.ts rewrites them before parsing. */
const ALIAS_TERMS: Record<string, string> = {
  '--compute_cluster_id': '-cc_id, ',
  '--nodepool_id': '-np_id, ',
  '--deployment_id': '-dpl_id, ',
};

const MODEL = 'clarifai/main/models/general-image-recognition';
const MODEL_URL = `https://clarifai.com/${MODEL}`;
const LLM = 'meta/Llama-2/models/llama2-7b-chat';

/**
 * Every command is registered here; each command's module is imported only when it runs, so
 * `clarifai --help` loads nothing but the parser in args/. The commands of a group (model, input,
 * config) are registered only when a command line goes into it (`.subcommands`), so a command
 * line builds only the part of the tree it uses.
 */
export function buildProgram(env: Env, version: string | (() => string)): Command {
  const program = new Command('clarifai')
    .description(
      "Sibyl: run predictions on AI models the way Clarifai documents, on the embedded engine, a Sibyl server or Clarifai's cloud.",
    )
    .version(version, '--version', 'Show the version and exit.')
    .helpOption('-h, --help', HELP)
    .addHelpText(
      'after',
      '\nWith no login, commands run on the embedded engine (data in $SIBYL_HOME, else $XDG_DATA_HOME/sibyl).\n' +
        'After `clarifai login --config login.yaml` they go to that server; `clarifai logout` returns to the embedded engine.\n' +
        '\nExamples:\n' +
        `  clarifai model predict ${MODEL} photo.jpg\n` +
        `  clarifai model predict ${MODEL} --file_path photos/ -o jsonl --output_file out.jsonl\n` +
        '  clarifai help model predict',
    );

  sub(program, 'help', 'Show the help of a command, e.g. `clarifai help model predict`.', [
    'clarifai help model predict',
    'clarifai help config',
  ])
    .argument('[command...]', 'the command, as typed after `clarifai`')
    .action(async (words: string[]) => (await import('./commands/help.js')).run(program, words));

  registerLogin(program, env);
  registerModel(program, env);
  registerInput(program, env);
  registerConfig(program, env);
  registerTenancy(program, env);
  registerCompute(program, env);
  registerRunner(program, env);

  registerServe(program, env);

  return program;
}

function registerLogin(program: Command, env: Env): void {
  sub(
    program,
    'login',
    "Log in to a Clarifai v2 API (Clarifai's cloud or a Sibyl server) and save it as the current context.",
    [
      'clarifai login --config login.yaml',
      'clarifai login --config ~/.local/share/sibyl/bootstrap.yaml --context local',
    ],
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
    .action(async (opts) => (await import('./commands/login.js')).run(opts, env));

  sub(program, 'logout', 'Forget a login (the current context by default) and say where commands go now.', [
    'clarifai logout',
    'clarifai logout --context staging',
    'clarifai logout --all',
  ])
    .option('--context <NAME>', 'Remove this context instead of the current one.')
    .option('--all', 'Remove every saved context.')
    .option('--delete', "Accepted for Clarifai's CLI: Sibyl always removes the context.")
    .action(async (opts) => (await import('./commands/logout.js')).run(opts, env));

  sub(program, 'whoami', 'Show the user commands act as, and where they go (asks the server).', [
    'clarifai whoami',
    'clarifai whoami -o json',
  ])
    .option('-o, --output <FORMAT>', 'wide (default) or json')
    .action(async (opts) => (await import('./commands/whoami.js')).run(opts, env));
}

function registerModel(program: Command, env: Env): void {
  sub(program, 'model', 'Predict with, look up, list and upload models.', [
    `clarifai model predict ${MODEL} photo.jpg`,
    `clarifai model get ${MODEL}`,
    'clarifai model list',
  ]).subcommands((model) => registerModelCommands(model, env));
}

function registerModelCommands(model: Command, env: Env): void {
  sub(model, 'predict', 'Predict using the given model', [
    `clarifai model predict --model_url ${MODEL_URL} --file_path photo.jpg`,
    `clarifai model predict ${MODEL} photo.jpg`,
    'echo "Bonjour tout le monde" | clarifai model predict clarifai/main/models/language-identification',
    `clarifai model predict ${MODEL} --file_path photos/ -o jsonl --output_file out.jsonl --resume`,
    `clarifai model predict ${MODEL} 'photos/**/*.jpg' --annotate annotated/`,
    `clarifai model predict ${MODEL} --input_list inputs.csv -o jsonl`,
    `clarifai model predict --config predict.yaml`,
    `clarifai model predict ${MODEL} --info`,
    `clarifai model predict ${MODEL} -i image=photo.jpg`,
    `clarifai model predict ${LLM} --inputs '{"prompt": "Write a haiku", "max_tokens": 60}' --method generate`,
    `clarifai model predict ${LLM} -i prompt="Write a haiku" -i temperature=0.2`,
    `clarifai model predict ${LLM} --chat "What is AI?"`,
    `clarifai model predict ${LLM} --chat`,
  ])
    .usage('[OPTIONS] [MODEL] [INPUT...]')
    .argument(
      '[MODEL_AND_INPUTS...]',
      'MODEL as user_id/app_id/models/model_id or a model URL, then inputs: files, folders, globs, URLs, "-" for stdin, or text',
    )
    .configureHelp({ optionTerm: (opt) => (ALIAS_TERMS[opt.long ?? ''] ?? '') + opt.flags })
    .option('--config <PATH>', 'Path to the model predict config file.')
    .option('--model_id <TEXT>', 'Model ID of the model used to predict.')
    .option('--user_id <TEXT>', 'User ID of the model used to predict.')
    .option('--app_id <TEXT>', 'App ID of the model used to predict.')
    .option('--model_url <TEXT>', 'Model URL of the model used to predict.')
    .option(
      '--file_path <TEXT>',
      'File path of file for the model to predict; a folder or glob for many, "-" for stdin (repeatable)',
      collect,
    )
    .option('--url <TEXT>', 'URL to the file for the model to predict (repeatable)', collect)
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
    // Clarifai's current CLI (clarifai/cli/model.py): named inputs, methods, --info and --chat
    .option(
      '-i, --input <KEY=VALUE>',
      'A named input or inference param (repeatable): prompt=TEXT (or text=), image=FILE|URL, max_tokens=200',
      collect,
    )
    .option(
      '--inputs <JSON>',
      'Named inputs and params as one JSON object, e.g. \'{"prompt": "Hi", "max_tokens": 100}\', or a text prompt',
    )
    .option(
      '--method <NAME>',
      'predict (the answer whole) or generate (streamed as it comes; text-generation models)',
    )
    .option(
      '--info',
      "Print the model's type, methods with their signatures and inference params; predict nothing",
    )
    .option(
      '--chat [MESSAGE]',
      'Chat with a text-generation model: MESSAGE is one turn; without it each line of stdin is a turn, until "exit"',
    )
    // and spells these --file, --model-url and --deployment
    .addOption(new Option('--file <PATH>', 'Same as --file_path').hideHelp().argParser(collect))
    .addOption(new Option('--model-url <TEXT>', 'Same as --model_url').hideHelp())
    .addOption(new Option('--deployment <TEXT>', 'Same as --deployment_id').hideHelp())
    .addOption(new Option('--deployment_user_id <TEXT>', 'Owner of the deployment or cluster').hideHelp())
    .option(
      '--input_list <FILE>',
      'CSV (a header with file_path, url or text, and optionally input_id) or JSONL ({"file_path"|"url"|"text", "input_id"?} or v2 inputs), one input a row',
    )
    .option(
      '-o, --output <FORMAT>',
      'text (default), json (the v2 response, outputs in input order) or jsonl (one line per input, as each finishes)',
    )
    .option('--output_file <PATH>', 'Write the results here instead of stdout (jsonl when it ends in .jsonl)')
    .option(
      '--resume',
      'Skip inputs that --output_file (JSONL) already holds a successful line for, and append',
    )
    .option(
      '--annotate <DIR>',
      'Write each image with its regions (or top concepts) drawn and labelled into DIR',
    )
    .option('--concurrency <N>', 'Requests in flight at once when there are many inputs', '4')
    .option(
      '--batch_size <N>',
      'Inputs per request, at most 128 (default: up to 128, smaller for short runs)',
    )
    .action(async (words: string[], opts) =>
      (await import('./commands/model/predict.js')).run(words, opts, env),
    );

  sub(model, 'get', 'Show a model: its type, input, latest version, params and concepts.', [
    `clarifai model get ${MODEL}`,
    `clarifai model get --model_url ${MODEL_URL} -o json`,
  ])
    .argument('[model]', 'user_id/app_id/models/model_id or a model URL')
    .option('--model_url <TEXT>', 'Model URL')
    .option('--model_id <TEXT>', 'Model ID (with --user_id and --app_id)')
    .option('--user_id <TEXT>', 'User ID of the model')
    .option('--app_id <TEXT>', 'App ID of the model')
    .option('-o, --output <FORMAT>', 'text (default) or json (the v2 response)')
    .action(async (name: string | undefined, opts) =>
      (await import('./commands/model/get.js')).run(name, opts, env),
    );

  sub(
    model,
    'upload',
    'Upload a model folder as a new version of the model its config.yaml names (created if needed), ' +
      'to the embedded engine or the server you are logged in to. The folder is checked completely first.',
    [
      'clarifai model upload ./colour-classifier',
      'clarifai model predict --model_url https://clarifai.com/me/demo/models/colours --file_path red.png',
    ],
  )
    .argument('<dir>', 'model folder: config.yaml (model and runtime blocks), weights, labels.txt')
    .option('-o, --output <FORMAT>', 'text (default) or json (the new model and version)')
    .action(async (dir: string, opts) => (await import('./commands/model/upload.js')).run(dir, opts, env));

  sub(model, 'list', 'List the models you can use (public ones and your own).', [
    'clarifai model list',
    'clarifai model list --user_id clarifai --app_id main -o json',
  ])
    .option('--user_id <TEXT>', 'Only models of this user (with --app_id).')
    .option('--app_id <TEXT>', 'Only models of this app (with --user_id).')
    .option('-o, --output <FORMAT>', 'text (default) or json')
    .action(async (opts) => (await import('./commands/model/list.js')).run(opts, env));
  registerLocalRunner(model, env);
}

function registerInput(program: Command, env: Env): void {
  sub(program, 'input', 'Store inputs to predict on later with --input_id; list and delete them.', [
    'clarifai input upload --file_path dogs.jpg --input_id four-dogs',
    'clarifai input list',
    'clarifai input delete four-dogs',
  ]).subcommands((input) => registerInputCommands(input, env));
}

function registerInputCommands(input: Command, env: Env): void {
  sub(input, 'upload', 'Upload one input into your own inputs and print its id.', [
    'clarifai input upload --file_path dogs.jpg --input_id four-dogs',
    'clarifai input upload --bytes "Bonjour" --app_id texts',
  ])
    .option('--file_path <TEXT>', 'Local file to upload')
    .option('--url <TEXT>', 'URL of the file (fetched by the server when predicting)')
    .option('--bytes <TEXT>', 'Text to upload, taken literally')
    .option('--input_type <TEXT>', 'text, image, video or audio (default: guessed from the content)')
    .option('--input_id <TEXT>', 'Id to give the input (default: a random id)')
    .option('--app_id <TEXT>', 'Your app to store it in', 'default')
    .action(async (opts) => (await import('./commands/input/upload.js')).run(opts, env));
  sub(input, 'list', 'List your stored inputs (in every app, or one).', [
    'clarifai input list',
    'clarifai input list --app_id default -o json',
  ])
    .option('--app_id <TEXT>', 'Only this app')
    .option('-o, --output <FORMAT>', 'text (default) or json')
    .action(async (opts) => (await import('./commands/input/list.js')).run(opts, env));
  sub(input, 'delete', 'Delete stored inputs by id (found in whichever of your apps holds them).', [
    'clarifai input delete four-dogs',
    'clarifai input delete a b c --app_id default',
  ])
    .argument('<input_id...>', 'ids of the inputs to delete')
    .option('--app_id <TEXT>', 'The app that holds them (default: looked up)')
    .action(async (ids: string[], opts) => (await import('./commands/input/delete.js')).run(ids, opts, env));
}

function registerConfig(program: Command, env: Env): void {
  sub(program, 'config', 'Manage saved logins (contexts) in the Clarifai config file.', [
    'clarifai config get-contexts',
    'clarifai config use-context local',
    'clarifai config current-context',
  ]).subcommands((config) => registerConfigCommands(config, env));
}

function registerConfigCommands(config: Command, env: Env): void {
  const cmd = (name: string, aliases: string[], description: string, examples: string[]) =>
    sub(config, name, description, examples).aliases(aliases);
  cmd(
    'get-contexts',
    ['list-contexts', 'ls', 'list'],
    'List the saved contexts; "*" marks the current one.',
    ['clarifai config get-contexts', 'clarifai config get-contexts -o name'],
  )
    .option('-o, --output <FORMAT>', 'wide (default), name, json or yaml')
    .action(async (opts) => (await import('./commands/config/get-contexts.js')).run(opts, env));
  cmd('use-context', ['use'], 'Make a saved context the current one.', ['clarifai config use-context local'])
    .argument('<name>', 'context name')
    .action(async (name: string) => (await import('./commands/config/use-context.js')).run(name, env));
  cmd(
    'current-context',
    ['current'],
    'Print the current context (empty when commands use the embedded engine).',
    ['clarifai config current-context', 'clarifai config current-context -o json'],
  )
    .option('-o, --output <FORMAT>', 'name (default), json or yaml')
    .action(async (opts) => (await import('./commands/config/current-context.js')).run(opts, env));
  cmd('delete-context', ['delete'], 'Delete a saved context.', ['clarifai config delete-context staging'])
    .argument('<name>', 'context name')
    .action(async (name: string) => (await import('./commands/config/delete-context.js')).run(name, env));
  cmd('view', ['show'], 'Print the whole config file, PATs masked.', [
    'clarifai config view',
    'clarifai config view -o json',
  ])
    .option('-o, --output <FORMAT>', 'yaml (default) or json')
    .action(async (opts) => (await import('./commands/config/view.js')).run(opts, env));
}
