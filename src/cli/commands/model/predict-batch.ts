import { mkdir, readFile } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { InputItem } from '../../batch/items.js';
import type { ResultFormat } from '../../batch/results.js';
import { doneSources, openSink } from '../../batch/results.js';
import type { Outcome } from '../../batch/runner.js';
import { runBatches, succeeded } from '../../batch/runner.js';
import { withSession } from '../../connect.js';
import { CliUsageError, isInputError } from '../../errors.js';
import { annotate, annotatedName } from '../../render/annotate.js';
import { progressBar } from '../../render/progress-bar.js';
import { withModelSuggestions } from '../../suggest.js';
import { ApiError } from '../../../sdk/errors.js';
import { MAX_INPUTS_PER_REQUEST } from '../../../core/wire.js';
import { checkMethod } from './model-facts.js';
import type { PredictContext } from './predict-model.js';
import { buildInput, fitsModel, openModel } from './predict-model.js';
import type { PredictPlan } from './predict-options.js';

/** The options of a run over many inputs. */
export interface BatchFlags {
  output_file?: string | undefined;
  resume?: boolean | undefined;
  annotate?: string | undefined;
  concurrency?: string | undefined;
  batch_size?: string | undefined;
}

const DEFAULT_CONCURRENCY = 4;

function intFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliUsageError(`${name} must be a whole number from ${min} to ${max}; got "${raw}"`);
  return n;
}

/**
 * Predicts on many inputs: up to 128 per request with a bounded number of requests in flight, a
 * progress bar on a terminal, results written as they finish (JSONL: one line per input), failed
 * inputs reported without stopping the rest, --resume skipping what an earlier run finished, and
 * --annotate drawing each image's regions.
 */
export async function predictMany(
  all: InputItem[],
  plan: PredictPlan,
  format: ResultFormat,
  flags: BatchFlags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const concurrency = intFlag('--concurrency', flags.concurrency, 1, 64) ?? DEFAULT_CONCURRENCY;
  const batchSize = intFlag('--batch_size', flags.batch_size, 1, MAX_INPUTS_PER_REQUEST);
  if (flags.resume && flags.output_file === undefined)
    throw new CliUsageError(
      '--resume needs --output_file: the JSONL results of the earlier run, to skip and append to',
    );
  if (flags.resume && format !== 'jsonl')
    throw new CliUsageError(`--resume reads and appends JSONL: use -o jsonl (got -o ${format})`);
  const done = flags.resume ? await doneSources(flags.output_file!) : new Set<string>();
  if (flags.annotate !== undefined) await mkdir(flags.annotate, { recursive: true });

  await withSession(env, async (session) => {
    const ctx = await openModel(session, plan, env);
    // a run over many inputs collects each answer: only --method predict fits (run() says so for generate)
    if (plan.method) checkMethod(ctx.facts!, plan.method);
    const fitting = all.filter((i) => fitsModel(i, ctx.inputType));
    const skippedType = all.length - fitting.length;
    if (fitting.length === 0)
      throw new CliUsageError(
        `none of the ${all.length} files found are ${ctx.inputType ?? 'known media'} files, which model ${plan.ref.modelId} takes`,
      );
    const items = fitting.filter((i) => !done.has(i.source));
    const notes: string[] = [];
    if (skippedType > 0)
      notes.push(
        `left out ${skippedType} file${skippedType === 1 ? '' : 's'} whose extension is not ${ctx.inputType ? `an ${ctx.inputType} type` : 'a known media type'}`,
      );
    if (done.size > 0) notes.push(`${fitting.length - items.length} already done in ${flags.output_file}`);
    if (notes.length > 0) process.stderr.write(`${notes.join('; ')}\n`);
    if (items.length === 0) {
      process.stderr.write('nothing left to predict\n');
      return;
    }
    const order = new Map<unknown, number>(items.map((item, i) => [item, i]));
    const sink = openSink(format, flags.output_file, flags.resume === true, order);
    const bar = progressBar(items.length, `Predicting with ${plan.ref.modelId}`);
    const failures: Outcome[] = [];
    const names = new Map(items.map((i) => [i, annotatedName(relativeSource(i, all), false)]));
    try {
      await runBatches({
        items,
        // a short run still spreads over every slot, so the bar moves and all requests work at once
        batchSize:
          batchSize ??
          Math.min(MAX_INPUTS_PER_REQUEST, Math.max(1, Math.ceil(items.length / (2 * concurrency)))),
        concurrency,
        build: (item) => buildInput(ctx, item),
        send: (inputs, signal) =>
          ctx.model.predictResponse({
            inputs,
            inferenceParams: ctx.plan.params,
            outputConfig: plan.outputConfig,
            signal,
          }),
        onOutcomes: async (outcomes) => {
          sink.add(outcomes);
          const failed = outcomes.filter((o) => !succeeded(o));
          failures.push(...failed);
          bar.add(outcomes.length, failed.length);
          if (flags.annotate !== undefined) await drawAll(ctx, outcomes, flags.annotate, names);
        },
      });
    } catch (err) {
      throw await withModelSuggestions(err, ctx.model.client, plan.ref);
    } finally {
      sink.close();
      const summary = bar.finish();
      if (process.stderr.isTTY || failures.length > 0) process.stderr.write(`${summary}\n`);
    }
    if (failures.length > 0) {
      const first = failures[0]!;
      const why =
        first.output?.status ??
        (first.error instanceof Error ? { description: first.error.message } : undefined);
      const message = `${failures.length} of ${items.length} inputs failed (first: ${first.item.source}: ${why?.description ?? 'failed'}${why && 'details' in why && why.details ? `: ${why.details}` : ''})${flags.output_file ? `; rerun with --resume to retry only those` : ''}`;
      // bad inputs are the user's to fix (exit 2); anything else failed on the service's side (exit 1)
      throw failures.every(isInputFailure) ? new CliUsageError(message) : new Error(message);
    }
  });
}

