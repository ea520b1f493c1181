/**
 * Fetches a user-supplied URL (an image or text input) on the server, safely:
 * - only http: and https:;
 * - the host is resolved here, every address it resolves to is checked against the address policy,
 *   and the connection goes to a checked address only (the socket's DNS lookup is pinned), so a
 *   DNS answer that changes between check and connect (rebinding) cannot reach a private address;
 * - redirects are followed by hand and every hop is checked again;
 * - the whole fetch (all hops) has one deadline, and the body has a size cap enforced both on
 *   Content-Length and on the bytes actually received;
 * - credentials in the URL (user:password@) are never shown in errors or in the returned URL.
 */
import dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';

import { SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { describeReason, isForbiddenAddress } from './address-policy.js';
import {
  INVALID_URL,
  redactUrl,
  tooLarge,
  fetchFailed,
  describeNetworkError,
  bareHostname,
  parseUrl,
} from './url-errors.js';

export { redactUrl } from './url-errors.js';

/** Resolves a host name to all of its addresses; `dns.promises.lookup` with `{ all: true }` fits. */
export type LookupAll = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

export interface FetchUrlOptions {
  /** Allow loopback, private, link-local and other non-public addresses (--allow-private-urls). */
  allowPrivate: boolean;
  /** Largest body accepted, in bytes. Default 20 MiB. */
  maxBytes?: number;
  /** Deadline for the whole fetch, redirects included, in milliseconds. Default 15000. */
  timeoutMs?: number;
  /** Most redirects followed. Default 5. */
  maxRedirects?: number;
  /** Host name resolver; defaults to dns.promises.lookup. Tests inject fake hosts here. */
  lookup?: LookupAll;
  /** Address policy; defaults to isForbiddenAddress. Only consulted when allowPrivate is false. */
  addressPolicy?: (ip: string) => string | undefined;
  /** Cancels the fetch (e.g. the client went away). */
  signal?: AbortSignal;
}

export interface FetchUrlResult {
  bytes: Buffer;
  contentType?: string;
  /** The URL the body came from, after redirects, without credentials. */
  finalUrl: string;
}

export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'sibyl-url-fetch/1';

/** Rejects when the signal aborts, so waits that cannot themselves be cancelled (DNS) still end. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const listener = (): void => reject(onAbort());
    signal.addEventListener('abort', listener, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', listener);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', listener);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

interface FetchContext {
  readonly allowPrivate: boolean;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly lookup: LookupAll;
  readonly policy: (ip: string) => string | undefined;
  readonly signal: AbortSignal;
  /** The error to report once `signal` has aborted (timeout or caller cancellation). */
  abortError(url: URL): SibylError;
}

/** Resolves the URL's host to all of its addresses and, unless private ones are allowed, checks them all. */
async function resolveAndCheck(url: URL, ctx: FetchContext): Promise<LookupAddress[]> {
  const host = bareHostname(url);
  let addresses: LookupAddress[];
  const family = isIP(host);
  if (family !== 0) {
    addresses = [{ address: host, family }];
  } else {
    try {
      addresses = await raceAbort(ctx.lookup(host, { all: true }), ctx.signal, () => ctx.abortError(url));
    } catch (error) {
      if (error instanceof SibylError) throw error;
      throw fetchFailed(url, `could not resolve host "${host}" (${describeNetworkError(error)})`, error);
    }
    if (addresses.length === 0) throw fetchFailed(url, `host "${host}" has no addresses`);
  }
  if (!ctx.allowPrivate) {
    for (const { address } of addresses) {
      const reason = ctx.policy(address);
      if (reason !== undefined) {
        throw new SibylError(
          StatusCode.INPUT_INVALID_URL,
          INVALID_URL,
          // The address itself is not echoed: callers could otherwise map internal host names.
          `URL host "${url.hostname}" resolves to ${describeReason(reason)}; ` +
            `the server refuses private addresses unless started with --allow-private-urls`,
        );
      }
    }
  }
  return addresses;
}

/**
 * A socket lookup that answers only with the already checked addresses, whatever the name, so
 * the connection cannot go anywhere the check did not see.
 */
function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const usable = wanted ? addresses.filter((a) => a.family === wanted) : [...addresses];
    const first = usable[0];
    if (!first) {
      const error: NodeJS.ErrnoException = new Error(`no IPv${wanted} address among the checked addresses`);
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
      return;
    }
    if (options.all) callback(null, usable);
    else callback(null, first.address, first.family);
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function ignore(): void {}

type HopResult =
  { kind: 'redirect'; location: string } | { kind: 'body'; bytes: Buffer; contentType: string | undefined };

