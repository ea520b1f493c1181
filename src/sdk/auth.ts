/** The shape of Clarifai's own Node SDK `authConfig`, so its examples paste unchanged. */
export interface AuthConfig {
  pat?: string;
  userId?: string;
  appId?: string;
  /** API base, e.g. https://api.clarifai.com or http://127.0.0.1:8080. */
  base?: string;
}

export const DEFAULT_BASE = 'https://api.clarifai.com';

/**
 * Fills what the caller left out from CLARIFAI_PAT, CLARIFAI_USER_ID and CLARIFAI_API_BASE, as
 * Clarifai's SDKs do. This is the only place the SDK reads the environment; pass `env: {}` to opt out.
 */
export function resolveAuthConfig(
  given: AuthConfig = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): AuthConfig & { base: string } {
  const pick = (value: string | undefined, name: string): string | undefined =>
    value !== undefined && value !== '' ? value : env[name] || undefined;
  const resolved: AuthConfig & { base: string } = {
    base: pick(given.base, 'CLARIFAI_API_BASE') ?? DEFAULT_BASE,
  };
  const pat = pick(given.pat, 'CLARIFAI_PAT');
  const userId = pick(given.userId, 'CLARIFAI_USER_ID');
  if (pat !== undefined) resolved.pat = pat;
  if (userId !== undefined) resolved.userId = userId;
  if (given.appId) resolved.appId = given.appId;
  resolved.base = normaliseBase(resolved.base);
  return resolved;
}

/** Accepts "api.clarifai.com", "https://api.clarifai.com/", "https://api.clarifai.com/v2". */
export function normaliseBase(base: string): string {
  let b = base.trim();
  if (!/^[a-z]+:\/\//i.test(b)) b = `https://${b}`;
  return b.replace(/\/+$/, '').replace(/\/v2$/, '');
}
