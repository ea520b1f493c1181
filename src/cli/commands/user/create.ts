import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { formatOption } from '../../output-format.js';
import { expiryOf, scopeList } from '../pat/create.js';

export interface CreateOptions {
  withKey?: boolean;
  scopes?: string;
  expires?: string;
  output?: string;
}

/** An admin creates a user; with --with-key, also the user's first PAT, whose token is shown once. */
export async function run(
  id: string,
  opts: CreateOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  if (!opts.withKey && (opts.scopes !== undefined || opts.expires !== undefined))
    throw new CliUsageError('--scopes and --expires describe the first key: add --with-key');
  const body: Record<string, unknown> = { user: { id } };
  if (opts.withKey) {
    const key: Record<string, unknown> = { description: `first key of ${id}` };
    if (opts.scopes !== undefined) key.scopes = scopeList(opts.scopes);
    if (opts.expires !== undefined) key.expires_at = expiryOf(opts.expires, new Date());
    body.key = key;
  }
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const res = await client.call<{ user: { id: string }; key?: { id: string; scopes: string[] } }>(
      'POST',
      '/v2/users',
      body,
    );
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ user: res.user, key: res.key }, null, 2)}\n`);
      return;
    }
    if (!res.key) {
      process.stdout.write(
        `Created user ${res.user.id}, with no key yet (create users with --with-key to hand them one).\n`,
      );
      return;
    }
    process.stdout.write(
      `${res.key.id}\nCreated user ${res.user.id} with a key (scopes: ${res.key.scopes.join(', ')}).\n` +
        'This token is shown once only: hand it to the user now (CLARIFAI_PAT=... or a login file).\n',
    );
  });
}
