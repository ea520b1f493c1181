import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { formatOption } from '../../output-format.js';

export interface DeleteOptions {
  output?: string;
}

/** Revokes one of the caller's PATs, named by its id (from `clarifai pat list`) or its token. */
export async function run(
  id: string,
  opts: DeleteOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    await client.call('DELETE', `/v2/users/me/keys/${encodeURIComponent(id)}`);
    const shown = id.startsWith('sbl_') ? 'the key' : `key ${id}`;
    process.stdout.write(
      format === 'json'
        ? `${JSON.stringify({ deleted: { key_id: id } })}\n`
        : `Revoked ${shown}: requests with its token are now refused.\n`,
    );
  });
}
