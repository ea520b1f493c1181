import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { StatusCode } from '../core/status.js';
import { ApiError } from '../sdk/errors.js';
import type { RunnerApi } from './api.js';
import { startHealth, type HealthServer } from './health.js';
import type { LocalEngine } from './local-engine.js';
import type { Json } from './proto.js';
import { RunnerStream, type BackoffOptions } from './stream.js';

/**
 * The runner's loop: register on a nodepool, take work items from the ProcessRunnerItems stream,
 * run each on the local engine (at most `concurrency` at once) and post its output back on the
 * stream. Stopping finishes the items in hand, sends their outputs, half-closes the stream and
 * deletes the runner if this process created it.
 */

/** The longest a stopping runner waits for the API to say it hands out nothing more. */
const STOP_ANSWER_WAIT_MS = 2000;

export interface RunnerConfig {
  api: RunnerApi;
  engine: LocalEngine;
  userId: string;
  computeClusterId: string;
  nodepoolId: string;
  /** An existing runner to serve as, or the id to create one with. */
  runnerId?: string;
  concurrency: number;
  /** What the runner's Worker says it serves (model local-runner: the model and its version). */
  worker?: Json;
  /** Keep the runner registered on exit even when this process created it. */
  keep: boolean;
  healthPort?: number;
  verbose: boolean;
  /** Lines for the user (stdout): connected, reconnects, per item with verbose. */
  log(line: string): void;
  backoff?: BackoffOptions;
}

interface Held {
  item: Json;
  connection: number;
}

export class Runner {
  readonly replicaId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private runnerId = '';
  private created = false;
  private stream: RunnerStream | undefined;
  private health: HealthServer | undefined;
  private readonly queue: Held[] = [];
  private active = 0;
  private stopping = false;
  /** Resolves the wait for the API's answer to this runner's RUNNER_STREAM_END. */
  private handedOut: (() => void) | undefined;
  private idle: (() => void) | undefined;
  private announced = false;

  constructor(private readonly cfg: RunnerConfig) {}

  get id(): string {
    return this.runnerId;
  }

  /** Registers, opens the stream and serves until stop() or the server ends or refuses the stream. */
  async run(): Promise<void> {
    await this.register();
    try {
      if (this.cfg.healthPort !== undefined)
        this.health = await startHealth(this.cfg.healthPort, () => ({
          open: this.stream?.isOpen ?? false,
          runnerId: this.runnerId,
          inFlight: this.active + this.queue.length,
        }));
      const stream = new RunnerStream(
        this.cfg.api,
        {
          user_app_id: { user_id: this.cfg.userId },
          compute_cluster_id: this.cfg.computeClusterId,
          nodepool_id: this.cfg.nodepoolId,
          runner_id: this.runnerId,
          runner_replica_id: this.replicaId,
        },
        {
          onItems: (items, connection) => this.take(items, connection),
          onState: (open) => this.onState(open),
          onEndRequested: () => {
            // while stopping, this is the API's answer to our own RUNNER_STREAM_END: nothing more comes
            if (this.stopping) return this.handedOut?.();
            this.cfg.log('the API asked this runner to stop; finishing the items in hand');
            void this.stop();
          },
          log: (line) => this.cfg.log(line),
        },
        this.cfg.backoff,
      );
      this.stream = stream;
      // a signal during registration: registered, so deregister, but never connect
      if (this.stopping) return;
      stream.start();
      await stream.done.catch((error: unknown) => {
        // the runner is gone on the API already (deleted while it served): nothing to delete
        if (error instanceof ApiError && error.code === StatusCode.RUNNER_DOES_NOT_EXIST)
          this.created = false;
        throw error;
      });
    } finally {
      await this.finish();
    }
  }

  /**
   * Stops taking items, finishes those in hand (their outputs are sent), then closes the stream;
   * run() resolves once the runner is deregistered.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // The API may have sent items before it read the stop; it answers the stop once it will send
    // nothing more (an older API never does: then a short wait stands in for its answer).
    const handedOut = new Promise<void>((resolve) => {
      this.handedOut = resolve;
      setTimeout(resolve, STOP_ANSWER_WAIT_MS).unref();
    });
    this.stream?.announceStop();
    await handedOut;
    while (this.active + this.queue.length > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    await this.stream?.close();
  }

  private async register(): Promise<void> {
    const where = {
      user_app_id: { user_id: this.cfg.userId },
      compute_cluster_id: this.cfg.computeClusterId,
      nodepool_id: this.cfg.nodepoolId,
    };
    if (this.cfg.runnerId) {
      let existing: Json | undefined;
      try {
        const res = await this.cfg.api.call('GetRunner', { ...where, runner_id: this.cfg.runnerId });
        existing = (res.runner as Json | undefined) ?? {};
      } catch (err) {
        if (!(err instanceof ApiError) || !isMissing(err.code)) throw err;
      }
      if (existing) {
        this.runnerId = this.cfg.runnerId;
        await this.updateMetadata(where, existing);
        return;
      }
    }
    const runner: Json = {
      description: `Sibyl runner on ${hostname()} (pid ${process.pid})`,
      metadata: { sibyl: await this.advertised() },
    };
    if (this.cfg.runnerId) runner.id = this.cfg.runnerId;
    if (this.cfg.worker) runner.worker = this.cfg.worker;
    const res = await this.cfg.api.call('PostRunners', { ...where, runners: [runner] });
    const id = ((res.runners as Json[] | undefined)?.[0]?.id as string | undefined) ?? this.cfg.runnerId;
    if (!id) throw new Error('PostRunners answered without the new runner');
    this.runnerId = id;
    this.created = true;
  }

  /** What the API schedules by: how many items at once, and the models this runner answers. */
  private async advertised(): Promise<Json> {
    return { concurrency: this.cfg.concurrency, models: await this.cfg.engine.modelIds() };
  }

