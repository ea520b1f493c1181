import { readFile } from 'node:fs/promises';
import { CliUsageError } from './errors.js';

export interface YamlFileOptions {
  /** How the file was given, for messages: "--config", "the config file". */
  label: string;
  /** Keys allowed at the top level; others are refused with this list. */
  keys?: readonly string[];
  /** What the mapping should hold, for the "must be a mapping" message. */
  shape?: string;
  /** A missing file reads as an empty mapping. */
  missingOk?: boolean;
}

/** Reads a YAML file that must hold a mapping, with one clear usage error for each way it can fail. */
export async function readYamlMapping(path: string, opts: YamlFileOptions): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.missingOk) return {};
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new CliUsageError(`cannot read ${opts.label} ${path}: ${why}`);
  }
  // loaded only once there is a file: the embedded default has none, and yaml costs ~18 ms to import
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new CliUsageError(
      `${opts.label} ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new CliUsageError(
      `${opts.label} ${path} must be a YAML mapping${opts.shape ? ` ${opts.shape}` : ''}`,
    );
  }
  if (opts.keys) {
    const unknown = Object.keys(doc).filter((k) => !opts.keys!.includes(k));
    if (unknown.length > 0) {
      throw new CliUsageError(
        `${opts.label} ${path} has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; allowed: ${opts.keys.join(', ')}`,
      );
    }
  }
  return doc as Record<string, unknown>;
}
