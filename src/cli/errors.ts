import { SibylError } from '../core/errors.js';
import { DataDirError } from '../core/paths.js';
import { StatusCode } from '../core/status.js';
import { ApiError, ConnectionError, UsageError } from '../sdk/errors.js';

/** A wrong flag, combination or local file: the user can fix the command line. Exit code 2. */
export class CliUsageError extends Error {}

/**
 * An error from the engine or server a command talked to, with who that was ("the embedded engine
 * (data in ...)", "the server at http://... (context "default")") and, when there is one, what to
 * do next. Commands get it from `withSession`; `describeError` turns it into one line.
 */
export class AnsweredError extends Error {
  constructor(
    readonly error: unknown,
    readonly by: string,
    readonly hint?: string,
  ) {
    super(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

export const EXIT_OK = 0;
export const EXIT_SERVICE = 1;
export const EXIT_USAGE = 2;

/**
 * The server refused what the user sent (bad request, too large, duplicate id, an input code other
 * than a failed connection), as opposed to the service failing or a model being unknown.
 */
export function isInputError(err: ApiError): boolean {
  if ([400, 409, 413, 422].includes(err.httpStatus)) return true;
  return err.code >= 30000 && err.code < 40000 && err.code !== StatusCode.INPUT_CONNECTION_FAILED;
}

/**
 * The one place errors become a line on stderr and an exit code: 2 for usage and input errors,
 * 1 for service and network errors. Stack traces only with SIBYL_DEBUG=1.
 */
export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof AnsweredError) {
    const inner = describeError(err.error);
    if (err.error instanceof ConnectionError && !err.error.description.startsWith('cannot reach')) {
      inner.line += ` (${err.by})`;
    } else if (err.error instanceof ApiError) {
      // "[21200] (req_id ...)" becomes "[21200] (from <who>; req_id ...)"
      const req = err.error.reqId ? `; req_id ${err.error.reqId}` : '';
      inner.line = inner.line.replace(/ \(req_id [^)]*\)$/, '') + ` (from ${err.by}${req})`;
    }
    if (err.hint) inner.line += `; ${err.hint}`;
    return inner;
  }
  if (err instanceof CliUsageError || err instanceof UsageError || err instanceof DataDirError)
    return { line: `error: ${err.message}`, exitCode: EXIT_USAGE };
  if (err instanceof ConnectionError) {
    return { line: `error: ${err.description}: ${err.details ?? ''}`.trimEnd(), exitCode: EXIT_SERVICE };
  }
  if (err instanceof ApiError) {
    const req = err.reqId ? ` (req_id ${err.reqId})` : '';
    const text = err.details ? `${err.description}: ${err.details}` : err.description;
    const code = isInputError(err) ? EXIT_USAGE : EXIT_SERVICE;
    return { line: `error: ${text} [${err.code}]${req}`, exitCode: code };
  }
  if (err instanceof SibylError) {
    // thrown locally by shared validation (a bad model URL, bad output_config)
    return {
      line: `error: ${err.message}`,
      exitCode: err.code >= 20000 || err.code === 11102 ? EXIT_USAGE : EXIT_SERVICE,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { line: `error: ${message}`, exitCode: EXIT_SERVICE };
}