  /**
   * An existing runner serves with this process's concurrency and models: the API reads them from
   * the runner's metadata, so they are patched in when they differ (other metadata kept).
   */
  private async updateMetadata(where: Json, existing: Json): Promise<void> {
    const metadata = (existing.metadata as Json | undefined) ?? {};
    const sibyl = { ...((metadata.sibyl as Json | undefined) ?? {}), ...(await this.advertised()) };
    if (JSON.stringify(sibyl) === JSON.stringify(metadata.sibyl)) return;
    await this.cfg.api.call('PatchRunners', {
      ...where,
      runners: [{ id: this.runnerId, metadata: { ...metadata, sibyl } }],
      action: 'overwrite',
    });
  }

  private onState(open: boolean): void {
    if (!open || this.announced) return;
    this.announced = true;
    this.cfg.log(
      `runner ${this.runnerId} serving nodepool ${this.cfg.computeClusterId}/${this.cfg.nodepoolId} at ${this.cfg.api.url} with ${this.cfg.concurrency} slots`,
    );
  }

  private take(items: Json[], connection: number): void {
    // items sent before the API read the stop are run too: handing them back would cost each a try
    for (const item of items) this.queue.push({ item, connection });
    this.pump();
  }

  private pump(): void {
    while (this.active < this.cfg.concurrency && this.queue.length > 0) {
      const held = this.queue.shift()!;
      this.active++;
      void this.handle(held).finally(() => {
        this.active--;
        if (this.active + this.queue.length === 0) this.idle?.();
        this.pump();
      });
    }
  }

  private async handle({ item, connection }: Held): Promise<void> {
    const started = performance.now();
    const itemId = String(item.id ?? '');
    const request = item.post_model_outputs_request as Json | undefined;
    let message: Json;
    if (!request) {
      message = failed(itemId, 'this runner only serves model predictions (post_model_outputs_request)');
    } else {
      try {
        // UNARY_STREAMING (generate) is answered whole, in one final message, like UNARY_UNARY
        const response = await this.cfg.engine.predict(request);
        message = {
          runner_item_id: itemId,
          status: { code: StatusCode.SUCCESS },
          runner_item_outputs: [{ multi_output_response: response }],
        };
      } catch (err) {
        message = failed(itemId, err instanceof Error ? err.message : String(err));
      }
    }
    const sent = this.stream?.send(connection, message) ?? false;
    if (this.cfg.verbose) {
      const ids = (request?.user_app_id ?? {}) as Json;
      const code = (
        (message.runner_item_outputs as Json[] | undefined)?.[0]?.multi_output_response as Json | undefined
      )?.status as Json | undefined;
      this.cfg.log(
        `item ${itemId} ${ids.user_id}/${ids.app_id}/${request?.model_id}: ${code?.code ?? (message.status as Json).code} in ${Math.round(performance.now() - started)} ms${sent ? '' : ' (stream lost: dropped, the API queues it again)'}`,
      );
    }
  }

  private async finish(): Promise<void> {
    await this.health?.close();
    if (this.created && !this.cfg.keep && this.runnerId) {
      await this.cfg.api
        .call('DeleteRunners', {
          user_app_id: { user_id: this.cfg.userId },
          compute_cluster_id: this.cfg.computeClusterId,
          nodepool_id: this.cfg.nodepoolId,
          ids: [this.runnerId],
        })
        .catch((err: unknown) => {
          // already gone (deleted on the API, which is why it was refused): nothing to say
          if (err instanceof ApiError && isMissing(err.code)) return;
          this.cfg.log(
            `could not delete runner ${this.runnerId}: ${err instanceof Error ? err.message : err}`,
          );
        });
    }
  }
}

function failed(itemId: string, details: string): Json {
  return {
    runner_item_id: itemId,
    status: { code: StatusCode.RUNNER_PROCESSING_FAILED, description: 'Runner processing failed', details },
  };
}

function isMissing(code: number): boolean {
  return code === StatusCode.RUNNER_DOES_NOT_EXIST || code === StatusCode.CONN_DOES_NOT_EXIST;
}
