import { inputTypeOfModelType } from '../../../core/media-types.js';
import type { ModelRef } from '../../../core/urls.js';
import { modelUrl } from '../../../core/urls.js';
import type { WireModel } from '../../../core/wire.js';
import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { parseModelRef } from '../../model-ref.js';
import { formatOption } from '../../output-format.js';
import { withModelSuggestions } from '../../suggest.js';

export interface GetOptions {
  model_url?: string;
  model_id?: string;
  user_id?: string;
  app_id?: string;
  output?: string;
}

/** Shows one model: its type and input, latest version, params and their defaults, and concepts. */
export async function run(
  model: string | undefined,
  opts: GetOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  const ref = refOf(model, opts);
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    let res;
    try {
      res = ref.versionId
        ? await client.call<{ model_version: NonNullable<WireModel['model_version']> }>(
            'GET',
            `/v2/users/${enc(ref.userId)}/apps/${enc(ref.appId)}/models/${enc(ref.modelId)}/versions/${enc(ref.versionId)}`,
          )
        : undefined;
      const got = await client.getModel(ref);
      if (res) got.model.model_version = res.model_version;
      if (format === 'json') {
        process.stdout.write(`${JSON.stringify(got, null, 2)}\n`);
        return;
      }
      process.stdout.write(describe(got.model, ref));
    } catch (err) {
      throw await withModelSuggestions(err, client, ref);
    }
  });
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function refOf(model: string | undefined, opts: GetOptions): ModelRef {
  const ids = [opts.model_id, opts.user_id, opts.app_id];
  const given = [model !== undefined, opts.model_url !== undefined, ids.some((v) => v !== undefined)];
  if (given.filter(Boolean).length !== 1)
    throw new CliUsageError(
      'name one model: user_id/app_id/models/model_id (or its URL) as an argument, --model_url, or --model_id with --user_id and --app_id',
    );
  if (model !== undefined) return parseModelRef(model);
  if (opts.model_url !== undefined) return parseModelRef(opts.model_url);
  if (ids.some((v) => v === undefined))
    throw new CliUsageError('--model_id, --user_id and --app_id go together');
  return { userId: opts.user_id!, appId: opts.app_id!, modelId: opts.model_id! };
}

function describe(m: WireModel, ref: ModelRef): string {
  const v = m.model_version;
  const info = v?.output_info ?? m.output_info;
  const concepts = info?.data?.concepts ?? [];
  const params = Object.entries(info?.params ?? {});
  const type = m.model_type_id ?? '';
  const input = inputTypeOfModelType(type);
  const rows: [string, string][] = [
    ['model_url', modelUrl({ userId: m.user_id ?? ref.userId, appId: m.app_id ?? ref.appId, modelId: m.id })],
    ['name', m.name ?? m.id],
    ['type', `${type}${input ? ` (takes ${input})` : ''}`],
    ['visibility', m.visibility?.gettable === 50 ? 'public' : 'private'],
  ];
  if (v?.id)
    rows.push([
      'version',
      `${v.id}${ref.versionId ? '' : ' (latest)'}${v.created_at ? `, ${v.created_at.slice(0, 10)}` : ''}`,
    ]);
  if (params.length > 0)
    rows.push(['params', params.map(([k, val]) => `${k}=${JSON.stringify(val)}`).join(', ')]);
  if (concepts.length > 0) {
    const names = concepts.map((c) => c.name || c.id);
    rows.push([
      'concepts',
      `${names.length}: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', ...' : ''}`,
    ]);
  }
  if (m.description) rows.push(['description', m.description]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, val]) => `${k.padEnd(width)}  ${val}\n`).join('');
}
