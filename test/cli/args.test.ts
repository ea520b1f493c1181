/**
 * The CLI's own argument parser (src/cli/args): the option and argument forms the commands use,
 * the errors a bad command line gets, the help text, where each value came from, and groups whose
 * commands are registered only when a command line goes into them. Real command trees, parsed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { Command } from '../../src/cli/args/command.js';
import { ArgsError } from '../../src/cli/args/errors.js';
import { wrap } from '../../src/cli/args/help.js';
import { Option } from '../../src/cli/args/option.js';
import { parse } from '../../src/cli/args/parse.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** A small tree shaped like the CLI's: a group with a leaf of many option kinds, and a second leaf. */
function tree(): { program: Command; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const program = new Command('clarifai')
    .description('The program.')
    .version('1.2.3', '--version', 'Show the version.');
  const model = program.command('model').description('Models.');
  model
    .command('predict')
    .description('Predict.')
    .argument('[MODEL_AND_INPUTS...]', 'model, then inputs')
    .option('--model_url <TEXT>', 'Model URL')
    .option('--data-dir <PATH>', 'Data directory')
    .option('-o, --output <FORMAT>', 'Output format')
    .option('--file_path <TEXT>', 'File (repeatable)', collect)
    .option('--concurrency <N>', 'In flight', '4')
    .option('--resume', 'Resume')
    .option('--no-grpc', 'REST only')
    .option('--chat [MESSAGE]', 'Chat')
    .addOption(new Option('--env <ENV>', 'Environment').choices(['prod', 'staging', 'dev']))
    .addOption(new Option('--file <PATH>', 'Same as --file_path').hideHelp().argParser(collect))
    .action((...args: unknown[]) => void calls.push(args));
  model
    .command('upload <dir>')
    .aliases(['up'])
    .description('Upload.')
    .action((...args: unknown[]) => void calls.push(args));
  return { program, calls };
}

function run(args: string[]) {
  const { program } = tree();
  const outcome = parse(program, args);
  assert.equal(outcome.kind, 'run', JSON.stringify(outcome.kind));
  if (outcome.kind !== 'run') throw new Error('unreachable');
  return { values: outcome.values, opts: outcome.command.opts(), command: outcome.command };
}

/** The message a command line is refused with, suggestions included (as `main` prints it). */
async function refusal(args: string[]): Promise<string> {
  const { program } = tree();
  try {
    await program.parseAsync(args);
  } catch (err) {
    assert.ok(err instanceof ArgsError, String(err));
    return err.message;
  }
  throw new Error(`${args.join(' ')} was accepted`);
}

