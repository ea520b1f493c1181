/**
 * The web playground in a real browser: Debian's chromium driven by playwright-core against a real
 * `clarifai serve` (its own process group), signing in with the admin PAT from bootstrap.yaml and
 * predicting with the real models on real photos. Each model type leaves a screenshot in
 * test-output/playground/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { parse } from 'yaml';
import { isolatedEnv, PHOTOS, ROOT } from '../helpers/cli.js';
import { serveDir, type TestServer } from '../helpers/http.js';
import {
  onnxClassifierFolder,
  onnxImageEmbedderFolder,
  onnxTextEmbedderFolder,
  RGB,
  solidPng,
} from '../helpers/model-folders.js';
import { startServe, type Served } from '../helpers/serve.js';
import {
  CHROMIUM,
  closeCleanPage,
  launchChromium,
  openWatchedPage,
  type WatchedPage,
} from '../helpers/browser.js';

const SHOTS = join(ROOT, 'test-output/playground');
const run = promisify(execFile);

/** Labels and a description written as markup: the page must show them as text. */
const HOSTILE_LABEL = '<img src=x id=pwned-label>';
const HOSTILE_DESCRIPTION = 'Colours <b id="pwned-desc">bold</b> <script>window.pwned = 1</script>';

interface Reply {
  status: { code: number; description: string };
  outputs: {
    status: { code: number; details?: string };
    data: { regions?: { region_info: { bounding_box: Record<string, number> } }[] };
  }[];
}

