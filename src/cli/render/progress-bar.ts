const WIDTH = 24;

export interface ProgressBar {
  /** Adds finished inputs; `failed` of them failed. */
  add(done: number, failed: number): void;
  /** Erases the bar; returns the summary line ("300 inputs in 58.1 s (5.2/s), 2 failed"). */
  finish(): string;
}

/**
 * A progress bar with rate and time left, on stderr and only on a terminal (piped output and
 * logs stay clean). It redraws on a timer as well, so elapsed time moves while the first requests
 * are still running.
 */
export function progressBar(
  total: number,
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): ProgressBar {
  const started = now();
  let done = 0;
  let failed = 0;
  const tty = Boolean(stream.isTTY);
  const draw = () => {
    if (!tty) return;
    stream.write(`\r\x1b[2K${renderBar(label, done, failed, total, (now() - started) / 1000)}`);
  };
  const timer = tty ? setInterval(draw, 250) : undefined;
  timer?.unref();
  draw();
  return {
    add(d, f) {
      done += d;
      failed += f;
      draw();
    },
    finish() {
      if (timer) clearInterval(timer);
      if (tty) stream.write('\r\x1b[2K');
      const secs = (now() - started) / 1000;
      const rate = secs > 0 ? ` (${(done / secs).toFixed(1)}/s)` : '';
      return `${done} input${done === 1 ? '' : 's'} in ${secs.toFixed(1)} s${rate}${failed > 0 ? `, ${failed} failed` : ''}`;
    },
  };
}

/** "label [########----------------] 128/300 43% 5.2/s ETA 33s (2 failed)" */
export function renderBar(label: string, done: number, failed: number, total: number, secs: number): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * WIDTH);
  const rate = secs > 0 ? done / secs : 0;
  const eta = rate > 0 && done < total ? ` ETA ${clock((total - done) / rate)}` : '';
  const fails = failed > 0 ? ` (${failed} failed)` : '';
  return (
    `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total} ${Math.floor(frac * 100)}%` +
    ` ${rate.toFixed(1)}/s${eta} ${clock(secs)}${fails}`
  );
}

function clock(secs: number): string {
  const s = Math.round(secs);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