describe('parsing', () => {
  it('reads values in each form, wherever the options stand among the arguments', () => {
    const { values, opts } = run([
      'model',
      'predict',
      'a/b/models/c',
      '--model_url=https://x/y',
      'photo.jpg',
      '-o',
      'json',
      '--data-dir',
      '/tmp/d',
      '-',
    ]);
    assert.deepEqual(values, [['a/b/models/c', 'photo.jpg', '-']]);
    assert.equal(opts.model_url, 'https://x/y', 'underscores stay in the attribute name');
    assert.equal(opts.dataDir, '/tmp/d', 'dashes become camelCase');
    assert.equal(opts.output, 'json');
    assert.equal(run(['model', 'predict', '-ojsonl']).opts.output, 'jsonl');
  });

  it('takes a value starting with a dash as a required value, and a negative number as an argument', () => {
    assert.equal(run(['model', 'predict', '--model_url', '-cc_id']).opts.model_url, '-cc_id');
    assert.deepEqual(run(['model', 'predict', 'm', '-5']).values, [['m', '-5']]);
  });

  it('collects repeated options through their parser, hidden ones too', () => {
    const { opts } = run([
      'model',
      'predict',
      '--file_path',
      'a',
      '--file_path=b',
      '--file',
      'c',
      '--file',
      'd',
    ]);
    assert.deepEqual(opts.file_path, ['a', 'b']);
    assert.deepEqual(opts.file, ['c', 'd']);
  });

  it('switches, --no-x, optional values and defaults, with where each value came from', () => {
    const plain = run(['model', 'predict']);
    assert.equal(plain.opts.grpc, true);
    assert.equal(plain.opts.concurrency, '4');
    assert.equal(plain.opts.resume, undefined);
    assert.equal(plain.command.getOptionValueSource('concurrency'), 'default');
    assert.equal(plain.command.getOptionValueSource('grpc'), 'default');
    assert.equal(plain.command.getOptionValueSource('resume'), undefined);

    const given = run(['model', 'predict', '--no-grpc', '--resume', '--concurrency', '8', '--chat']);
    assert.equal(given.opts.grpc, false);
    assert.equal(given.opts.resume, true);
    assert.equal(given.opts.concurrency, '8');
    assert.equal(given.opts.chat, true, '--chat without a message');
    for (const key of ['grpc', 'resume', 'concurrency', 'chat']) {
      assert.equal(given.command.getOptionValueSource(key), 'cli', key);
    }
    assert.equal(run(['model', 'predict', '--chat', 'hello there']).opts.chat, 'hello there');
    assert.equal(
      run(['model', 'predict', '--chat', '--resume']).opts.chat,
      true,
      'an option is not the message',
    );
  });

  it('takes everything after -- as arguments', () => {
    const { values, opts } = run(['model', 'predict', 'm', '--', '--resume', '-h']);
    assert.deepEqual(values, [['m', '--resume', '-h']]);
    assert.equal(opts.resume, undefined);
  });

  it('finds commands by alias and passes the declared arguments, then opts, then the command', async () => {
    const { program, calls } = tree();
    await program.parseAsync(['model', 'up', 'folder']);
    assert.equal(calls.length, 1);
    const [dir, opts, cmd] = calls[0]!;
    assert.equal(dir, 'folder');
    assert.deepEqual(opts, {});
    assert.equal((cmd as Command).name(), 'upload');
    const none = run(['model', 'predict']);
    assert.deepEqual(none.values, [[]], 'a variadic argument with no words is an empty list');
  });

  it('answers -h anywhere with the help of the command reached, and --version at the top', () => {
    const { program } = tree();
    const help = (args: string[]) => {
      const outcome = parse(program, args);
      assert.equal(outcome.kind, 'help', args.join(' '));
      return outcome.kind === 'help' ? outcome.command.path().join(' ') : '';
    };
    assert.equal(help(['-h']), 'clarifai');
    assert.equal(help(['model', '--help']), 'clarifai model');
    assert.equal(help(['model', '-h', 'predict']), 'clarifai model');
    assert.equal(help(['model', 'predict', 'x', '--bogus', '-h']), 'clarifai model predict');
    assert.equal(parse(program, ['--version']).kind, 'version');
    const group = parse(program, ['model']);
    assert.ok(group.kind === 'help' && group.asError, 'a group named alone shows its help as an error');
  });
});

describe('refusals', () => {
  it('an unknown option, with the nearest flag when there is one', async () => {
    assert.equal(await refusal(['model', 'predict', '--bogus']), "unknown option '--bogus'");
    assert.equal(
      await refusal(['model', 'predict', '--file_pat', 'x']),
      "unknown option '--file_pat' (did you mean --file_path?)",
    );
    assert.equal(await refusal(['model', 'predict', '-Z']), "unknown option '-Z'");
    assert.equal(await refusal(['--bogus=3']), "unknown option '--bogus=3'");
    // an unknown option before a command word is what is reported, not the word
    assert.equal(await refusal(['model', '--foo', 'predict']), "unknown option '--foo'");
  });

  it('an unknown command, with the nearest or else the list', async () => {
    assert.equal(await refusal(['modle']), "unknown command 'modle' (did you mean model?)");
    assert.equal(
      await refusal(['model', 'predcit']),
      "unknown command 'predcit' for 'clarifai model' (did you mean predict?)",
    );
    assert.equal(
      await refusal(['model', 'zzzzzzzz']),
      "unknown command 'zzzzzzzz' for 'clarifai model' (commands: predict, upload)",
    );
  });

  it('missing and extra arguments, missing values, values outside the choices', async () => {
    assert.equal(await refusal(['model', 'upload']), "missing required argument 'dir'");
    assert.equal(
      await refusal(['model', 'upload', 'a', 'b']),
      "too many arguments for 'upload'. Expected 1 argument but got 2.",
    );
    assert.equal(
      await refusal(['model', 'predict', '--model_url']),
      "option '--model_url <TEXT>' argument missing",
    );
    const choices = "option '--env <ENV>' argument 'foo' is invalid. Allowed choices are prod, staging, dev.";
    assert.equal(await refusal(['model', 'predict', '--env', 'foo']), choices);
    assert.equal(await refusal(['model', 'predict', '--env=foo']), choices);
    assert.equal(run(['model', 'predict', '--env', 'staging']).opts.env, 'staging');
    assert.match(await refusal(['model', 'predict', '--resume=yes']), /option '--resume' takes no value/);
  });

  it('a group named alone carries its help, for stderr', async () => {
    const { program } = tree();
    const err = await program.parseAsync(['model']).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ArgsError);
    assert.match(err.help ?? '', /^Usage: clarifai model \[options\] \[command\]\n/);
  });
});

