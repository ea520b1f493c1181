import { CliUsageError } from './errors.js';

/** An -o/--output value, refused with the allowed ones when it is anything else. */
export function formatOption<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CliUsageError(
    `--output must be ${allowed.join(', ').replace(/, ([^,]*)$/, ' or $1')}; got "${value}"`,
  );
}
