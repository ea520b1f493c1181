import { defaultConfigFile } from '../../../core/paths.js';
import { readConfig, removeContext, resolveConnection, unknownContext } from '../../config.js';
import { whereCommandsGo } from '../../where.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Deletes a saved context; deleting the current one returns commands to the embedded engine. */
export async function run(name: string, env: Env): Promise<void> {
  const path = defaultConfigFile(env);
  const doc = await readConfig(path);
  if (!doc.contexts?.[name]) throw unknownContext(doc, name, path);
  await removeContext(path, name);
  const was = doc.current_context === name ? ' It was the current context.' : '';
  process.stdout.write(
    `Deleted context "${name}" from ${path}.${was} ${whereCommandsGo(await resolveConnection(env))}\n`,
  );
}
