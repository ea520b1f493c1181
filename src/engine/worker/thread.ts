import { Worker } from 'node:worker_threads';
import { PredictionError, type SibylError } from '../../core/errors.js';
import type { GenerateChunk } from '../types.js';
import type { FromWorker, ToWorker, WorkerSettings } from './protocol.js';

type Request = ToWorker extends infer M ? (M extends { job: number } ? Omit<M, 'job'> : never) : never;

/**
 * The worker's entry point: main.js beside this file. Under tsx (the tests run the sources) this
 * file is thread.ts and a worker does not inherit tsx's loader, so a two-line bootstrap registers
 * it first and then imports main.ts.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY: URL | string = FROM_SOURCE
  ? `import('tsx/esm/api').then((tsx) => tsx.register()).then(() => import(${JSON.stringify(new URL('./main.ts', import.meta.url).href)}));`
  : new URL('./main.js', import.meta.url);

/** How long closing waits for a thread to report that it stopped. */
const TERMINATE_WAIT_MS = 2000;

/**
 * One worker thread and the jobs it answers. Each request gets a job number; the promise settles
 * with the worker's reply. If the thread dies, every job it held fails with the reason, and
 * `onExit` lets the owner replace it.
 */
export class WorkerThread {
  private readonly worker: Worker;
  private readonly pending = new Map<
    number,
    {
      resolve: (m: FromWorker) => void;
      reject: (e: SibylError) => void;
      onChunk: ((chunk: GenerateChunk) => void) | undefined;
    }
  >();
  private nextJob = 1;
  private exited = false;
  /** Settles when the thread has exited, however it ended. */
  private readonly gone: Promise<void>;

  constructor(
    readonly id: number,
    settings: WorkerSettings,
    private readonly onExit: (thread: WorkerThread, reason: string) => void,
  ) {
    this.worker = new Worker(ENTRY, { eval: FROM_SOURCE, workerData: settings, name: `sibyl-engine-${id}` });
    this.worker.unref();
    this.worker.on('message', (msg: FromWorker) => {
      const waiter = this.pending.get(msg.job);
      if (!waiter) return;
      if (msg.op === 'chunk') return waiter.onChunk?.(msg.chunk);
      this.pending.delete(msg.job);
      this.updateRef();
      waiter.resolve(msg);
    });
    this.worker.on('error', (error) => this.died(`it threw ${error.message}`));
    this.worker.on('exit', (code) => this.died(`it exited with code ${code}`));
    this.gone = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  get alive(): boolean {
    return !this.exited;
  }

  /**
   * Sends a request; resolves with the final reply. Returns the job number through `onJob` for
   * aborts; a generation's pieces arrive through `onChunk` before the promise settles.
   */
  request(
    msg: Request,
    onJob?: (job: number) => void,
    onChunk?: (chunk: GenerateChunk) => void,
  ): Promise<FromWorker> {
    if (this.exited) return Promise.reject(new PredictionError(`engine worker ${this.id} has stopped`));
    const job = this.nextJob++;
    onJob?.(job);
    return new Promise((resolve, reject) => {
      this.pending.set(job, { resolve, reject, onChunk });
      this.updateRef();
      this.worker.postMessage({ ...msg, job } as ToWorker);
    });
  }

  abort(job: number): void {
    if (!this.exited) this.worker.postMessage({ op: 'abort', job } satisfies ToWorker);
  }

  async terminate(): Promise<void> {
    this.exited = true;
    void this.worker.terminate().catch(() => undefined);
    // Waits on our own record of the thread's exit, with a deadline: a thread stopped while it
    // is still importing its modules sometimes never reports back through terminate()'s promise
    // (seen on Node 20), and a CLI closing its engine must not wait on it, or find its event
    // loop empty and end with an unsettled await. The timer holds the process open meanwhile.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.gone,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, TERMINATE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    this.worker.unref();
    this.failAll('the engine is shutting down');
  }

  /** A thread with work in flight keeps the process alive; an idle one does not hold it open. */
  private updateRef(): void {
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private died(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    this.failAll(
      `engine worker ${this.id} stopped unexpectedly (${reason}); it is being replaced and the model reloads on the next request`,
    );
    void this.worker.terminate();
    this.onExit(this, reason);
  }

  private failAll(reason: string): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject(new PredictionError(reason));
  }
}
