// Predict latency through Clarifai's V2 gRPC service against Sibyl's REST JSON route, the same
// model and photo on the same `clarifai serve` port, in the same run, interleaved (G R R G ...),
// one request at a time. Judged as a ratio of medians, never an absolute time (see bench/README.md):
// target gRPC p50 <= 1.05 x REST p50. gRPC-web (binary form, on the same port) is measured too and
// printed, not judged.
//
//   npx tsc -p tsconfig.build.json   # this runs dist/, so build first
//   node bench/grpc.mjs [--requests 40] [--json]
//
// The gRPC client is the official stub (`clarifai-nodejs-grpc`'s V2Client, insecure channel, the
// key in `authorization` metadata); REST is a keep-alive HTTP/1.1 POST of the JSON body. Each
// request body is built once: encoding the image is the client's work either way. Every answer is
// checked: the top concept for test/fixtures/photos/dogs.jpg must be `dog`.
//
// Exits 1 if the target fails, 2 if the benchmark could not run.
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

import grpcPkg from 'clarifai-nodejs-grpc';
import resources from 'clarifai-nodejs-grpc/proto/clarifai/api/resources_pb';
import service from 'clarifai-nodejs-grpc/proto/clarifai/api/service_pb';
import serviceGrpc from 'clarifai-nodejs-grpc/proto/clarifai/api/service_grpc_pb';
import { parse } from 'yaml';
import { markdownTable } from './report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = path.join(ROOT, 'dist', 'server', 'main.js');
const PHOTO = path.join(ROOT, 'test', 'fixtures', 'photos', 'dogs.jpg');
const EXPECTED = 'dog';
const USER = 'clarifai';
const APP = 'main';
const MODEL = 'general-image-recognition';

const WARMUP = 3;
const MAX_RATIO = 1.05;

const argv = process.argv.slice(2);
const wantJson = argv.includes('--json');
const requestsArg = argv.indexOf('--requests');
const REQUESTS = requestsArg >= 0 ? Number(argv[requestsArg + 1]) : 40;
if (!Number.isInteger(REQUESTS) || REQUESTS < 4) {
  process.stderr.write('--requests must be a whole number of at least 4\n');
  process.exit(2);
}

const { grpc } = grpcPkg;

function percentile(sorted, p) {
  const i = (sorted.length - 1) * p;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
}
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, min: s[0], p50: percentile(s, 0.5), p95: percentile(s, 0.95), max: s.at(-1) };
}
const fmtMs = (ms) => `${ms.toFixed(1)} ms`;

