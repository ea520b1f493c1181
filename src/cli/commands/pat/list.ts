import { runListing } from '../../resource-commands.js';

export interface ListOptions {
  output?: string;
}

interface ListedKey {
  id: string;
  description: string;
  scopes: string[];
  token_hint?: string;
  expires_at?: string;
  last_used_at?: string;
}

/**
 * Lists the caller's PATs through Sibyl's key listing, which adds the token hint and last use that
 * Clarifai's Key message has no field for. Tokens are never shown again.
 */
export function run(opts: ListOptions, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  return runListing<ListedKey>(opts, env, {
    path: '/v2/sibyl/users/me/keys?per_page=1000',
    field: 'keys',
    empty: 'no keys; create one with: clarifai pat create --scopes predict',
    head: ['id', 'description', 'scopes', 'token', 'expires', 'last_used'],
    row: (k) => [
      k.id,
      k.description,
      k.scopes.join(','),
      k.token_hint ?? '',
      k.expires_at ?? 'never',
      k.last_used_at ?? 'never',
    ],
  });
}
