import { Visibility } from '../../../core/wire.js';
import { runListing } from '../../resource-commands.js';

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
export function run(opts: ListOptions, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  return runListing<WireAppRow>(opts, env, {
    path: '/v2/users/me/apps?per_page=1000',
    field: 'apps',
    empty: 'no apps; create one with: clarifai app create ID',
    head: ['app_id', 'visibility', 'created_at', 'description'],
    row: (a) => [a.id, visibilityName(a), a.created_at, a.description ?? ''],
  });
}
