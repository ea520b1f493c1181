import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { formatOption } from '../../output-format.js';
import { readYamlMapping } from '../../yaml-file.js';

/**
 * What the computecluster, nodepool and deployment commands share: Clarifai's config files (one
 * top-level key, `compute_cluster:`, `nodepool:` or `deployment:`), --page_no/--per_page, and
 * one POST whose created resource is printed.
 */

type Env = Readonly<Record<string, string | undefined>>;

/** The mapping under a config file's top-level key (as Clarifai's CLI reads it); none: {}. */
export async function readConfig(path: string | undefined, key: string): Promise<Record<string, unknown>> {
  if (path === undefined) return {};
  const doc = await readYamlMapping(path, { label: '--config', keys: [key], shape: `with a "${key}:" key` });
  const inner = doc[key];
  if (inner === undefined)
    throw new CliUsageError(`--config ${path} must have a top-level "${key}:" mapping`);
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner))
    throw new CliUsageError(`"${key}:" in --config ${path} must be a mapping`);
  return { ...(inner as Record<string, unknown>) };
}

/** `?page=..&per_page=..` from --page_no/--per_page, each a whole number >= 1. */
export function pageQuery(opts: { page_no?: string; per_page?: string }, perPage: number): string {
  const num = (v: string | undefined, flag: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new CliUsageError(`${flag} must be a whole number >= 1; got "${v}"`);
    return n;
  };
  return `page=${num(opts.page_no, '--page_no', 1)}&per_page=${num(opts.per_page, '--per_page', perPage)}`;
}

/** The id from the positional argument, else the config's `id`; one of them is required. */
export function idFrom(
  arg: string | undefined,
  config: Record<string, unknown>,
  what: string,
  usage: string,
): string {
  const id = arg ?? (typeof config.id === 'string' ? config.id : undefined);
  if (!id) throw new CliUsageError(`give the ${what} id as an argument or as "id:" in --config (${usage})`);
  return id;
}

/** One POST creating a resource: prints it as JSON, or `text` of it. */
export async function createOne<T>(
  env: Env,
  opts: { output?: string },
  call: { path: string; body: unknown; field: string; single: string },
  text: (created: T) => string,
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  await withSession(env, async (session) => {
    const res = await new V2Client(session.transport, session.pat).call<Record<string, T[]>>(
      'POST',
      call.path,
      call.body,
    );
    const created = res[call.field]![0]!;
    process.stdout.write(
      format === 'json' ? `${JSON.stringify({ [call.single]: created }, null, 2)}\n` : `${text(created)}\n`,
    );
  });
}

/** One DELETE with the ids in the body (Clarifai's Delete*s RPCs), then a line saying what went. */
export async function deleteByIds(
  env: Env,
  opts: { output?: string },
  action: { path: string; ids: string[]; json: Record<string, unknown>; text: string },
): Promise<void> {
  const format = formatOption(opts.output, ['text', 'json'], 'text');
  await withSession(env, async (session) => {
    await new V2Client(session.transport, session.pat).call('DELETE', action.path, { ids: action.ids });
    process.stdout.write(
      format === 'json' ? `${JSON.stringify({ deleted: action.json })}\n` : `${action.text}\n`,
    );
  });
}

export function enc(id: string): string {
  return encodeURIComponent(id);
}
