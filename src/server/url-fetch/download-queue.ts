import { BusyError } from '../../core/errors.js';

export interface DownloadQueueLimits {
  /** URL downloads running at once, server-wide. */
  concurrency: number;
  /** URL downloads that may wait for a slot; past it a request is refused as busy. */
  maxWaiting: number;
}

/**
 * Downloads that may wait per slot: with the default 16 slots, 1,024 (eight requests of 128 URLs),
 * which at a typical download time of well under a second waits seconds, not minutes.
 */
export const DOWNLOADS_WAITING_PER_SLOT = 64;

export interface DownloadQueueStatus {
  active: number;
  waiting: number;
}

export interface DownloadTicket {
  /** Runs one of the admitted downloads when a slot is free; `signal` gives up its place. */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  release(): void;
}

/** Called with the slot it is handed. */
type Waiter = () => void;

/**
 * The server-wide queue of URL downloads. Each request already fetches its own URLs a few at a
 * time with one deadline, but without this many requests together could open any number of
 * downloads (each up to 20 MiB in memory). Here they share a fixed number of slots; a request
 * whose URLs would take the waiting line past its cap is refused at once (429, Retry-After),
 * before it downloads anything, like the engine's own queue when it is full.
 */
export class DownloadQueue {
  private active = 0;
  private readonly line: Waiter[] = [];
  /** Slots promised to requests admitted but not yet downloading. */
  private reserved = 0;
  /** Mean seconds a download held its slot, for Retry-After. */
  private meanSeconds = 1;

  constructor(readonly limits: DownloadQueueLimits) {}

  /**
   * Admits a request with `count` URLs, or throws BusyError when they do not fit in the waiting
   * line. Each URL then downloads through the ticket's `run`; `release` gives back the places of
   * those never run (the request failed early), and is safe to call more than once.
   */
  admit(count: number): DownloadTicket {
    const free = Math.max(0, this.limits.concurrency - this.active);
    const queued = this.line.length + this.reserved;
    // with nothing waiting a request is always admitted, however many URLs it has (up to 128),
    // so a small --url-downloads never refuses one for good
    if (count > 0 && queued > 0 && queued + count - free > this.limits.maxWaiting) {
      const ahead = queued + count - free;
      const seconds = Math.max(1, Math.ceil((ahead / this.limits.concurrency) * this.meanSeconds));
      throw new BusyError(
        `${queued} URL downloads are already waiting for one of the server's ${this.limits.concurrency} download slots (at most ${this.limits.maxWaiting} may wait)`,
        seconds,
      );
    }
    let left = count;
    this.reserved += left;
    return {
      run: async (fn, signal) => {
        if (left > 0) {
          left--;
          this.reserved--;
        }
        return this.runInSlot(fn, signal);
      },
      release: () => {
        this.reserved -= left;
        left = 0;
      },
    };
  }

  private async runInSlot<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.active >= this.limits.concurrency) await this.wait(signal);
    else this.active++;
    const started = performance.now();
    try {
      return await fn();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.meanSeconds = 0.9 * this.meanSeconds + 0.1 * seconds;
      const next = this.line.shift();
      // the slot passes straight to the next in line, so `active` never dips and rises again
      if (next) next();
      else this.active--;
    }
  }

  /** Waiting: admitted and not yet downloading (in line for a slot, or not yet asked for one). */
  status(): DownloadQueueStatus {
    return { active: this.active, waiting: this.line.length + this.reserved };
  }

  private wait(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.line.indexOf(waiter);
        if (i >= 0) this.line.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(waiter);
    });
  }
}
