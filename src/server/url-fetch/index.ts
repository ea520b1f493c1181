export { describeReason, isForbiddenAddress } from './address-policy.js';
export {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_TIMEOUT_MS,
  fetchUrl,
  redactUrl,
} from './fetch-url.js';
export type { FetchUrlOptions, FetchUrlResult, LookupAll } from './fetch-url.js';
