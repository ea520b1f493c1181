import { ArgsError, withSuggestion } from './errors.js';
import { formatHelp, helpWidth, type HelpConfig } from './help.js';
import { Argument, Option, type ValueParser } from './option.js';
import { parse, type Outcome } from './parse.js';

/** Called with the declared arguments' values, then `opts()`, then the command itself. */
export type Action = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Where an option's value came from: its flag, or its declared default. */
export type ValueSource = 'cli' | 'default';

/**
 * A command of the CLI, built the way commander builds one (`.command()`, `.option()`,
 * `.argument()`, `.action()`), with the parser and help of this folder behind it. It is all
 * ECMAScript modules and loads nothing else, so `clarifai --help` runs little beyond Node itself.
 */
export class Command {
  readonly options: Option[] = [];
  readonly registeredArguments: Argument[] = [];
  parent: Command | null = null;
  /** `-h, --help` by default; every command has one. */
  helpFlag: Option = new Option('-h, --help', 'Show this message and exit.');
  helpConfig: HelpConfig = {};
  versionText?: string | (() => string);
  versionOption?: Option;
  afterHelp: string[] = [];
  actionHandler?: Action;
  private commandName: string;
  private commandAliases: string[] = [];
  private desc = '';
  private usageText?: string;
  private readonly children: Command[] = [];
  private readonly pending: ((group: Command) => void)[] = [];
  private readonly values: Record<string, unknown> = {};
  private readonly sources: Record<string, ValueSource> = {};

  constructor(name = '') {
    this.commandName = name;
  }

  /** A subcommand, `name` then its arguments: `delete <input_id...>`. Returns the subcommand. */
  command(nameAndArgs: string): Command {
    const [name, ...args] = nameAndArgs.trim().split(/\s+/);
    const cmd = new Command(name);
    for (const arg of args) cmd.argument(arg);
    cmd.parent = this;
    this.children.push(cmd);
    return cmd;
  }

  /**
   * Subcommands that `define` registers on this group when they are first needed: when a command
   * line goes into the group, or its help or `.commands` is asked for. `clarifai --help` then
   * builds the top level only, not the options of every command under it.
   */
  subcommands(define: (group: Command) => void): this {
    this.pending.push(define);
    return this;
  }

  get commands(): readonly Command[] {
    while (this.pending.length > 0) this.pending.shift()!(this);
    return this.children;
  }

  name(): string {
    return this.commandName;
  }

  description(): string;
  description(text: string): this;
  description(text?: string): string | this {
    if (text === undefined) return this.desc;
    this.desc = text;
    return this;
  }

  aliases(): string[];
  aliases(names: readonly string[]): this;
  aliases(names?: readonly string[]): string[] | this {
    if (names === undefined) return this.commandAliases;
    this.commandAliases.push(...names);
    return this;
  }

  /** The usage line after the command's name; by default built from its options and arguments. */
  usage(): string;
  usage(text: string): this;
  usage(text?: string): string | this {
    if (text !== undefined) {
      this.usageText = text;
      return this;
    }
    if (this.usageText !== undefined) return this.usageText;
    return [
      '[options]',
      ...(this.commands.length > 0 ? ['[command]'] : []),
      ...this.registeredArguments.map((a) => a.usage()),
    ].join(' ');
  }

  /** `--version` (or `flags`) prints `version`; a function is called only then (it may read a file). */
  version(
    version: string | (() => string),
    flags = '--version',
    description = 'Show the version and exit.',
  ): this {
    this.versionText = version;
    this.versionOption = new Option(flags, description);
    this.addOption(this.versionOption);
    return this;
  }

  helpOption(flags: string, description: string): this {
    this.helpFlag = new Option(flags, description);
    return this;
  }

  configureHelp(config: HelpConfig): this {
    this.helpConfig = { ...this.helpConfig, ...config };
    return this;
  }

  /** Text printed after the generated help (an Examples section). */
  addHelpText(position: 'after', text: string): this {
    if (position !== 'after') throw new Error(`help text goes 'after' the help, not '${String(position)}'`);
    this.afterHelp.push(text);
    return this;
  }

  argument(spec: string, description = ''): this {
    const last = this.registeredArguments.at(-1);
    if (last?.variadic) throw new Error(`${this.name()}: only the last argument may be variadic`);
    this.registeredArguments.push(new Argument(spec, description));
    return this;
  }

  /**
   * `.option('--port <PORT>', 'Port', '8080')`, or with a parser for repeated values:
   * `.option('--url <TEXT>', 'URL (repeatable)', collect)`.
   */
  option(
    flags: string,
    description: string,
    parserOrDefault?: ValueParser | unknown,
    defaultValue?: unknown,
  ): this {
    const option = new Option(flags, description);
    if (typeof parserOrDefault === 'function') {
      option.argParser(parserOrDefault as ValueParser);
      option.default(defaultValue);
    } else {
      option.default(parserOrDefault);
    }
    return this.addOption(option);
  }

  addOption(option: Option): this {
    const clash = this.options.find(
      (o) => (option.long && o.long === option.long) || (option.short && o.short === option.short),
    );
    if (clash) throw new Error(`${this.name()}: option "${option.flags}" clashes with "${clash.flags}"`);
    this.options.push(option);
    const key = option.attributeName();
    if (option.negate) {
      // `--no-grpc` alone means grpc is on unless it is given
      const positive = this.options.some((o) => !o.negate && o.attributeName() === key);
      if (!positive) this.setOptionValue(key, option.defaultValue ?? true, 'default');
    } else if (option.defaultValue !== undefined) {
      this.setOptionValue(key, option.defaultValue, 'default');
    }
    return this;
  }

  action(fn: Action): this {
    this.actionHandler = fn;
    return this;
  }

  /** The options' values by attribute name (`--data-dir` is dataDir). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- values are whatever each option's parser makes
  opts(): Record<string, any> {
    return { ...this.values };
  }

  getOptionValue(key: string): unknown {
    return this.values[key];
  }

  setOptionValue(key: string, value: unknown, source: ValueSource): void {
    this.values[key] = value;
    this.sources[key] = source;
  }

  /** 'cli' when the option was given, 'default' when it holds its default, else undefined. */
  getOptionValueSource(key: string): ValueSource | undefined {
    return this.sources[key];
  }

  /** This command's words after the program's: `model predict`. */
  path(): string[] {
    return this.parent ? [...this.parent.path(), this.name()] : [this.name()];
  }

  /** The help text, wrapped to `width` columns. */
  helpText(width: number): string {
    return formatHelp(this, width);
  }

  /** Prints the help to stdout, wrapped to the terminal (80 columns when not a terminal). */
  outputHelp(): void {
    process.stdout.write(this.helpText(helpWidth(process.stdout)));
  }

  /**
   * Parses `args` (the words after the program's name) and runs the command they name. Help and
   * `--version` print to stdout and resolve; a bad command line rejects with an ArgsError.
   */
  async parseAsync(args: readonly string[]): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = parse(this, args);
    } catch (err) {
      throw err instanceof ArgsError ? await withSuggestion(err) : err;
    }
    if (outcome.kind === 'version') {
      const version = outcome.command.versionText ?? '';
      process.stdout.write(`${typeof version === 'function' ? version() : version}\n`);
      return;
    }
    if (outcome.kind === 'help') {
      if (outcome.asError) {
        const help = outcome.command.helpText(helpWidth(process.stderr));
        throw new ArgsError(`${outcome.command.path().join(' ')} needs a command`, { help });
      }
      outcome.command.outputHelp();
      return;
    }
    const { command, values } = outcome;
    await command.actionHandler!(...values, command.opts(), command);
  }
}
