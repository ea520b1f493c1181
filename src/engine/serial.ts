/**
 * Runs async jobs one at a time, in call order. The tfjs wasm backend is single-threaded and
 * keeps global state, so overlapping `execute` calls only add memory and latency; queuing them
 * keeps one in flight. A failed job does not stop the ones queued after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
