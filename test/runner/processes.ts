import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

/**
 * `clarifai serve` and `clarifai runner` as a user starts them: the built bin in a child process,
 * in its own process group, so `stop` ends everything it started.
 */
export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches (checked as it arrives), or rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Sends a signal to the whole group. */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM to the group, SIGKILL after 5 s, and waits for the exit. */
  stop(): Promise<void>;
}

export function startCli(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'bin/clarifai.js'), ...args], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  return {
    child,
    output: () => out,
    exited,
    signal,
    waitFor(pattern, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            done();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${ms} ms; output:\n${out}`));
        }, ms);
        const onExit = () => {
          check();
          done();
          reject(new Error(`exited before ${pattern}; output:\n${out}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A port free right now on loopback (for a server that must come back on the same one). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `clarifai serve` on a given port and data directory; resolves once it listens. */
export async function startServer(
  port: number,
  dataDir: string,
  env: Record<string, string>,
): Promise<Proc & { url: string; pat: string }> {
  const proc = startCli(['serve', '--port', String(port), '--data-dir', dataDir], env);
  try {
    await proc.waitFor(/clarifai login --config/);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const pat = /pat: (\S+)/.exec(readFileSync(join(dataDir, 'bootstrap.yaml'), 'utf8'))![1]!;
  return Object.assign(proc, { url: `http://127.0.0.1:${port}`, pat });
}

/** A v2 REST call with the server's key; the parsed body, whatever the status. */
export async function rest(
  server: { url: string; pat: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown> & { status: { code: number; description?: string; details?: string } }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Key ${server.pat}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as never;
}

/** GET /health on a runner's health port: the HTTP status, or 0 when nothing listens. */
export async function health(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).status;
  } catch {
    return 0;
  }
}

/** Polls `probe` until it returns `want` (or throws after `ms`). */
export async function until<T>(probe: () => Promise<T>, want: T, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await probe();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`still ${String(last)} after ${ms} ms, waiting for ${String(want)}`);
}