describe('help', () => {
  it('lays out usage, description, arguments, options and commands, wrapped to the width', () => {
    const { program } = tree();
    const predict = program.commands[0]!.commands[0]!;
    predict.addHelpText('after', '\nExamples:\n  clarifai model predict m photo.jpg');
    const text = predict.helpText(70);
    assert.equal(
      text,
      [
        'Usage: clarifai model predict [options] [MODEL_AND_INPUTS...]',
        '',
        'Predict.',
        '',
        'Arguments:',
        '  MODEL_AND_INPUTS       model, then inputs',
        '',
        'Options:',
        '  --model_url <TEXT>     Model URL',
        '  --data-dir <PATH>      Data directory',
        '  -o, --output <FORMAT>  Output format',
        '  --file_path <TEXT>     File (repeatable)',
        '  --concurrency <N>      In flight (default: "4")',
        '  --resume               Resume',
        '  --no-grpc              REST only',
        '  --chat [MESSAGE]       Chat',
        '  --env <ENV>            Environment (choices: "prod", "staging",',
        '                         "dev")',
        '  -h, --help             Show this message and exit.',
        '',
        'Examples:',
        '  clarifai model predict m photo.jpg',
        '',
      ].join('\n'),
    );
  });

  it('shows aliases, [options] and arguments of subcommands, and custom usage and option terms', () => {
    const { program } = tree();
    const model = program.commands[0]!;
    assert.match(
      model.helpText(80),
      /Commands:\n {2}predict \[options\] \[MODEL_AND_INPUTS\.\.\.\] {2}Predict\.\n {2}upload\|up <dir> +Upload\.\n/,
    );
    const upload = model.commands[1]!;
    assert.match(upload.helpText(80), /^Usage: clarifai model upload\|up \[options\] <dir>\n/);
    const predict = model.commands[0]!.usage('[OPTIONS] [MODEL] [INPUT...]').configureHelp({
      optionTerm: (o) => (o.long === '--model_url' ? '-mu, ' : '') + o.flags,
    });
    const text = predict.helpText(80);
    assert.match(text, /^Usage: clarifai model predict \[OPTIONS\] \[MODEL\] \[INPUT\.\.\.\]\n/);
    assert.match(text, /\n {2}-mu, --model_url <TEXT> +Model URL\n/);
    assert.doesNotMatch(text, /--file </, 'hidden options stay out of the help');
  });

  it('wraps by words, leaves a word longer than the width whole, and keeps short widths unwrapped', () => {
    assert.equal(
      wrap('aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll mmm nnn ooo', 40).split('\n').length,
      2,
    );
    assert.equal(wrap(`short ${'x'.repeat(50)} end`, 40), `short\n${'x'.repeat(50)}\nend`);
    assert.equal(wrap('a b c', 10), 'a b c');
  });
});

describe('lazily registered groups', () => {
  it('registers a group’s commands only when a command line goes into it', async () => {
    let defined = 0;
    const ran: string[] = [];
    const build = () => {
      const program = new Command('clarifai');
      program
        .command('pat')
        .description('Keys.')
        .subcommands((pat) => {
          defined++;
          pat
            .command('list')
            .option('--all', 'All')
            .action(() => void ran.push('list'));
        });
      program
        .command('serve')
        .option('--port <PORT>', 'Port', '8080')
        .action(() => void ran.push('serve'));
      return program;
    };
    const program = build();
    assert.match(program.helpText(80), /\n {2}pat +Keys\.\n/);
    await program.parseAsync(['serve']);
    assert.equal(defined, 0, 'top-level help and other commands leave the group alone');
    await build().parseAsync(['pat', 'list', '--all']);
    assert.equal(defined, 1);
    assert.deepEqual(ran, ['serve', 'list']);
    assert.equal(build().commands[0]!.commands.length, 1, '.commands registers them too');
  });
});

describe('the clarifai command', () => {
  const cli = new URL('../../bin/clarifai.js', import.meta.url).pathname;
  const clarifai = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

  it('loads no CommonJS and no child_process for --help', () => {
    // Node's module debug log names each builtin loaded and each CommonJS require
    const res = spawnSync(process.execPath, [cli, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_DEBUG: 'module' },
    });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^Usage: clarifai \[options\] \[command\]/);
    assert.match(res.stderr, /MODULE \d+: /, 'the debug log is on');
    assert.doesNotMatch(res.stderr, /commander|Module\._load|child_process/);
  });

  it('prints one line and exits 2 for a bad command line', () => {
    const res = clarifai('model', 'predict', '--file_pat', 'x');
    assert.equal(res.status, 2);
    assert.equal(res.stderr, "error: unknown option '--file_pat' (did you mean --file_path?) (see --help)\n");
  });
});
