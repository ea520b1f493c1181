import { BusyError, SibylError } from '../core/errors.js';
import { StatusCode } from '../core/status.js';
import type { InferenceParams } from '../core/wire.js';
import { modelName, versionKey, type ModelSpec } from './spec.js';
import type { EngineInput } from './types.js';
import { fromWireError } from './worker/errors.js';
import type { FromWorker, Outcome, RunTimings, WorkerSettings } from './worker/protocol.js';
import { WorkerThread } from './worker/thread.js';

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

/** One input waiting for, or running on, a worker. */
interface Item {
  input: EngineInput;
  params: InferenceParams;
  paramsKey: string;
  enqueued: number;
  signal: AbortSignal | undefined;
  settle: (outcome: Outcome | SibylError) => void;
  settled: boolean;
  job?: Job;
}

interface Job {
  key: string;
  items: Item[];
  number?: number;
}

/** A model version's queue and what is known of its cost. */
class ModelQueue {
  readonly items: Item[] = [];
  running = 0;
  /** When this model was last given a worker (a counter, not a clock): the fairness order. */
  lastServed = 0;
  /** Recent service time per input in ms (moving average), for Retry-After. */
  msPerInput: number | undefined;
  constructor(public spec: ModelSpec) {}
}

interface Loaded {
  spec: ModelSpec;
  bytes: number;
  lastUsed: number;
}

/** A worker thread and what the scheduler knows of it. */
interface Slot {
  thread: WorkerThread;
  busy: boolean;
  /** The express lane's thread: takes only cheap models, and only when every worker is busy. */
  express: boolean;
  /** The model version a load job (a preload) is loading here right now. */
  loading?: string;
  loaded: Map<string, Loaded>;
}

interface ControlJob {
  spec: ModelSpec;
  op: 'validate' | 'load';
  resolve: (reply: FromWorker) => void;
  reject: (error: unknown) => void;
}

export interface LoadedModelStatus {
  key: string;
  spec: ModelSpec;
  workers: number;
  bytes: number;
}

export interface SchedulerStatus {
  /** Worker threads running (the express lane's not counted). */
  workers: number;
  /** Whether the express lane's thread is running. */
  express: boolean;
  maxWorkers: number;
  loaded: LoadedModelStatus[];
  queued: { key: string; inputs: number; running: number }[];
  memoryBudgetBytes: number;
}

/**
 * Owns the worker threads and decides what runs where (learned from ollama's scheduler and
 * Triton's dynamic batcher): a bounded queue per model version; batches of up to
 * `max_batch_size` inputs with equal params, waiting at most `max_wait_ms` to fill; the model
 * served longest ago goes first when a worker frees up, so a cheap model never waits behind a
 * whole queue of an expensive one; a worker that already holds the model is preferred; a memory
 * budget unloads the least recently used model; idle models unload; a dead worker is replaced.
 * HTTP never reaches in here: callers submit inputs and await outcomes.
 */
