import { Visibility } from '../../../core/wire.js';
import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { formatOption } from '../../output-format.js';
import { table } from '../../render/table.js';

export interface ListOptions {
  output?: string;
}

/** The fields of Clarifai's App that Sibyl keeps. */
export interface WireAppRow {
  id: string;
  user_id: string;
  created_at: string;
  description?: string;
  visibility?: { gettable?: number };
}

export function visibilityName(app: WireAppRow): 'public' | 'private' {
  return app.visibility?.gettable === Visibility.PUBLIC ? 'public' : 'private';
}

/** Lists the caller's own apps. */
export async function run(
  opts: ListOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const { apps } = await client.call<{ apps: WireAppRow[] }>('GET', '/v2/users/me/apps?per_page=1000');
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ apps }, null, 2)}\n`);
      return;
    }
    if (apps.length === 0) {
      process.stdout.write('no apps; create one with: clarifai app create ID\n');
      return;
    }
    process.stdout.write(
      `${table(
        ['app_id', 'visibility', 'created_at', 'description'],
        apps.map((a) => [a.id, visibilityName(a), a.created_at, a.description ?? '']),
      )}\n`,
    );
  });
}
