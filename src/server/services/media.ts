import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { EngineInput } from '../../engine/index.js';
import { fetchUrl } from '../url-fetch/index.js';
import type { ServiceContext } from './context.js';
import type { InputSource } from './request-shape.js';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Turns an input's media (raw text, base64 or a URL the server fetches) into engine input. */
export async function toEngineInput(
  ctx: ServiceContext,
  src: InputSource,
  where: string,
): Promise<EngineInput> {
  let bytes: Uint8Array;
  if (src.raw !== undefined) return { type: 'text', text: src.raw };
  if (src.base64 !== undefined) {
    const compact = src.base64.replace(/\s+/g, '');
    if (!BASE64.test(compact)) {
      throw new InvalidArgumentError(
        `${where}.data.${src.type}.base64 is not valid base64`,
        StatusCode.INPUT_INVALID_ARGUMENT,
      );
    }
    bytes = Buffer.from(compact, 'base64');
  } else {
    const fetched = await fetchUrl(src.url!, {
      allowPrivate: ctx.options.allowPrivateUrls,
      maxBytes: ctx.options.maxUrlBytes,
      timeoutMs: ctx.options.urlTimeoutMs,
    });
    bytes = fetched.bytes;
  }
  if (bytes.byteLength === 0) {
    throw new InvalidArgumentError(`${where}.data.${src.type} is empty`, StatusCode.INPUT_INVALID_ARGUMENT);
  }
  if (src.type === 'text') return { type: 'text', text: Buffer.from(bytes).toString('utf8') };
  return { type: src.type, bytes };
}
