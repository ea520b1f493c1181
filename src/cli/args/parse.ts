import type { Command } from './command.js';
import { ArgsError } from './errors.js';
import type { Option } from './option.js';

/** What a command line asks for: a command run with its arguments' values, its help, or the version. */
export type Outcome =
  | { kind: 'run'; command: Command; values: unknown[] }
  /** `asError`: a command group was named without one of its commands. */
  | { kind: 'help'; command: Command; asError: boolean }
  | { kind: 'version'; command: Command };

type Step = Outcome | { kind: 'sub'; command: Command; rest: readonly string[] };

/**
 * Parses `args` (the words after the program's name) against the command tree under `root`,
 * setting each option's value on the command it belongs to. Each command reads its own options,
 * wherever they stand among its arguments, up to the word that names one of its subcommands,
 * which reads the rest. `-h`/`--help` anywhere asks for the help of the command reached so far.
 */
export function parse(root: Command, args: readonly string[]): Outcome {
  let step: Step = parseLevel(root, args);
  while (step.kind === 'sub') step = parseLevel(step.command, step.rest);
  return step;
}

/** `-x`, `--x`, `--x=v`; a lone "-" is stdin, an operand. */
function looksLikeOption(arg: string): boolean {
  return arg.length > 1 && arg.startsWith('-');
}

/** `-5` or `-0.5`: a value, not an option (no command here has a digit as a short option). */
function isNegativeNumber(arg: string): boolean {
  return /^-(\d+|\d*\.\d+)(e[+-]?\d+)?$/.test(arg);
}

function parseLevel(cmd: Command, args: readonly string[]): Step {
  const operands: string[] = [];
  let unknown: string | undefined;
  const leaf = cmd.commands.length === 0;
  const queue = [...args];
  while (queue.length > 0) {
    const arg = queue.shift()!;
    if (arg === '--') {
      operands.push(...queue);
      break;
    }
    if (!looksLikeOption(arg) || (leaf && isNegativeNumber(arg))) {
      if (!leaf && operands.length === 0 && unknown === undefined) {
        const sub = findCommand(cmd, arg);
        if (sub) return { kind: 'sub', command: sub, rest: queue };
      }
      operands.push(arg);
      continue;
    }
    if (cmd.helpFlag.is(arg)) return { kind: 'help', command: cmd, asError: false };
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const option = findOption(cmd, eq > 0 ? arg.slice(0, eq) : arg);
    if (option) {
      if (option === cmd.versionOption) return { kind: 'version', command: cmd };
      if (eq > 0) {
        if (option.isBoolean()) throw new ArgsError(`option '${option.flags}' takes no value (got '${arg}')`);
        setValue(cmd, option, arg.slice(eq + 1));
      } else if (option.required) {
        if (queue.length === 0) throw new ArgsError(`option '${option.flags}' argument missing`);
        setValue(cmd, option, queue.shift()!);
      } else if (
        option.optional &&
        queue.length > 0 &&
        (!looksLikeOption(queue[0]!) || isNegativeNumber(queue[0]!))
      ) {
        setValue(cmd, option, queue.shift()!);
      } else {
        setValue(cmd, option, null);
      }
      continue;
    }
    // `-ojson` (a short option and its value in one word) or `-ab` (two short switches)
    const short = !arg.startsWith('--') && arg.length > 2 ? findOption(cmd, arg.slice(0, 2)) : undefined;
    if (short && short !== cmd.versionOption) {
      if (short.isBoolean()) {
        setValue(cmd, short, null);
        queue.unshift(`-${arg.slice(2)}`);
      } else {
        setValue(cmd, short, arg.slice(2));
      }
      continue;
    }
    // kept to report once the whole line is read: a later -h still shows the help
    unknown ??= arg;
  }
  // an unknown option first: after one, a command word is not looked up (`model --foo predict`)
  if (unknown !== undefined) throw unknownOption(cmd, unknown);
  if (!leaf && operands.length > 0) throw unknownCommand(cmd, operands[0]!);
  if (!leaf && !cmd.actionHandler) return { kind: 'help', command: cmd, asError: true };
  return { kind: 'run', command: cmd, values: argumentValues(cmd, operands) };
}

function findCommand(cmd: Command, word: string): Command | undefined {
  return cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
}

function findOption(cmd: Command, flag: string): Option | undefined {
  return cmd.options.find((o) => o.is(flag));
}

/** Sets the option's value from `value` (null: given without one), through its parser and choices. */
function setValue(cmd: Command, option: Option, value: string | null): void {
  const key = option.attributeName();
  const parsed = value === null ? !option.negate : option.valueFrom(value, cmd.getOptionValue(key));
  cmd.setOptionValue(key, parsed, 'cli');
}

/** The declared arguments' values: a variadic one takes the rest (an empty list when none). */
function argumentValues(cmd: Command, operands: string[]): unknown[] {
  const declared = cmd.registeredArguments;
  declared.forEach((arg, i) => {
    if (arg.required && operands[i] === undefined) {
      throw new ArgsError(`missing required argument '${arg.name()}'`);
    }
  });
  const last = declared.at(-1);
  if (!last?.variadic && operands.length > declared.length) {
    const n = declared.length;
    const forWhom = cmd.parent ? ` for '${cmd.name()}'` : '';
    throw new ArgsError(
      `too many arguments${forWhom}. Expected ${n} argument${n === 1 ? '' : 's'} but got ${operands.length}.`,
    );
  }
  return declared.map((arg, i) => (arg.variadic ? operands.slice(i) : operands[i]));
}

/** Suggestions come from the long flags shown in the help (`--file_pat` may mean `--file_path`). */
function unknownOption(cmd: Command, arg: string): ArgsError {
  const message = `unknown option '${arg}'`;
  if (!arg.startsWith('--')) return new ArgsError(message);
  const longs = [...cmd.options.filter((o) => !o.hidden), cmd.helpFlag].flatMap((o) =>
    o.long ? [o.long] : [],
  );
  return new ArgsError(message, { typo: { word: arg.split('=')[0]!, candidates: longs } });
}

function unknownCommand(cmd: Command, word: string): ArgsError {
  const names = cmd.commands.map((c) => c.name());
  const where = cmd.parent ? ` for '${cmd.path().join(' ')}'` : '';
  return new ArgsError(`unknown command '${word}'${where}`, {
    typo: {
      word,
      candidates: [...names, ...cmd.commands.flatMap((c) => c.aliases())],
      otherwise: `commands: ${names.join(', ')}`,
    },
  });
}
