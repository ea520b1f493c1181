// Where the time goes in one embedded predict from a cold process. It replays what
// `clarifai model predict --file_path F` does without a login (src/cli/connect.ts and
// src/embedded/index.ts): open the SQLite store, sync built-in models, build the server app, GET the
// model (the CLI reads its type), POST .../outputs through fastify's inject, close. The engine is
// created with an onTiming hook so its stages (decode, load incl. the warm-up run, predict) show.
// Informational only: `bench/run.mjs` runs it once and prints the phases; nothing here is a target.
//
//   SIBYL_HOME=<dir> node bench/embedded-profile.mjs <data dir> [image]
// Writes one JSON line: phase -> ms, where `node` is the time from process start to this script.
import { performance } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';

const marks = { node: performance.now() };
let last = marks.node;
const mark = (name) => {
  const now = performance.now();
  marks[name] = (marks[name] ?? 0) + (now - last);
  last = now;
};

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: node bench/embedded-profile.mjs <data dir> [image]');
const image = process.argv[3] ?? new URL('../test/fixtures/photos/dogs.jpg', import.meta.url).pathname;
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;

// The CLI imports commander and its program first; the embedded layer is imported lazily.
await import(dist('cli/index.js'));
mark('import cli');
const { openServerApp } = await import(dist('server/open.js'));
mark('import embedded (fastify, sqlite)');

// The same start-up as the embedded transport (src/embedded/index.ts), with timings added.
const stages = {};
const server = await openServerApp({
  dataDir,
  allowPrivateUrls: true,
  actAsAdmin: true,
  warmUp: false,
  onTiming: (t) => (stages[`engine ${t.stage}`] = (stages[`engine ${t.stage}`] ?? 0) + t.ms),
});
const app = server.app;
mark('open store + sync + app');

const base = '/v2/users/clarifai/apps/main/models/general-image-recognition';
const info = await app.inject({ method: 'GET', url: base });
if (info.statusCode !== 200) throw new Error(`GET model: ${info.statusCode} ${info.body}`);
mark('GET model');

const bytes = await readFile(image);
const payload = JSON.stringify({ inputs: [{ data: { image: { base64: bytes.toString('base64') } } }] });
const res = await app.inject({
  method: 'POST',
  url: `${base}/outputs`,
  headers: { 'content-type': 'application/json' },
  payload,
});
if (res.statusCode !== 200) throw new Error(`predict: ${res.statusCode} ${res.body}`);
const top = JSON.parse(res.body).outputs[0].data.concepts[0];
mark('POST outputs (all)');

await server.close();
mark('close');

const round = (v) => Math.round(v * 10) / 10;
const out = { ...Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, round(v)])) };
for (const [k, v] of Object.entries(stages)) out[k] = round(v);
out.total = round(performance.now());
out.top = `${top.name} ${top.value.toFixed(3)}`;
process.stdout.write(JSON.stringify(out) + '\n');
