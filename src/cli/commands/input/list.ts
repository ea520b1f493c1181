import type { Input } from '../../../core/wire.js';
import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { appInputs, myApps } from '../../my-inputs.js';
import { formatOption } from '../../output-format.js';
import { table } from '../../render/table.js';

export interface ListOptions {
  app_id?: string;
  output?: string;
}

/** Lists the caller's stored inputs, in one app or in all of them, with the id to give --input_id. */
export async function run(
  opts: ListOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const userId = session.userId ?? (await client.getMe()).user.id;
    const apps = opts.app_id !== undefined ? [opts.app_id] : await myApps(client, userId);
    const rows: { app_id: string; input: Input }[] = [];
    for (const appId of apps)
      for await (const input of appInputs(client, userId, appId)) rows.push({ app_id: appId, input });
    if (format === 'json') {
      process.stdout.write(
        `${JSON.stringify({ inputs: rows.map((r) => ({ app_id: r.app_id, ...r.input })) }, null, 2)}\n`,
      );
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(
        `no inputs${opts.app_id !== undefined ? ` in app ${opts.app_id}` : ''}; add one with: clarifai input upload --file_path PATH\n`,
      );
      return;
    }
    process.stdout.write(
      `${table(
        ['app_id', 'input_id', 'type', 'created_at'],
        rows.map((r) => [r.app_id, r.input.id ?? '', typeOf(r.input), r.input.created_at ?? '']),
      )}\n`,
    );
  });
}

function typeOf(input: Input): string {
  const d = input.data as Record<string, { url?: string } | undefined>;
  const kind = ['image', 'video', 'audio', 'text'].find((k) => d[k] !== undefined) ?? '';
  return d[kind]?.url ? `${kind} (url)` : kind;
}
