import { spawn } from 'node:child_process';

/** One run of an outside program (ffmpeg, pocketsphinx) on behalf of a request. */
export interface ProgramRun {
  command: string;
  args: readonly string[];
  /** Written to its stdin; stdin is closed at once when absent. */
  stdin?: Uint8Array;
  timeoutMs: number;
  /** Kills it; the run rejects with `errors.aborted()`. */
  signal?: AbortSignal;
  /** Sees each piece of its stdout; returning an error (a limit passed) kills it and rejects with that. */
  onOutput(chunk: Buffer): Error | undefined;
  /** What the caller is told for each way it can fail; `failed` gets the end of its stderr. */
  errors: { timedOut(): Error; aborted(): Error; failed(stderr: string, code: number | null): Error };
}

/**
 * Runs a program once. It is killed (SIGKILL) on timeout, on the caller's abort, and when onOutput
 * refuses what it wrote; its stderr is kept (4,000 characters at most) only for the error when it
 * fails, so its logs never reach a client otherwise.
 */
export function runProgram(run: ProgramRun): Promise<void> {
  const { signal, errors } = run;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(errors.aborted());
    const child = spawn(run.command, run.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let failure: Error | undefined;
    const stop = (error: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(errors.timedOut()), run.timeoutMs);
    const onAbort = () => stop(errors.aborted());
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      const refused = run.onOutput(chunk);
      if (refused) stop(refused);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString();
    });
    // a program may close stdin early on a bad input; that EPIPE is not the error to report
    child.stdin.on('error', () => undefined);
    child.stdin.end(run.stdin);
    child.on('error', (error) => stop(new Error(`${run.command} could not be started: ${error.message}`)));
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) return reject(errors.failed(stderr.trim(), code));
      resolve();
    });
  });
}
