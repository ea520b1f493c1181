// The CLI on a folder of images against a plain script sending the same inputs the same way.
//
//   node bench/cli-batch.mjs [--images 300] [--rounds 2] [--concurrency 4] [--batch-size 32] [--json]
//
// One `clarifai serve` answers both sides. Sibyl's side is what a user types:
//   clarifai model predict clarifai/main/models/general-image-recognition --file_path DIR -o jsonl
// (logged in through CLARIFAI_PAT / CLARIFAI_API_BASE), a fresh process each round. The baseline is
// this file run with --send: a fresh Node process that reads the same files, base64-encodes them
// and POSTs the same batches with fetch at the same concurrency, and prints one JSON line per
// output: the least any client can do. The two alternate (CLI first, then baseline first), and
// the verdict is on the total throughput of each side. Target: CLI >= 0.95x the baseline.
//
// Exits 1 if the target fails, 2 if the benchmark could not run.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { markdownTable } from './report.mjs';
import { childEnv } from './serve-process.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'clarifai.js');
const PHOTOS = path.join(ROOT, 'test', 'fixtures', 'photos');
const MODEL = 'clarifai/main/models/general-image-recognition';
const TARGET = 0.95;

const argv = process.argv.slice(2);
if (argv[0] === '--send') await send(argv.slice(1));
else await main();

function flag(name, dflt) {
  const i = argv.indexOf(name);
  if (i === -1) return dflt;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) fail(`${name} must be a whole number; got ${argv[i + 1]}`);
  return n;
}

function fail(message) {
  process.stderr.write(`cli-batch: ${message}\n`);
  process.exit(2);
}

