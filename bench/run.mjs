// Sibyl's benchmarks. Each one measures Sibyl side by side with a baseline in the same run, with
// the runs interleaved, and judges the ratio (or the difference), never an absolute time: the
// machines this runs on are small and shared, so only comparisons made under the same noise mean
// anything. See bench/README.md.
//
//   node bench/run.mjs [--json] [--only startup,embedded,server,engine,generate,builtins,load,runners] [--no-profile]
//
// Exits 1 if any target fails, 2 if a benchmark could not run.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { request } from './http.mjs';
import { markdownTable } from './report.mjs';
import { childEnv } from './serve-process.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'clarifai.js');
const BARE = path.join(ROOT, 'bench', 'bare-predict.mjs');
const PROFILE = path.join(ROOT, 'bench', 'embedded-profile.mjs');
const PHOTO = path.join(ROOT, 'test', 'fixtures', 'photos', 'dogs.jpg');
const MODEL_URL = 'https://clarifai.com/clarifai/main/models/general-image-recognition';
const EXPECTED = 'dog';

// Sample sizes and targets (see bench/README.md for why each is what it is).
const STARTUP_RUNS = 15;
const STARTUP_MAX_RATIO = 1.3;
const EMBEDDED_RUNS = 5;
const EMBEDDED_MAX_RATIO = 1.3;
const SERVER_REQUESTS = 40;
const SERVER_WARMUP = 3;
// One request per side per block, the side that goes first alternating (S D D S S D ...): the noise
// here comes and goes within seconds, so the finest interleaving shares it best.
const SERVER_BLOCK = 1;
const SERVER_MAX_OVERHEAD_FRACTION = 0.05;
const SERVER_MAX_OVERHEAD_SLACK_MS = 3;

const argv = process.argv.slice(2);
const wantJson = argv.includes('--json');
const wantProfile = !argv.includes('--no-profile');
const onlyArg = argv.find((a) => a.startsWith('--only'));
const only = onlyArg
  ? new Set(
      (onlyArg.includes('=') ? onlyArg.split('=')[1] : (argv[argv.indexOf(onlyArg) + 1] ?? '')).split(','),
    )
  : new Set(['startup', 'embedded', 'server', 'engine', 'generate', 'builtins', 'load', 'runners']);

// ---------------------------------------------------------------------------------------------
// Helpers

const tempDirs = [];
async function tempDir(label) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `sibyl-bench-${label}-`));
  tempDirs.push(dir);
  return dir;
}
function removeTempDirs() {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
let cleanups = [];
async function cleanup() {
  const fns = cleanups;
  cleanups = [];
  for (const fn of fns.reverse()) await fn().catch(() => undefined);
  removeTempDirs();
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // Children started by spawnSync share our process group and get the signal too.
    removeTempDirs();
    process.exit(130);
  });
}

/**
 * CPU time (user + system, ms) of this process's waited-for children, from /proc (Linux only;
 * clock-tick resolution, usually 10 ms). Unlike wall time it barely moves when other tenants load
 * the machine, so it is reported next to the wall-time ratios as a cross-check.
 */
const CLK_TCK =
  process.platform === 'linux'
    ? Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100
    : 0;
function childCpuMs() {
  if (!CLK_TCK) return NaN;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK; // cutime, cstime
}