/**
 * An input's name under --annotate: its path below the folder all the run's files share (so
 * `photos/a.jpg` and `photos/sub/a.jpg` stay apart, and absolute paths do not spell out the whole
 * tree), a URL's last segment, or the source itself.
 */
function relativeSource(item: InputItem, all: readonly InputItem[]): string {
  if (item.kind === 'url') return new URL(item.url).pathname.split('/').pop() || 'url';
  if (item.kind !== 'file') return item.source;
  const dirs = all
    .filter((i) => i.kind === 'file')
    .map((i) =>
      resolve((i as { path: string }).path)
        .split(sep)
        .slice(0, -1),
    );
  let common = dirs[0] ?? [];
  for (const d of dirs) {
    let n = 0;
    while (n < common.length && n < d.length && common[n] === d[n]) n++;
    common = common.slice(0, n);
  }
  return relative(common.join(sep) || sep, resolve(item.path));
}

/** A failure the user can fix in the input: a bad file or image, an unreadable path. */
function isInputFailure(o: Outcome): boolean {
  if (o.error === undefined) {
    const code = o.output?.status?.code ?? 0;
    return code >= 30000 && code < 40000;
  }
  return o.error instanceof ApiError ? isInputError(o.error) : true;
}

async function drawAll(
  ctx: PredictContext,
  outcomes: Outcome[],
  dir: string,
  names: Map<InputItem, string>,
): Promise<void> {
  for (const o of outcomes) {
    if (!succeeded(o) || !o.output?.data) continue;
    const bytes = await imageBytes(o.item);
    if (!bytes || ctx.inputType === 'text') continue;
    const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
    try {
      const name = names.get(o.item)!.replace(/\.png$/, isJpeg ? '.jpg' : '.png');
      await annotate(bytes, o.output.data, dir, name);
    } catch (err) {
      process.stderr.write(`could not annotate ${o.item.source}: ${(err as Error).message}\n`);
    }
  }
}

/** The image as the client has it: files and stdin directly, URLs fetched again (only for --annotate). */
async function imageBytes(item: InputItem): Promise<Buffer | undefined> {
  if (item.kind === 'file') return readFile(item.path);
  if (item.kind === 'bytes') return item.bytes;
  if (item.kind === 'url') {
    try {
      const res = await fetch(item.url, { signal: AbortSignal.timeout(15_000) });
      return res.ok ? Buffer.from(await res.arrayBuffer()) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
