import { ThrottledError } from '../../core/errors.js';

/** Buckets kept at most; past it, full (idle) ones are dropped first, so many keys cannot grow memory. */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Per-key rate limits: a token bucket per PAT, refilled at `perSecond` up to `burst`. A key that
 * has spent its bucket is refused with 429 and the seconds until it has a request again. Every
 * transport authenticates through services/auth.ts, which takes from here, so REST, gRPC and
 * gRPC-web share one budget per key.
 */
export class KeyThrottle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(keyId: string): void {
    const now = this.now();
    let bucket = this.buckets.get(keyId);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.prune(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(keyId, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const seconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
    throw new ThrottledError(
      `this key may send ${this.perSecond} request${this.perSecond === 1 ? '' : 's'} a second (bursts of ${this.burst}); retry in about ${seconds} s`,
      seconds,
    );
  }

  /** Drops buckets that have refilled (their keys are idle): they would start full anyway. */
  private prune(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
  }
}
