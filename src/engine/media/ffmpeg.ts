import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { commandOnPath } from '../requirements.js';
import { runProgram } from './program.js';

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
 * Runs ffmpeg once (see runProgram: killed on timeout, abort or a refused output; stderr only for
 * the error).
 */
export function runFfmpeg(run: FfmpegRun): Promise<void> {
  const timeoutMs = run.timeoutMs ?? FFMPEG_TIMEOUT_MS;
  const { what } = run;
  return runProgram({
    command: run.command,
    args: [...FFMPEG_PREFIX, ...run.args],
    ...(run.stdin ? { stdin: run.stdin } : {}),
    timeoutMs,
    ...(run.signal ? { signal: run.signal } : {}),
    onOutput: run.onOutput,
    errors: {
      timedOut: () => mediaError(`ffmpeg took longer than ${timeoutMs / 1000} s to decode this ${what}`),
      aborted: () => ffmpegAborted(what),
      failed: (stderr, code) =>
        mediaError(
          `ffmpeg could not decode this ${what}: ${stderr.split('\n').slice(-2).join('; ') || `exit code ${code}`}`,
        ),
    },
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
