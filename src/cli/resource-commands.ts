import { V2Client } from '../sdk/client.js';
import { withSession } from './connect.js';
import { formatOption } from './output-format.js';
import { table } from './render/table.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What a `... list` command shows: one GET, its list field, and how a row reads as text. */
export interface Listing<T> {
  path: string;
  field: string;
  /** Printed when the list is empty: says how to make the first one. */
  empty: string;
  head: string[];
  row: (item: T) => string[];
}

/** `clarifai <resource> list`: a table, or the listed field as JSON with `-o json`. */
export async function runListing<T>(opts: { output?: string }, env: Env, listing: Listing<T>): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const res = await client.call<Record<string, T[] | undefined>>('GET', listing.path);
    const items = res[listing.field] ?? [];
    if (format === 'json') process.stdout.write(`${JSON.stringify({ [listing.field]: items }, null, 2)}\n`);
    else if (items.length === 0) process.stdout.write(`${listing.empty}\n`);
    else process.stdout.write(`${table(listing.head, items.map(listing.row))}\n`);
  });
}

/** `clarifai <resource> delete ID`: one DELETE, then a line (or JSON) saying what went. */
export async function runDelete(
  opts: { output?: string },
  env: Env,
  action: { path: string; json: Record<string, unknown>; text: string },
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  await withSession(env, async (session) => {
    await new V2Client(session.transport, session.pat).call('DELETE', action.path);
    process.stdout.write(
      format === 'json' ? `${JSON.stringify({ deleted: action.json })}\n` : `${action.text}\n`,
    );
  });
}