/** Runs `node args...` to completion; returns its wall time in ms (spawn included) and CPU time. */
function timeNode(args, env, { check } = {}) {
  const cpuBefore = childCpuMs();
  const started = performance.now();
  const res = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 16 << 20 });
  const ms = performance.now() - started;
  const cpuMs = childCpuMs() - cpuBefore;
  if (res.error) throw res.error;
  if (res.status !== 0) {
    throw new Error(
      `node ${args.join(' ')} exited ${res.status ?? res.signal}:\n${res.stderr || res.stdout}`,
    );
  }
  if (check) check(res.stdout, res.stderr);
  return { ms, cpuMs, stdout: res.stdout, stderr: res.stderr };
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
/** Nearest-rank percentile. */
function percentile(xs, p) {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
function median(xs) {
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
function summary(xs) {
  return {
    n: xs.length,
    min: Math.min(...xs),
    p50: median(xs),
    p95: percentile(xs, 95),
    max: Math.max(...xs),
  };
}
/** Median of per-pair ratios a[i]/b[i]: each pair ran back to back, under the same load. */
const pairedRatio = (a, b) => median(a.map((v, i) => v / b[i]));
/** Median CPU times and their ratio, as a cross-check on a wall-time ratio. */
function cpuCheck(a, b) {
  if (a.some(Number.isNaN)) return undefined;
  return { measured: median(a), baseline: median(b), ratio: median(a) / median(b) };
}
const r1 = (v) => Math.round(v * 10) / 10;
const fmtMs = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const log = (msg) => process.stderr.write(`${msg}\n`);

// ---------------------------------------------------------------------------------------------
// 1. CLI start-up: `clarifai --help` against a bare `node -e 0`.

async function benchStartup() {
  const home = await tempDir('startup');
  const env = childEnv(home);
  const help = {
    label: 'clarifai --help',
    args: [CLI, '--help'],
    check: (out) => {
      if (!/Usage/i.test(out) || !/model/.test(out)) throw new Error(`--help printed no usage:\n${out}`);
    },
  };
  const bare = { label: 'node -e 0', args: ['-e', '0'] };
  // One untimed run each: the first read of dist/ and node_modules from disk is not what we judge.
  for (const c of [help, bare]) timeNode(c.args, env, c);
  const times = { help: [], bare: [] };
  const cpu = { help: [], bare: [] };
  for (let i = 0; i < STARTUP_RUNS; i++) {
    // ABBA order, so neither side always runs right after the other.
    const order = i % 2 ? [bare, help] : [help, bare];
    for (const c of order) {
      const run = timeNode(c.args, env, c);
      times[c === help ? 'help' : 'bare'].push(run.ms);
      cpu[c === help ? 'help' : 'bare'].push(run.cpuMs);
    }
  }
  const a = summary(times.help);
  const b = summary(times.bare);
  const ratio = a.p50 / b.p50;
  return {
    id: 'startup',
    title: `CLI start-up (median of ${STARTUP_RUNS})`,
    measured: { label: 'clarifai --help', ...a },
    baseline: { label: 'node -e 0', ...b },
    result: `${ratio.toFixed(2)}x`,
    target: `<= ${STARTUP_MAX_RATIO}x`,
    value: ratio,
    pass: ratio <= STARTUP_MAX_RATIO,
    pairedRatio: pairedRatio(times.help, times.bare),
    cpu: cpuCheck(cpu.help, cpu.bare),
    samples: times,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Embedded predict: a fresh `clarifai model predict` process against bench/bare-predict.mjs.

async function benchEmbedded(profile) {
  const home = await tempDir('embedded');
  const env = childEnv(home);
  const topConcept = (out) =>
    out
      .split('\n')
      .find((line, i) => i > 0 && line.trim())
      ?.trim()
      .split(/\s{2,}/)[0];
  const cli = {
    args: [CLI, 'model', 'predict', '--model_url', MODEL_URL, '--file_path', PHOTO],
    check: (out) => {
      if (topConcept(out) !== EXPECTED)
        throw new Error(`embedded predict's top concept is not ${EXPECTED}:\n${out}`);
    },
  };
  const bare = {
    args: [BARE, PHOTO, '--timings'],
    check: (out) => {
      if (out.trim().split(' ')[0] !== EXPECTED)
        throw new Error(`bare predict's top class is not ${EXPECTED}: ${out}`);
    },
  };
  // Untimed: the CLI's first run creates the data directory (SQLite schema, built-in models, admin
  // user); later runs find it, as a user's would. The bare script runs once too, to share page cache.
  timeNode(cli.args, env, cli);
  timeNode(bare.args, env, bare);
  const times = { cli: [], bare: [] };
  const cpu = { cli: [], bare: [] };
  const barePhases = [];
  for (let i = 0; i < EMBEDDED_RUNS; i++) {
    const order = i % 2 ? [bare, cli] : [cli, bare];
    for (const c of order) {
      const run = timeNode(c.args, env, c);
      if (c === cli) {
        times.cli.push(run.ms);
        cpu.cli.push(run.cpuMs);
      } else {
        times.bare.push(run.ms);
        cpu.bare.push(run.cpuMs);
        barePhases.push(JSON.parse(run.stderr.trim().split('\n').at(-1)));
      }
    }
  }
  const a = summary(times.cli);
  const b = summary(times.bare);
  const ratio = a.p50 / b.p50;
  const out = {
    id: 'embedded',
    title: `Embedded predict, fresh process (median of ${EMBEDDED_RUNS})`,
    measured: { label: 'clarifai model predict', ...a },
    baseline: { label: 'bare-predict.mjs', ...b },
    result: `${ratio.toFixed(2)}x`,
    target: `<= ${EMBEDDED_MAX_RATIO}x`,
    value: ratio,
    pass: ratio <= EMBEDDED_MAX_RATIO,
    pairedRatio: pairedRatio(times.cli, times.bare),
    cpu: cpuCheck(cpu.cli, cpu.bare),
    samples: times,
    barePhases: medianPhases(barePhases),
  };
  if (profile) {
    // Informational: the same path replayed in one instrumented process (see embedded-profile.mjs).
    const runs = [0, 1].map(() => JSON.parse(timeNode([PROFILE, home, PHOTO], env).stdout.trim()));
    out.embeddedPhases = medianPhases(runs);
  }
  return out;
}

function medianPhases(runs) {
  const phases = {};
  for (const key of Object.keys(runs[0] ?? {})) {
    if (typeof runs[0][key] === 'number') phases[key] = r1(median(runs.map((r) => r[key])));
  }
  return phases;
}

// ---------------------------------------------------------------------------------------------
// 3. Server overhead: HTTP predicts against direct engine.predict calls, same process, same engine.

async function benchServer() {
  const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
  const [
    { createEngine },
    { openStore },
    { buildApp },
    { syncBuiltinModels },
    { writeBootstrapFile },
    { parse },
  ] = await Promise.all([
    dist('engine/index.js'),
    dist('store/index.js'),
    dist('server/app.js'),
    dist('server/builtins.js'),
    dist('server/bootstrap.js'),
    import('yaml'),
  ]);
  const dataDir = await tempDir('server');
  const store = await openStore({ dataDir });
  cleanups.push(() => store.close());
  const engine = createEngine();
  cleanups.push(() => engine.close());
  await syncBuiltinModels(store, engine);
  // The server gets the same engine behind a thin wrapper that times each engine.predict it makes,
  // so every HTTP request also yields its own overhead: round trip minus the engine's time inside it.
  // (The services call predictEach; predict is wrapped too in case a route still uses it.)
  let innerMs = NaN;
  const timed =
    (fn) =>
    async (...args) => {
      const started = performance.now();
      try {
        return await fn(...args);
      } finally {
        innerMs = performance.now() - started;
      }
    };
  const timedEngine = {
    ...engine,
    predict: timed(engine.predict),
    predictEach: timed(engine.predictEach),
  };
  const app = buildApp({
    store,
    engine: timedEngine,
    service: { allowPrivateUrls: true },
    logError: (err) => log(String(err)),
  });
  cleanups.push(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = app.server.address().port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const boot = await writeBootstrapFile(store, dataDir, baseUrl);
  const { pat } = parse(await readFile(boot.path, 'utf8'));

  const bytes = await readFile(PHOTO);
  // The request body is built once: encoding the image is the client's work, not the server's.
  const body = Buffer.from(
    JSON.stringify({ inputs: [{ data: { image: { base64: bytes.toString('base64') } } }] }),
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  cleanups.push(async () => agent.destroy());
  const route = '/v2/users/clarifai/apps/main/models/general-image-recognition/outputs';

  const post = () =>
    request(agent, `http://127.0.0.1:${port}${route}`, 'POST', { authorization: `Key ${pat}` }, body);
  const inRequest = [];
  async function viaServer() {
    innerMs = NaN;
    const started = performance.now();
    const res = await post();
    const ms = performance.now() - started;
    inRequest.push(ms - innerMs);
    if (res.status !== 200) throw new Error(`server predict: HTTP ${res.status} ${res.text.slice(0, 500)}`);
    const top = JSON.parse(res.text).outputs?.[0]?.data?.concepts?.[0]?.name;
    if (top !== EXPECTED) throw new Error(`server predict's top concept is ${top}, not ${EXPECTED}`);
    return ms;
  }
  const def = engine
    .builtins()
    .find((s) => s.userId === 'clarifai' && s.appId === 'main' && s.id === 'general-image-recognition');
  if (!def) throw new Error('the engine has no clarifai/main/general-image-recognition');
  async function direct() {
    const started = performance.now();
    const data = await engine.predict(def, [{ type: 'image', bytes }], {});
    const ms = performance.now() - started;
    const top = data[0]?.concepts?.[0]?.name;
    if (top !== EXPECTED) throw new Error(`direct predict's top concept is ${top}, not ${EXPECTED}`);
    return ms;
  }

  // Warm-ups (the first server request also loads the model), then interleaved blocks.
  for (let i = 0; i < SERVER_WARMUP; i++) await viaServer();
  for (let i = 0; i < SERVER_WARMUP; i++) await direct();
  const times = { server: [], direct: [] };
  inRequest.length = 0;
  for (let block = 0; block < SERVER_REQUESTS / SERVER_BLOCK; block++) {
    const order = block % 2 ? ['direct', 'server'] : ['server', 'direct'];
    for (const side of order) {
      for (let i = 0; i < SERVER_BLOCK; i++)
        times[side].push(side === 'server' ? await viaServer() : await direct());
    }
  }
  await cleanup();

  const a = summary(times.server);
  const b = summary(times.direct);
  const overhead = a.p50 - b.p50;
  const limit = SERVER_MAX_OVERHEAD_FRACTION * b.p50 + SERVER_MAX_OVERHEAD_SLACK_MS;
  return {
    id: 'server',
    title: `Server overhead (${SERVER_REQUESTS} sequential requests each)`,
    measured: { label: 'HTTP POST .../outputs', ...a },
    baseline: { label: 'engine.predict', ...b },
    result: `${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)} ms (${((100 * overhead) / b.p50).toFixed(1)}%)`,
    target: `< ${limit.toFixed(1)} ms (5% + 3 ms)`,
    value: overhead,
    limit,
    pass: overhead < limit,
    // Median of per-pair differences (each pair ran back to back): less sensitive to load swings.
    pairedOverhead: median(times.server.map((v, i) => v - times.direct[i])),
    // Round trip minus engine.predict's time inside the same request: HTTP, routing, auth, JSON
    // and base64 alone, free of the inference time's noise.
    inRequestOverhead: summary(inRequest),
    samples: times,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function describe(side, id) {
  if (side.text !== undefined) return side.text; // rows that describe themselves (engine.mjs)
  const spread =
    id === 'server' ? `p50 ${fmtMs(side.p50)}, p95 ${fmtMs(side.p95)}` : `median ${fmtMs(side.p50)}`;
  return `${side.label}: ${spread}`;
}

function report(results, machine) {
  const rows = [['benchmark', 'Sibyl', 'baseline', 'result', 'target', 'verdict']];
  for (const r of results) {
    rows.push([
      r.title,
      describe(r.measured, r.id),
      describe(r.baseline, r.id),
      r.result,
      r.target,
      r.verdict ?? (r.pass ? 'PASS' : 'FAIL'),
    ]);
  }
  const lines = [
    `Sibyl benchmarks: ${machine.date}, ${machine.nproc} CPUs (${machine.cpu}), Node ${machine.node}`,
    '',
    markdownTable(rows),
    '',
  ];
  for (const r of results) {
    if (r.lines) lines.push(...r.lines);
    if (r.measured.text !== undefined) continue;
    const range = (s) =>
      `${s.label} min ${fmtMs(s.min)} / p50 ${fmtMs(s.p50)} / p95 ${fmtMs(s.p95)} / max ${fmtMs(s.max)}`;
    lines.push(`${r.id}: ${range(r.measured)}; ${range(r.baseline)}`);
    const extra = [];
    if (r.pairedRatio !== undefined) extra.push(`median of paired ratios ${r.pairedRatio.toFixed(2)}x`);
    if (r.cpu) {
      extra.push(
        `CPU time (user+sys) medians ${fmtMs(r.cpu.measured)} vs ${fmtMs(r.cpu.baseline)} = ${r.cpu.ratio.toFixed(2)}x`,
      );
    }
    if (r.pairedOverhead !== undefined)
      extra.push(`median of paired differences ${r.pairedOverhead.toFixed(1)} ms`);
    if (r.inRequestOverhead) {
      const o = r.inRequestOverhead;
      extra.push(
        `in-request overhead (round trip - engine.predict inside it) p50 ${o.p50.toFixed(1)} ms, p95 ${o.p95.toFixed(1)} ms`,
      );
    }
    if (extra.length) lines.push(`  cross-checks (not judged): ${extra.join('; ')}`);
  }
  const phaseLine = (name, phases) =>
    `  ${name}: ${Object.entries(phases)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (ms, medians)`;
  const emb = results.find((r) => r.id === 'embedded');
  if (emb) {
    lines.push('', 'embedded phases (informational):');
    lines.push(phaseLine('bare-predict.mjs', emb.barePhases));
    if (emb.embeddedPhases) lines.push(phaseLine('embedded-profile.mjs', emb.embeddedPhases));
  }
  return lines.join('\n');
}

async function main() {
  const machine = {
    date: new Date().toISOString(),
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${os.release()}`,
    loadavg: os.loadavg().map(r1),
    command: `node bench/run.mjs ${argv.join(' ')}`.trim(),
  };
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'index.js'))) {
    log('dist/ is missing: build first with `npx tsc -p tsconfig.build.json`');
    return 2;
  }
  if (newestMtime(path.join(ROOT, 'src')) > newestMtime(path.join(ROOT, 'dist'))) {
    log(
      'warning: src/ has changes newer than dist/; rebuild with `npx tsc -p tsconfig.build.json` for current numbers',
    );
  }
  if (!existsSync(PHOTO)) {
    log('fetching test photos (scripts/fetch-photos.sh)...');
    spawnSync('bash', ['scripts/fetch-photos.sh'], { cwd: ROOT, stdio: 'inherit' });
    if (!existsSync(PHOTO)) {
      log(`missing ${PHOTO}`);
      return 2;
    }
  }

  const results = [];
  const started = performance.now();
  const steps = [
    ['startup', benchStartup],
    ['embedded', () => benchEmbedded(wantProfile)],
    ['server', benchServer],
    // bench/engine.mjs: the server under concurrent load against plain worker threads (several rows)
    ['engine', () => import('./engine.mjs').then((m) => m.benchEngine({ tempDir, log }))],
    // bench/generate.mjs: text generation through the server against node-llama-cpp directly
    ['generate', () => import('./generate.mjs').then((m) => m.benchGenerate({ tempDir, log }))],
    // bench/builtins.mjs: every built-in model through the server against its bare runtime call
    ['builtins', () => import('./builtins.mjs').then((m) => m.benchBuiltins({ tempDir, log }))],
    // bench/load.mjs: autocannon against the server; auth + request log + metrics on against off
    ['load', () => import('./load.mjs').then((m) => m.benchLoad({ tempDir, log }))],
    // bench/runners.mjs: predictions through runner processes against the server's own worker
    ['runners', () => import('./runners.mjs').then((m) => m.benchRunners({ tempDir, log }))],
  ];
  for (const [id, fn] of steps) {
    if (!only.has(id)) continue;
    log(`running ${id}...`);
    const t = performance.now();
    try {
      results.push(...[await fn()].flat());
    } catch (err) {
      await cleanup();
      log(`${id} could not run: ${err instanceof Error ? err.stack : err}`);
      return 2;
    }
    log(`  ${id} took ${fmtMs(performance.now() - t)}`);
  }
  machine.seconds = r1((performance.now() - started) / 1000);
  machine.loadavgAfter = os.loadavg().map(r1);
  process.stdout.write(`${report(results, machine)}\n`);
  const failed = results.filter((r) => !r.pass);
  process.stdout.write(
    failed.length ? `\nFAIL: ${failed.map((r) => r.id).join(', ')}\n` : '\nall targets PASS\n',
  );

  if (wantJson) {
    const dir = path.join(ROOT, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'latest.json');
    let text = `${JSON.stringify({ machine, results }, null, 2)}\n`;
    // Formatted as the repository's prettier would (when installed), so `npm run lint` stays clean.
    const prettier = await import('prettier').catch(() => undefined);
    if (prettier)
      text = await prettier.format(text, { ...(await prettier.resolveConfig(file)), filepath: file });
    await writeFile(file, text);
    log(`wrote ${path.relative(ROOT, file)}`);
  }
  return failed.length ? 1 : 0;
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(ts|js)$/.test(entry.name)) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

try {
  process.exitCode = await main();
} finally {
  await cleanup();
}