/** One HTTP GET to a checked address. Resolves with a redirect target or the complete body. */
function requestOnce(url: URL, addresses: readonly LookupAddress[], ctx: FetchContext): Promise<HopResult> {
  return new Promise<HopResult>((resolve, reject) => {
    const host = bareHostname(url);
    const isHttps = url.protocol === 'https:';
    const username = safeDecode(url.username);
    const password = safeDecode(url.password);
    const options: https.RequestOptions = {
      protocol: url.protocol,
      hostname: host, // Host header and SNI keep the name; the address comes from the pinned lookup
      port: url.port ? Number(url.port) : isHttps ? 443 : 80,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { 'user-agent': USER_AGENT, accept: '*/*', 'accept-encoding': 'identity' },
      agent: false, // a fresh socket per hop: a pooled one could point at an address checked under other rules
      lookup: pinnedLookup(addresses),
    };
    if (username || password) options.auth = `${username}:${password}`;
    if (isHttps && isIP(host) === 0) options.servername = host;

    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      finish();
    };
    const fail = (error: Error): void => {
      settle(() => reject(error));
      req.destroy();
    };
    const onAbort = (): void => fail(ctx.abortError(url));

    const req = (isHttps ? https : http).request(options);
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    req.on('error', (error) => {
      if (ctx.signal.aborted) fail(ctx.abortError(url));
      else fail(fetchFailed(url, describeNetworkError(error), error));
    });

    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECT_STATUSES.has(status) && location) {
        res.on('error', ignore);
        res.resume();
        settle(() => resolve({ kind: 'redirect', location }));
        req.destroy();
        return;
      }
      if (status < 200 || status > 299) {
        res.on('error', ignore);
        res.resume();
        const text = res.statusMessage ? ` ${res.statusMessage}` : '';
        fail(fetchFailed(url, `the server answered HTTP ${status}${text}`));
        return;
      }

      const declared = res.headers['content-length'];
      if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > ctx.maxBytes) {
        fail(tooLarge(url, ctx.maxBytes, `body (Content-Length ${declared} bytes)`));
        return;
      }

      const chunks: Buffer[] = [];
      let received = 0;
      let complete = false;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        received += chunk.length;
        if (received > ctx.maxBytes) {
          fail(tooLarge(url, ctx.maxBytes, 'body'));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        complete = true;
        const contentType = res.headers['content-type'];
        settle(() => resolve({ kind: 'body', bytes: Buffer.concat(chunks, received), contentType }));
      });
      res.on('error', (error) => {
        if (ctx.signal.aborted) fail(ctx.abortError(url));
        else fail(fetchFailed(url, describeNetworkError(error), error));
      });
      res.on('close', () => {
        if (!complete) {
          if (ctx.signal.aborted) fail(ctx.abortError(url));
          else fail(fetchFailed(url, 'the connection closed before the whole body arrived'));
        }
      });
    });

    req.end();
  });
}

/**
 * GETs `url` and returns its body. Throws InvalidArgumentError / SibylError with
 * INPUT_INVALID_URL for a bad or refused URL, SibylError with INPUT_CONNECTION_FAILED for
 * network errors, timeouts and non-2xx answers, and LimitError with REQUEST_TOO_LARGE when the
 * body is larger than `maxBytes`.
 */
export async function fetchUrl(url: string, opts: FetchUrlOptions): Promise<FetchUrlResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;

  let current = parseUrl(url);

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const external = opts.signal;
  const onExternalAbort = (): void => controller.abort();
  if (external?.aborted) controller.abort();
  else external?.addEventListener('abort', onExternalAbort, { once: true });

  const ctx: FetchContext = {
    allowPrivate: opts.allowPrivate,
    maxBytes,
    timeoutMs,
    lookup: opts.lookup ?? ((hostname, options) => dns.promises.lookup(hostname, options)),
    policy: opts.addressPolicy ?? isForbiddenAddress,
    signal: controller.signal,
    abortError: (at) =>
      fetchFailed(at, timedOut ? `timed out after ${timeoutMs} ms` : 'the request was cancelled'),
  };

  try {
    for (let redirects = 0; ; redirects++) {
      if (controller.signal.aborted) throw ctx.abortError(current);
      const addresses = await resolveAndCheck(current, ctx);
      const hop = await requestOnce(current, addresses, ctx);
      if (hop.kind === 'body') {
        const result: FetchUrlResult = { bytes: hop.bytes, finalUrl: redactUrl(current) };
        if (hop.contentType !== undefined) result.contentType = hop.contentType;
        return result;
      }
      if (redirects >= maxRedirects) {
        throw fetchFailed(
          current,
          `too many redirects (the limit is ${maxRedirects}; the next would go to ${redactUrl(
            safeResolve(hop.location, current),
          )})`,
        );
      }
      current = parseUrl(hop.location, current);
    }
  } finally {
    clearTimeout(timer);
    external?.removeEventListener('abort', onExternalAbort);
  }
}

function safeResolve(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    return location;
  }
}
