/**
 * Streamed text generation in the web playground: a real `clarifai serve` with the tiny GGUF llama
 * (test/helpers/llm-folders.ts, run by real llama.cpp) and Debian's chromium driven by
 * playwright-core. The page reads `.../outputs/generate` as it streams: the text is seen growing
 * while the request is still open, ends equal to what POST .../outputs answers for the same params,
 * and Stop ends a long generation with the page usable after. Screenshots go to
 * test-output/playground/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { parse } from 'yaml';
import type { MultiOutputResponse } from '../../src/core/wire.js';
import { isolatedEnv, ROOT } from '../helpers/cli.js';
import { ggufModelFolder, openAiModelFolder } from '../helpers/llm-folders.js';
import { RGB, solidPng } from '../helpers/model-folders.js';
import { startServe, type Served } from '../helpers/serve.js';
import {
  CHROMIUM,
  closeCleanPage,
  launchChromium,
  openWatchedPage,
  type WatchedPage,
} from '../helpers/browser.js';

const SHOTS = join(ROOT, 'test-output/playground');
const MODEL = 'meta/Llama-2/tiny-llama';
const PROMPT = 'Human: Write a tweet on future of AI\nAssistant:';
const FIXED = { temperature: 0, seed: 7, max_tokens: 64 };
const run = promisify(execFile);

/**
 * A remote OpenAI-compatible engine (outside the product, so scripted here) that streams its chat
 * answers word by word. Model "vision" answers with what it was sent: the text parts and the
 * image's data URL type, joined by " | ". Model "broken" writes "half done " and then fails in
 * the middle of its stream.
 */
