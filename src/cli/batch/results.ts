import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile, truncate } from 'node:fs/promises';
import { SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { MultiOutputResponse, Output, Status } from '../../core/wire.js';
import { CliUsageError } from '../errors.js';
import { renderOutputs } from '../render/outputs.js';
import type { Outcome } from './runner.js';
import { succeeded } from './runner.js';

export type ResultFormat = 'text' | 'json' | 'jsonl';

/** One JSONL line: the input as the user named it, then what the model said about it. */
export interface ResultLine {
  source: string;
  input_id?: string;
  status: Status;
  data?: Output['data'];
  output_id?: string;
}

export function statusOf(o: Outcome): Status {
  if (o.output?.status) return o.output.status;
  if (o.error instanceof SibylError) {
    const s: Status = { code: o.error.code, description: o.error.description };
    if (o.error.details) s.details = o.error.details;
    return s;
  }
  if (o.error !== undefined)
    return {
      code: StatusCode.FAILURE,
      description: o.error instanceof Error ? o.error.message : String(o.error),
    };
  return { code: StatusCode.SUCCESS, description: 'Ok' };
}

export function lineOf(o: Outcome): ResultLine {
  const line: ResultLine = { source: o.item.source, status: statusOf(o) };
  const inputId = o.output?.input?.id ?? o.item.id;
  if (inputId) line.input_id = inputId;
  if (o.output?.data && succeeded(o)) line.data = o.output.data;
  if (o.output?.id) line.output_id = o.output.id;
  return line;
}

/**
 * The sources a JSONL results file already holds a successful line for. A line cut short by an
 * interrupt, or one that failed, does not count: that input runs again.
 */
export async function doneSources(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw new CliUsageError(`cannot read --output_file ${path} to resume: ${(err as Error).message}`);
  }
  // a line cut short by a kill is dropped, so appended lines start on a line of their own
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) await truncate(path, Buffer.byteLength(text.slice(0, end)));
  const done = new Set<string>();
  for (const raw of text.slice(0, end).split('\n')) {
    try {
      const line = JSON.parse(raw) as Partial<ResultLine>;
      if (typeof line.source === 'string' && line.status?.code === StatusCode.SUCCESS) done.add(line.source);
    } catch {
      // not a results line: ignored
    }
  }
  return done;
}

export interface ResultSink {
  add(outcomes: Outcome[]): void;
  /** Writes what waits for the end (the json document) and closes the file. */
  close(): void;
}

/**
 * Writes results as they come: JSONL and text as each request finishes (so an interrupted run
 * keeps what it finished, and --resume can pick up), JSON at the end, in input order. Each
 * request's lines go out in one write, so a kill leaves at most one partial line.
 */
export function openSink(
  format: ResultFormat,
  file: string | undefined,
  append: boolean,
  order: Map<unknown, number>,
): ResultSink {
  let fd: number | undefined;
  if (file !== undefined) {
    try {
      fd = openSync(file, append ? 'a' : 'w', 0o644);
    } catch (err) {
      throw new CliUsageError(`cannot write --output_file ${file}: ${(err as Error).message}`);
    }
  }
  const write = (text: string) => (fd === undefined ? process.stdout.write(text) : writeSync(fd, text));
  const all: Outcome[] = [];
  // text is for reading: blocks come out in input order, each as soon as those before it are out
  const waiting = new Map<number, Outcome>();
  let nextText = 0;
  return {
    add(outcomes) {
      if (format === 'json') all.push(...outcomes);
      else if (format === 'jsonl') write(outcomes.map((o) => `${JSON.stringify(lineOf(o))}\n`).join(''));
      else {
        for (const o of outcomes) waiting.set(order.get(o.item)!, o);
        let text = '';
        for (let o = waiting.get(nextText); o; o = waiting.get(nextText)) {
          waiting.delete(nextText);
          text += `${nextText++ > 0 ? '\n' : ''}# ${o.item.source}\n${renderOne(o)}\n`;
        }
        if (text) write(text);
      }
    },
    close() {
      if (format === 'json') {
        all.sort((a, b) => order.get(a.item)! - order.get(b.item)!);
        write(`${JSON.stringify(combined(all), null, 2)}\n`);
      }
      if (fd !== undefined) closeSync(fd);
    },
  };
}

function renderOne(o: Outcome): string {
  if (o.output) return renderOutputs({ status: statusOf(o), outputs: [o.output] } as MultiOutputResponse);
  const s = statusOf(o);
  return `failed: ${s.description}${s.details ? `: ${s.details}` : ''}`;
}

/** Many requests' outputs as one v2 response: MIXED_STATUS when some inputs failed. */
function combined(all: Outcome[]): MultiOutputResponse {
  const failed = all.filter((o) => !succeeded(o)).length;
  const code =
    failed === 0 ? StatusCode.SUCCESS : failed === all.length ? StatusCode.FAILURE : StatusCode.MIXED_STATUS;
  const description = failed === 0 ? 'Ok' : failed === all.length ? 'Failure' : 'Mixed Success';
  const outputs = all.map(
    (o) =>
      o.output ??
      ({
        id: '',
        status: statusOf(o),
        input: { id: o.item.id ?? '', data: {} },
        data: {},
      } as unknown as Output),
  );
  return { status: { code, description }, outputs } as MultiOutputResponse;
}
