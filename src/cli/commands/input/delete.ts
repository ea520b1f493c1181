import { V2Client } from '../../../sdk/client.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { appsHolding, deleteInputs, myApps } from '../../my-inputs.js';

export interface DeleteOptions {
  app_id?: string;
}

/**
 * Deletes inputs by id. Without --app_id each id is looked up in every app of the caller; an id
 * found in no app, or in several, is refused before anything is deleted.
 */
export async function run(
  ids: string[],
  opts: DeleteOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  if (ids.length === 0) throw new CliUsageError('name at least one input id (see `clarifai input list`)');
  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const userId = session.userId ?? (await client.getMe()).user.id;
    const byApp = new Map<string, string[]>();
    if (opts.app_id !== undefined) {
      byApp.set(opts.app_id, [...new Set(ids)]);
    } else {
      const apps = await myApps(client, userId);
      for (const id of new Set(ids)) {
        const holders = await appsHolding(client, userId, apps, id);
        if (holders.length === 0)
          throw new CliUsageError(
            `no input "${id}" in any of your apps (${apps.join(', ') || 'none'}); nothing was deleted`,
          );
        if (holders.length > 1)
          throw new CliUsageError(
            `input "${id}" is in apps ${holders.map((h) => h.appId).join(' and ')}: say which with --app_id; nothing was deleted`,
          );
        const app = holders[0]!.appId;
        byApp.set(app, [...(byApp.get(app) ?? []), id]);
      }
    }
    for (const [appId, appIds] of byApp) {
      await deleteInputs(client, userId, appId, appIds);
      process.stdout.write(`Deleted ${appIds.map((i) => `"${i}"`).join(', ')} from app ${appId}.\n`);
    }
  });
}
