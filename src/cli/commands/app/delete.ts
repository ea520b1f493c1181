import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { formatOption } from '../../output-format.js';

export interface DeleteOptions {
  output?: string;
}

/** Deletes one of the caller's apps, with everything in it. */
export async function run(
  id: string,
  opts: DeleteOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    await client.call('DELETE', `/v2/users/me/apps/${encodeURIComponent(id)}`);
    process.stdout.write(
      format === 'json' ? `${JSON.stringify({ deleted: { app_id: id } })}\n` : `Deleted app ${id}.\n`,
    );
  });
}
