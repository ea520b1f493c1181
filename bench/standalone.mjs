// How a benchmark script runs on its own (`node bench/<name>.mjs`) rather than under run.mjs: the
// same { tempDir, log } context run.mjs passes, its temp dirs removed at the end and on Ctrl-C, the
// verdict table with the first row's `lines` under it, and run.mjs's exit statuses (1: a target
// failed, 2: the benchmark could not run).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { verdictTable } from './report.mjs';

/** Runs `bench(ctx)` (it resolves with judged rows), prints the report and sets the exit status. */
export async function runStandalone(name, title, bench) {
  const dirs = [];
  const tempDir = async (label) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `sibyl-bench-${label}-`));
    dirs.push(dir);
    return dir;
  };
  const removeDirs = () => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.on(signal, () => {
      removeDirs();
      process.exit(130); // the scripts' own 'exit' handlers stop the servers they started
    });
  const started = performance.now();
  try {
    const rows = await bench({ tempDir, log: (msg) => process.stderr.write(`${msg}\n`) });
    const failed = rows.filter((r) => !r.pass);
    process.stdout.write(
      `Sibyl ${title}: ${new Date().toISOString()}, ${os.availableParallelism()} CPUs, ` +
        `Node ${process.version}, ${((performance.now() - started) / 1000).toFixed(0)} s\n\n` +
        verdictTable(rows) +
        `\n\n${(rows[0]?.lines ?? []).join('\n')}\n` +
        (failed.length ? `\nFAIL: ${failed.map((r) => r.id).join(', ')}\n` : '\nall targets PASS\n'),
    );
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(rows)}\n`);
    process.exitCode = failed.length ? 1 : 0;
  } catch (err) {
    process.stderr.write(`${name} could not run: ${err instanceof Error ? err.stack : err}\n`);
    process.exitCode = 2;
  } finally {
    removeDirs();
  }
}
