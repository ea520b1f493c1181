import { defaultConfigFile, defaultDataDir } from '../../core/paths.js';
import { removeContext } from '../config.js';
import { CliUsageError } from '../errors.js';

export async function run(
  opts: { context?: string },
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const path = defaultConfigFile(env);
  const removed = await removeContext(path, opts.context);
  if (opts.context && !removed) throw new CliUsageError(`no context named "${opts.context}" in ${path}`);
  const next = env.CLARIFAI_PAT
    ? 'CLARIFAI_PAT is still set in this shell, so commands still go to a remote server; unset it to use the embedded engine.'
    : `Commands now use the embedded engine (data in ${defaultDataDir(env)}).`;
  process.stdout.write(
    removed ? `Logged out of context "${removed}". ${next}\n` : `Not logged in. ${next}\n`,
  );
}
