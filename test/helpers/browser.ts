import assert from 'node:assert/strict';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium, which .ci/run installs; browser tests skip with a message without it. */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a headless chromium in a container: no sandbox, GPU, first-run or background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless chromium with its profile in `profileDir` (the test removes it). */
export function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: CHROMIUM_ARGS,
  });
}

/** A tab whose console errors, page errors and requests are kept, for checking at the end. */
export interface WatchedPage {
  page: Page;
  problems: string[];
  requests: string[];
}

/** Opens `url` in a fresh tab (its own sessionStorage) that records what went wrong and what it asked for. */
export async function openWatchedPage(browser: BrowserContext, url: string): Promise<WatchedPage> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  return { page, problems, requests };
}

/**
 * Closes the tab after checking it asked nothing of another origin than `base` (blob: and data:
 * URLs are the page's own), put `secret` (a key) in no URL, and reported no error but `expected`.
 */
export async function closeCleanPage(
  t: WatchedPage,
  base: string,
  opts: { secret?: string; expected?: string[] } = {},
): Promise<void> {
  const origin = new URL(base).origin;
  const foreign = t.requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(blob|data):/.test(u));
  assert.deepEqual(foreign, [], 'the page asked for nothing outside this server');
  if (opts.secret)
    assert.equal(t.requests.filter((u) => u.includes(opts.secret!)).length, 0, 'the key is never in a URL');
  assert.deepEqual(t.problems, opts.expected ?? []);
  await t.page.close();
}
