import { InvalidArgumentError, LimitError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { checkRawText, decodeTextBytes } from '../../core/text-bytes.js';
import type { EngineInput } from '../../engine/index.js';
import { fetchUrl } from '../url-fetch/index.js';
import type { ServiceContext } from './context.js';
import type { InputSource } from './request-shape.js';

// Standard or URL-safe alphabet, padding, and line breaks (Node's decoder skips whitespace): one
// pass over what may be megabytes, instead of stripping whitespace first.
// Whitespace after padding is only matched after an '=', so no input makes it backtrack badly.
const BASE64 = /^[A-Za-z0-9+/_\s-]*(?:=\s*){0,2}$/;

/**
 * Turns an input's media (raw text, base64 or a URL the server fetches) into engine input; a URL
 * is fetched through `download` (the request's place in the server-wide download queue).
 */
async function toEngineInput(
  ctx: ServiceContext,
  src: InputSource,
  where: string,
  signal: AbortSignal,
  download: (fetch: () => Promise<Uint8Array>) => Promise<Uint8Array>,
): Promise<EngineInput> {
  let bytes: Uint8Array;
  if (src.raw !== undefined) {
    checkRawText(src.raw, `${where}.data.text.raw`);
    return { type: 'text', text: src.raw };
  }
  if (src.base64 !== undefined) {
    if (!BASE64.test(src.base64)) {
      throw new InvalidArgumentError(
        `${where}.data.${src.type}.base64 is not valid base64`,
        StatusCode.INPUT_INVALID_ARGUMENT,
      );
    }
    bytes = Buffer.from(src.base64, 'base64');
  } else {
    bytes = await download(async () => {
      const fetched = await fetchUrl(src.url!, {
        allowPrivate: ctx.options.allowPrivateUrls,
        maxBytes: ctx.options.maxUrlBytes,
        timeoutMs: ctx.options.urlTimeoutMs,
        signal,
      });
      return fetched.bytes;
    });
  }
  if (bytes.byteLength === 0) {
    throw new InvalidArgumentError(`${where}.data.${src.type} is empty`, StatusCode.INPUT_INVALID_ARGUMENT);
  }
  if (src.type === 'text') {
    // UTF-8 only (a byte-order mark honoured); a JPEG or UTF-16 file sent as text is refused, named
    const text = decodeTextBytes(bytes, `${where}.data.text`);
    checkRawText(text, `${where}.data.text`);
    return { type: 'text', text };
  }
  return { type: src.type, bytes, ...(src.prompt !== undefined ? { text: src.prompt } : {}) };
}

/** URL downloads of one request run this many at a time. */
const FETCH_CONCURRENCY = 4;

/**
 * All inputs of a request as engine input, in order. URLs are fetched a few at a time, through the
 * server-wide download queue (a request that would overfill its waiting line is refused busy before
 * anything downloads), with the request's downloads capped in total (so 128 URLs cannot pull
 * 128 x 20 MiB into memory), and the rest are cancelled as soon as one fails.
 */
export async function toEngineInputs(
  ctx: ServiceContext,
  sources: readonly InputSource[],
  signal?: AbortSignal,
): Promise<EngineInput[]> {
  const out = new Array<EngineInput>(sources.length);
  const abort = new AbortController();
  let firstError: unknown;
  // the caller going away cancels its downloads too
  signal?.addEventListener('abort', () => abort.abort(), { once: true });
  // one deadline for all of the request's downloads, so 128 slow URLs cannot hold it for minutes
  const deadlineMs = ctx.options.urlRequestTimeoutMs;
  const urls = sources.filter((s) => s.url !== undefined).length;
  const ticket = ctx.downloads.admit(urls);
  const download = (fetch: () => Promise<Uint8Array>) => ticket.run(fetch, abort.signal);
  const deadline =
    urls > 0
      ? setTimeout(() => {
          if (abort.signal.aborted) return;
          firstError = new SibylError(
            StatusCode.INPUT_CONNECTION_FAILED,
            'Could not fetch URL',
            `the URL inputs of one request must download within ${deadlineMs / 1000} s in total`,
          );
          abort.abort();
        }, deadlineMs)
      : undefined;
  const budget = ctx.options.maxRequestUrlBytes;
  let downloaded = 0;
  let next = 0;
  const worker = async () => {
    while (next < sources.length && !abort.signal.aborted) {
      const i = next++;
      const input = await toEngineInput(ctx, sources[i]!, `inputs[${i}]`, abort.signal, download);
      if (sources[i]!.url !== undefined) {
        downloaded += input.type === 'text' ? Buffer.byteLength(input.text) : input.bytes.byteLength;
        if (downloaded > budget) {
          throw new LimitError(
            StatusCode.INPUT_OVER_LIMIT,
            'Request too large',
            `the URL inputs of one request may download at most ${Math.round(budget / 1048576)} MiB in total`,
          );
        }
      }
      out[i] = input;
    }
  };
  const workers = Array.from({ length: Math.min(FETCH_CONCURRENCY, sources.length) }, () =>
    worker().catch((err: unknown) => {
      // the first failure is the one to report; the downloads it cancels fail after it
      if (!abort.signal.aborted) firstError = err;
      abort.abort();
    }),
  );
  await Promise.all(workers);
  clearTimeout(deadline);
  ticket.release();
  if (abort.signal.aborted) throw firstError;
  return out;
}
