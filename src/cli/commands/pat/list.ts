import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { formatOption } from '../../output-format.js';
import { table } from '../../render/table.js';

export interface ListOptions {
  output?: string;
}

interface ListedKey {
  id: string;
  description: string;
  scopes: string[];
  token_hint?: string;
  expires_at?: string;
  last_used_at?: string;
}

/**
 * Lists the caller's PATs through Sibyl's key listing, which adds the token hint and last use that
 * Clarifai's Key message has no field for. Tokens are never shown again.
 */
export async function run(
  opts: ListOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const { keys } = await client.call<{ keys: ListedKey[] }>('GET', '/v2/sibyl/users/me/keys?per_page=1000');
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ keys }, null, 2)}\n`);
      return;
    }
    if (keys.length === 0) {
      process.stdout.write('no keys; create one with: clarifai pat create --scopes predict\n');
      return;
    }
    process.stdout.write(
      `${table(
        ['id', 'description', 'scopes', 'token', 'expires', 'last_used'],
        keys.map((k) => [
          k.id,
          k.description,
          k.scopes.join(','),
          k.token_hint ?? '',
          k.expires_at ?? 'never',
          k.last_used_at ?? 'never',
        ]),
      )}\n`,
    );
  });
}
