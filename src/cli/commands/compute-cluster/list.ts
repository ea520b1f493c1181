import { runListing } from '../../resource-commands.js';
import { pageQuery } from './shared.js';

export interface ListOptions {
  page_no?: string;
  per_page?: string;
  output?: string;
}

interface Row {
  id: string;
  user_id: string;
  description?: string;
}

/** The caller's compute clusters, the built-in `local` first (Clarifai's columns). */
export function run(opts: ListOptions, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  return runListing<Row>(opts, env, {
    path: `/v2/users/me/compute_clusters?${pageQuery(opts, 16)}`,
    field: 'compute_clusters',
    empty: 'no compute clusters on this page',
    head: ['ID', 'USER_ID', 'DESCRIPTION'],
    row: (c) => [c.id, c.user_id, c.description ?? ''],
  });
}
