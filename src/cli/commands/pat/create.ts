import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { formatOption } from '../../output-format.js';

export interface CreateOptions {
  description?: string;
  scopes?: string;
  expires?: string;
  output?: string;
}

interface CreatedKey {
  id: string;
  key_id?: string;
  description: string;
  scopes: string[];
  expires_at?: string;
}

/** Creates a PAT for the caller and prints its token, which the server shows this once only. */
export async function run(
  opts: CreateOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  const key: Record<string, unknown> = { description: opts.description ?? '' };
  if (opts.scopes !== undefined) key.scopes = scopeList(opts.scopes);
  if (opts.expires !== undefined) key.expires_at = expiryOf(opts.expires, new Date());
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const res = await client.call<{ keys: CreatedKey[] }>('POST', '/v2/users/me/keys', { keys: [key] });
    const created = res.keys[0]!;
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ key: created }, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `${created.id}\n` +
        `Created key ${created.key_id ?? ''} (scopes: ${created.scopes.join(', ')}` +
        `${created.expires_at ? `; expires ${created.expires_at}` : '; never expires'}).\n` +
        'This token is shown once only: store it now (e.g. export CLARIFAI_PAT=...); `clarifai pat list` shows only its hint.\n',
    );
  });
}

/** "predict,read" or "Predict, Models:Get": the server maps Clarifai's names and refuses unknown ones. */
export function scopeList(raw: string): string[] {
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0)
    throw new CliUsageError(
      '--scopes needs at least one scope: predict, read, write, admin (comma-separated)',
    );
  return list;
}

/** "30d", "12h" or a date ("2030-01-31", an RFC 3339 time): an RFC 3339 time in the future. */
export function expiryOf(raw: string, now: Date): string {
  const rel = /^(\d+)\s*([dh])$/i.exec(raw.trim());
  const date = rel
    ? new Date(now.getTime() + Number(rel[1]) * (rel[2]!.toLowerCase() === 'd' ? 86_400_000 : 3_600_000))
    : new Date(raw);
  if (Number.isNaN(date.getTime()))
    throw new CliUsageError(
      `--expires must be a duration such as 30d or 12h, or a date such as 2030-01-31; got "${raw}"`,
    );
  if (date.getTime() <= now.getTime())
    throw new CliUsageError(`--expires ${date.toISOString()} is not in the future`);
  return date.toISOString();
}
