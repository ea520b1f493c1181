import { V2Client } from '../../sdk/client.js';
import { withSession } from '../connect.js';
import { formatOption } from '../output-format.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Who the commands act as, and where they go. The user is asked of the server (GET /v2/users/me),
 * so a stale or revoked key shows here rather than on the next predict.
 */
export async function run(opts: { output?: string }, env: Env): Promise<void> {
  const format = formatOption(opts.output, ['wide', 'json'], 'wide');
  await withSession(env, async (session) => {
    const conn = session.connection;
    const userId =
      conn.kind === 'embedded'
        ? session.userId!
        : (await new V2Client(session.transport, session.pat).getMe()).user.id;
    if (format === 'json') {
      const out =
        conn.kind === 'embedded'
          ? { user_id: userId, context: null, engine: 'embedded', data_dir: conn.dataDir }
          : { user_id: userId, context: conn.context ?? null, api_base: conn.base, via: conn.via };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    const where =
      conn.kind === 'embedded'
        ? `none: the embedded engine (data in ${conn.dataDir}), acting as its admin user`
        : `${conn.context ?? '(none)'} @ ${conn.base}${conn.via === 'CLARIFAI_PAT' ? ' (key from CLARIFAI_PAT)' : ''}`;
    process.stdout.write(`User:     ${userId}\nContext:  ${where}\n`);
  });
}
