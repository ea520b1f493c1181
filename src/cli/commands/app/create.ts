import { Visibility } from '../../../core/wire.js';
import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { formatOption } from '../../output-format.js';
import { type WireAppRow, visibilityName } from './list.js';

export interface CreateOptions {
  visibility?: string;
  description?: string;
  output?: string;
}

/** Creates an app of the caller's; private unless --visibility public. */
export async function run(
  id: string,
  opts: CreateOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  const visibility = opts.visibility ?? 'private';
  if (visibility !== 'public' && visibility !== 'private')
    throw new CliUsageError(`--visibility must be public or private; got "${visibility}"`);
  const app: Record<string, unknown> = {
    id,
    visibility: { gettable: visibility === 'public' ? Visibility.PUBLIC : Visibility.PRIVATE },
  };
  if (opts.description !== undefined) app.description = opts.description;
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const res = await client.call<{ apps: WireAppRow[] }>('POST', '/v2/users/me/apps', { apps: [app] });
    const created = res.apps[0]!;
    process.stdout.write(
      format === 'json'
        ? `${JSON.stringify({ app: created }, null, 2)}\n`
        : `Created ${visibilityName(created)} app ${created.user_id}/${created.id}.\n`,
    );
  });
}
