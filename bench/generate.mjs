// Text generation through `clarifai serve` against node-llama-cpp called directly, in one run.
//
//   node bench/generate.mjs [--requests 16] [--max-tokens 512] [--profile] [--json]
//   node bench/run.mjs --only generate
//
// The model is the tiny random-weight llama GGUF that test/helpers/gguf.ts writes (written here
// through tsx, context 2048). The baseline loads it in this process with node-llama-cpp 3.21.1 as
// src/engine/runtimes/llama-cpp.ts and llama-generate.ts do (one thread, the same context size,
// one sequence; temperature 0.8, top-k 40, top-p 0.95, a seed; the prompt built the same way;
// every token detokenized with 8 tokens of context as it comes). Sibyl is a `clarifai serve
// --workers 1 --models DIR` child (its own process group, killed at the end on failure too) with the
// same file as meta/Llama-2/tiny-llama. Three pairs, each Sibyl path against a baseline doing the
// same work:
//   REST  POST .../outputs/generate (NDJSON stream)   vs  direct, chat template
//   /v1   POST /v1/chat/completions, stream: true    vs  direct, chat template
//   /v1   POST /v1/completions, stream: true (raw)   vs  direct, raw prompt (no template)
// Each request must make exactly max_tokens (completion tokens checked; the text is compared with
// the direct side's for the same seed and reported). tokens/s = (completion tokens - 1) / (first
// non-empty piece to the last token), the steady stream; TTFT = request start to the first
// non-empty piece, judged on its own (completion tokens / whole request is printed too). All five
// sides run once per round, in a new (seeded) order every round, after two untimed rounds;
// medians per side.
// Targets: tokens/s >= 0.95x direct; TTFT <= direct + 5 ms. See bench/README.md.
//
// Exits 1 if a target fails, 2 if the benchmark could not run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { bootstrapPat, childEnv, startServe } from './serve-process.mjs';
import { runStandalone } from './standalone.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const CONTEXT = 2048;
const TEMPERATURE = 0.8;
const TOP_K = 40; // llama-generate.ts's defaults, stated so both sides sample alike
const TOP_P = 0.95;
const DETOKENIZE_CONTEXT = 8;
const WARMUP_ROUNDS = 2;
const SEED_BASE = 1000;
const PROMPT = 'Tell me a short story about a lighthouse keeper and the sea.';
export const MIN_RATIO = 0.95;
export const MAX_TTFT_MS = 5;

const SIDES = {
  chat: { label: 'node-llama-cpp direct, chat template' },
  raw: { label: 'node-llama-cpp direct, raw prompt' },
  rest: { label: 'REST .../outputs/generate (stream)', baseline: 'chat' },
  v1chat: { label: '/v1/chat/completions (SSE)', baseline: 'chat' },
  v1completions: { label: '/v1/completions (SSE, raw)', baseline: 'raw' },
};

const sorted = (xs) => [...xs].sort((a, b) => a - b);
function median(xs) {
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Writes the tiny GGUF and its config.yaml into DIR/tiny-llama; returns the model file's path. */
function writeModelFolder(modelsDir, env) {
  const folder = path.join(modelsDir, 'tiny-llama');
  const file = path.join(folder, 'model.gguf');
  const code =
    `const { writeTinyGguf } = await import(${JSON.stringify(path.join(ROOT, 'test', 'helpers', 'gguf.ts'))});` +
    `await writeTinyGguf(process.argv[1], { contextLength: ${CONTEXT} });`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, file], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`writing the tiny GGUF failed: ${res.stderr || res.stdout}`);
  return file;
}

const CONFIG_YAML = `model:
  id: tiny-llama
  user_id: meta
  app_id: Llama-2
  model_type_id: text-to-text
  visibility: public
runtime:
  kind: llama-cpp
  file: model.gguf
`;

// ---------------------------------------------------------------------------------------------
// The baseline: node-llama-cpp in this process, as the llama-cpp runtime uses it.