/** The baseline: read, encode, POST in batches with bounded concurrency, print a line per output. */
async function send([dir, base, pat, concurrency, batchSize]) {
  const files = readdirSync(dir)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));
  const batches = [];
  for (let i = 0; i < files.length; i += Number(batchSize))
    batches.push(files.slice(i, i + Number(batchSize)));
  let next = 0;
  const url = `${base}/v2/users/clarifai/apps/main/models/general-image-recognition/outputs`;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      const inputs = await Promise.all(
        batch.map(async (f) => ({ data: { image: { base64: (await readFile(f)).toString('base64') } } })),
      );
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Key ${pat}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.status)}`);
      process.stdout.write(
        body.outputs
          .map((o, i) => `${JSON.stringify({ source: batch[i], status: o.status, data: o.data })}\n`)
          .join(''),
      );
    }
  };
  await Promise.all(Array.from({ length: Number(concurrency) }, worker));
}

async function main() {
  const images = flag('--images', 300);
  const rounds = flag('--rounds', 2);
  const concurrency = flag('--concurrency', 4);
  const batchSize = flag('--batch-size', 32);
  const wantJson = argv.includes('--json');
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'index.js')))
    fail('dist/ is missing: run `npx tsc -p tsconfig.build.json` first');
  if (!existsSync(path.join(PHOTOS, 'dogs.jpg'))) {
    const fetched = spawnSync('bash', [path.join(ROOT, 'scripts', 'fetch-photos.sh')], { stdio: 'inherit' });
    if (fetched.status !== 0) fail('the test photos are missing and scripts/fetch-photos.sh failed');
  }

  const work = mkdtempSync(path.join(os.tmpdir(), 'sibyl-bench-batch-'));
  const env = childEnv(path.join(work, 'home'), path.join(work, 'config'));
  const folder = path.join(work, 'photos');
  mkdirSync(folder);
  const sources = readdirSync(PHOTOS).filter((f) => f.endsWith('.jpg'));
  for (let i = 0; i < images; i++) {
    const name = sources[i % sources.length];
    copyFileSync(path.join(PHOTOS, name), path.join(folder, `${String(i).padStart(4, '0')}-${name}`));
  }

  const server = await startServe(path.join(work, 'data'), env);
  const cleanup = () => {
    server.stop();
    rmSync(work, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (cleanup(), process.exit(130)));
  try {
    const pat = /pat: (\S+)/.exec(readFileSync(path.join(work, 'data', 'bootstrap.yaml'), 'utf8'))[1];
    const loggedIn = { ...env, CLARIFAI_PAT: pat, CLARIFAI_API_BASE: server.url };
    // load the model on every worker before timing anything
    const one = {
      inputs: [
        { data: { image: { base64: readFileSync(path.join(PHOTOS, 'dogs.jpg')).toString('base64') } } },
      ],
    };
    await Promise.all(
      Array.from({ length: 2 * concurrency }, () =>
        fetch(`${server.url}/v2/users/clarifai/apps/main/models/general-image-recognition/outputs`, {
          method: 'POST',
          headers: { authorization: `Key ${pat}`, 'content-type': 'application/json' },
          body: JSON.stringify(one),
        }).then((r) => r.text()),
      ),
    );

    const cli = [];
    const base = [];
    const runCli = () =>
      timed(
        process.execPath,
        [
          CLI,
          'model',
          'predict',
          MODEL,
          '--file_path',
          folder,
          '-o',
          'jsonl',
          '--concurrency',
          String(concurrency),
          '--batch_size',
          String(batchSize),
        ],
        loggedIn,
        images,
      );
    const runBase = () =>
      timed(
        process.execPath,
        [
          fileURLToPath(import.meta.url),
          '--send',
          folder,
          server.url,
          pat,
          String(concurrency),
          String(batchSize),
        ],
        env,
        images,
      );
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        cli.push(await runCli());
        base.push(await runBase());
      } else {
        base.push(await runBase());
        cli.push(await runCli());
      }
      process.stderr.write(`round ${r + 1}/${rounds}: CLI ${fmt(cli.at(-1))}, script ${fmt(base.at(-1))}\n`);
    }
    const rate = (xs) => (images * xs.length) / (xs.reduce((a, b) => a + b, 0) / 1000);
    const ratio = rate(cli) / rate(base);
    const pass = ratio >= TARGET;
    const rows = [
      ['benchmark', 'Sibyl', 'baseline', 'result', 'target', 'verdict'],
      [
        `${images}-image folder, CLI batch (c=${concurrency}, ${batchSize}/request)`,
        `clarifai model predict --file_path DIR -o jsonl: ${rate(cli).toFixed(2)} img/s`,
        `plain fetch script: ${rate(base).toFixed(2)} img/s`,
        `${ratio.toFixed(3)}x`,
        `>= ${TARGET}x`,
        pass ? 'PASS' : 'FAIL',
      ],
    ];
    process.stdout.write(
      `Sibyl CLI batch benchmark: ${new Date().toISOString().slice(0, 10)}, ${os.availableParallelism()} CPUs, Node ${process.versions.node}\n\n` +
        markdownTable(rows) +
        `\n\nCLI runs: ${cli.map(fmt).join(', ')}; script runs: ${base.map(fmt).join(', ')}\n` +
        (pass ? '\nall targets PASS\n' : '\nFAIL: cli-batch\n'),
    );
    if (wantJson)
      process.stdout.write(
        `${JSON.stringify({ images, rounds, concurrency, batchSize, cliMs: cli, scriptMs: base, ratio, pass })}\n`,
      );
    process.exitCode = pass ? 0 : 1;
  } catch (err) {
    process.stderr.write(`cli-batch: ${err instanceof Error ? err.message : err}\n`);
    process.exitCode = 2;
  } finally {
    cleanup();
  }
}

function fmt(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs a child to completion; checks it printed one successful JSON line per image; returns wall ms. */
function timed(cmd, args, env, images) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env, cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const ms = performance.now() - started;
      const lines = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const ok = lines.filter((l) => l.status?.code === 10000).length;
      if (code !== 0 || ok !== images)
        return reject(
          new Error(`${path.basename(args[0])} exited ${code} with ${ok}/${images} inputs done:\n${err}`),
        );
      if (!lines.some((l) => l.data?.concepts?.[0]?.name === 'dog'))
        return reject(new Error('no output found the dog'));
      resolve(ms);
    });
  });
}

/** `clarifai serve --port 0` in its own process group; resolves with its URL once it listens. */
function startServe(dataDir, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--quiet'], {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const stop = () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http\S+)/.exec(out);
      if (m && out.includes('clarifai login --config')) resolve({ url: m[1], stop });
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
}
