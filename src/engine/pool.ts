import { versionKey, type ModelSpec } from './spec.js';
import type { WorkerSettings } from './worker/protocol.js';
import { WorkerThread } from './worker/thread.js';

export interface PoolOptions {
  /** Worker threads at most (the express lane's not counted); they start on demand. */
  workers: number;
  /** One extra thread that takes cheap models while every worker is busy. */
  expressLane: boolean;
  /** Estimated bytes of loaded models across all threads; past it, the least recently used unload. */
  memoryBudgetBytes: number;
  /** A model unused this long is unloaded from every thread (0: never). */
  idleUnloadMs: number;
  settings: WorkerSettings;
}

interface Loaded {
  spec: ModelSpec;
  bytes: number;
  lastUsed: number;
}

/** A worker thread and what is known of it. */
export interface Slot {
  thread: WorkerThread;
  busy: boolean;
  /** The express lane's thread: takes only cheap models, and only when every worker is busy. */
  express: boolean;
  /** The model version a load job (a preload) is loading here right now. */
  loading?: string;
  /** The model version a batch is running on here right now. */
  running?: string;
  loaded: Map<string, Loaded>;
}

export interface LoadedModelStatus {
  key: string;
  spec: ModelSpec;
  workers: number;
  bytes: number;
}

/**
 * The worker threads and what each holds: which thread a model goes to (one that holds it
 * already, else a new thread while under the limit, else the idle one holding least), the memory
 * budget (least recently used models unload first), idle unloading, and replacing a thread that
 * died. The scheduler decides what runs next; the pool decides where.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  /** Bytes a model version took when last loaded anywhere: the estimate for the next load. */
  private readonly knownBytes = new Map<string, number>();
  private nextThreadId = 1;
  private readonly idleTimer: NodeJS.Timeout | undefined;

  /** `onFreed` is called when a dead thread has left the pool, so waiting work can go elsewhere. */
  constructor(
    private readonly opts: PoolOptions,
    private readonly onFreed: () => void,
  ) {
    if (opts.idleUnloadMs > 0) {
      this.idleTimer = setInterval(() => this.unloadIdle(), Math.min(opts.idleUnloadMs, 30_000));
      this.idleTimer.unref();
    }
  }

  all(): readonly Slot[] {
    return this.slots;
  }

  regularFree(): boolean {
    const regular = this.regular();
    return regular.length < this.opts.workers || regular.some((slot) => !slot.busy);
  }

  expressFree(): boolean {
    if (!this.opts.expressLane) return false;
    const express = this.slots.find((slot) => slot.express);
    return !express || !express.busy;
  }

  /** A thread is preloading this model and no idle worker holds it: better to wait for that one. */
  preloading(key: string): boolean {
    if (!this.slots.some((slot) => slot.loading === key)) return false;
    return !this.slots.some((slot) => !slot.busy && !slot.express && slot.loaded.has(key));
  }

  /** An idle worker for this model, marked busy; undefined when none is free. */
  take(spec: ModelSpec): Slot | undefined {
    const key = versionKey(spec);
    const regular = this.regular();
    const idle = regular.filter((slot) => !slot.busy);
    const slot =
      idle.find((s) => s.loaded.has(key)) ??
      (regular.length < this.opts.workers ? this.spawn(false) : undefined) ??
      idle.sort((a, b) => held(a) - held(b))[0];
    return slot && this.occupy(slot, key);
  }

  /** The express lane's thread, started on first use, marked busy. */
  takeExpress(spec: ModelSpec): Slot {
    return this.occupy(this.slots.find((slot) => slot.express) ?? this.spawn(true), versionKey(spec));
  }

  /** Marks a thread free again; false when it has left the pool meanwhile. */
  release(slot: Slot): boolean {
    if (!this.slots.includes(slot)) return false;
    slot.busy = false;
    delete slot.loading;
    delete slot.running;
    return true;
  }

  /** A thread reported the model loaded (or used it): remember its size and settle the budget. */
  noteLoaded(slot: Slot, spec: ModelSpec, bytes: number): void {
    const key = versionKey(spec);
    const fresh = !slot.loaded.has(key);
    this.knownBytes.set(key, bytes);
    slot.loaded.set(key, { spec, bytes, lastUsed: performance.now() });
    // A model's size is known only once it has loaded: settle the budget now, sparing this one.
    if (fresh) this.makeRoom(slot, key, key);
  }

  /** The thread no longer holds the model (its load or run failed). */
  forget(slot: Slot, key: string): void {
    slot.loaded.delete(key);
  }

  /** A thread whose state cannot be trusted (a wasm trap) leaves the pool at once and is stopped. */
  retire(slot: Slot): void {
    this.remove(slot);
    void slot.thread.terminate();
  }

  loadedModels(): LoadedModelStatus[] {
    const loaded = new Map<string, LoadedModelStatus>();
    for (const slot of this.slots) {
      for (const [key, model] of slot.loaded) {
        const entry = loaded.get(key) ?? { key, spec: model.spec, workers: 0, bytes: 0 };
        entry.workers += 1;
        entry.bytes += model.bytes;
        loaded.set(key, entry);
      }
    }
    return [...loaded.values()];
  }

  workers(): number {
    return this.regular().length;
  }

  hasExpress(): boolean {
    return this.slots.some((slot) => slot.express);
  }

  async close(): Promise<void> {
    clearInterval(this.idleTimer);
    await Promise.all(this.slots.splice(0).map((slot) => slot.thread.terminate()));
  }

  // -----------------------------------------------------------------------------------------

  private regular(): Slot[] {
    return this.slots.filter((slot) => !slot.express);
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
    slot.thread = new WorkerThread(this.nextThreadId++, this.opts.settings, () => {
      this.remove(slot);
      queueMicrotask(this.onFreed);
    });
    this.slots.push(slot);
    return slot;
  }

  /** A dead thread leaves the pool; its models are gone with it and load again where needed. */
  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  /**
   * Unloads least recently used models (on idle threads or the target) until the model `key` fits
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
      for (const [key, model] of slot.loaded) {
        if (model.lastUsed < cutoff && key !== slot.running) this.unloadFrom(slot, key);
      }
    }
  }
}

function held(slot: Slot): number {
  let sum = 0;
  for (const model of slot.loaded.values()) sum += model.bytes;
  return sum;
}
