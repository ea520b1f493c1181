import { AuthError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { Caller, ServiceContext } from './context.js';

/**
 * Turns an Authorization header into a caller. `Key <PAT>` is Clarifai's scheme; `Bearer <PAT>` is
 * accepted too so OpenAI-style clients work. The error never echoes the key.
 */
export async function authenticate(ctx: ServiceContext, header: string | undefined): Promise<Caller> {
  if (!header || header.trim() === '') {
    throw new AuthError(
      'no API key: send the header "Authorization: Key <PAT>"',
      StatusCode.CONN_KEY_NOT_FOUND,
    );
  }
  const match = /^(Key|Bearer)\s+(\S+)\s*$/i.exec(header.trim());
  if (!match) throw new AuthError('the Authorization header must be "Key <PAT>"');
  const found = await ctx.store.pats.lookup(match[2]!);
  switch (found.status) {
    case 'ok':
      ctx.throttle?.take(found.pat.patId);
      return { userId: found.pat.userId, keyId: found.pat.patId, scopes: found.pat.scopes };
    case 'revoked':
      throw new AuthError(`the personal access token was revoked at ${found.at}`);
    case 'expired':
      throw new AuthError(`the personal access token expired at ${found.at}`);
    default:
      throw new AuthError('the personal access token is not valid on this server');
  }
}
