// Renders the README's pictures of the console in Chromium, on a fresh vidgate: docs/console-empty.png
// (before a key) and docs/console.png (one finished text-to-video task).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createApp } from '../src/app.ts';
import { loadSettings } from '../src/config.ts';

const key = `sk-evo-screenshot${'0'.repeat(32)}`;
const dataDir = mkdtempSync(path.join(tmpdir(), 'vidgate-screenshot-'));
const settings = loadSettings({ VIDGATE_DATA_DIR: dataDir, VIDGATE_PORT: '18990', VIDGATE_BOOTSTRAP_KEY: key, VIDGATE_LOG_LEVEL: 'warn' });
const app = await createApp({ settings, worker: true });
await app.http.listen({ port: settings.port, host: '127.0.0.1' });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(`${settings.public_url}/console`);
  await page.waitForSelector('#welcome');
  await page.screenshot({ path: new URL('../docs/console-empty.png', import.meta.url).pathname, fullPage: true });
  await page.fill('#api-key', key);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#workspace:not([hidden])');
  await page.fill('#f-prompt', 'A lighthouse on a rocky coast at dusk, waves rolling in');
  await page.fill('#f-duration', '4');
  await page.click('#submit');
  await page.waitForFunction(() => (globalThis as any).document.getElementById('current-status')?.textContent === 'completed · 100%', null, { timeout: 120_000 });
  await page.waitForTimeout(1500); // a frame past the first
  await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
  await page.screenshot({ path: new URL('../docs/console.png', import.meta.url).pathname, fullPage: true });
} finally {
  await browser.close();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
