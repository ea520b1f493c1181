/**
 * A bounded soak of a real `clarifai serve` (issue 9): 64 clients at once for 10 s, mixing bodies
 * of 20 to 65 MiB (predicts with long texts and padded photos, inputs stored with 60 MiB texts)
 * with ordinary image and text predicts and input lists, against a 64 MiB body budget and a
 * per-key rate limit. Every answer must be a success or a documented refusal, memory must come
 * back near where it was after warm-up, and afterwards the server must answer normally: the dog
 * is found, and the app holding ten 60 MiB texts (whose list once answered 500 for good) lists
 * them a few a page and refuses a page too large to answer by naming its limit.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { isolatedEnv, PHOTOS } from '../helpers/cli.js';
import { startServe, type Served } from '../helpers/serve.js';

const MIB = 1024 * 1024;
const BUDGET_MIB = 64;
const CLIENTS = 64;
const LOAD_MS = 10_000;
/** More stored 60 MiB texts than the 9 that broke an app's input list (issue 9). */
const BIG_INPUTS = 10;
const outputsOf = (model: string) => `/v2/users/clarifai/apps/main/models/${model}/outputs`;
const RECOGNITION = outputsOf('general-image-recognition');
const LANGUAGE = outputsOf('language-identification');
const inputsOf = (app: string) => `/v2/users/me/apps/${app}/inputs`;
/** One app gets the big texts, the other short notes. */
const BIG_APP = inputsOf('soak-big');
const SMALL_APP = inputsOf('soak-small');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Set when the connection failed: before any answer, or while the answer's body was arriving. */
  error?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

/** One request over node:http, which writes a shared body Buffer as is (fetch would copy it). */
function send(base: string, pat: string, method: string, path: string, body?: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    let answer: Answer | undefined;
    const req = http.request(base + path, {
      method,
      agent,
      timeout: 60_000,
      headers: {
        authorization: `Key ${pat}`,
        ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
      },
    });
    req.on('response', (res) => {
      answer = { status: res.statusCode!, headers: res.headers, text: '' };
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ ...answer!, text: Buffer.concat(chunks).toString() }));
      res.on('aborted', () => resolve({ ...answer!, error: 'answer cut off' }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', (err) => resolve({ status: 0, headers: {}, text: '', ...answer, error: err.message }));
    req.end(body);
  });
}

/** A JSON body of about `bytes` bytes: one input whose text, or padded photo, fills it. */
function bigBody(bytes: number, kind: 'text' | 'image'): Buffer {
  if (kind === 'text') {
    const head = Buffer.from('{"inputs":[{"data":{"text":{"raw":"');
    const tail = Buffer.from('"}}}]}');
    const words = Buffer.alloc(bytes - head.length - tail.length, 'many words of a long text ');
    return Buffer.concat([head, words, tail]);
  }
  // zeros after the JPEG's end: a decoder reads the photo and stops there
  const photo = readFileSync(join(PHOTOS, 'dogs.jpg'));
  const raw = Buffer.concat([photo, Buffer.alloc(Math.floor((bytes * 3) / 4) - photo.length - 64)]);
  return Buffer.from(`{"inputs":[{"data":{"image":{"base64":"${raw.toString('base64')}"}}}]}`);
}

