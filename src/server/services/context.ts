import type { Engine } from '../../engine/index.js';
import type { Scope, Store } from '../../store/index.js';
import type { RunnerQueue } from '../../store/queue/index.js';
import type { DownloadQueue } from '../url-fetch/download-queue.js';
import type { KeyThrottle } from './key-throttle.js';

export interface ServiceOptions {
  /** Let URL inputs reach loopback/private/link-local addresses (off for a listening server). */
  allowPrivateUrls: boolean;
  /** Largest URL input the server downloads. */
  maxUrlBytes: number;
  /** Whole-download limit for one URL input, redirects included. */
  urlTimeoutMs: number;
  /** All URL downloads of one request together must finish within this (ms). */
  urlRequestTimeoutMs: number;
  /** Bytes all URL inputs of one request may download together. */
  maxRequestUrlBytes: number;
  /** URL downloads running at once, server-wide; 64 times as many may wait, then 429. */
  urlDownloads: number;
  /** Bytes one model upload (all its files) may hold. */
  maxUploadBytes: number;
  /** Requests a second each key may send (bursts of twice that); 0: no limit. */
  keyRequestsPerSecond: number;
}

/** Everything the service functions need; the REST routes and (later) gRPC handlers share one. */
export interface ServiceContext {
  store: Store;
  engine: Engine;
  options: ServiceOptions;
  /** The data directory: uploaded model files live under it. Absent for an app without one (tests). */
  dataDir?: string;
  /** Per-key rate limits, when `options.keyRequestsPerSecond` sets one. */
  throttle?: KeyThrottle;
  /** The server-wide queue every URL input downloads through. */
  downloads: DownloadQueue;
  /** The work queue to runners of `runners` nodepools (in this process, or in Postgres). */
  runners: RunnerQueue;
}

/** Who is calling, once authenticated. */
export interface Caller {
  userId: string;
  /** The PAT's id; absent for the embedded local user. */
  keyId?: string;
  /** What the key may do; absent means everything (the embedded local user, in-process calls). */
  scopes?: readonly Scope[];
}

export const DEFAULT_SERVICE_OPTIONS: ServiceOptions = {
  allowPrivateUrls: false,
  maxUrlBytes: 20 * 1024 * 1024,
  urlTimeoutMs: 15_000,
  urlRequestTimeoutMs: 60_000,
  maxRequestUrlBytes: 64 * 1024 * 1024,
  urlDownloads: 16,
  maxUploadBytes: 8 * 1024 ** 3,
  keyRequestsPerSecond: 0,
};