async function openDirect(file) {
  const lib = await import('node-llama-cpp');
  const llama = await lib.getLlama({
    gpu: false,
    build: 'never',
    progressLogs: false,
    logLevel: lib.LlamaLogLevel.warn,
  });
  const model = await llama.loadModel({ modelPath: file });
  const context = await model.createContext({ contextSize: CONTEXT, threads: 1, sequences: 1 });

  let chatWrapper;
  /** llama-generate.ts's buildPrompt: raw text (BOS first if the model wants it) or the chat template. */
  function buildPrompt(text, raw) {
    if (raw) {
      const tokens = model.tokenize(text, false);
      const bos = model.tokens.bos;
      return {
        tokens: model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens,
        stopTexts: [],
        stopTokens: new Set(),
      };
    }
    // resolved once per model, as the llama-cpp runtime does (parsing the template takes 0.1-0.4 s)
    const wrapper = (chatWrapper ??= lib.resolveChatWrapper(model));
    const state = wrapper.generateContextState({
      chatHistory: [
        { type: 'user', text },
        { type: 'model', response: [] },
      ],
    });
    const stopTexts = [];
    const stopTokens = new Set();
    for (const trigger of state.stopGenerationTriggers) {
      if (trigger.values.every((v) => typeof v === 'string')) stopTexts.push(trigger.values.join(''));
      else {
        const tokens = trigger.tokenize(model.tokenizer);
        if (tokens.length === 1) stopTokens.add(tokens[0]);
      }
    }
    return { tokens: state.contextText.tokenize(model.tokenizer), stopTexts, stopTokens };
  }

  /** One streamed generation, timed as a client would time the server's. */
  async function generate({ raw, seed, maxTokens }) {
    const started = performance.now();
    const prompt = buildPrompt(PROMPT, raw);
    const sequence = context.getSequence();
    let ttft;
    let text = '';
    const generated = [];
    try {
      let decoded = 0;
      const tokens = sequence.evaluate(prompt.tokens, {
        temperature: TEMPERATURE,
        topK: TOP_K,
        topP: TOP_P,
        seed,
        yieldEogToken: true,
      });
      for await (const token of tokens) {
        generated.push(token);
        if (model.isEogToken(token) || prompt.stopTokens.has(token)) break;
        const final = generated.length >= maxTokens;
        const before = generated.slice(Math.max(0, decoded - DETOKENIZE_CONTEXT), decoded);
        const piece = model.detokenize(generated.slice(decoded), false, before);
        if (final || !piece.endsWith('\uFFFD')) {
          decoded = generated.length;
          if (piece !== '' && ttft === undefined) ttft = performance.now() - started;
          text += piece;
          if (prompt.stopTexts.some((s) => text.includes(s))) break;
        }
        if (final) break;
      }
    } finally {
      sequence.dispose();
    }
    const ms = performance.now() - started;
    return { ms, ttft, tokens: generated.length, text };
  }

  return {
    generate,
    close: async () => {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Sibyl: `clarifai serve` in its own process group, and a streaming HTTP client.

/**
 * One streamed request. `parse(chunk)` gets every NDJSON line or SSE data payload as an object and
 * returns the text it carries; `done` collects the usage. Times: request start to the first
 * non-empty piece, and to the end of the stream.
 */
function stream(agent, url, headers, body, parse) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const payload = Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res) => {
        let buffered = '';
        let ttft;
        let text = '';
        const state = {};
        const take = (line) => {
          const piece = parse(line, state);
          if (piece) {
            if (ttft === undefined) ttft = performance.now() - started;
            text += piece;
          }
        };
        res.setEncoding('utf8');
        res.on('data', (d) => {
          buffered += d;
          let at;
          while ((at = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, at);
            buffered = buffered.slice(at + 1);
            if (line.trim() !== '') take(line);
          }
        });
        res.on('end', () => {
          const ms = performance.now() - started;
          if (buffered.trim() !== '') take(buffered);
          if (res.statusCode !== 200)
            return reject(new Error(`${url}: HTTP ${res.statusCode} ${JSON.stringify(state.error ?? text)}`));
          if (state.error) return reject(new Error(`${url}: ${JSON.stringify(state.error)}`));
          resolve({ ms, ttft, tokens: state.tokens, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** REST: `{"result": MultiOutputResponse}` lines; the last output has completion_tokens. */
function parseRest(line, state) {
  const msg = JSON.parse(line);
  const result = msg.result ?? msg;
  if (result.status?.code !== 10000) state.error = result.status ?? msg;
  const output = result.outputs?.[0];
  if (output?.completion_tokens !== undefined) state.tokens = output.completion_tokens;
  return output?.data?.text?.raw ?? '';
}

/** SSE: `data: {...}` events, `data: [DONE]`; the usage chunk (include_usage) has no choices. */
function parseSse(line, state) {
  if (!line.startsWith('data:')) return '';
  const data = line.slice(5).trim();
  if (data === '[DONE]') return '';
  const msg = JSON.parse(data);
  if (msg.error) state.error = msg.error;
  if (msg.usage) state.tokens = msg.usage.completion_tokens;
  const choice = msg.choices?.[0];
  return choice?.delta?.content ?? choice?.text ?? '';
}

// ---------------------------------------------------------------------------------------------
// The benchmark

/**
 * Runs the benchmark; returns run.mjs rows (the first carries `lines` and the samples). `ctx`:
 * {tempDir(label), log(msg), requests?, maxTokens?, profile?}.
 */
export async function benchGenerate(ctx) {
  const log = ctx.log;
  const requests = ctx.requests ?? 16;
  const maxTokens = ctx.maxTokens ?? 512;
  let served = 0; // tokens the server generated, warm-ups included (for --profile)
  const work = await ctx.tempDir('generate');
  const env = childEnv(path.join(work, 'home'), path.join(work, 'config'));
  const modelsDir = path.join(work, 'models');
  await mkdir(path.join(modelsDir, 'tiny-llama'), { recursive: true });
  const file = writeModelFolder(modelsDir, env);
  await writeFile(path.join(modelsDir, 'tiny-llama', 'config.yaml'), CONFIG_YAML);

  const stack = [];
  try {
    const direct = await openDirect(file);
    stack.push(direct.close);
    const dataDir = path.join(work, 'data');
    const profileDir = ctx.profile ? path.join(work, 'profile') : undefined;
    const server = startServe(
      ['--data-dir', dataDir, '--workers', '1', '--models', modelsDir],
      env,
      profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
    );
    stack.push(server.stop);
    const base = await server.listening;
    const pat = bootstrapPat(dataDir);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    stack.push(async () => agent.destroy());

    const run = {
      chat: (seed) => direct.generate({ raw: false, seed, maxTokens }),
      raw: (seed) => direct.generate({ raw: true, seed, maxTokens }),
      rest: (seed) =>
        stream(
          agent,
          `${base}/v2/users/meta/apps/Llama-2/models/tiny-llama/outputs/generate`,
          { authorization: `Key ${pat}` },
          {
            inputs: [{ data: { text: { raw: PROMPT } } }],
            model: {
              model_version: {
                output_info: { params: { temperature: TEMPERATURE, seed, max_tokens: maxTokens } },
              },
            },
          },
          parseRest,
        ),
      v1chat: (seed) =>
        stream(
          agent,
          `${base}/v1/chat/completions`,
          { authorization: `Bearer ${pat}` },
          {
            model: 'meta/Llama-2/tiny-llama',
            messages: [{ role: 'user', content: PROMPT }],
            temperature: TEMPERATURE,
            seed,
            max_tokens: maxTokens,
            stream: true,
            stream_options: { include_usage: true },
          },
          parseSse,
        ),
      v1completions: (seed) =>
        stream(
          agent,
          `${base}/v1/completions`,
          { authorization: `Bearer ${pat}` },
          {
            model: 'meta/Llama-2/tiny-llama',
            prompt: PROMPT,
            temperature: TEMPERATURE,
            seed,
            max_tokens: maxTokens,
            stream: true,
            stream_options: { include_usage: true },
          },
          parseSse,
        ),
    };

    const order = Object.keys(SIDES);
    const samples = Object.fromEntries(order.map((s) => [s, []]));
    let textMismatches = 0;
    const total = WARMUP_ROUNDS + requests;
    log(
      `  generate: ${requests} rounds (+${WARMUP_ROUNDS} warm-up) of ${order.length} sides, ${maxTokens} tokens each`,
    );
    for (let round = 0; round < total; round++) {
      const seed = SEED_BASE + round;
      // A new order each round (seeded, so runs repeat): a fixed or rotated order would have each
      // side always follow the same one, and inherit its leftovers (GC, a server still flushing).
      const sides = shuffle(order, round + 1);
      const got = {};
      for (const side of sides) {
        const r = await run[side](seed);
        if (r.tokens !== maxTokens)
          throw new Error(`${SIDES[side].label}: ${r.tokens} completion tokens, not max_tokens ${maxTokens}`);
        if (r.ttft === undefined) throw new Error(`${SIDES[side].label}: no text came back`);
        got[side] = r;
        if (SIDES[side].baseline) served += r.tokens;
      }
      // With the same seed, prompt and sampling, each Sibyl path must write its baseline's text.
      for (const side of order) {
        const against = SIDES[side].baseline;
        if (against && got[side].text !== got[against].text) textMismatches++;
      }
      if (round >= WARMUP_ROUNDS) {
        for (const side of order) {
          const r = got[side];
          samples[side].push({
            ms: r.ms,
            ttft: r.ttft,
            tokPerSec: (r.tokens * 1000) / r.ms,
            // after the first piece: the steady stream alone
            streamTokPerSec: ((r.tokens - 1) * 1000) / (r.ms - r.ttft),
          });
        }
      }
    }
    for (const fn of stack.splice(0).reverse()) await fn();
    // a stopped server has written its profiles (main thread and worker), if asked to
    const profile = profileDir ? summariseProfiles(profileDir, served) : undefined;
    return report(samples, { requests, maxTokens, textMismatches, profile });
  } finally {
    for (const fn of stack.splice(0).reverse()) await fn().catch(() => undefined);
  }
}

function report(samples, facts) {
  const med = (side, key) => median(samples[side].map((s) => s[key]));
  const rate = (v) => `${v.toFixed(0)} tok/s`;
  const ms = (v) => `${v.toFixed(1)} ms`;
  const name = (side) => SIDES[side].label.split(' (')[0];
  const rows = [];
  for (const side of ['rest', 'v1chat', 'v1completions']) {
    const against = SIDES[side].baseline;
    const ratio = med(side, 'streamTokPerSec') / med(against, 'streamTokPerSec');
    rows.push({
      id: `generate-${side}-rate`,
      title: `Generate ${facts.maxTokens} tokens: ${name(side)} tokens/s`,
      measured: { text: `${SIDES[side].label}: ${rate(med(side, 'streamTokPerSec'))}` },
      baseline: { text: `${SIDES[against].label}: ${rate(med(against, 'streamTokPerSec'))}` },
      result: `${ratio.toFixed(3)}x`,
      target: `>= ${MIN_RATIO}x`,
      value: ratio,
      pass: ratio >= MIN_RATIO,
    });
    const diff = med(side, 'ttft') - med(against, 'ttft');
    rows.push({
      id: `generate-${side}-ttft`,
      title: `Generate: ${name(side)} time to first token`,
      measured: { text: `${SIDES[side].label}: ${ms(med(side, 'ttft'))}` },
      baseline: { text: `${SIDES[against].label}: ${ms(med(against, 'ttft'))}` },
      result: `${diff >= 0 ? '+' : ''}${diff.toFixed(1)} ms`,
      target: `<= +${MAX_TTFT_MS} ms`,
      value: diff,
      pass: diff <= MAX_TTFT_MS,
    });
  }
  const paired = (side, key) => {
    const against = SIDES[side].baseline;
    return median(samples[side].map((s, i) => s[key] / samples[against][i][key])).toFixed(3);
  };
  const allIn = (side) => (med(side, 'tokPerSec') / med(SIDES[side].baseline, 'tokPerSec')).toFixed(3);
  const lines = [
    `generate: ${facts.requests} requests per side of ${facts.maxTokens} tokens (temperature ${TEMPERATURE}, ` +
      `seeds ${SEED_BASE + WARMUP_ROUNDS}..${SEED_BASE + WARMUP_ROUNDS + facts.requests - 1}), tiny llama GGUF, ` +
      `context ${CONTEXT}, 1 thread; clarifai serve --workers 1; medians. tokens/s (judged) = ` +
      '(completion tokens - 1) / (last token - first piece); TTFT = request start to first piece',
    ...Object.keys(SIDES).map(
      (side) =>
        `  ${SIDES[side].label}: ${rate(med(side, 'streamTokPerSec'))} after the first piece, TTFT ` +
        `${ms(med(side, 'ttft'))}, whole request ${ms(med(side, 'ms'))} (${rate(med(side, 'tokPerSec'))} all in)`,
    ),
    `  cross-checks (not judged): all-in tokens/s (completion tokens / whole request) REST ${allIn('rest')}x, ` +
      `/v1 chat ${allIn('v1chat')}x, /v1 completions ${allIn('v1completions')}x; median of paired ` +
      `tokens/s ratios REST ${paired('rest', 'streamTokPerSec')}x, /v1 chat ${paired('v1chat', 'streamTokPerSec')}x, ` +
      `/v1 completions ${paired('v1completions', 'streamTokPerSec')}x; texts different from the direct side ` +
      `with the same seed: ${facts.textMismatches} of ${3 * (facts.requests + WARMUP_ROUNDS)}`,
    `  per token (medians): direct raw ${perToken(med('raw', 'streamTokPerSec'))}, /v1 completions ` +
      `${perToken(med('v1completions', 'streamTokPerSec'))}; direct chat ${perToken(med('chat', 'streamTokPerSec'))}, ` +
      `REST ${perToken(med('rest', 'streamTokPerSec'))}, /v1 chat ${perToken(med('v1chat', 'streamTokPerSec'))}`,
    ...(facts.profile ?? []),
  ];
  rows[0].lines = lines;
  rows[0].samples = samples;
  return rows;
}

/** A seeded Fisher-Yates shuffle (mulberry32). */
function shuffle(items, seed) {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const perToken = (tokPerSec) => `${(1e6 / tokPerSec).toFixed(0)} us`;

/**
 * --profile: the server ran with --cpu-prof; the top self times of its main thread and its worker
 * thread, per generated token (every request of the run, warm-ups included, over all served tokens).
 */
function summariseProfiles(dir, tokens) {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const out = [`  server CPU profile (${dir}), self time per served token, top functions:`];
  for (const file of files.sort()) {
    const p = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map();
    let busy = 0;
    for (let i = 0; i < p.samples.length; i++) {
      const { functionName, url, lineNumber } = byId.get(p.samples[i]).callFrame;
      if (functionName === '(idle)') continue;
      const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + p.timeDeltas[i]);
      busy += p.timeDeltas[i];
    }
    if (busy < 100_000) continue; // a thread that did nothing here (under 0.1 s)
    const us = (v) => `${(v / tokens).toFixed(1)} us`;
    const ranked = [...self].sort((a, b) => b[1] - a[1]);
    // the top ten, and the per-token hops wherever they rank: posting a piece, writing it out
    const top = ranked.filter(([k], i) => i < 10 || /^(postMessage|writev|writeUtf8String) /.test(k));
    out.push(
      `    ${file} (busy ${us(busy)}): ${top.map(([k, v]) => `${k.replace(/:0$/, '')} ${us(v)}`).join('; ')}`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Standalone: node bench/generate.mjs

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const argv = process.argv.slice(2);
  const flag = (name, dflt) => {
    const i = argv.indexOf(name);
    if (i === -1) return dflt;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`generate: ${name} must be a whole number; got ${argv[i + 1]}\n`);
      process.exit(2);
    }
    return n;
  };
  const requests = flag('--requests', 16);
  const maxTokens = flag('--max-tokens', 512);
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'index.js'))) {
    process.stderr.write('generate: dist/ is missing: run `npx tsc -p tsconfig.build.json` first\n');
    process.exit(2);
  }
  await runStandalone('generate', 'generate benchmark', (ctx) =>
    benchGenerate({ ...ctx, requests, maxTokens, profile: argv.includes('--profile') }),
  );
}
