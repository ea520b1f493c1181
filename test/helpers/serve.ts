import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './cli.js';
import { join } from 'node:path';

export interface Served {
  process: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Its base URL, from the "listening on" line. */
  url: string;
  /** Stops its whole process group (SIGTERM, then SIGKILL after 5 s), and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts `clarifai serve --port 0 ...` in its own process group and waits until it listens.
 * `stop` ends the group, so nothing it started outlives the test.
 */
export async function startServe(args: string[], env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/clarifai.js'), 'serve', '--port', '0', ...args], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
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
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /listening on (http\S+)/.exec(out);
      if (m && out.includes('clarifai login --config')) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { process: child, output: () => out, url, stop };
}