/** The server's resident memory now, and its peak so far, in KiB (workers are threads in it). */
function memoryKib(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const v2Status = (text: string): { code?: number; details?: string } | undefined => {
  try {
    return (JSON.parse(text) as { status?: { code?: number; details?: string } }).status;
  } catch {
    return undefined;
  }
};

/** Adds one to `key` in a tally. */
const tally = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

describe('soak: 64 clients with large bodies against a 64 MiB body budget', () => {
  /** Its own home: the data directory (some 600 MiB of stored texts) goes with it afterwards. */
  const env = isolatedEnv();
  let served: Served;
  let pat: string;
  before(async () => {
    const limits = ['--body-budget', String(BUDGET_MIB), '--rate-limit', '40'];
    served = await startServe(['--no-grpc', '--workers', '1', ...limits], env);
    pat = (parse(readFileSync(join(env.SIBYL_HOME!, 'bootstrap.yaml'), 'utf8')) as { pat: string }).pat;
  });
  after(async () => {
    agent.destroy();
    await served?.stop();
    rmSync(env.HOME!, { recursive: true, force: true });
  });

  it('answers only successes and documented refusals, gives its memory back, then answers normally', async () => {
    const call = (method: string, path: string, body?: Buffer) => send(served.url, pat, method, path, body);
    const pid = served.child.pid!;
    const dogBody = Buffer.from(
      JSON.stringify({
        inputs: [{ data: { image: { base64: readFileSync(join(PHOTOS, 'dogs.jpg')).toString('base64') } } }],
      }),
    );
    const text = (raw: string) => Buffer.from(JSON.stringify({ inputs: [{ data: { text: { raw } } }] }));
    const [bigText, bigImage, bigInput, tooBig] = [
      bigBody(20 * MIB, 'text'),
      bigBody(40 * MIB, 'image'),
      bigBody(60 * MIB, 'text'),
      bigBody(65 * MIB, 'text'),
    ];
    /** What each client sends, how often, and whether a 400 or 413 naming a limit may answer it. */
    const kinds: Record<string, { weight: number; big: boolean; route: string; body?: Buffer }> = {
      'dog predict': { weight: 15, big: false, route: `POST ${RECOGNITION}`, body: dogBody },
      'text predict': {
        weight: 15,
        big: false,
        route: `POST ${LANGUAGE}`,
        body: text('The weather is lovely.'),
      },
      'note stored': { weight: 5, big: false, route: `POST ${SMALL_APP}`, body: text('a short note') },
      'notes listed': { weight: 10, big: false, route: `GET ${SMALL_APP}` },
      'big inputs listed': { weight: 3, big: true, route: `GET ${BIG_APP}?per_page=1` },
      '20 MiB text predict': { weight: 15, big: true, route: `POST ${LANGUAGE}`, body: bigText },
      '40 MiB photo predict': { weight: 15, big: true, route: `POST ${RECOGNITION}`, body: bigImage },
      '60 MiB text stored': { weight: 15, big: true, route: `POST ${BIG_APP}`, body: bigInput },
      '65 MiB body': { weight: 3, big: true, route: `POST ${LANGUAGE}`, body: tooBig },
    };
    const go = (name: string) => {
      const { route, body } = kinds[name]!;
      const [method, path] = route.split(' ') as [string, string];
      return call(method, path, body);
    };

    // warm-up: the ordinary requests once each (the models load), then the baseline
    const bigNote = await call('POST', BIG_APP, text('the app for big texts'));
    assert.equal(bigNote.status, 200, bigNote.text.slice(0, 300));
    for (const name of ['dog predict', 'text predict', 'note stored', 'notes listed']) {
      const res = await go(name);
      assert.equal(res.status, 200, `${name} in warm-up: ${res.text.slice(0, 300)}`);
    }
    await sleep(1000);
    const warm = memoryKib(pid);

    const counts = new Map<string, number>();
    /** Client-side answers per `METHOD path status` (0: none), to set beside the server's log. */
    const seen = new Map<string, number>();
    const faults: string[] = [];
    let bigStored = 0;
    let slowest = 0;
    let peak = warm.rss;
    const sampler = setInterval(() => (peak = Math.max(peak, memoryKib(pid).rss)), 100);
    const names = Object.keys(kinds);
    const total = names.reduce((sum, n) => sum + kinds[n]!.weight, 0);
    const pick = () => {
      let r = Math.random() * total;
      return names.find((n) => (r -= kinds[n]!.weight) < 0) ?? names[0]!;
    };
    const run = async (name: string) => {
      const sent = Date.now();
      const res = await go(name);
      slowest = Math.max(slowest, Date.now() - sent);
      tally(counts, `${res.status || res.error} ${name}`);
      tally(seen, `${kinds[name]!.route.split('?')[0]} ${res.status}`);
      const status = v2Status(res.text);
      const ok = res.status >= 200 && res.status < 300 && !res.error;
      const refused =
        ((res.status === 429 || res.status === 503) && res.headers['retry-after'] !== undefined) ||
        (kinds[name]!.big &&
          (res.status === 413 || res.status === 400) &&
          /at most|limit/.test(status?.details ?? ''));
      // a refusal's body must be a v2 status, unless the connection was cut while it arrived;
      // a connection cut before any answer is set beside the server's log below
      const shaped = typeof status?.code === 'number' || res.error !== undefined;
      const cut = res.status === 0 && /EPIPE|ECONNRESET|socket hang up/.test(res.error ?? '');
      if (!ok && !(refused && shaped) && !cut)
        faults.push(`${name}: ${res.status} ${res.error ?? ''} ${res.text.slice(0, 200)}`);
      if (name === '60 MiB text stored' && ok) bigStored += 1;
      return res;
    };
    /** One client stores the big texts the list below must cope with, retrying as it is told. */
    const storer = async () => {
      while (bigStored < BIG_INPUTS) {
        const res = await run('60 MiB text stored');
        const wait = Number(res.headers['retry-after'] ?? 0);
        if (wait > 0) await sleep(wait * 1000);
      }
    };
    const started = Date.now();
    try {
      await Promise.all([
        storer(),
        ...Array.from({ length: CLIENTS - 1 }, async () => {
          while (Date.now() - started < LOAD_MS) await run(pick());
        }),
      ]);
    } finally {
      clearInterval(sampler);
    }
    const loadMs = Date.now() - started;

    // idle: every body is answered. Once V8 collects what they left (its memory reducer does on
    // an idle server, some seconds after the traffic stops or much later: no client can make it),
    // what stays is what the allocators keep: glibc keeps freed chunks in each thread's arena,
    // trimming only past twice its mmap threshold (which large bodies raise to 32 MiB), and V8
    // some heap slack; about 4 budgets in these runs. Until then its old generation also holds
    // the last bodies' garbage (it grows to a few times the live heap before a full collection),
    // about 10 budgets in all. Neither grows with the traffic, as idle memory did before the
    // fixes (5.2 GB after 96 bodies of 60 MiB), so both bounds are multiples of the budget.
    const collected = warm.rss + 6 * BUDGET_MIB * 1024;
    const bound = warm.rss + 16 * BUDGET_MIB * 1024;
    let idle = memoryKib(pid);
    const idleFrom = Date.now();
    while (idle.rss > collected && Date.now() - idleFrom < 10_000) {
      await sleep(500);
      idle = memoryKib(pid);
    }

    // a connection cut before its answer is explained by a refusal the server logged for that
    // route and the client never read (it closes on a body it will not read); nothing else is
    await sleep(500); // the child's last log lines
    const logged = new Map<string, number>();
    for (const m of served.output().matchAll(/^\S+ (GET|POST) (\S+) (\d{3}) /gm))
      tally(logged, `${m[1]} ${m[2]} ${m[3]}`);
    for (const route of new Set(Object.values(kinds).map((k) => k.route.split('?')[0]!))) {
      const diff = (status: number) =>
        (logged.get(`${route} ${status}`) ?? 0) - (seen.get(`${route} ${status}`) ?? 0);
      const cut = seen.get(`${route} 0`) ?? 0;
      const unread = diff(503) + diff(429) + diff(413) + diff(400);
      if (cut > unread) faults.push(`${route}: ${cut} connections cut, only ${unread} refusals unread`);
    }
    for (const [key, n] of logged)
      if (/ 5\d\d$/.test(key) && !key.endsWith(' 503')) faults.push(`logged ${n}x ${key}`);

    const table = [...counts].sort().map(([k, n]) => `  ${String(n).padStart(5)}  ${k}`);
    console.log(
      `soak: ${CLIENTS} clients, ${loadMs} ms, ${[...counts.values()].reduce((a, b) => a + b, 0)} answers ` +
        `(slowest ${slowest} ms), ${bigStored} big texts stored\n${table.join('\n')}\n` +
        `RSS: after warm-up ${mib(warm.rss)}, peak ${mib(Math.max(peak, idle.hwm))}, ` +
        `after ${Date.now() - idleFrom} ms idle ${mib(idle.rss)}, V8's garbage ` +
        `${idle.rss <= collected ? 'collected' : 'not collected yet'} (bounds: once collected ` +
        `${mib(collected)}, warm-up + 6 x budget; always ${mib(bound)}, warm-up + 16 x budget)`,
    );
    assert.deepEqual(faults, []);
    assert.ok(idle.rss <= bound, `RSS ${mib(idle.rss)} after idle is above ${mib(bound)}`);

    // afterwards: the dog is found; the big texts list a few a page, all at once is refused by name
    const dog = await run('dog predict');
    assert.equal(dog.status, 200, dog.text.slice(0, 300));
    const answer = JSON.parse(dog.text) as {
      outputs: Array<{ data: { concepts: Array<{ name: string }> } }>;
    };
    assert.equal(answer.outputs[0]!.data.concepts[0]!.name, 'dog');
    const notes = await call('GET', SMALL_APP);
    assert.equal(notes.status, 200, notes.text.slice(0, 300));
    const all = await call('GET', BIG_APP);
    assert.equal(all.status, 400, all.text.slice(0, 300));
    assert.match(
      v2Status(all.text)?.details ?? '',
      /may hold at most 256 MiB: ask for fewer per_page \(the first 4 fit\)/,
    );
    const few = await call('GET', `${BIG_APP}?per_page=2&page=2`);
    assert.equal(few.status, 200, few.text.slice(0, 300));
    const listed = JSON.parse(few.text) as { inputs: Array<{ data: { text: { raw: string } } }> };
    assert.deepEqual(
      listed.inputs.map((i) => i.data.text.raw.length),
      [bigInput.length - 41, bigInput.length - 41],
    );
  });
});
