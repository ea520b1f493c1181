import { stringify } from 'yaml';
import { defaultConfigFile, defaultDataDir } from '../../../core/paths.js';
import { listContexts, maskPat, readConfig } from '../../config.js';
import { table } from '../../render/table.js';
import { formatOption } from '../../output-format.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Lists the saved contexts, the current one marked with "*"; PATs are masked (json/yaml leave them out). */
export async function run(opts: { output?: string }, env: Env): Promise<void> {
  const format = formatOption(opts.output, ['wide', 'name', 'json', 'yaml'], 'wide');
  const path = defaultConfigFile(env);
  const contexts = listContexts(await readConfig(path), env);
  if (format === 'name') {
    process.stdout.write(contexts.map((c) => `${c.name}\n`).join(''));
    return;
  }
  if (format === 'json' || format === 'yaml') {
    const list = contexts.map((c) => ({
      name: c.name,
      current: c.current,
      env: {
        CLARIFAI_API_BASE: c.values.CLARIFAI_API_BASE ?? '',
        CLARIFAI_USER_ID: c.values.CLARIFAI_USER_ID ?? '',
      },
    }));
    process.stdout.write(format === 'json' ? `${JSON.stringify(list, null, 2)}\n` : stringify(list));
    return;
  }
  if (contexts.length === 0) {
    process.stdout.write(
      `No contexts in ${path}: commands use the embedded engine (data in ${defaultDataDir(env)}).\n` +
        'Save one with `clarifai login --config FILE [--context NAME]`.\n',
    );
    return;
  }
  const rows = contexts.map((c) => [
    c.current ? '*' : '',
    c.name,
    c.values.CLARIFAI_USER_ID ?? '',
    c.values.CLARIFAI_API_BASE ?? '',
    maskPat(c.values.CLARIFAI_PAT),
  ]);
  process.stdout.write(`${table(['', 'NAME', 'USER_ID', 'API_BASE', 'PAT'], rows)}\n`);
}
