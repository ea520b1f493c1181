import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './cli.js';
import { join } from 'node:path';

export interface Started {
  process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Stops its whole process group (SIGTERM, then SIGKILL after 5 s), and waits for it. */
  stop(): Promise<void>;
  /** Kills its whole process group at once (SIGKILL), as a crash would, and waits for it. */
  kill(): Promise<void>;
}

export interface Served extends Started {
  /** Its base URL, from the "listening on" line. */
  url: string;
}

/**
 * Runs `clarifai ARGS...` in its own process group and waits until its output satisfies `ready`.
 * `stop` and `kill` end the group, so nothing it started outlives the test.
 */
export async function startClarifai(
  args: string[],
  env: Record<string, string>,
  ready: (output: string) => boolean,
): Promise<Started> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/clarifai.js'), ...args], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, sig);
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  const stop = () => signal('SIGTERM');
  const kill = () => signal('SIGKILL');
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (ready(out)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`clarifai ${args[0]} exited with ${code}:\n${out}`)));
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { process: child, output: () => out, stop, kill };
}

/** Starts `clarifai serve --port 0 ...` and waits until it listens. */
export async function startServe(args: string[], env: Record<string, string>): Promise<Served> {
  const started = await startClarifai(
    ['serve', '--port', '0', ...args],
    env,
    (out) => /listening on (http\S+)/.test(out) && out.includes('clarifai login --config'),
  );
  const url = /listening on (http\S+)/.exec(started.output())![1]!;
  return { ...started, url };
}
