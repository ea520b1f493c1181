import type { Command } from '../args/command.js';
import type { Option } from '../args/option.js';
import { CliUsageError } from '../errors.js';
import { closest } from '../suggest.js';
import { readYamlMapping } from '../yaml-file.js';

/** Flags that keep their established variables (SIBYL_HOME, DATABASE_URL) or make no sense in a file. */
const NOT_LAYERED = new Set(['config', 'dataDir', 'databaseUrl']);

/**
 * `clarifai serve`'s one configuration, resolved once before anything starts: each option comes
 * from its flag when given, else from its environment variable (`SIBYL_` and the flag's name in
 * capitals: `--rate-limit` is SIBYL_RATE_LIMIT), else from `--config FILE` (YAML, keys as the flags
 * without `--`: `rate-limit: 10`), else its default. The values then go through the same checks as
 * flags, so a bad value from any source is refused with what is allowed. Returns the command's
 * option object with the layered values, and where each non-default one came from.
 */
export async function layeredServeOptions(
  cmd: Command,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ opts: Record<string, unknown>; sources: Record<string, string> }> {
  const opts = { ...cmd.opts() } as Record<string, unknown>;
  const layered = cmd.options.filter((o) => !NOT_LAYERED.has(o.attributeName()) && o.long !== '--help');
  const file = typeof opts.config === 'string' ? await readFile(opts.config, layered) : {};
  const sources: Record<string, string> = {};
  for (const option of layered) {
    const key = option.attributeName();
    if (cmd.getOptionValueSource(key) === 'cli') {
      sources[key] = 'flag';
      continue;
    }
    const name = flagName(option);
    const variable = `SIBYL_${name.toUpperCase().replace(/-/g, '_')}`;
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv !== '') {
      opts[key] = fromText(option, fromEnv, `environment variable ${variable}`);
      sources[key] = variable;
    } else if (Object.hasOwn(file, name)) {
      opts[key] = fromFile(option, file[name], `${String(opts.config)}: ${name}`);
      sources[key] = String(opts.config);
    }
  }
  return { opts, sources };
}

/** The flag's name without dashes, as a file key: `--no-grpc` is `grpc`. */
function flagName(option: Option): string {
  return option.long!.replace(/^--(no-)?/, '');
}

async function readFile(path: string, layered: Option[]): Promise<Record<string, unknown>> {
  const keys = layered.map(flagName);
  const doc = await readYamlMapping(path, { label: '--config', shape: 'of serve options' });
  for (const key of Object.keys(doc)) {
    if (!keys.includes(key)) {
      const near = closest(key, keys)[0];
      throw new CliUsageError(
        `--config ${path}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}; allowed: ${keys.join(', ')}`,
      );
    }
  }
  return doc;
}

/** A boolean flag from text ("1", "true", "yes" / "0", "false", "no"); others keep their text. */
function fromText(option: Option, text: string, where: string): unknown {
  if (option.required || option.optional) {
    return option.long === '--cors-origin'
      ? text
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : text;
  }
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new CliUsageError(`${where} must be true or false (1/0, yes/no); got "${text}"`);
}

/** A value from the YAML file: booleans for switches, a list for --cors-origin, else scalar text. */
function fromFile(option: Option, value: unknown, where: string): unknown {
  if (!(option.required || option.optional)) {
    if (typeof value !== 'boolean')
      throw new CliUsageError(`${where} must be true or false; got ${JSON.stringify(value)}`);
    return value;
  }
  if (option.long === '--cors-origin') {
    const list = Array.isArray(value) ? value : [value];
    if (!list.every((v) => typeof v === 'string'))
      throw new CliUsageError(`${where} must be an origin or a list of them`);
    return list;
  }
  if (typeof value !== 'string' && typeof value !== 'number')
    throw new CliUsageError(`${where} must be a number or a string; got ${JSON.stringify(value)}`);
  return String(value);
}

/**
 * The serve checks name the flag ("--workers must be ..."); a value that came from a variable or
 * the file gets that said too, so the user knows what to fix.
 */
export async function withSource<T>(started: Promise<T>, sources: Record<string, string>): Promise<T> {
  try {
    return await started;
  } catch (error) {
    const flag = error instanceof CliUsageError ? /^--([a-z-]+)/.exec(error.message)?.[1] : undefined;
    const key = flag?.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const source = key ? sources[key] : undefined;
    if (source && source !== 'flag')
      throw new CliUsageError(`${(error as Error).message} (set by ${source})`);
    throw error;
  }
}
