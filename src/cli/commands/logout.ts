import { defaultConfigFile } from '../../core/paths.js';
import { readConfig, removeContext, resolveConnection, unknownContext } from '../config.js';
import { CliUsageError } from '../errors.js';
import { whereCommandsGo } from '../where.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface LogoutOptions {
  context?: string;
  all?: boolean;
  /** Clarifai's CLI keeps a logged-out context unless --delete; Sibyl always removes it. */
  delete?: boolean;
}

/**
 * Removes the current context (or a named one, or all), then says where commands go now, worked
 * out the same way every command works it out, so the message cannot disagree with the next command.
 */
export async function run(opts: LogoutOptions, env: Env): Promise<void> {
  const path = defaultConfigFile(env);
  if (opts.all && opts.context) throw new CliUsageError('give --all or --context NAME, not both');
  const doc = await readConfig(path);
  const targets = opts.all ? Object.keys(doc.contexts ?? {}) : [opts.context ?? doc.current_context];
  if (opts.context && !doc.contexts?.[opts.context]) throw unknownContext(doc, opts.context, path);
  const removed: string[] = [];
  for (const name of targets) {
    const gone = await removeContext(path, name);
    if (gone) removed.push(gone);
  }
  const head =
    removed.length > 0
      ? `Logged out of context${removed.length > 1 ? 's' : ''} ${removed.map((n) => `"${n}"`).join(', ')} (removed from ${path}).`
      : 'Not logged in.';
  const now = await resolveConnection(env);
  const left = Object.keys((await readConfig(path)).contexts ?? {});
  const others =
    now.kind === 'embedded' && left.length > 0
      ? ` Other saved contexts: ${left.join(', ')} (\`clarifai config use-context NAME\`).`
      : '';
  process.stdout.write(`${head} ${whereCommandsGo(now)}${others}\n`);
}