describe(
  'web playground',
  { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` },
  () => {
    let served: Served | undefined;
    let samples: TestServer | undefined;
    let browser: BrowserContext | undefined;
    let pat = '';
    let work = '';

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'sibyl-playground-'));
      mkdirSync(SHOTS, { recursive: true });
      const models = join(work, 'models');
      const owner = { user_id: 'admin', app_id: 'playground' };
      await onnxImageEmbedderFolder(join(models, 'colour-embedder'), { model: owner });
      await onnxTextEmbedderFolder(join(models, 'word-embedder'), { model: owner });
      await onnxClassifierFolder(join(models, 'colours'), {
        model: { ...owner, id: 'colours', description: HOSTILE_DESCRIPTION },
      });
      writeFileSync(join(models, 'colours/labels.txt'), `${HOSTILE_LABEL}\ngreen\nblue\n`);
      writeFileSync(join(work, 'red.png'), await solidPng(RGB.red, 96, 64));
      writeFileSync(join(work, 'broken.jpg'), 'not an image at all');

      const env = isolatedEnv();
      served = await startServe(
        ['--host', '127.0.0.1', '--workers', '1', '--allow-private-urls', '--models', models],
        env,
      );
      const bootstrap = parse(readFileSync(join(env.SIBYL_HOME!, 'bootstrap.yaml'), 'utf8')) as {
        pat: string;
      };
      pat = bootstrap.pat;
      samples = await serveDir(PHOTOS);
      browser = await launchChromium(join(work, 'chromium-profile'));
    });

    after(async () => {
      await browser?.close().catch(() => undefined);
      await served?.stop();
      await samples?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    /** Every test ends by checking the page broke nothing and talked to no other origin. */
    const openPage = () => openWatchedPage(browser!, served!.url);

    async function signIn(page: Page): Promise<void> {
      await page.fill('#pat', pat);
      await page.click('#sign-in-button');
      await page.waitForSelector('#workspace:not([hidden]) .model');
    }

    async function pick(page: Page, model: string): Promise<void> {
      await page.click(`.model[data-model="${model}"]`);
      await page.waitForSelector(`.model[data-model="${model}"][aria-selected="true"]`);
    }

    async function predict(page: Page): Promise<void> {
      await page.click('#predict');
      await page.waitForSelector('#status:not([hidden])');
      await page.waitForSelector('#predict:not(.busy)');
    }

    async function json(page: Page): Promise<Reply> {
      return JSON.parse((await page.textContent('#json')) ?? '{}') as Reply;
    }

    async function code(page: Page): Promise<{ curl: string; cli: string }> {
      return { curl: (await page.textContent('#curl')) ?? '', cli: (await page.textContent('#cli')) ?? '' };
    }

    /** What the tab keeps in sessionStorage. */
    function stored(page: Page): Promise<{ length: number; pat: string | null }> {
      return page.evaluate(() => {
        const storage = (
          globalThis as unknown as { sessionStorage: { length: number; getItem(k: string): string | null } }
        ).sessionStorage;
        return { length: storage.length, pat: storage.getItem('sibyl.playground.pat') };
      });
    }

    async function shot(page: Page, name: string): Promise<void> {
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    }

    const done = (t: WatchedPage) => closeCleanPage(t, served!.url, { secret: pat });

    it('serves the page and its files without a key, under a CSP that allows no remote source; /v2 still needs a key', async () => {
      const page = await fetch(`${served!.url}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /connect-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /https?:|\*|unsafe-inline|unsafe-eval/);
      for (const file of ['app.js', 'api.js', 'render.js', 'commands.js', 'style.css', 'icon.svg']) {
        const res = await fetch(`${served!.url}/playground/${file}`);
        assert.equal(res.status, 200, file);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      }
      const html = await page.text();
      assert.doesNotMatch(
        html,
        /<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=/i,
        'no inline script, style or handler',
      );
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no remote asset');

      const models = await fetch(`${served!.url}/v2/models`);
      assert.equal(models.status, 401);
      assert.equal(((await models.json()) as Reply).status.code, 11009);
      assert.equal((await fetch(`${served!.url}/playground/../v2/models`)).status, 401);
      assert.equal(
        (await fetch(`${served!.url}/playground/routes.ts`)).status,
        401,
        'only the listed files are public',
      );
      assert.equal((await fetch(`${served!.url}/playground/constructor`)).status, 401);
    });

    it('a wrong PAT is refused with a clear message and nothing else shows', async () => {
      const t = await openPage();
      await shot(t.page, 'sign-in');
      await t.page.fill('#pat', 'sbl_this-is-not-a-key');
      await t.page.click('#sign-in-button');
      const error = t.page.locator('#sign-in-error');
      await error.waitFor({ state: 'visible' });
      const text = (await error.textContent()) ?? '';
      assert.match(text, /refused the key: API key is invalid/);
      assert.match(text, /bootstrap\.yaml/);
      assert.equal(await t.page.isHidden('#workspace'), true);
      assert.equal((await stored(t.page)).length, 0, 'a refused key is not kept');
      await shot(t.page, 'wrong-pat');

      // a key that stops working (revoked, or another server) signs the tab out with the reason
      await t.page.evaluate(`sessionStorage.setItem('sibyl.playground.pat', 'sbl_revoked')`);
      await t.page.reload();
      await t.page.waitForSelector('#sign-in-error:not([hidden])');
      assert.match((await t.page.textContent('#sign-in-error')) ?? '', /refused the key/);
      assert.equal((await stored(t.page)).length, 0);
      // the browser logs the 401 itself; it is the answer this test asked for
      t.problems.splice(0, t.problems.length, ...t.problems.filter((p) => !p.includes('401')));
      await done(t);
    });

    it('signs in and lists every model the key can use, with its type and description', async () => {
      const t = await openPage();
      await signIn(t.page);
      assert.equal(await t.page.textContent('#who-user'), 'admin');
      const ids = await t.page.$$eval('.model', (els) =>
        els.map((e) => (e as unknown as { dataset: { model: string } }).dataset.model),
      );
      for (const id of [
        'clarifai/main/general-image-detection',
        'clarifai/main/general-image-recognition',
        'clarifai/main/language-identification',
        'admin/playground/colour-embedder',
        'admin/playground/word-embedder',
      ]) {
        assert.ok(ids.includes(id), `${id} listed`);
      }
      const detector = t.page.locator('.model[data-model="clarifai/main/general-image-detection"]');
      assert.equal(await detector.locator('.badge').textContent(), 'visual-detector');
      assert.match((await detector.locator('.model-desc').textContent()) ?? '', /bounding box/);

      await t.page.fill('#model-filter', 'text-classifier');
      assert.deepEqual(
        await t.page.$$eval('.model', (els) =>
          els.map((e) => (e as unknown as { dataset: { model: string } }).dataset.model),
        ),
        ['clarifai/main/language-identification'],
      );
      await t.page.fill('#model-filter', '');

      // the key is in this tab's sessionStorage only: not in the URL, not in a cookie
      assert.equal(new URL(t.page.url()).href, `${served!.url}/`);
      assert.deepEqual(await browser!.cookies(), []);
      assert.equal((await stored(t.page)).pat, pat);
      // a reload keeps the tab signed in; sign out forgets the key
      await t.page.reload();
      await t.page.waitForSelector('#workspace:not([hidden]) .model');
      await t.page.click('#sign-out');
      await t.page.waitForSelector('#sign-in:not([hidden])');
      assert.equal((await stored(t.page)).length, 0);
      await done(t);
    });

    it("draws the detector's regions on the dropped photo, labelled, where the response puts them", async () => {
      const t = await openPage();
      await signIn(t.page);
      await pick(t.page, 'clarifai/main/general-image-detection');
      await t.page.setInputFiles('#file-input', join(PHOTOS, 'dogs.jpg'));
      await predict(t.page);

      const reply = await json(t.page);
      assert.equal(reply.status.code, 10000);
      const regions = reply.outputs[0]!.data.regions!;
      assert.ok(regions.length >= 3, 'CenterNet finds the dogs');
      const boxes = t.page.locator('.figure .box');
      assert.equal(await boxes.count(), regions.length);
      const labels = await t.page.$$eval('.figure .box-label', (els) => els.map((e) => e.textContent ?? ''));
      assert.ok(labels.length >= 3 && labels.every((l) => /^dog 0\.\d\d$/.test(l)), labels.join(' | '));

      // each box sits on the image where its fractions say, within a pixel or two
      const img = (await t.page.locator('.figure img').boundingBox())!;
      for (const [i, region] of regions.entries()) {
        const b = region.region_info.bounding_box;
        const box = (await boxes.nth(i).boundingBox())!;
        assert.ok(Math.abs(box.x - (img.x + b.left_col! * img.width)) < 2, `box ${i} left`);
        assert.ok(Math.abs(box.y - (img.y + b.top_row! * img.height)) < 2, `box ${i} top`);
        assert.ok(Math.abs(box.width - (b.right_col! - b.left_col!) * img.width) < 2, `box ${i} width`);
        assert.ok(Math.abs(box.height - (b.bottom_row! - b.top_row!) * img.height) < 2, `box ${i} height`);
      }
      await shot(t.page, 'visual-detector');

      // the curl command, run as shown where the photo is, gives the same regions; it holds no key
      const { curl, cli } = await code(t.page);
      for (const command of [curl, cli, await t.page.textContent('#json')])
        assert.ok(!command?.includes(pat));
      assert.match(curl, /Authorization: Key \$CLARIFAI_PAT/);
      assert.match(curl, /^ {2}base64 -w0 dogs\.jpg$/m);
      assert.match(
        cli,
        /--model_url https:\/\/clarifai\.com\/clarifai\/main\/models\/general-image-detection/,
      );
      assert.match(cli, /--file_path dogs\.jpg/);
      const { stdout } = await run('sh', ['-c', curl], {
        cwd: PHOTOS,
        env: { PATH: process.env.PATH, CLARIFAI_PAT: pat },
        maxBuffer: 16 << 20,
      });
      assert.equal((JSON.parse(stdout) as Reply).outputs[0]!.data.regions!.length, regions.length);

      await t.page.click('#view-code');
      await shot(t.page, 'code-view');
      await done(t);
    });

    it('shows language identification as concept bars, with `en` on top for English text', async () => {
      const t = await openPage();
      await signIn(t.page);
      await pick(t.page, 'clarifai/main/language-identification');
      assert.equal(
        await t.page.getAttribute('#tab-text', 'aria-selected'),
        'true',
        'a text model opens the Text tab',
      );
      await t.page.fill(
        '#text-input',
        "The quick brown fox jumps over the lazy dog while the children watch. It's late.",
      );
      await predict(t.page);
      const first = t.page.locator('.bars .bar').first();
      assert.equal(await first.getAttribute('data-concept'), 'en');
      assert.equal(await first.locator('.bar-name').textContent(), 'en');
      const fill = (await first.locator('.bar-fill').boundingBox())!;
      const track = (await first.locator('.bar-track').boundingBox())!;
      assert.ok(fill.width > track.width * 0.8, 'a long bar for a confident answer');
      await shot(t.page, 'text-classifier');

      // the CLI command, run as shown with the key in $CLARIFAI_PAT, gives the same answer
      const { cli } = await code(t.page);
      assert.match(cli, /--bytes 'The quick brown fox .* It'\\''s late\.'/);
      const shim = join(work, 'bin');
      mkdirSync(shim, { recursive: true });
      writeFileSync(
        join(shim, 'clarifai'),
        `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/clarifai.js')}" "$@"\n`,
        {
          mode: 0o755,
        },
      );
      const { stdout } = await run('sh', ['-c', cli], {
        env: { ...isolatedEnv({ CLARIFAI_PAT: pat }), PATH: `${shim}:${process.env.PATH}` },
      });
      assert.match(stdout.split('\n')[1] ?? '', /^en\s+0\.9/);
      await done(t);
    });

    it("shows an image classifier's concepts beside the photo", async () => {
      const t = await openPage();
      await signIn(t.page);
      await pick(t.page, 'clarifai/main/general-image-recognition');
      await t.page.click('summary:has-text("Options")');
      await t.page.fill('#max-concepts', '5');
      await t.page.setInputFiles('#file-input', join(PHOTOS, 'puppy.jpg'));
      await predict(t.page);
      assert.ok((await t.page.locator('.split img.thumb').count()) === 1);
      const names = await t.page.$$eval('.bars .bar', (els) =>
        els.map((e) => e.getAttribute('data-concept')),
      );
      assert.ok(names.length <= 5 && names.includes('dog'), names.join(', '));
      const { cli } = await code(t.page);
      assert.match(cli, /--output_config '\{"max_concepts":5\}'/);
      await shot(t.page, 'visual-classifier');
      await done(t);
    });

    it('MIXED_STATUS: a broken file fails on its own card while the photo gets its regions', async () => {
      const t = await openPage();
      await signIn(t.page);
      await pick(t.page, 'clarifai/main/general-image-detection');
      await t.page.setInputFiles('#file-input', [join(PHOTOS, 'dogs.jpg'), join(work, 'broken.jpg')]);
      await predict(t.page);
      assert.match(
        (await t.page.textContent('#status')) ?? '',
        /10010.*Mixed Success.*each output shows its own status/,
      );
      const cards = t.page.locator('.output');
      assert.equal(await cards.count(), 2);
      assert.ok((await cards.nth(0).locator('.box').count()) >= 3);
      assert.equal(await cards.nth(0).locator('.pill').textContent(), 'OK');
      assert.match((await cards.nth(1).locator('.pill').textContent()) ?? '', /^30104 /);
      assert.match(
        (await cards.nth(1).locator('.output-error').textContent()) ?? '',
        /not a supported image/,
      );
      const { cli } = await code(t.page);
      assert.match(cli, /--file_path dogs\.jpg \\\n {2}--file_path broken\.jpg/);
      await shot(t.page, 'mixed-status');
      await done(t);
    });

    it('a URL input: the server fetches it, the regions are drawn on a blank frame', async () => {
      const t = await openPage();
      await signIn(t.page);
      await pick(t.page, 'clarifai/main/general-image-detection');
      await t.page.click('#tab-url');
      await t.page.fill('#url-input', `${samples!.url}/dogs.jpg`);
      await predict(t.page);
      assert.ok((await t.page.locator('.figure-blank .box[data-concept="dog"]').count()) >= 3);
      const { curl, cli } = await code(t.page);
      assert.match(curl, /"image":\{"url":"http:\/\/127\.0\.0\.1:\d+\/dogs\.jpg"\}/);
      assert.match(cli, /--url http:\/\/127\.0\.0\.1:\d+\/dogs\.jpg \\\n {2}--input_type image$/);
      await shot(t.page, 'url-input');
      await done(t);
    });

    it('summarises image and text embeddings', async () => {
      const t = await openPage();
      await signIn(t.page);
      await pick(t.page, 'admin/playground/colour-embedder');
      await t.page.setInputFiles('#file-input', join(work, 'red.png'));
      await predict(t.page);
      const block = t.page.locator('.embedding');
      assert.equal(await block.getAttribute('data-dimensions'), '4');
      assert.match(
        (await block.locator('.vector').textContent()) ?? '',
        /^\[1\.0000, 0\.0000, 0\.0000, 1\.0000\]$/,
      );
      assert.match((await block.locator('.facts').textContent()) ?? '', /L2 norm1\.4142/);
      await shot(t.page, 'visual-embedder');

      await pick(t.page, 'admin/playground/word-embedder');
      await t.page.fill('#text-input', 'hello world');
      await predict(t.page);
      assert.equal(await t.page.locator('.embedding').getAttribute('data-dimensions'), '11');
      assert.equal(await t.page.locator('.embedding svg.strip rect').count(), 11);
      await shot(t.page, 'text-embedder');
      await done(t);
    });

    it('takes a dropped file, a pasted image, and pasted text or URL', async () => {
      const t = await openPage();
      await signIn(t.page);
      await pick(t.page, 'clarifai/main/general-image-recognition');
      // what a drop and a paste hand the page: a DataTransfer holding files or text
      const png = readFileSync(join(work, 'red.png')).toString('base64');
      const transfer = (name: string) => `(() => {
      const bytes = Uint8Array.from(atob('${png}'), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], '${name}', { type: 'image/png' }));
      return dt;
    })()`;
      await t.page.evaluate(
        `document.getElementById('drop').dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: ${transfer('dropped.png')} }))`,
      );
      await t.page.evaluate(
        `document.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: ${transfer('pasted.png')} }))`,
      );
      assert.deepEqual(await t.page.$$eval('#file-list .file-name', (els) => els.map((e) => e.textContent)), [
        'dropped.png',
        'pasted.png',
      ]);
      await predict(t.page);
      assert.equal(await t.page.locator('.output').count(), 2);

      const pasteText = (text: string) =>
        t.page.evaluate(`(() => {
        const dt = new DataTransfer();
        dt.setData('text/plain', ${JSON.stringify(text)});
        document.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt }));
      })()`);
      await pasteText('Bonjour tout le monde');
      assert.equal(await t.page.getAttribute('#tab-text', 'aria-selected'), 'true');
      assert.equal(await t.page.inputValue('#text-input'), 'Bonjour tout le monde');
      await pasteText('https://samples.clarifai.com/dog2.jpeg');
      assert.equal(await t.page.getAttribute('#tab-url', 'aria-selected'), 'true');
      assert.equal(await t.page.inputValue('#url-input'), 'https://samples.clarifai.com/dog2.jpeg');
      await done(t);
    });

    it('shows markup in model data as text, never as HTML', async () => {
      const t = await openPage();
      await signIn(t.page);
      const option = t.page.locator('.model[data-model="admin/playground/colours"]');
      assert.equal(await option.locator('.model-desc').textContent(), HOSTILE_DESCRIPTION);
      await pick(t.page, 'admin/playground/colours');
      await t.page.setInputFiles('#file-input', join(work, 'red.png'));
      await predict(t.page);
      const top = t.page.locator('.bars .bar').first();
      assert.equal(await top.locator('.bar-name').textContent(), HOSTILE_LABEL);
      assert.equal(await t.page.locator('#pwned-label, #pwned-desc').count(), 0);
      assert.equal(await t.page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
      await shot(t.page, 'escaped-markup');
      await done(t);
    });
  },
);
