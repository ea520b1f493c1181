import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { ROOT } from './cli.js';

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
  /** SIGKILL to the group at once, as a crash would, and waits for the exit. */
  kill(): Promise<void>;
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
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal('SIGKILL');
      await exited;
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
