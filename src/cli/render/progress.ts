const FRAMES = ['|', '/', '-', '\\'];

/**
 * Shows "label... 2.1s" on stderr while slow work runs (loading a model takes seconds on first
 * use), only on a terminal and only after a short delay, and erases it when the work ends, so
 * piped output and quick commands stay clean.
 */
export async function withProgress<T>(
  label: string,
  work: (stop: () => void) => Promise<T>,
  stream: NodeJS.WriteStream = process.stderr,
): Promise<T> {
  if (!stream.isTTY) return work(() => undefined);
  const started = Date.now();
  let frame = 0;
  let shown = false;
  const timer = setInterval(() => {
    const elapsed = ((Date.now() - started) / 1000).toFixed(1);
    stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label}... ${elapsed}s`);
    shown = true;
  }, 150);
  // work that starts printing before it ends (streamed text) takes the line over early
  const stop = () => {
    clearInterval(timer);
    if (shown) stream.write('\r\x1b[2K');
    shown = false;
  };
  try {
    return await work(stop);
  } finally {
    stop();
  }
}
