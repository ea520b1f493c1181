import { spawn } from 'node:child_process';
import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { commandOnPath } from '../requirements.js';

/** What a caller is told to run when a format needs ffmpeg and it is missing (Debian's package). */
export const FFMPEG_INSTALL = 'apt-get install ffmpeg';
/** ffmpeg gets this long to decode one input before it is killed. */
export const FFMPEG_TIMEOUT_MS = 60_000;

/**
 * The ffmpeg to run: the one given (a test's stand-in), else `ffmpeg` when it is on PATH, else
 * false (the caller says what to install).
 */
export function findFfmpeg(given?: string | false): string | false {
  return given ?? (commandOnPath('ffmpeg') ? 'ffmpeg' : false);
}

export interface FfmpegRun {
  /** The program (see findFfmpeg). */
  command: string;
  /** Everything after FFMPEG_PREFIX: inputs, filters, outputs. */
  args: readonly string[];
  /** Written to its stdin (for `-i pipe:0`); its stdin is closed at once when absent. */
  stdin?: Uint8Array;
  /** "audio" or "video": the errors name it. */
  what: string;
  timeoutMs?: number;
  /** Kills it; the run rejects with an AbortError. */
  signal?: AbortSignal;
  /**
   * Sees each piece of its stdout as it comes. Returning an error (a limit passed) kills ffmpeg and
   * rejects the run with that error.
   */
  onOutput(chunk: Buffer): Error | undefined;
}

/**
 * What every run starts with. One decoding and one filtering thread: ffmpeg runs on behalf of one
 * engine worker, which has one core of its own (the engine starts one worker per core), so
 * ffmpeg's default of a thread per core would take the other workers' cores while it decodes.
 * `-threads` before the first `-i` is that input's decoder threads.
 */
export const FFMPEG_PREFIX = [
  '-nostdin',
  '-hide_banner',
  '-loglevel',
  'error',
  '-filter_threads',
  '1',
  '-threads',
  '1',
] as const;

/**
 * Runs ffmpeg once. It is killed (SIGKILL) on timeout, on the caller's abort, and when onOutput
 * refuses what it wrote; its stderr is kept only for the error when it fails.
 */
export function runFfmpeg(run: FfmpegRun): Promise<void> {
  const timeoutMs = run.timeoutMs ?? FFMPEG_TIMEOUT_MS;
  const { signal, what } = run;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(ffmpegAborted(what));
    const child = spawn(run.command, [...FFMPEG_PREFIX, ...run.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    let failure: Error | undefined;
    const stop = (error: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(mediaError(`ffmpeg took longer than ${timeoutMs / 1000} s to decode this ${what}`)),
      timeoutMs,
    );
    const onAbort = () => stop(ffmpegAborted(what));
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      const refused = run.onOutput(chunk);
      if (refused) stop(refused);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString();
    });
    // ffmpeg closes stdin early on a bad input; that EPIPE is not the error to report
    child.stdin.on('error', () => undefined);
    child.stdin.end(run.stdin);
    child.on('error', (error) => stop(new Error(`ffmpeg could not be started: ${error.message}`)));
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) {
        const why = stderr.trim().split('\n').slice(-2).join('; ') || `exit code ${code}`;
        return reject(mediaError(`ffmpeg could not decode this ${what}: ${why}`));
      }
      resolve();
    });
  });
}

/** An input the caller must fix (INPUT_INVALID_ARGUMENT, HTTP 400). */
export function mediaError(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, StatusCode.INPUT_INVALID_ARGUMENT, 'Invalid input argument');
}

function ffmpegAborted(what: string): Error {
  const error = new Error(`the ${what} decode was aborted`);
  error.name = 'AbortError';
  return error;
}
