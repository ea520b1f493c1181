import { stringify } from 'yaml';
import { defaultConfigFile, defaultDataDir } from '../../../core/paths.js';
import { contextValues, maskPat, readConfig } from '../../config.js';
import { formatOption } from '../../output-format.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Prints the current context's name (or its values with -o json|yaml, PAT masked). With none,
 * stdout stays empty, so `$(clarifai config current-context)` is empty, and stderr says why.
 */
export async function run(opts: { output?: string }, env: Env): Promise<void> {
  const format = formatOption(opts.output, ['name', 'json', 'yaml'], 'name');
  const path = defaultConfigFile(env);
  const doc = await readConfig(path);
  const name = doc.current_context;
  if (!name || !doc.contexts?.[name]) {
    process.stderr.write(
      `No current context in ${path}: commands use the embedded engine (data in ${defaultDataDir(env)}).\n`,
    );
    return;
  }
  if (format === 'name') {
    process.stdout.write(`${name}\n`);
    return;
  }
  const values = contextValues(doc, name, env);
  const shown = { name, env: { ...values, CLARIFAI_PAT: maskPat(values.CLARIFAI_PAT) } };
  process.stdout.write(format === 'json' ? `${JSON.stringify(shown, null, 2)}\n` : stringify(shown));
}
