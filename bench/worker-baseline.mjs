// The most images per second this machine gives for CenterNet in worker threads, with none of
// Sibyl's code: N plain worker_threads each load tfjs (wasm backend) and CenterNet from
// @vladmandic/human the way bench/bare-predict.mjs does, then decode, letterbox and run the photos
// they are handed, back to back, until the count is done. `bench/engine.mjs` compares the server's
// throughput with the best N of this.
//
//   node bench/worker-baseline.mjs [--workers N] [--images COUNT] [--timeout-ms MS] [photo ...]
//
// Prints one JSON line: workers, images, wallMs, imgPerSec, cpuMs (user+sys of the whole process
// over the timed part), the wasm backend's facts (multithread support, thread count) and, with
// --workers 1, `executeOnly`: CPU time against wall time of graph executions alone (no decoding),
// which tells whether the wasm backend uses more than one thread (cpu/wall ~1: one thread).
// Started with an IPC channel (child_process.fork, as bench/engine.mjs does), it stays loaded and
// answers {op: 'run', images} and {op: 'execute-only'} messages until told {op: 'exit'}.
import { on } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const SIZE = 512;
const EXECUTE_ONLY_RUNS = 8;

if (isMainThread) await main();
else await worker();

async function main() {
  const args = process.argv.slice(2);
  const flag = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const workers = flag('--workers', os.availableParallelism());
  const images = flag('--images', 40);
  const timeoutMs = flag('--timeout-ms', 60_000);
  const given = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const dir = fileURLToPath(new URL('../test/fixtures/photos/', import.meta.url));
  const files = given.length
    ? given
    : readdirSync(dir)
        .filter((f) => /\.(jpe?g|png)$/i.test(f))
        .sort()
        .map((f) => path.join(dir, f));
  // Every run of the whole thing is bounded, even if a worker hangs.
  const killer = setTimeout(() => {
    process.stderr.write(`worker-baseline: gave up after ${timeoutMs} ms\n`);
    process.exit(3);
  }, timeoutMs);
  killer.unref();

  const pool = await startPool(workers, files);
  try {
    if (!process.send) {
      const out = { ...pool.facts, ...(await pool.run(images)) };
      if (workers === 1) out.executeOnly = await pool.executeOnly();
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return;
    }
    // Started by bench/engine.mjs with an IPC channel: stay loaded and run rounds on request, so
    // the baseline's rounds can alternate with the server's under the same noise.
    process.send({ op: 'ready', facts: pool.facts });
    for await (const [msg] of on(process, 'message')) {
      if (msg.op === 'run') process.send({ op: 'ran', result: await pool.run(msg.images) });
      else if (msg.op === 'execute-only') process.send({ op: 'ran', result: await pool.executeOnly() });
      else break;
    }
  } finally {
    await pool.close();
    process.disconnect?.();
  }
}

/** N loaded and warmed-up worker threads, fed the photos back to back on request. */
async function startPool(workers, files) {
  const photos = files.map((f) => readFileSync(f));
  const threads = Array.from(
    { length: workers },
    (_, id) => new Worker(new URL(import.meta.url), { workerData: { id, photos } }),
  );
  const messages = threads.map((t) => {
    const queue = [];
    let waiting;
    t.on('message', (m) => (waiting ? (waiting(m), (waiting = undefined)) : queue.push(m)));
    t.on('error', (e) => {
      process.stderr.write(`worker-baseline: a worker failed: ${e.stack ?? e}\n`);
      process.exit(3);
    });
    return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => (waiting = r)));
  });
  // Every worker loaded and warmed up (its first execution) before any clock starts.
  const ready = await Promise.all(messages.map((next) => next()));
  const facts = {
    workers,
    backend: ready[0].backend,
    multithread: ready[0].multithread,
    threadsCount: ready[0].threadsCount,
    loadMs: round(Math.max(...ready.map((r) => r.loadMs))),
  };
  async function run(images) {
    let next = 0;
    let done = 0;
    const tops = {};
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const feed = async (i) => {
      while (next < images) {
        const n = next++;
        threads[i].postMessage({ op: 'run', photo: n % photos.length });
        const reply = await messages[i]();
        if (reply.op !== 'ran') throw new Error(`worker ${i}: ${JSON.stringify(reply)}`);
        tops[path.basename(files[n % photos.length])] ??= reply.top;
        done++;
      }
    };
    await Promise.all(threads.map((_, i) => feed(i)));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return {
      images: done,
      wallMs: round(wallMs),
      imgPerSec: round((done * 1000) / wallMs, 2),
      cpuMs: round((cpu.user + cpu.system) / 1000),
      tops,
    };
  }
  async function executeOnly() {
    threads[0].postMessage({ op: 'execute-only', runs: EXECUTE_ONLY_RUNS });
    return messages[0]();
  }
  const close = () => Promise.all(threads.map((t) => t.terminate()));
  return { facts, run, executeOnly, close };
}

