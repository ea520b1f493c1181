import type { SibylError } from '../core/errors.js';
import type { GenerateChunk } from './types.js';

/** Starts a generation: pieces go to `onChunk`; settles with the error that ended it, if any. */
export type StartGeneration = (
  onChunk: (chunk: GenerateChunk) => void,
  signal: AbortSignal,
) => Promise<SibylError | undefined>;

/**
 * A generation as an async iterator the caller pulls at its own pace. The worker pushes pieces as
 * they come; they wait here (text is small) until pulled. A caller that stops early (break, return,
 * a throw in its loop) or whose signal fires stops the generation, so the worker is freed at once
 * rather than when the model would have finished.
 */
export async function* generationStream(
  start: StartGeneration,
  outer?: AbortSignal,
): AsyncGenerator<GenerateChunk, void, undefined> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  if (outer?.aborted) stop();
  outer?.addEventListener('abort', stop, { once: true });
  const pending: GenerateChunk[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  void start((chunk) => {
    pending.push(chunk);
    wake?.();
  }, abort.signal).then(
    (error) => {
      finished = true;
      failure = error;
      wake?.();
    },
    (error: unknown) => {
      finished = true;
      failure = error;
      wake?.();
    },
  );
  try {
    for (;;) {
      const next = pending.shift();
      if (next) {
        yield next;
        continue;
      }
      if (finished) {
        if (failure !== undefined) throw failure;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    if (!finished) stop();
    outer?.removeEventListener('abort', stop);
  }
}
