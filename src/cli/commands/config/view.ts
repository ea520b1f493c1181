import { stringify } from 'yaml';
import { defaultConfigFile } from '../../../core/paths.js';
import { maskPat, readConfig } from '../../config.js';
import { formatOption } from '../../output-format.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Prints the whole config file, every key kept, with each PAT masked: the output is meant to be
 * shown and pasted, and the file itself (mode 0600) stays the one place the keys are.
 */
export async function run(opts: { output?: string }, env: Env): Promise<void> {
  const format = formatOption(opts.output, ['yaml', 'json'], 'yaml');
  const doc = await readConfig(defaultConfigFile(env));
  const masked = JSON.parse(JSON.stringify(doc), (key, value: unknown) =>
    key === 'CLARIFAI_PAT' && typeof value === 'string' ? maskPat(value) : value,
  ) as unknown;
  process.stdout.write(format === 'json' ? `${JSON.stringify(masked, null, 2)}\n` : stringify(masked));
}
