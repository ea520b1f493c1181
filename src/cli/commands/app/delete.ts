import { runDelete } from '../../resource-commands.js';

export interface DeleteOptions {
  output?: string;
}

/** Deletes one of the caller's apps, with everything in it. */
export function run(
  id: string,
  opts: DeleteOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  return runDelete(opts, env, {
    path: `/v2/users/me/apps/${encodeURIComponent(id)}`,
    json: { app_id: id },
    text: `Deleted app ${id}.`,
  });
}
