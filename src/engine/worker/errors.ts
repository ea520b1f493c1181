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
  return {
    kind,
    code: error.code,
    description: error.description,
    ...(error.details !== undefined ? { details: error.details } : {}),
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
  return new PredictionError(`${context}: ${messageOf(error)}`, { cause: error });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