async function worker() {
  const t0 = performance.now();
  const [tf, wasm, converter, { default: sharp }, { readFile }, { createRequire }] = await Promise.all([
    import('@tensorflow/tfjs-core'),
    import('@tensorflow/tfjs-backend-wasm'),
    import('@tensorflow/tfjs-converter'),
    import('sharp'),
    import('node:fs/promises'),
    import('node:module'),
  ]);
  const require = createRequire(import.meta.url);
  const pkgDir = (name) => path.dirname(require.resolve(`${name}/package.json`));
  wasm.setWasmPaths(path.join(pkgDir('@tensorflow/tfjs-backend-wasm'), 'dist') + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend did not start');
  await tf.ready();
  const modelDir = new URL('../node_modules/@vladmandic/human/models/', import.meta.url).pathname;
  const json = JSON.parse(await readFile(path.join(modelDir, 'centernet.json'), 'utf8'));
  const shards = await Promise.all(
    json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(modelDir, p))),
  );
  const weights = Buffer.concat(shards);
  const model = await converter.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      signature: json.signature,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  });
  const execute = async (pixels) => {
    const output = tf.tidy(() =>
      model.execute(tf.tensor4d(Float32Array.from(pixels), [1, SIZE, SIZE, 3]), 'tower_0/detections'),
    );
    const rows = await output.data();
    output.dispose();
    return rows;
  };
  // Decoded, EXIF-oriented, alpha flattened, scaled to fit 512x512 and padded grey at the right and
  // bottom (Sibyl's letterbox) in one sharp pipeline: the least work for the same network input.
  const letterbox = async (bytes) => {
    const { data, info } = await sharp(bytes)
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .resize(SIZE, SIZE, { fit: 'contain', position: 'left top', background: { r: 128, g: 128, b: 128 } })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== SIZE || info.height !== SIZE || info.channels !== 3)
      throw new Error(`letterboxed to ${info.width}x${info.height}x${info.channels}`);
    return data;
  };
  await execute(new Uint8Array(SIZE * SIZE * 3)); // the first execution compiles kernels
  const photos = workerData.photos.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  parentPort.postMessage({
    op: 'ready',
    loadMs: performance.now() - t0,
    backend: tf.getBackend(),
    multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    threadsCount: typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : undefined,
  });
  parentPort.on('message', async (msg) => {
    if (msg.op === 'run') {
      const rows = await execute(await letterbox(photos[msg.photo]));
      let best = 0;
      for (let i = 6; i + 6 <= rows.length; i += 6) if (rows[i + 4] > rows[best + 4]) best = i;
      parentPort.postMessage({ op: 'ran', top: Math.round(rows[best + 5]) });
    } else if (msg.op === 'execute-only') {
      // Graph executions alone, on one already letterboxed photo: no sharp (whose libvips threads
      // would add CPU time of their own). Whole-process CPU against wall time over the same span.
      const pixels = await letterbox(photos[0]);
      const cpu0 = process.cpuUsage();
      const t = performance.now();
      for (let i = 0; i < msg.runs; i++) await execute(pixels);
      const wallMs = performance.now() - t;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      parentPort.postMessage({
        op: 'execute-only',
        runs: msg.runs,
        wallMs: round(wallMs),
        cpuMs: round(cpuMs),
        cpuPerWall: round(cpuMs / wallMs, 2),
        msPerRun: round(wallMs / msg.runs),
      });
    }
  });
}

function round(v, digits = 1) {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
