import { inputTypeOfModelType } from '../../../core/media-types.js';
import { StatusCode } from '../../../core/status.js';
import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { table } from '../../render/table.js';

export interface ListOptions {
  user_id?: string;
  app_id?: string;
  output?: string;
}

export async function run(
  opts: ListOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const output = opts.output ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new CliUsageError(`--output must be text or json; got "${output}"`);
  if ((opts.user_id === undefined) !== (opts.app_id === undefined)) {
    throw new CliUsageError(
      '--user_id and --app_id go together (or give neither to list every model you can use)',
    );
  }
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const filter = opts.user_id && opts.app_id ? { userId: opts.user_id, appId: opts.app_id } : {};
    const res = await client.listModels(filter);
    if (output === 'json') {
      process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
      return;
    }
    const loaded = await loadedModels(client);
    const rows = res.models.map((m) => [
      `https://clarifai.com/${m.user_id}/${m.app_id}/models/${m.id}`,
      m.model_type_id ?? '',
      inputTypeOfModelType(m.model_type_id) ?? '',
      m.visibility?.gettable === 50 ? 'public' : 'private',
      m.model_version?.license ?? '',
      availability(m.model_version?.status),
      ...(loaded ? [loaded.get(`${m.user_id}/${m.app_id}/${m.id}`) ?? 'no'] : []),
    ]);
    const head = [
      'model_url',
      'type',
      'input',
      'visibility',
      'licence',
      'available',
      ...(loaded ? ['loaded'] : []),
    ];
    process.stdout.write(rows.length === 0 ? 'no models\n' : `${table(head, rows)}\n`);
  });
}

/** "yes", or why not and what to do (a program to install), from the version's status. */
function availability(status: { code?: number; details?: string } | undefined): string {
  if (status?.code !== StatusCode.MODEL_NOT_DEPLOYED) return 'yes';
  return `no: ${status.details ?? 'not available here'}`;
}

/**
 * Which models are loaded, from a Sibyl engine's status route ("2 workers", by model). Clarifai's
 * cloud has no such route: then undefined, and the column is left out.
 */
async function loadedModels(client: V2Client): Promise<Map<string, string> | undefined> {
  try {
    const res = await client.call<EngineStatus>('GET', '/v2/sibyl/engine');
    const out = new Map<string, string>();
    for (const m of res.engine.loaded) {
      const key = `${m.user_id}/${m.app_id}/${m.model_id}`;
      const workers = m.workers + (out.has(key) ? Number(out.get(key)!.split(' ')[0]) : 0);
      out.set(key, `${workers} worker${workers === 1 ? '' : 's'}`);
    }
    return out;
  } catch {
    return undefined;
  }
}

interface EngineStatus {
  engine: { loaded: { user_id: string; app_id: string; model_id: string; workers: number }[] };
}
