/** HTTP details of talking to OpenAI-compatible engines: their error bodies, Retry-After, SSE. */

const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 4000;
/** A Retry-After longer than this is waited for this long only: the caller is still waiting. */
const RETRY_AFTER_MAX_MS = 30_000;
const ERROR_BODY_MAX_CHARS = 2000;

/**
 * Splits a server-sent event stream into the data of each event (its `data:` lines joined);
 * other fields and comments are skipped, as OpenAI's streams use none.
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private data: string[] = [];

  /** Takes the next bytes (undefined at the end) and returns the events they completed. */
  push(bytes: Uint8Array | undefined): string[] {
    this.buffer += bytes ? this.decoder.decode(bytes, { stream: true }) : this.decoder.decode() + '\n\n';
    const events: string[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, end).replace(/\r$/, '');
      this.buffer = this.buffer.slice(end + 1);
      if (line.startsWith('data:')) this.data.push(line.slice(5).replace(/^ /, ''));
      else if (line === '' && this.data.length > 0) {
        events.push(this.data.join('\n'));
        this.data = [];
      }
    }
    return events;
  }
}

/** OpenAI's `{error: {message}}`, Ollama's and TGI's `{error: "..."}`, FastAPI's `{detail}`, or the text. */
export function remoteMessage(text: string): string {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null)
      return clip(messageOf(value as Record<string, unknown>), 500);
  } catch {
    // not JSON: the text itself
  }
  return clip(text.trim(), ERROR_BODY_MAX_CHARS);
}

export function messageOf(body: Record<string, unknown>): string {
  const error = body.error;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null) {
    const message = (error as Record<string, unknown>).message;
    if (typeof message === 'string') return message;
  }
  for (const key of ['message', 'detail'] as const)
    if (typeof body[key] === 'string') return body[key] as string;
  return JSON.stringify(error ?? body);
}

/** undici says `fetch failed`; the reason (ECONNREFUSED, ENOTFOUND...) is in its causes. */
export function networkReason(error: unknown): string {
  let reason = error instanceof Error ? error.message : String(error);
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (e.message && e.message !== 'fetch failed') reason = e.message;
    else if (typeof code === 'string') reason = code;
  }
  return clip(reason, 300);
}

/** `retry-after-ms` (OpenAI's), or `retry-after` in seconds or as an HTTP date; capped. */
export function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number(headers.get('retry-after-ms') ?? NaN);
  let wait = Number.isFinite(ms) && ms >= 0 ? ms : undefined;
  const header = headers.get('retry-after');
  if (wait === undefined && header !== null) {
    const seconds = Number(header);
    const date = Date.parse(header);
    if (header.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) wait = seconds * 1000;
    else if (Number.isFinite(date)) wait = Math.max(0, date - Date.now());
  }
  return wait === undefined ? undefined : Math.min(wait, RETRY_AFTER_MAX_MS);
}

export function backoff(tries: number): number {
  const base = Math.min(BACKOFF_BASE_MS * 2 ** (tries - 1), BACKOFF_MAX_MS);
  return base * (0.75 + Math.random() * 0.5);
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
