import { chromium, type BrowserContext } from 'playwright-core';

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