async function main() {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx tsc -p tsconfig.build.json\` first`);
  if (!existsSync(PHOTO)) throw new Error(`${PHOTO} is missing: run \`bash scripts/fetch-photos.sh\``);
  const { startServer } = await import(pathToFileURL(MAIN).href);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sibyl-bench-grpc-'));
  const cleanups = [() => rmSync(dataDir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => void cleanup().then(() => process.exit(130)));
  }
  try {
    const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, allowPrivateUrls: false });
    cleanups.push(() => server.close());
    const { pat } = parse(await readFile(server.bootstrap.path, 'utf8'));
    const { port } = new URL(server.url);
    const bytes = await readFile(PHOTO);

    // gRPC: the official stub, one channel, the request message built once
    const client = new serviceGrpc.V2Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Key ${pat}`);
    const grpcRequest = new service.PostModelOutputsRequest()
      .setUserAppId(new resources.UserAppIDSet().setUserId(USER).setAppId(APP))
      .setModelId(MODEL)
      .setInputsList([
        new resources.Input().setData(new resources.Data().setImage(new resources.Image().setBase64(bytes))),
      ]);
    const viaGrpc = () =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        client.postModelOutputs(grpcRequest, metadata, (err, res) => {
          const ms = performance.now() - started;
          if (err) return reject(new Error(`gRPC predict: ${err.message}`));
          const status = res.getStatus();
          if (status.getCode() !== 10000) {
            return reject(new Error(`gRPC predict: ${status.getCode()} ${status.getDetails()}`));
          }
          const top = res.getOutputsList()[0]?.getData()?.getConceptsList()[0]?.getName();
          if (top !== EXPECTED) return reject(new Error(`gRPC predict's top concept is ${top}`));
          resolve(ms);
        });
      });

    // REST and gRPC-web: keep-alive HTTP/1.1, one socket, bodies built once
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const jsonBody = Buffer.from(
      JSON.stringify({ inputs: [{ data: { image: { base64: bytes.toString('base64') } } }] }),
    );
    const message = Buffer.from(grpcRequest.serializeBinary());
    const frameHead = Buffer.alloc(5);
    frameHead.writeUInt32BE(message.length, 1);
    const webBody = Buffer.concat([frameHead, message]);
    const post = (route, headers, body) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: route,
            method: 'POST',
            agent,
            headers: { ...headers, 'content-length': body.length },
          },
          (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const viaRest = async () => {
      const started = performance.now();
      const res = await post(
        `/v2/users/${USER}/apps/${APP}/models/${MODEL}/outputs`,
        { authorization: `Key ${pat}`, 'content-type': 'application/json' },
        jsonBody,
      );
      const ms = performance.now() - started;
      if (res.status !== 200)
        throw new Error(`REST predict: HTTP ${res.status} ${res.body.toString().slice(0, 300)}`);
      const top = JSON.parse(res.body.toString('utf8')).outputs?.[0]?.data?.concepts?.[0]?.name;
      if (top !== EXPECTED) throw new Error(`REST predict's top concept is ${top}`);
      return ms;
    };
    const viaWeb = async () => {
      const started = performance.now();
      const res = await post(
        '/clarifai.api.V2/PostModelOutputs',
        { authorization: `Key ${pat}`, 'content-type': 'application/grpc-web+proto' },
        webBody,
      );
      const ms = performance.now() - started;
      const length = res.body.readUInt32BE(1);
      const reply = service.MultiOutputResponse.deserializeBinary(res.body.subarray(5, 5 + length));
      const top = reply.getOutputsList()[0]?.getData()?.getConceptsList()[0]?.getName();
      if (top !== EXPECTED)
        throw new Error(`gRPC-web predict's top concept is ${top} (${reply.getStatus()?.getDetails()})`);
      return ms;
    };

    const sides = { grpc: viaGrpc, rest: viaRest, web: viaWeb };
    for (const fn of Object.values(sides)) for (let i = 0; i < WARMUP; i++) await fn();
    const times = { grpc: [], rest: [], web: [] };
    // one request per side per round, the order rotating so no side always follows another
    const orders = [
      ['grpc', 'rest', 'web'],
      ['rest', 'web', 'grpc'],
      ['web', 'grpc', 'rest'],
      ['grpc', 'web', 'rest'],
      ['rest', 'grpc', 'web'],
      ['web', 'rest', 'grpc'],
    ];
    for (let round = 0; round < REQUESTS; round++) {
      for (const side of orders[round % orders.length]) times[side].push(await sides[side]());
    }

    const g = summary(times.grpc);
    const r = summary(times.rest);
    const w = summary(times.web);
    const ratio = g.p50 / r.p50;
    const pairedRatios = times.grpc.map((v, i) => v / times.rest[i]).sort((a, b) => a - b);
    const pass = ratio <= MAX_RATIO;
    const rows = [
      ['benchmark', 'Sibyl', 'baseline', 'result', 'target', 'verdict'],
      [
        `gRPC vs REST predict (${REQUESTS} sequential requests each)`,
        `gRPC PostModelOutputs: p50 ${fmtMs(g.p50)}, p95 ${fmtMs(g.p95)}`,
        `REST POST .../outputs: p50 ${fmtMs(r.p50)}, p95 ${fmtMs(r.p95)}`,
        `${ratio.toFixed(3)}x`,
        `<= ${MAX_RATIO}x`,
        pass ? 'PASS' : 'FAIL',
      ],
      [
        'gRPC-web vs REST predict (same requests, not judged)',
        `gRPC-web (binary): p50 ${fmtMs(w.p50)}, p95 ${fmtMs(w.p95)}`,
        `REST POST .../outputs: p50 ${fmtMs(r.p50)}, p95 ${fmtMs(r.p95)}`,
        `${(w.p50 / r.p50).toFixed(3)}x`,
        '-',
        'info',
      ],
    ];
    const range = (label, s) =>
      `${label} min ${fmtMs(s.min)} / p50 ${fmtMs(s.p50)} / p95 ${fmtMs(s.p95)} / max ${fmtMs(s.max)}`;
    const date = new Date().toISOString();
    process.stdout.write(
      [
        `Sibyl gRPC benchmark: ${date}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.versions.node}`,
        `model ${USER}/${APP}/${MODEL} on ${path.relative(ROOT, PHOTO)} (${bytes.length} bytes), one port: ${server.url}`,
        '',
        markdownTable(rows),
        '',
        `${range('gRPC', g)}; ${range('REST', r)}; ${range('gRPC-web', w)}`,
        `median of paired gRPC/REST ratios ${percentile(pairedRatios, 0.5).toFixed(3)}x; p95 ratio ${(g.p95 / r.p95).toFixed(3)}x`,
        pass ? '\nall targets PASS\n' : '\nFAIL: grpc\n',
      ].join('\n'),
    );
    if (wantJson) {
      await mkdir(path.join(ROOT, 'bench', 'results'), { recursive: true });
      const file = path.join(ROOT, 'bench', 'results', 'grpc-latest.json');
      await writeFile(
        file,
        `${JSON.stringify({ date, requests: REQUESTS, ratio, maxRatio: MAX_RATIO, pass, grpc: g, rest: r, web: w, samples: times }, null, 2)}\n`,
      );
      process.stdout.write(`wrote ${path.relative(ROOT, file)}\n`);
    }
    return pass;
  } finally {
    await cleanup();
  }
}

main().then(
  (pass) => process.exit(pass ? 0 : 1),
  (err) => {
    process.stderr.write(
      `bench/grpc.mjs could not run: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(2);
  },
);
