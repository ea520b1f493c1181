import {
  InvalidArgumentError,
  LimitError,
  NotFoundError,
  PredictionError,
  SibylError,
} from '../../core/errors.js';

/** An error as it crosses a thread boundary: structured clone keeps neither class nor fields. */
export interface WireError {
  kind: 'InvalidArgumentError' | 'LimitError' | 'NotFoundError' | 'PredictionError' | 'SibylError';
  code: number;
  description: string;
  details?: string;
}

export function toWireError(error: SibylError): WireError {
  const kind =
    error instanceof InvalidArgumentError
      ? 'InvalidArgumentError'
      : error instanceof LimitError
        ? 'LimitError'
        : error instanceof NotFoundError
          ? 'NotFoundError'
          : error instanceof PredictionError
            ? 'PredictionError'
            : 'SibylError';
  // every error a worker reports crosses here: the one place library text is made fit for clients
  return {
    kind,
    code: error.code,
    description: clientSafe(error.description),
    ...(error.details !== undefined ? { details: clientSafe(error.details) } : {}),
  };
}

/** Rebuilds the error with its class, so the server maps it to the same HTTP status as before. */
export function fromWireError(wire: WireError): SibylError {
  switch (wire.kind) {
    case 'InvalidArgumentError':
      return new InvalidArgumentError(wire.details ?? '', wire.code, wire.description);
    case 'LimitError':
      return new LimitError(wire.code, wire.description, wire.details);
    case 'NotFoundError':
      return new NotFoundError(wire.code, wire.description, wire.details);
    case 'PredictionError':
      return new PredictionError(wire.details ?? wire.description);
    default:
      return new SibylError(wire.code, wire.description, wire.details);
  }
}

/** Errors raised on purpose pass through; anything else is a model failure, with its text kept. */
export function asSibylError(error: unknown, context: string): SibylError {
  if (error instanceof SibylError) return error;
  return new PredictionError(`${context}: ${clientSafe(messageOf(error))}`, { cause: error });
}

/** Library messages can run long (an emscripten abort explains how to recompile); past this they are cut. */
const MAX_MESSAGE_CHARS = 500;

/**
 * A library's message as a client may see it: no stack trace (Node's "\n    at f (file:1:2)"
 * frames, emscripten's "abort(...) at Error"), no absolute path or node_modules path (each
 * becomes its last part: "/usr/lib/node_modules/x/eng.traineddata" reads "eng.traineddata"),
 * at most MAX_MESSAGE_CHARS. Model names ("clarifai/main/x") and URLs are left alone.
 */
export function clientSafe(text: string): string {
  let out = text.replace(/ at Error\b[\s\S]*$/, '').replace(/\n\s*at [\s\S]*$/, '');
  out = out.replace(
    /(?<![\w.@:/-])(?:file:\/\/)?(?:(?:[A-Za-z]:)?(?:[\\/][^\s\\/'"`()<>,;]+)+|(?:[\w.@-]+\/)*node_modules(?:\/[^\s/'"`()<>,;]+)+)\/?/g,
    (path) =>
      path
        .replace(/[\\/]+$/, '')
        .split(/[\\/]/)
        .pop() ?? '',
  );
  return out.length > MAX_MESSAGE_CHARS ? `${out.slice(0, MAX_MESSAGE_CHARS - 3)}...` : out;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
