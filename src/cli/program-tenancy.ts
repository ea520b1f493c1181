import type { Command } from './args/command.js';
import { sub, type Env } from './program-helpers.js';

const json = '-o, --output <FORMAT>';

/**
 * `clarifai pat|app|user`: keys, apps and users on a server with tenancy. Each group's commands
 * are registered when a command line goes into it.
 */
export function registerTenancy(program: Command, env: Env): void {
  sub(program, 'pat', 'Create, list and revoke your personal access tokens (PATs).', [
    'clarifai pat create --description ci --scopes predict,read --expires 30d',
    'clarifai pat list',
    'clarifai pat delete KEY_ID',
  ]).subcommands((pat) => registerPat(pat, env));
  sub(program, 'app', 'Create, list and delete your apps.', [
    'clarifai app create photos --visibility private',
    'clarifai app list',
    'clarifai app delete photos',
  ]).subcommands((app) => registerApp(app, env));
  sub(program, 'user', "Manage a Sibyl server's users (an admin's key).", [
    'clarifai user create alice --with-key',
  ]).subcommands((user) => registerUser(user, env));
}

function registerPat(pat: Command, env: Env): void {
  sub(pat, 'create', 'Create a PAT and print its token, shown this once only.', [
    'clarifai pat create --description "ci predictions" --scopes predict --expires 30d',
    'clarifai pat create --scopes Predict,Models:Get --expires 2030-01-31 -o json',
  ])
    .option('--description <TEXT>', 'What the key is for')
    .option(
      '--scopes <LIST>',
      "Comma-separated: predict, read, write, admin, or Clarifai's (Predict, Models:Get, Inputs:Add, All) (default: predict,read,write)",
    )
    .option('--expires <WHEN>', 'A duration (30d, 12h) or a date (2030-01-31) (default: never)')
    .option(json, 'text (default) or json')
    .action(async (opts) => (await import('./commands/pat/create.js')).run(opts, env));
  sub(
    pat,
    'list',
    'List your PATs: id, description, scopes, token hint, expiry, last use (never the token).',
    ['clarifai pat list', 'clarifai pat list -o json'],
  )
    .option(json, 'text (default) or json')
    .action(async (opts) => (await import('./commands/pat/list.js')).run(opts, env));
  sub(pat, 'delete', 'Revoke a PAT: requests with its token are refused from now on.', [
    'clarifai pat delete KEY_ID',
  ])
    .argument('<id>', 'the key id from `clarifai pat list` (or the token itself)')
    .option(json, 'text (default) or json')
    .action(async (id: string, opts) => (await import('./commands/pat/delete.js')).run(id, opts, env));
}

function registerApp(app: Command, env: Env): void {
  sub(app, 'create', 'Create an app of yours (private unless --visibility public).', [
    'clarifai app create photos',
    'clarifai app create demo --visibility public --description "shared models" -o json',
  ])
    .argument('<id>', 'app id: letters, digits, "_", "-" or "."')
    .option('--visibility <WHO>', 'public (anyone may read it) or private', 'private')
    .option('--description <TEXT>', 'What the app holds')
    .option(json, 'text (default) or json')
    .action(async (id: string, opts) => (await import('./commands/app/create.js')).run(id, opts, env));
  sub(app, 'list', 'List your apps.', ['clarifai app list', 'clarifai app list -o json'])
    .option(json, 'text (default) or json')
    .action(async (opts) => (await import('./commands/app/list.js')).run(opts, env));
  sub(app, 'delete', 'Delete an app of yours, with its models and inputs.', ['clarifai app delete photos'])
    .argument('<id>', 'app id')
    .option(json, 'text (default) or json')
    .action(async (id: string, opts) => (await import('./commands/app/delete.js')).run(id, opts, env));
}

function registerUser(user: Command, env: Env): void {
  sub(user, 'create', 'Create a user (admin only); with --with-key also their first PAT, printed once.', [
    'clarifai user create alice --with-key',
    'clarifai user create bob --with-key --scopes predict --expires 90d -o json',
  ])
    .argument('<id>', 'user id')
    .option('--with-key', "Also create the user's first PAT and print its token (shown once)")
    .option('--scopes <LIST>', 'Scopes of that key, comma-separated (default: predict,read,write)')
    .option('--expires <WHEN>', 'Expiry of that key: 30d, 12h or a date (default: never)')
    .option(json, 'text (default) or json')
    .action(async (id: string, opts) => (await import('./commands/user/create.js')).run(id, opts, env));
}
