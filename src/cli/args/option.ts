import { ArgsError } from './errors.js';

/** Turns a value from the command line into the option's value, given the one it had before. */
export type ValueParser = (value: string, previous: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * One option, declared as commander spells it: `--name <V>` (a value), `--chat [V]` (an optional
 * value), `--flag`, `--no-grpc` (false when given, true by default), with an optional short
 * form first: `-o, --output <V>`.
 */
export class Option {
  readonly flags: string;
  readonly description: string;
  readonly short?: string;
  readonly long?: string;
  /** Takes a value: `<V>`. */
  readonly required: boolean;
  /** Takes a value if the next word is not an option: `[V]`. */
  readonly optional: boolean;
  /** `--no-x`: sets x to false. */
  readonly negate: boolean;
  defaultValue: unknown;
  hidden = false;
  argChoices?: readonly string[];
  parseArg?: ValueParser;

  constructor(flags: string, description = '') {
    this.flags = flags;
    this.description = description;
    const words = flags.split(/[ |,]+/).filter(Boolean);
    let short: string | undefined;
    let long: string | undefined;
    for (const word of words) {
      if (/^--[^-]/.test(word)) long = word;
      else if (/^-[^-]/.test(word)) short = word;
    }
    if (!short && !long) throw new Error(`option "${flags}" names no flag: give --name or -n`);
    if (short) this.short = short;
    if (long) this.long = long;
    this.required = flags.includes('<');
    this.optional = flags.includes('[');
    this.negate = long !== undefined && long.startsWith('--no-');
  }

  /** The flag's name without dashes: `model_url`, `data-dir`, `no-grpc`. */
  name(): string {
    return this.long ? this.long.slice(2) : this.short!.slice(1);
  }

  /**
   * The key in `opts()`: the name without `no-`, dashes turned to camelCase as commander does
   * (`--data-dir` is dataDir), underscores kept (`--model_url` stays model_url).
   */
  attributeName(): string {
    return this.name()
      .replace(/^no-/, '')
      .replace(/-([^-])/g, (_, c: string) => c.toUpperCase());
  }

  /** Whether `arg` is this option's short or long flag. */
  is(arg: string): boolean {
    return arg === this.short || arg === this.long;
  }

  /** Takes neither `<V>` nor `[V]`. */
  isBoolean(): boolean {
    return !this.required && !this.optional;
  }

  choices(values: readonly string[]): this {
    this.argChoices = [...values];
    return this;
  }

  hideHelp(hide = true): this {
    this.hidden = hide;
    return this;
  }

  argParser(fn: ValueParser): this {
    this.parseArg = fn;
    return this;
  }

  default(value: unknown): this {
    this.defaultValue = value;
    return this;
  }

  /** The value this option takes from `value` on the command line, after `previous`. */
  valueFrom(value: string, previous: unknown): unknown {
    if (this.argChoices && !this.argChoices.includes(value)) {
      throw new ArgsError(
        `option '${this.flags}' argument '${value}' is invalid. Allowed choices are ${this.argChoices.join(', ')}.`,
      );
    }
    return this.parseArg ? this.parseArg(value, previous) : value;
  }
}

/** A positional argument: `<name>` (required), `[name]`, `<name...>` or `[name...]` (the rest). */
export class Argument {
  readonly required: boolean;
  readonly variadic: boolean;
  private readonly argName: string;

  constructor(
    spec: string,
    readonly description = '',
  ) {
    const m = /^([<[])(.+?)(\.\.\.)?[\]>]$/.exec(spec.trim());
    if (!m) throw new Error(`argument "${spec}" must be <name>, [name], <name...> or [name...]`);
    this.required = m[1] === '<';
    this.argName = m[2]!;
    this.variadic = m[3] !== undefined;
  }

  name(): string {
    return this.argName;
  }

  /** As in a usage line: `<dir>`, `[command...]`. */
  usage(): string {
    const name = this.argName + (this.variadic ? '...' : '');
    return this.required ? `<${name}>` : `[${name}]`;
  }
}
