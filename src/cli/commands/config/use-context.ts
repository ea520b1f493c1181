import { defaultConfigFile } from '../../../core/paths.js';
import { resolveConnection, useContext } from '../../config.js';
import { whereCommandsGo } from '../../where.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Makes a saved context current without logging in again. */
export async function run(name: string, env: Env): Promise<void> {
  await useContext(defaultConfigFile(env), name);
  process.stdout.write(`Switched to context "${name}". ${whereCommandsGo(await resolveConnection(env))}\n`);
}
