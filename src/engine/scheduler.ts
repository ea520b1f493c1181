import { BusyError, SibylError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import type { InferenceParams } from '../core/wire.js';
import { modelName, versionKey, type ModelSpec } from './spec.js';
import type { EngineInput, GenerateChunk } from './types.js';
import { fromWireError } from './worker/errors.js';
import type { FromWorker, Outcome, RunTimings, WorkerSettings } from './worker/protocol.js';

export type { LoadedModelStatus } from './pool.js';
import { WorkerPool, type LoadedModelStatus, type Slot } from './pool.js';
import { ewma, missing, ModelQueue, type Item, type Job } from './scheduler-queue.js';

export interface SchedulerOptions extends WorkerSettings {
  /** Worker threads at most; they start on demand. */
  workers: number;
  /** Inputs waiting per model (not yet running); past it, MODEL_BUSY_PLEASE_RETRY. */
  maxQueuedInputs: number;
  /** Estimated bytes of loaded models across all workers; past it, the least recently used unload. */
  memoryBudgetBytes: number;
  /** A model unused this long is unloaded from every worker (0: never). */
  idleUnloadMs: number;
  /** Off: every input runs alone, whatever the model's batching settings (for benchmarks). */
  batching: boolean;
  /**
   * One extra thread for cheap models (recent cost under EXPRESS_MAX_MS per input) when every
   * worker is busy: a text request then waits microseconds, not for an image batch to finish.
   */
  expressLane: boolean;
  onRun?: (spec: ModelSpec, inputs: number, timings: RunTimings) => void;
  onLoad?: (spec: ModelSpec, ms: number) => void;
}

interface ControlJob {
  spec: ModelSpec;
  op: 'validate' | 'load';
  resolve: (reply: FromWorker) => void;
  reject: (error: unknown) => void;
}

export interface SchedulerStatus {
  /** Worker threads running (the express lane's not counted). */
  workers: number;
  /** Whether the express lane's thread is running. */
  express: boolean;
  maxWorkers: number;
  loaded: LoadedModelStatus[];
  queued: { key: string; spec: ModelSpec; inputs: number; running: number }[];
  memoryBudgetBytes: number;
}

/**
 * Decides what runs next (learned from ollama's scheduler and Triton's dynamic batcher): a
 * bounded queue per model version; batches of up to `max_batch_size` inputs with equal params,
 * waiting at most `max_wait_ms` to fill; the model served longest ago goes first when a worker
 * frees up, so a cheap model never waits behind a whole queue of an expensive one, and while every
 * worker is busy a cheap model takes the express lane; a caller that leaves takes its inputs out of
 * the queue. Where work runs (threads, memory budget, idle unload) is the WorkerPool's business.
 * HTTP never reaches in here: callers submit inputs and await outcomes.
 */
export class Scheduler {
  private readonly pool: WorkerPool;
  private readonly queues = new Map<string, ModelQueue>();
  private readonly control: ControlJob[] = [];
  /** The batch each busy worker is running (control jobs have none). */
  private readonly jobs = new Map<Slot, Job>();
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.pool = new WorkerPool(
      {
        workers: opts.workers,
        expressLane: opts.expressLane,
        memoryBudgetBytes: opts.memoryBudgetBytes,
        idleUnloadMs: opts.idleUnloadMs,
        settings: { maxImagePixels: opts.maxImagePixels, warmUp: opts.warmUp },
      },
      () => this.pump(),
    );
  }

  /** Queues a request's inputs; resolves with one outcome per input, in order. */
  submit(
    spec: ModelSpec,
    inputs: readonly EngineInput[],
    params: InferenceParams,
    signal?: AbortSignal,
  ): Promise<(Outcome | SibylError)[]> {
    return Promise.all(this.enqueue(spec, inputs, params, signal));
  }

  /**
   * Queues one input's generation. Its pieces go to `onChunk` as the worker sends them; the
   * promise settles when it is over: undefined, or the error that ended it.
   */
  async generate(
    spec: ModelSpec,
    input: EngineInput,
    params: InferenceParams,
    signal: AbortSignal | undefined,
    onChunk: (chunk: GenerateChunk) => void,
  ): Promise<SibylError | undefined> {
    const [done] = this.enqueue(spec, [input], params, signal, onChunk);
    const outcome = await done!;
    if (outcome instanceof SibylError) return outcome;
    return 'error' in outcome ? fromWireError(outcome.error) : undefined;
  }

  private enqueue(
    spec: ModelSpec,
    inputs: readonly EngineInput[],
    params: InferenceParams,
    signal: AbortSignal | undefined,
    stream?: (chunk: GenerateChunk) => void,
  ): Promise<Outcome | SibylError>[] {
    if (this.closed) throw new SibylError(StatusCode.TRY_AGAIN, 'Try again', 'the engine is shutting down');
    const key = versionKey(spec);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new ModelQueue(spec);
      this.queues.set(key, queue);
    }
    queue.spec = spec;
    if (queue.items.length + inputs.length > this.opts.maxQueuedInputs) throw this.busy(queue, inputs.length);
    // a generation never shares a batch: the marker keeps it apart from predicts with equal params
    const paramsKey = (stream ? 'generate:' : '') + JSON.stringify(params);
    const now = performance.now();
    const promises = inputs.map(
      (input) =>
        new Promise<Outcome | SibylError>((resolve) => {
          const item: Item = {
            input,
            params,
            paramsKey,
            enqueued: now,
            signal,
            settled: false,
            settle: (outcome) => {
              if (item.settled) return;
              item.settled = true;
              resolve(outcome);
            },
            ...(stream ? { stream } : {}),
          };
          queue.items.push(item);
        }),
    );
    if (signal) {
      const onAbort = () => this.abandon(queue, signal);
      signal.addEventListener('abort', onAbort, { once: true });
      void Promise.all(promises).finally(() => signal.removeEventListener('abort', onAbort));
    }
    this.pump();
    return promises;
  }

  /** Runs a runtime's folder check in a worker (loading weights is heavy work too). */
  async validate(spec: ModelSpec): Promise<ModelSpec> {
    const reply = await this.controlJob(spec, 'validate');
    if (reply.op !== 'validated') throw new Error(`unexpected reply ${reply.op}`);
    return reply.spec;
  }

  /** Loads a model on a worker ahead of its first request. */
  async load(spec: ModelSpec): Promise<void> {
    await this.controlJob(spec, 'load');
  }

  status(): SchedulerStatus {
    return {
      workers: this.pool.workers(),
      express: this.pool.hasExpress(),
      maxWorkers: this.opts.workers,
      loaded: this.pool.loadedModels(),
      queued: [...this.queues].map(([key, q]) => ({
        key,
        spec: q.spec,
        inputs: q.items.length,
        running: q.running,
      })),
      memoryBudgetBytes: this.opts.memoryBudgetBytes,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const gone = new SibylError(StatusCode.TRY_AGAIN, 'Try again', 'the engine is shutting down');
    for (const queue of this.queues.values()) for (const item of queue.items.splice(0)) item.settle(gone);
    for (const job of this.control.splice(0)) job.reject(gone);
    await this.pool.close();
  }

  // -----------------------------------------------------------------------------------------

  private controlJob(spec: ModelSpec, op: ControlJob['op']): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      this.control.push({ spec, op, resolve, reject });
      this.pump();
    });
  }

  /**
   * MODEL_BUSY_PLEASE_RETRY with a Retry-After from the work ahead: inputs queued and running,
   * times the recent cost of one input, spread over the workers.
   */
  private busy(queue: ModelQueue, adding: number): BusyError {
    const ahead = queue.items.length + queue.running;
    const perInput = queue.msPerInput ?? 100;
    const seconds = Math.min(600, Math.max(1, Math.ceil((ahead * perInput) / this.opts.workers / 1000)));
    return new BusyError(
      `${queue.items.length} inputs are waiting for model ${modelName(queue.spec)} and this request adds ${adding}; ` +
        `at most ${this.opts.maxQueuedInputs} may wait. Retry in about ${seconds} s`,
      seconds,
    );
  }

  /** The caller has gone: its queued inputs leave the queue; a batch nobody waits for is stopped. */
  private abandon(queue: ModelQueue, signal: AbortSignal): void {
    const gone = new SibylError(StatusCode.TRY_AGAIN, 'Try again', 'the request was cancelled');
    for (let i = queue.items.length - 1; i >= 0; i--) {
      const item = queue.items[i]!;
      if (item.signal === signal) {
        queue.items.splice(i, 1);
        item.settle(gone);
      }
    }
    for (const slot of this.pool.all()) {
      const job = this.jobs.get(slot);
      if (job?.number !== undefined && job.items.every((item) => item.signal?.aborted)) {
        slot.thread.abort(job.number);
      }
    }
  }

  /** Gives idle workers work until there is no idle worker or no work that is ready. */
  private pump(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (;;) {
      const regular = this.pool.regularFree();
      if (!regular && !this.pool.expressFree()) return;
      const control = regular ? this.control.shift() : undefined;
      if (control) {
        this.runControl(this.pool.take(control.spec)!, control);
        continue;
      }
      // with every worker busy, only a cheap model may go, to the express lane; a model being
      // preloaded waits for that worker rather than loading a second copy from cold
      const queue = this.nextQueue(
        regular ? (q) => !this.pool.preloading(versionKey(q.spec)) : (q) => this.isCheap(q),
      );
      if (!queue) return;
      const batch = this.takeBatch(queue);
      if (batch.length === 0) continue;
      this.runBatch(regular ? this.pool.take(queue.spec)! : this.pool.takeExpress(queue.spec), queue, batch);
    }
  }

  private isCheap(queue: ModelQueue): boolean {
    return queue.msPerInput !== undefined && queue.msPerInput <= EXPRESS_MAX_MS;
  }

  /**
   * The ready queue served longest ago. A queue is ready when its batch is full or its oldest
   * input has waited max_wait_ms; otherwise a timer comes back when the first one will be.
   */
  private nextQueue(eligible?: (queue: ModelQueue) => boolean): ModelQueue | undefined {
    const now = performance.now();
    let best: ModelQueue | undefined;
    let wake = Infinity;
    for (const queue of this.queues.values()) {
      if (queue.items.length === 0 || (eligible && !eligible(queue))) continue;
      const { max_batch_size, max_wait_ms } = this.batching(queue.spec);
      const due = queue.items[0]!.enqueued + max_wait_ms;
      if (queue.items.length >= max_batch_size || due <= now) {
        if (!best || queue.lastServed < best.lastServed) best = queue;
      } else {
        wake = Math.min(wake, due);
      }
    }
    if (!best && wake < Infinity) this.timer = setTimeout(() => this.pump(), Math.max(0, wake - now));
    if (best) best.lastServed = ++this.tick;
    return best;
  }

  private batching(spec: ModelSpec) {
    return this.opts.batching ? spec.batching : { max_batch_size: 1, max_wait_ms: 0 };
  }

  /** Up to max_batch_size inputs with the same params as the oldest, in arrival order; a generation alone. */
  private takeBatch(queue: ModelQueue): Item[] {
    const head = queue.items[0]!;
    const max_batch_size = head.stream ? 1 : this.batching(queue.spec).max_batch_size;
    const batch: Item[] = [];
    for (let i = 0; i < queue.items.length && batch.length < max_batch_size;) {
      const item = queue.items[i]!;
      if (item.paramsKey === head.paramsKey) {
        queue.items.splice(i, 1);
        batch.push(item);
      } else i++;
    }
    return batch;
  }

  private runBatch(slot: Slot, queue: ModelQueue, items: Item[]): void {
    const spec = queue.spec;
    const key = versionKey(spec);
    const job: Job = { key, items };
    this.jobs.set(slot, job);
    slot.running = key;
    queue.running += items.length;
    const first = items[0]!;
    slot.thread
      .request(
        first.stream
          ? { op: 'generate', spec, input: first.input, params: first.params }
          : { op: 'run', spec, inputs: items.map((i) => i.input), params: first.params },
        (n) => (job.number = n),
        first.stream,
      )
      .then(
        (reply) => {
          if (reply.op === 'generated') {
            this.pool.noteLoaded(slot, spec, reply.bytes);
            this.opts.onRun?.(spec, 1, reply.timings);
            if (reply.timings.loadMs !== undefined) this.opts.onLoad?.(spec, reply.timings.loadMs);
            first.settle({ data: {} });
          } else if (reply.op === 'ran') {
            this.pool.noteLoaded(slot, spec, reply.bytes);
            const ms = reply.timings.decodeMs + reply.timings.predictMs;
            queue.msPerInput = ewma(queue.msPerInput, ms / items.length);
            this.opts.onRun?.(spec, items.length, reply.timings);
            if (reply.timings.loadMs !== undefined) this.opts.onLoad?.(spec, reply.timings.loadMs);
            items.forEach((item, i) => item.settle(reply.outcomes[i] ?? missing()));
          } else if (reply.op === 'failed') {
            const error = fromWireError(reply.error);
            this.pool.forget(slot, key);
            if (reply.fatal) this.pool.retire(slot);
            for (const item of items) item.settle(error);
          }
        },
        (error: SibylError) => {
          for (const item of items) item.settle(error);
        },
      )
      .finally(() => {
        queue.running -= items.length;
        this.release(slot);
      });
  }

  private runControl(slot: Slot, job: ControlJob): void {
    if (job.op === 'load') slot.loading = versionKey(job.spec);
    slot.thread
      .request(job.op === 'load' ? { op: 'load', spec: job.spec } : { op: 'validate', spec: job.spec })
      .then((reply) => {
        if (reply.op === 'failed') return job.reject(fromWireError(reply.error));
        if (reply.op === 'loaded') {
          this.pool.noteLoaded(slot, job.spec, reply.bytes);
          this.opts.onLoad?.(job.spec, reply.ms);
        }
        job.resolve(reply);
      }, job.reject)
      .finally(() => this.release(slot));
  }

  private release(slot: Slot): void {
    this.pool.release(slot);
    this.jobs.delete(slot);
    this.pump();
  }
}

/** A model whose inputs recently took at most this long each may use the express lane. */
export const EXPRESS_MAX_MS = 10;
