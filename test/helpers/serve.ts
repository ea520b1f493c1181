import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startCli, type Proc } from './process-group.js';

export type Started = Proc;

export interface Served extends Proc {
  /** Its base URL, from the "listening on" line. */
  url: string;
}

/**
 * Runs `clarifai ARGS...` in its own process group (process-group.ts) and waits until its output
 * matches `ready`; `stop` and `kill` end the group, so nothing it started outlives the test.
 */
export async function startClarifai(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<Proc> {
  const proc = startCli(args, env);
  try {
    await proc.waitFor(ready, 120_000);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}

/** Starts `clarifai serve --port 0 ...` and waits until it listens and has printed its login line. */
export async function startServe(args: string[], env: Record<string, string>): Promise<Served> {
  const proc = await startClarifai(
    ['serve', '--port', '0', ...args],
    env,
    /listening on http\S+[\s\S]*clarifai login --config/,
  );
  const url = /listening on (http\S+)/.exec(proc.output())![1]!;
  return Object.assign(proc, { url });
}

/** The admin key a started server wrote to the login file its start-up message names. */
export function bootstrapPat(served: Started): string {
  const file = /log in with:\n\s+clarifai login --config (\S+)/.exec(served.output())![1]!;
  return (parse(readFileSync(file, 'utf8')) as { pat: string }).pat;
}
