import { StatusCode } from '../../core/status.js';
import type { Input, MultiOutputResponse, Output } from '../../core/wire.js';
import { MAX_INPUTS_PER_REQUEST } from '../../core/wire.js';
import { ApiError } from '../../sdk/errors.js';
import type { InputItem } from './items.js';

/** What became of one input: the model's output (whose own status says if it failed), or an error. */
export interface Outcome {
  item: InputItem;
  output?: Output;
  error?: unknown;
}

export function succeeded(o: Outcome): boolean {
  return o.error === undefined && (o.output?.status?.code ?? StatusCode.SUCCESS) === StatusCode.SUCCESS;
}

export interface BatchRunOptions {
  items: readonly InputItem[];
  batchSize: number;
  concurrency: number;
  /** Turns an item into a v2 input (reads its file); a throw fails that item alone. */
  build(item: InputItem): Promise<Input>;
  send(inputs: Input[], signal: AbortSignal): Promise<MultiOutputResponse>;
  /** Called as each request finishes, with its inputs' outcomes in input order. */
  onOutcomes(outcomes: Outcome[]): void | Promise<void>;
  /** Waits between retries of a busy model; replaceable in tests. */
  sleep?: (ms: number) => Promise<void>;
}

const RETRIES = 6;

/**
 * Sends items `batchSize` per request with at most `concurrency` requests in flight. One input
 * failing is that input's outcome (the server answers MIXED_STATUS with each output's status; a
 * request whose every input failed is re-sent input by input so each gets its own reason). A busy
 * model is retried with backoff. Anything else (unknown model, bad params, the server gone) would
 * fail every request alike, so it stops the run and is thrown.
 */
export async function runBatches(opts: BatchRunOptions): Promise<void> {
  const size = Math.max(1, Math.min(opts.batchSize, MAX_INPUTS_PER_REQUEST));
  const batches: InputItem[][] = [];
  for (let i = 0; i < opts.items.length; i += size) batches.push(opts.items.slice(i, i + size));
  const abort = new AbortController();
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let next = 0;
  let fatal: { error: unknown } | undefined;

  const sendWithRetry = async (inputs: Input[]): Promise<MultiOutputResponse> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await opts.send(inputs, abort.signal);
      } catch (err) {
        if (!isBusy(err) || attempt >= RETRIES || abort.signal.aborted) throw err;
        await sleep(Math.min(10_000, 500 * 2 ** (attempt - 1)));
      }
    }
  };

  const runBatch = async (batch: InputItem[]): Promise<void> => {
    const built: { item: InputItem; input: Input }[] = [];
    const outcomes: Outcome[] = [];
    for (const item of batch) {
      try {
        built.push({ item, input: await opts.build(item) });
      } catch (error) {
        outcomes.push({ item, error });
      }
    }
    if (built.length > 0) {
      try {
        const res = await sendWithRetry(built.map((b) => b.input));
        built.forEach((b, i) => outcomes.push(outputOf(b.item, res.outputs[i])));
      } catch (err) {
        if (!isInputSpecific(err)) throw err;
        if (built.length === 1) outcomes.push({ item: built[0]!.item, error: err });
        else {
          for (const b of built) {
            try {
              const res = await sendWithRetry([b.input]);
              outcomes.push(outputOf(b.item, res.outputs[0]));
            } catch (one) {
              if (!isInputSpecific(one)) throw one;
              outcomes.push({ item: b.item, error: one });
            }
          }
        }
      }
    }
    const order = new Map(batch.map((item, i) => [item, i]));
    await opts.onOutcomes(outcomes.sort((a, b) => order.get(a.item)! - order.get(b.item)!));
  };

  const worker = async (): Promise<void> => {
    while (!fatal && next < batches.length) {
      const batch = batches[next++]!;
      try {
        await runBatch(batch);
      } catch (error) {
        fatal ??= { error };
        abort.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  if (fatal) throw fatal.error;
}

function outputOf(item: InputItem, output: Output | undefined): Outcome {
  return output ? { item, output } : { item, error: new Error('the answer had no output for this input') };
}

/** A model that is busy or loading: worth asking again shortly. */
function isBusy(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  return (
    err.httpStatus === 429 ||
    err.httpStatus === 503 ||
    err.code === StatusCode.MODEL_BUSY_PLEASE_RETRY ||
    err.code === StatusCode.TRY_AGAIN ||
    err.code === StatusCode.MODEL_LOADING
  );
}

/** An error about the inputs themselves (30xxx), which other inputs would not share. */
function isInputSpecific(err: unknown): boolean {
  return err instanceof ApiError && err.code >= 30000 && err.code < 40000;
}
