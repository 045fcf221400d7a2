import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (bin/test installs it); Playwright never downloads a browser here. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.VIDGATE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
