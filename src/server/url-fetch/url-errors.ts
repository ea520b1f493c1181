/** URL parsing and the error messages of the URL fetcher: credentials never appear in them. */
import { InvalidArgumentError, LimitError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';

const ALLOWED_SCHEMES = ['http:', 'https:'];

export const INVALID_URL = 'Invalid URL';
const FETCH_FAILED = 'Could not fetch URL';

/** The URL as text with any user:password@ removed. */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    // Not parseable: strip anything that looks like userinfo before the host.
    return String(url).replace(/\/\/[^/?#]*@/, '//');
  }
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

function formatMiB(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  if (Number.isInteger(mib)) return `${mib} MiB`;
  const rounded = mib >= 1 ? mib.toFixed(1) : mib.toPrecision(2);
  return `${rounded} MiB (${bytes} bytes)`;
}

export function tooLarge(url: URL, maxBytes: number, what: string): LimitError {
  return new LimitError(
    StatusCode.REQUEST_TOO_LARGE,
    'Request too large',
    `${redactUrl(url)} ${what} exceeds the ${formatMiB(maxBytes)} limit on fetched URLs`,
  );
}

export function fetchFailed(url: URL, cause: string, error?: unknown): SibylError {
  return new SibylError(
    StatusCode.INPUT_CONNECTION_FAILED,
    FETCH_FAILED,
    `could not fetch ${redactUrl(url)}: ${cause}`,
    error === undefined ? undefined : { cause: error },
  );
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ECONNABORTED: 'connection aborted',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed by peer',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'temporary DNS failure',
  EPROTO: 'protocol error',
  HPE_INVALID_CONSTANT: 'invalid HTTP response',
};

/** A short human cause for a network error, e.g. 'connection refused'. */
export function describeNetworkError(error: unknown): string {
  const e = error as NodeJS.ErrnoException | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code];
  if (code?.startsWith('HPE_')) return `invalid HTTP response (${e?.message ?? code})`;
  if (code && /CERT|SSL|TLS/.test(code)) return `TLS error: ${e?.message ?? code}`;
  const message = e instanceof Error ? e.message : String(error);
  return code ? `${message} (${code})` : message;
}

/** Host name without IPv6 brackets, as DNS and sockets want it. */
export function bareHostname(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function parseUrl(input: string | URL, base?: URL): URL {
  let url: URL;
  try {
    url = base ? new URL(input, base) : new URL(input);
  } catch {
    throw new InvalidArgumentError(
      `${JSON.stringify(redactUrl(String(input)))} is not a valid URL`,
      StatusCode.INPUT_INVALID_URL,
      INVALID_URL,
    );
  }
  if (!ALLOWED_SCHEMES.includes(url.protocol)) {
    throw new InvalidArgumentError(
      `URL scheme "${url.protocol.replace(/:$/, '')}" is not supported in ${redactUrl(url)}; ` +
        `only http and https URLs can be fetched`,
      StatusCode.INPUT_INVALID_URL,
      INVALID_URL,
    );
  }
  if (!url.hostname) {
    throw new InvalidArgumentError(
      `URL ${redactUrl(url)} has no host`,
      StatusCode.INPUT_INVALID_URL,
      INVALID_URL,
    );
  }
  return url;
}
