import { runDelete } from '../../resource-commands.js';

export interface DeleteOptions {
  output?: string;
}

/** Revokes one of the caller's PATs, named by its id (from `clarifai pat list`) or its token. */
export function run(
  id: string,
  opts: DeleteOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const shown = id.startsWith('sbl_') ? 'the key' : `key ${id}`;
  return runDelete(opts, env, {
    path: `/v2/users/me/keys/${encodeURIComponent(id)}`,
    json: { key_id: id },
    text: `Revoked ${shown}: requests with its token are now refused.`,
  });
}