async function scriptedEngine(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      type Part = { type: string; text?: string; image_url?: { url: string } };
      const sent = JSON.parse(body) as { model: string; messages: { content: string | Part[] }[] };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = (e: unknown) => res.write(`data: ${JSON.stringify(e)}\n\n`);
      const piece = (text: string) => event({ choices: [{ index: 0, delta: { content: text } }] });
      if (sent.model === 'broken') {
        piece('half ');
        piece('done ');
        event({ error: { message: 'the scripted engine broke down' } });
        res.end();
        return;
      }
      const parts = sent.messages.flatMap((m): (string | Part)[] =>
        typeof m.content === 'string' ? [m.content] : m.content,
      );
      const seen = parts.map((p) =>
        typeof p === 'string' ? p : p.type === 'text' ? p.text : /^data:[^;]+/.exec(p.image_url!.url)![0],
      );
      for (const word of seen.join(' | ').split(/(?<= )/)) piece(word);
      event({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      event({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 2 } });
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe(
  'web playground: streamed generation',
  { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` },
  () => {
    let served: Served | undefined;
    let remote: Awaited<ReturnType<typeof scriptedEngine>> | undefined;
    let browser: BrowserContext | undefined;
    let pat = '';
    let work = '';

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'sibyl-playground-generate-'));
      mkdirSync(SHOTS, { recursive: true });
      const models = join(work, 'models');
      // a context long enough for the 2000-token generation that Stop cuts short
      await ggufModelFolder(join(models, 'tiny-llama'), {
        userId: 'meta',
        appId: 'Llama-2',
        id: 'tiny-llama',
        contextLength: 4096,
      });
      remote = await scriptedEngine();
      const owner = { userId: 'acme', appId: 'remote', baseUrl: remote.url };
      await openAiModelFolder(join(models, 'vision'), {
        ...owner,
        id: 'vision',
        model: 'vision',
        modelTypeId: 'multimodal-to-text',
      });
      await openAiModelFolder(join(models, 'broken'), { ...owner, id: 'broken', model: 'broken' });
      writeFileSync(join(work, 'red.png'), await solidPng(RGB.red, 32, 24));
      const env = isolatedEnv();
      served = await startServe(['--host', '127.0.0.1', '--workers', '1', '--models', models], env);
      pat = (parse(readFileSync(join(env.SIBYL_HOME!, 'bootstrap.yaml'), 'utf8')) as { pat: string }).pat;
      browser = await launchChromium(join(work, 'chromium-profile'));
    });

    after(async () => {
      await browser?.close().catch(() => undefined);
      await served?.stop();
      await remote?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    async function openPage(model = MODEL): Promise<WatchedPage> {
      const t = await openWatchedPage(browser!, served!.url);
      await t.page.fill('#pat', pat);
      await t.page.click('#sign-in-button');
      await t.page.waitForSelector('#workspace:not([hidden]) .model');
      await t.page.click(`.model[data-model="${model}"]`);
      await t.page.waitForSelector(`.model[data-model="${model}"][aria-selected="true"]`);
      return t;
    }

    const done = (t: WatchedPage) => closeCleanPage(t, served!.url, { secret: pat });

    /** Sets the generation fields (cleared first) and the prompt. */
    async function fill(page: Page, params: Record<string, number>): Promise<void> {
      for (const id of ['temperature', 'max-tokens', 'top-p', 'top-k', 'seed'])
        await page.fill(`#gen-${id}`, '');
      for (const [name, value] of Object.entries(params))
        await page.fill(`#gen-${name.replace('_', '-')}`, String(value));
      await page.fill('#text-input', PROMPT);
    }

    /** POST .../outputs (not streamed) for the same prompt and params, from the test. */
    async function predicted(params: Record<string, number>): Promise<MultiOutputResponse> {
      const res = await fetch(`${served!.url}/v2/users/meta/apps/Llama-2/models/tiny-llama/outputs`, {
        method: 'POST',
        headers: { authorization: `Key ${pat}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ data: { text: { raw: PROMPT } } }],
          model: { model_version: { output_info: { params } } },
        }),
      });
      assert.equal(res.status, 200);
      return (await res.json()) as MultiOutputResponse;
    }

    it('streams the text into the page as it is written; it ends equal to the predicted text, with token counts', async () => {
      const t = await openPage();
      const { page } = t;
      assert.equal(await page.textContent('#predict'), 'Generate');
      assert.equal(await page.getAttribute('#tab-text', 'aria-selected'), 'true');
      assert.equal(await page.isVisible('#gen-options'), true, 'the generation params are on show');
      assert.equal(await page.getAttribute('#gen-max-tokens', 'placeholder'), '256', "the model's default");
      await fill(page, FIXED);

      // Every change to the output text is noted with whether Stop was still enabled then, i.e.
      // whether the request was still open: text seen growing while it is proves the streaming.
      await page.evaluate(() => {
        const g = globalThis as unknown as {
          document: { getElementById(id: string): { disabled: boolean } & object };
          MutationObserver: new (cb: () => void) => { observe(n: object, o: object): void };
          seen: { length: number; open: boolean }[];
        };
        g.seen = [];
        const outputs = g.document.getElementById('outputs');
        new g.MutationObserver(() => {
          const pre = (
            outputs as unknown as { querySelector(s: string): { textContent: string } | null }
          ).querySelector('.text-out');
          if (pre)
            g.seen.push({
              length: pre.textContent.length,
              open: !g.document.getElementById('stop').disabled,
            });
        }).observe(outputs, { subtree: true, childList: true, characterData: true });
      });
      await page.click('#predict');
      await page.waitForSelector('#stop:not([hidden])');
      await page.waitForSelector('#status:not([hidden])');
      await page.waitForSelector('#predict:not(.busy)');

      const seen = (await page.evaluate('globalThis.seen')) as { length: number; open: boolean }[];
      const whileOpen = new Set(seen.filter((s) => s.open && s.length > 0).map((s) => s.length));
      assert.ok(whileOpen.size > 1, `the text grew while the request was open: ${JSON.stringify(seen)}`);

      const expected = await predicted(FIXED);
      const out = expected.outputs[0]!;
      const text = (await page.textContent('.output .text-out')) ?? '';
      assert.ok(text.length > 0);
      assert.equal(text, out.data.text?.raw, 'the streamed pieces join to the predicted text');
      assert.match((await page.textContent('#status')) ?? '', /^10000/);
      assert.equal(await page.textContent('[data-stat="completion-tokens"]'), String(out.completion_tokens));
      assert.equal(await page.textContent('[data-stat="prompt-tokens"]'), String(out.prompt_tokens));
      assert.match((await page.textContent('[data-stat="tokens-s"]')) ?? '', /^\d+\.\d$/);
      assert.equal(await page.textContent('.output .pill'), 'OK');
      await page.screenshot({ path: join(SHOTS, 'text-generation.png'), fullPage: true });

      // the JSON view: the messages joined into one response like POST .../outputs answers
      const joined = JSON.parse((await page.textContent('#json')) ?? '{}') as MultiOutputResponse;
      assert.equal(joined.status.code, 10000);
      assert.equal(joined.outputs[0]!.data.text?.raw, text);
      assert.equal(joined.outputs[0]!.completion_tokens, out.completion_tokens);
      assert.equal(joined.outputs[0]!.model?.id, 'tiny-llama');
      assert.match((await page.textContent('#json-note')) ?? '', /^The \d+ streamed messages joined/);

      // the commands: curl -N to the generate route, run as shown, streams the same text
      const curl = (await page.textContent('#curl')) ?? '';
      const cli = (await page.textContent('#cli')) ?? '';
      assert.match(
        curl,
        /^curl -sS -N -X POST http:\/\/127\.0\.0\.1:\d+\/v2\/users\/meta\/apps\/Llama-2\/models\/tiny-llama\/outputs\/generate /,
      );
      assert.match(cli, /--inference_params '\{"temperature":0,"max_tokens":64,"seed":7\}'/);
      assert.ok(!curl.includes(pat) && !cli.includes(pat));
      const { stdout } = await run('sh', ['-c', curl], {
        env: { PATH: process.env.PATH, CLARIFAI_PAT: pat },
      });
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { result: MultiOutputResponse }).result);
      assert.equal(lines.map((l) => l.outputs[0]!.data.text?.raw ?? '').join(''), text);
      await page.click('#view-code');
      await page.screenshot({ path: join(SHOTS, 'text-generation-code.png'), fullPage: true });
      await done(t);
    });

    it('Stop ends a long generation; the page is usable again', async () => {
      const t = await openPage();
      const { page } = t;
      await fill(page, { temperature: 0, seed: 7, max_tokens: 2000 });
      // Stop is pressed from inside the page the moment the first piece shows, so the 2000-token
      // run is surely still going whatever the machine's speed.
      await page.evaluate(() => {
        const g = globalThis as unknown as {
          document: { getElementById(id: string): object };
          MutationObserver: new (cb: (r: unknown, o: { disconnect(): void }) => void) => {
            observe(n: object, o: object): void;
          };
        };
        const outputs = g.document.getElementById('outputs') as {
          querySelector(s: string): { textContent: string } | null;
        };
        new g.MutationObserver((_r, observer) => {
          if ((outputs.querySelector('.text-out')?.textContent ?? '').length > 0) {
            observer.disconnect();
            (g.document.getElementById('stop') as { click(): void }).click();
          }
        }).observe(outputs, { subtree: true, childList: true, characterData: true });
      });
      await page.click('#predict');
      await page.waitForSelector('#status.status-stopped');
      await page.waitForSelector('#predict:not(.busy)');
      assert.equal(await page.isHidden('#stop'), true);
      assert.equal(await page.textContent('.output .pill'), 'Stopped');
      assert.ok(((await page.textContent('.output .text-out')) ?? '').length > 0);
      assert.match((await page.textContent('#status')) ?? '', /Stopped/);
      await page.screenshot({ path: join(SHOTS, 'text-generation-stopped.png'), fullPage: true });

      // with one worker, this answers only once the stopped generation has let it go
      await fill(page, { temperature: 0, seed: 7, max_tokens: 8 });
      assert.equal(await page.isEnabled('#predict'), true);
      await page.click('#predict');
      await page.waitForSelector('#status.status-ok');
      await page.waitForSelector('#predict:not(.busy)');
      assert.equal(await page.textContent('[data-stat="completion-tokens"]'), '8');
      await done(t);
    });

    it('a bad param is refused before the stream and shown in the result area', async () => {
      const t = await openPage();
      const { page } = t;
      await fill(page, { max_tokens: 8 });
      await page.fill('#params', '{"temprature": 0.5}');
      await page.click('#predict');
      await page.waitForSelector('#status.status-failed');
      await page.waitForSelector('#predict:not(.busy)');
      assert.match((await page.textContent('#status')) ?? '', /temprature/);
      assert.match((await page.textContent('.output .output-error')) ?? '', /temprature/);
      // the browser logs the 400 itself; it is the answer this test asked for
      t.problems.splice(0, t.problems.length, ...t.problems.filter((p) => !p.includes('400')));
      await done(t);
    });

    it('a multimodal model gets the picked image and the prompt in one input', async () => {
      const t = await openPage('acme/remote/vision');
      const { page } = t;
      assert.equal(await page.getAttribute('#tab-file', 'aria-selected'), 'true');
      assert.equal(await page.isVisible('#prompt-field'), true, 'a prompt goes beside the image');
      await page.setInputFiles('#file-input', join(work, 'red.png'));
      await page.fill('#prompt-input', "What's in this image?");
      await page.click('#predict');
      await page.waitForSelector('#status.status-ok');
      await page.waitForSelector('#predict:not(.busy)');
      const answer = "What's in this image? | data:image/png";
      assert.equal(await page.textContent('.output .text-out'), answer);
      assert.equal(await page.locator('.output img.thumb').count(), 1, 'the picked image is shown');
      assert.equal(await page.textContent('[data-stat="completion-tokens"]'), '2');
      await page.screenshot({ path: join(SHOTS, 'multimodal-generation.png'), fullPage: true });

      // both commands send the same one input: curl streams it, the CLI reads it from input.jsonl
      const curl = (await page.textContent('#curl')) ?? '';
      const cli = (await page.textContent('#cli')) ?? '';
      assert.match(curl, /base64 -w0 red\.png/);
      assert.match(cli, /--input_list input\.jsonl/);
      const env = { PATH: process.env.PATH, CLARIFAI_PAT: pat };
      const { stdout } = await run('sh', ['-c', curl], { cwd: work, env });
      const pieces = stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { result: MultiOutputResponse }).result.outputs[0]!.data.text?.raw);
      assert.equal(pieces.join(''), answer);
      const shim = join(work, 'bin');
      mkdirSync(shim, { recursive: true });
      writeFileSync(
        join(shim, 'clarifai'),
        `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/clarifai.js')}" "$@"\n`,
        { mode: 0o755 },
      );
      const cliRun = await run('sh', ['-c', cli], {
        cwd: work,
        env: { ...isolatedEnv({ CLARIFAI_PAT: pat }), PATH: `${shim}:${process.env.PATH}` },
      });
      assert.ok(cliRun.stdout.includes(answer), cliRun.stdout);
      await done(t);
    });

    it('an error in the middle of the stream is shown in the result, after the text so far', async () => {
      const t = await openPage('acme/remote/broken');
      const { page } = t;
      await page.fill('#text-input', 'go');
      await page.click('#predict');
      await page.waitForSelector('#status.status-failed');
      await page.waitForSelector('#predict:not(.busy)');
      assert.equal(await page.textContent('.output .text-out'), 'half done ');
      assert.match((await page.textContent('.output .output-error')) ?? '', /scripted engine broke down/);
      assert.doesNotMatch((await page.textContent('.output .pill')) ?? '', /OK/);
      const joined = JSON.parse((await page.textContent('#json')) ?? '{}') as MultiOutputResponse;
      assert.notEqual(joined.status.code, 10000);
      assert.equal(joined.outputs[0]!.data.text?.raw, 'half done ');
      await page.screenshot({ path: join(SHOTS, 'generation-error.png'), fullPage: true });
      await done(t);
    });
  },
);