export class Scheduler {
  private readonly slots: Slot[] = [];
  private readonly queues = new Map<string, ModelQueue>();
  private readonly control: ControlJob[] = [];
  /** The batch each busy worker is running (control jobs have none). */
  private readonly jobs = new Map<Slot, Job>();
  /** Bytes a model version took when last loaded anywhere: the estimate for the next load. */
  private readonly knownBytes = new Map<string, number>();
  private tick = 0;
  private nextThreadId = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: SchedulerOptions) {
    if (opts.idleUnloadMs > 0) {
      this.idleTimer = setInterval(() => this.unloadIdle(), Math.min(opts.idleUnloadMs, 30_000));
      this.idleTimer.unref();
    }
  }

  /** Queues a request's inputs; resolves with one outcome per input, in order. */
  submit(
    spec: ModelSpec,
    inputs: readonly EngineInput[],
    params: InferenceParams,
    signal?: AbortSignal,
  ): Promise<(Outcome | SibylError)[]> {
    if (this.closed)
      return Promise.reject(new SibylError(StatusCode.TRY_AGAIN, 'Try again', 'the engine is shutting down'));
    const key = versionKey(spec);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new ModelQueue(spec);
      this.queues.set(key, queue);
    }
    queue.spec = spec;
    if (queue.items.length + inputs.length > this.opts.maxQueuedInputs) throw this.busy(queue, inputs.length);
    const paramsKey = JSON.stringify(params);
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
    return Promise.all(promises);
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
    const loaded = new Map<string, LoadedModelStatus>();
    for (const slot of this.slots) {
      for (const [key, model] of slot.loaded) {
        const entry = loaded.get(key) ?? { key, spec: model.spec, workers: 0, bytes: 0 };
        entry.workers += 1;
        entry.bytes += model.bytes;
        loaded.set(key, entry);
      }
    }
    return {
      workers: this.regular().length,
      express: this.slots.some((slot) => slot.express),
      maxWorkers: this.opts.workers,
      loaded: [...loaded.values()],
      queued: [...this.queues].map(([key, q]) => ({ key, inputs: q.items.length, running: q.running })),
      memoryBudgetBytes: this.opts.memoryBudgetBytes,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.idleTimer);
    const gone = new SibylError(StatusCode.TRY_AGAIN, 'Try again', 'the engine is shutting down');
    for (const queue of this.queues.values()) for (const item of queue.items.splice(0)) item.settle(gone);
    for (const job of this.control.splice(0)) job.reject(gone);
    await Promise.all(this.slots.splice(0).map((slot) => slot.thread.terminate()));
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
    for (const slot of this.slots) {
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
      const regular = this.regularFree();
      if (!regular && !this.expressFree()) return;
      const control = regular ? this.control.shift() : undefined;
      if (control) {
        this.runControl(this.takeSlot(control.spec)!, control);
        continue;
      }
      // with every worker busy, only a cheap model may go, to the express lane; a model being
      // preloaded waits for that worker rather than loading a second copy from cold
      const queue = this.nextQueue(regular ? (q) => !this.preloading(q) : (q) => this.isCheap(q));
      if (!queue) return;
      const batch = this.takeBatch(queue);
      if (batch.length === 0) continue;
      this.runBatch(regular ? this.takeSlot(queue.spec)! : this.takeExpressSlot(queue.spec), queue, batch);
    }
  }

  private regular(): Slot[] {
    return this.slots.filter((slot) => !slot.express);
  }

  private regularFree(): boolean {
    const regular = this.regular();
    return regular.length < this.opts.workers || regular.some((slot) => !slot.busy);
  }

  private expressFree(): boolean {
    if (!this.opts.expressLane) return false;
    const express = this.slots.find((slot) => slot.express);
    return !express || !express.busy;
  }

  private preloading(queue: ModelQueue): boolean {
    const key = versionKey(queue.spec);
    if (!this.slots.some((slot) => slot.loading === key)) return false;
    return !this.slots.some((slot) => !slot.busy && !slot.express && slot.loaded.has(key));
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

  /** Up to max_batch_size inputs with the same params as the oldest, in arrival order. */
  private takeBatch(queue: ModelQueue): Item[] {
    const { max_batch_size } = this.batching(queue.spec);
    const head = queue.items[0]!;
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

  /**
   * An idle worker for this model: one that holds it already, else the idle one holding least,
   * else a new thread. Marked busy before returning.
   */
  private takeSlot(spec: ModelSpec): Slot | undefined {
    const key = versionKey(spec);
    const regular = this.regular();
    const idle = regular.filter((slot) => !slot.busy);
    const slot =
      idle.find((s) => s.loaded.has(key)) ??
      (regular.length < this.opts.workers ? this.spawn(false) : undefined) ??
      idle.sort((a, b) => held(a) - held(b))[0];
    if (!slot) return undefined;
    return this.occupy(slot, key);
  }

  /** The express lane's thread, started on first use. */
  private takeExpressSlot(spec: ModelSpec): Slot {
    return this.occupy(this.slots.find((slot) => slot.express) ?? this.spawn(true), versionKey(spec));
  }

  private occupy(slot: Slot, key: string): Slot {
    slot.busy = true;
    if (!slot.loaded.has(key)) this.makeRoom(slot, key);
    return slot;
  }

  private spawn(express: boolean): Slot {
    const slot: Slot = {
      thread: undefined as unknown as WorkerThread,
      busy: false,
      express,
      loaded: new Map(),
    };
    const settings: WorkerSettings = { maxImagePixels: this.opts.maxImagePixels, warmUp: this.opts.warmUp };
    slot.thread = new WorkerThread(this.nextThreadId++, settings, () => this.replace(slot));
    this.slots.push(slot);
    return slot;
  }

  /** A worker whose state cannot be trusted (a wasm trap) leaves the pool at once and is stopped. */
  private retire(slot: Slot): void {
    this.replace(slot);
    void slot.thread.terminate();
  }

  /** A dead worker leaves the pool; its models are gone with it and load again where needed. */
  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    this.jobs.delete(slot);
    queueMicrotask(() => this.pump());
  }

  /**
   * Unloads least recently used models (on idle workers or the target) until the model `key` fits
   * beside the rest. `spare` is a model just loaded on the target, already counted.
   */
  private makeRoom(target: Slot, key: string, spare?: string): void {
    const need = spare ? 0 : (this.knownBytes.get(key) ?? 0);
    let total = this.slots.reduce((sum, slot) => sum + held(slot), 0);
    while (total + need > this.opts.memoryBudgetBytes) {
      let victim: { slot: Slot; key: string; model: Loaded } | undefined;
      for (const slot of this.slots) {
        if (slot.busy && slot !== target) continue;
        for (const [k, model] of slot.loaded) {
          if (slot === target && k === spare) continue;
          if (!victim || model.lastUsed < victim.model.lastUsed) victim = { slot, key: k, model };
        }
      }
      if (!victim) return; // nothing can be freed now: load anyway rather than refuse
      this.unloadFrom(victim.slot, victim.key);
      total -= victim.model.bytes;
    }
  }

  private unloadFrom(slot: Slot, key: string): void {
    slot.loaded.delete(key);
    void slot.thread.request({ op: 'unload', key }).catch(() => undefined);
  }

  private unloadIdle(): void {
    const cutoff = performance.now() - this.opts.idleUnloadMs;
    for (const slot of this.slots) {
      const running = this.jobs.get(slot)?.key;
      for (const [key, model] of slot.loaded) {
        if (model.lastUsed < cutoff && key !== running) this.unloadFrom(slot, key);
      }
    }
  }

  private runBatch(slot: Slot, queue: ModelQueue, items: Item[]): void {
    const spec = queue.spec;
    const key = versionKey(spec);
    const job: Job = { key, items };
    this.jobs.set(slot, job);
    queue.running += items.length;
    const first = items[0]!;
    slot.thread
      .request(
        { op: 'run', spec, inputs: items.map((i) => i.input), params: first.params },
        (n) => (job.number = n),
      )
      .then(
        (reply) => {
          if (reply.op === 'ran') {
            this.noteLoaded(slot, spec, reply.bytes);
            const ms = reply.timings.decodeMs + reply.timings.predictMs;
            queue.msPerInput = ewma(queue.msPerInput, ms / items.length);
            this.opts.onRun?.(spec, items.length, reply.timings);
            if (reply.timings.loadMs !== undefined) this.opts.onLoad?.(spec, reply.timings.loadMs);
            items.forEach((item, i) => item.settle(reply.outcomes[i] ?? missing()));
          } else if (reply.op === 'failed') {
            const error = fromWireError(reply.error);
            slot.loaded.delete(key);
            if (reply.fatal) this.retire(slot);
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
          this.noteLoaded(slot, job.spec, reply.bytes);
          this.opts.onLoad?.(job.spec, reply.ms);
        }
        job.resolve(reply);
      }, job.reject)
      .finally(() => this.release(slot));
  }

  private noteLoaded(slot: Slot, spec: ModelSpec, bytes: number): void {
    const key = versionKey(spec);
    const fresh = !slot.loaded.has(key);
    this.knownBytes.set(key, bytes);
    slot.loaded.set(key, { spec, bytes, lastUsed: performance.now() });
    // A model's size is known only once it has loaded: settle the budget now, sparing this one.
    if (fresh) this.makeRoom(slot, key, key);
  }

  private release(slot: Slot): void {
    if (!this.slots.includes(slot)) return this.pump();
    slot.busy = false;
    delete slot.loading;
    this.jobs.delete(slot);
    this.pump();
  }
}

/** A model whose inputs recently took at most this long each may use the express lane. */
export const EXPRESS_MAX_MS = 10;

function held(slot: Slot): number {
  let sum = 0;
  for (const model of slot.loaded.values()) sum += model.bytes;
  return sum;
}

function ewma(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous * 0.8 + sample * 0.2;
}

function missing(): SibylError {
  return new SibylError(
    StatusCode.MODEL_PREDICTION_FAILED,
    'Model prediction failed',
    'the worker returned no output for this input',
  );
}
