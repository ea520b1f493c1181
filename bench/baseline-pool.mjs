// bench/worker-baseline.mjs kept loaded in a child process, so its rounds can alternate with
// whatever a benchmark compares it with: the most images per second this machine gives for
// CenterNet with N plain worker threads and none of Sibyl's code (bench/engine.mjs, runners.mjs).
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASELINE = path.join(ROOT, 'bench', 'worker-baseline.mjs');
const LOAD_TIMEOUT_MS = 60_000;

/** Child processes still running, killed if this process exits first (Ctrl-C, a thrown error). */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * bench/worker-baseline.mjs with N workers, kept loaded in a child process so its rounds can
 * alternate with the server's. `run(images)` feeds it that many photos and returns img/s.
 */
export async function startBaseline(workers) {
  const child = fork(BASELINE, ['--workers', String(workers), '--timeout-ms', String(10 * LOAD_TIMEOUT_MS)], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.once('exit', resolve)).then((code) => {
    children.delete(child);
    return code;
  });
  const reply = () =>
    Promise.race([
      new Promise((resolve) => child.once('message', resolve)),
      exited.then((code) => Promise.reject(new Error(`worker-baseline.mjs exited ${code}: ${stderr}`))),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('worker-baseline.mjs did not answer')), LOAD_TIMEOUT_MS).unref(),
      ),
    ]);
  const close = async () => {
    if (child.exitCode === null && child.connected) child.send({ op: 'exit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const { facts } = await reply();
    return {
      facts,
      async run(images) {
        child.send({ op: 'run', images });
        const { result } = await reply();
        // COCO class 16 is dog: the baseline must answer what the server answers.
        if (result.tops['dogs.jpg'] !== 16) throw new Error(`baseline: dogs.jpg's top class is not dog`);
        return result;
      },
      async executeOnly() {
        child.send({ op: 'execute-only' });
        return (await reply()).result;
      },
      close,
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
