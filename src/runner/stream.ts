import { StatusCode, statusName } from '../core/status.js';
import { ApiError } from '../sdk/errors.js';
import { itemsJson, outputsMessage, type Duplex, type RunnerApi } from './api.js';
import type { Json } from './proto.js';

/**
 * The ProcessRunnerItems stream and its reconnection. Each connection opens with the runner's
 * RUNNER_STREAM_START message; the server then sends work items and the runner posts outputs on
 * the same stream. When the stream breaks (the API restarted, the network dropped) it is opened
 * again after a capped exponential backoff with jitter; outputs of items taken on the broken stream
 * are dropped (the server queues those items again). A refusal (a bad key, an unknown runner, an
 * API without runner support) ends the runner with the server's reason instead of retrying.
 */

export interface StreamHandlers {
  /** Work items from the server, in order. */
  onItems(items: Json[], connection: number): void;
  /** The stream is open (the server answered the start), or it broke and is being reopened. */
  onState(open: boolean, connection: number): void;
  /** The server asked the runner to stop (RUNNER_STREAM_END): finish what is in hand, then close. */
  onEndRequested(): void;
  /** One line per reconnect attempt. */
  log(line: string): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** Statuses after which reconnecting cannot help: the user must fix something. */
const FATAL = new Set<number>([
  StatusCode.CONN_KEY_INVALID,
  StatusCode.CONN_KEY_NOT_FOUND,
  StatusCode.CONN_INSUFFICIENT_SCOPES,
  StatusCode.NOT_IMPLEMENTED,
  StatusCode.RUNNER_DOES_NOT_EXIST,
  StatusCode.RUNNER_PERMISSION_DENIED,
  StatusCode.RUNNER_INVALID_ARGUMENT,
  StatusCode.RUNNER_INVALID_REQUEST,
  StatusCode.NODEPOOL_DOES_NOT_EXIST,
  StatusCode.COMPUTE_CLUSTER_DOES_NOT_EXIST,
  StatusCode.CONN_DOES_NOT_EXIST,
]);

const ACCEPT_MS = 300;

export class RunnerStream {
  private call: Duplex | undefined;
  private connection = 0;
  private open = false;
  private closing = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Outputs written but not yet handed to the connection. */
  private readonly writes = new Set<Promise<void>>();
  private settle!: { resolve: () => void; reject: (err: unknown) => void };
  /** Settles when the runner should stop: the server ended it, refused it, or close() finished. */
  readonly done: Promise<void>;

  constructor(
    private readonly api: RunnerApi,
    /** The start message's fields (user_app_id, cluster, nodepool, runner and replica ids). */
    private readonly identity: Json,
    private readonly handlers: StreamHandlers,
    private readonly backoff: BackoffOptions = { initialMs: 250, maxMs: 15_000 },
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined); // the owner awaits it; no unhandled rejection meanwhile
  }

  get isOpen(): boolean {
    return this.open;
  }

  start(): void {
    this.connect();
  }

  /**
   * Sends one message of outputs for an item taken on connection `connection`. False when that
   * connection is gone: the server has queued the item again, so the output is dropped.
   */
  send(connection: number, message: Json): boolean {
    if (connection !== this.connection || !this.call || this.call.destroyed) return false;
    const written = new Promise<void>((resolve) =>
      this.call!.write(outputsMessage({ ...this.identity, ...message }), () => resolve()),
    );
    this.writes.add(written);
    void written.then(() => this.writes.delete(written));
    return true;
  }

  /**
   * Tells the API this runner is stopping (RUNNER_STREAM_END): it hands out nothing more, while the
   * outputs of the items in hand still go back on the stream.
   */
  announceStop(): void {
    if (!this.call || this.call.destroyed) return;
    this.call.write(
      outputsMessage({
        ...this.identity,
        status: { code: StatusCode.RUNNER_STREAM_END, description: 'runner stopping' },
      }),
    );
  }

  /**
   * Half-closes the stream once every output is handed to the connection, and waits for the
   * server to end it (at most `graceMs`; then the call is cancelled, which loses nothing sent).
   */
  async close(graceMs = 2000): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    const call = this.call;
    if (call && !call.destroyed) {
      const ended = new Promise<void>((resolve) => {
        call.once('close', resolve);
        call.once('error', () => resolve());
      });
      await Promise.race([Promise.all(this.writes), ended]);
      call.end();
      const timer = setTimeout(() => call.cancel(), graceMs);
      await ended;
      clearTimeout(timer);
    }
    this.setOpen(false);
    this.settle.resolve();
  }

  private connect(): void {
    if (this.closing) return;
    const connection = ++this.connection;
    const call = this.api.openProcessStream();
    this.call = call;
    let broken = false;
    const lost = (why: string) => {
      if (broken || connection !== this.connection) return;
      broken = true;
      this.setOpen(false);
      if (!this.closing) this.retry(why);
    };
    // The server does not answer the start message when it takes the stream (items come when
    // there is work), but it refuses at once: so a stream on a connected channel that has not been
    // refused within ACCEPT_MS is open. An explicit RUNNER_STREAM_START or any item opens it sooner.
    const check = () => {
      if (broken || this.closing || connection !== this.connection || this.open) return;
      if (this.api.connected()) this.accepted(connection);
      else this.timer = setTimeout(check, ACCEPT_MS);
    };
    this.timer = setTimeout(check, ACCEPT_MS);
    call.on('data', (message: Parameters<typeof itemsJson>[0]) => {
      const json = itemsJson(message);
      const status = (json.status ?? {}) as { code?: number; description?: string; details?: string };
      const code = status.code ?? 0;
      if (code === StatusCode.RUNNER_STREAM_END) {
        this.handlers.onEndRequested();
        return;
      }
      if (code !== 0 && code !== StatusCode.SUCCESS && code !== StatusCode.RUNNER_STREAM_START) {
        if (FATAL.has(code)) {
          broken = true;
          this.closing = true;
          call.cancel();
          this.setOpen(false);
          this.settle.reject(
            new ApiError({
              httpStatus: 0,
              code,
              description: `the API at ${this.api.url} refused the runner stream: ${status.description || statusName(code)}`,
              ...(status.details ? { details: status.details } : {}),
            }),
          );
          return;
        }
        lost(`${status.description || statusName(code)} (${code})`);
        call.cancel();
        return;
      }
      this.accepted(connection);
      const items = (json.runner_items ?? []) as Json[];
      if (items.length > 0) this.handlers.onItems(items, connection);
    });
    // grpc-js's details end in an empty "Resolution note: " when the address needed no lookup
    call.on('error', (err: Error & { details?: string }) =>
      lost((err.details || err.message).replace(/\s*Resolution note:\s*$/, '')),
    );
    call.on('end', () => lost('the API ended the stream'));
    call.write(outputsMessage({ ...this.identity, status: { code: StatusCode.RUNNER_STREAM_START } }));
  }

  private accepted(connection: number): void {
    if (connection !== this.connection || this.open) return;
    this.attempt = 0;
    this.setOpen(true);
  }

  private setOpen(open: boolean): void {
    if (this.open === open) return;
    this.open = open;
    this.handlers.onState(open, this.connection);
  }

  private retry(why: string): void {
    const capped = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.attempt);
    // full jitter on the upper half: runners that lost the same API do not return in step
    const delay = Math.round(capped / 2 + Math.random() * (capped / 2));
    this.attempt++;
    this.handlers.log(
      `stream lost (${why}); reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${this.attempt})`,
    );
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
