import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Callbacks given to page.evaluate run in the page, where these exist.
declare const document: any;
declare const window: any;

describe('the web console in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    server = await startTestServer({}, { worker: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${server.baseUrl}/console`);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('before a key shows only the key form and how to get a key: no form, no Generate, no error', async () => {
    assert.equal(await page.isVisible('#welcome'), true);
    for (const hidden of ['#workspace', '#submit', '#model', '#key-error', '#forget']) assert.equal(await page.isHidden(hidden), true, `${hidden} is hidden`);
    assert.match(await page.textContent('#welcome') ?? '', /keys create --user NAME/);
    assert.deepEqual(pageErrors, []);
  });

  it('refuses an unknown key, then takes a good one and shows its credits', async () => {
    for (const attempt of ['sk-evo-not-a-real-key-000000000000000000', 'sk-evo-another-bad-key-00000000000000000']) {
      await page.fill('#api-key', attempt);
      // The refusal has arrived, then the page shows it (the first attempt's error must not count for the second).
      await Promise.all([page.waitForResponse((response) => response.url().endsWith('/v1/models')), page.click('#key-form button[type=submit]')]);
      await page.waitForSelector('#key-error:not([hidden])');
      assert.match(await page.textContent('#key-error') ?? '', /^That key was refused: Authorization: the API key is unknown or disabled/);
      assert.equal(await page.$$eval('.error:not([hidden])', (nodes) => nodes.length), 1, 'one error at a time');
      assert.equal(await page.isHidden('#workspace'), true, 'still no workspace');
    }
    await page.fill('#api-key', server.key);
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#workspace:not([hidden])');
    // Credits and history load after the workspace shows: wait for them, not for a clock.
    await page.waitForFunction(() => document.getElementById('credits')?.textContent !== '' && document.getElementById('history-rows')?.textContent !== '');
    assert.match(await page.textContent('#credits') ?? '', /^1000000 credits left · 0 used$/);
    assert.equal(await page.isHidden('#key-error'), true, await page.textContent('#key-error') ?? '');
    assert.equal(await page.textContent('#history-rows'), 'No tasks yet.');
    const models = await page.$$eval('#model option', (options) => options.map((o: any) => o.value));
    assert.equal(models.length, 74, 'the whole catalog');
    const families = await page.$$eval('#model optgroup', (groups) => groups.map((g: any) => g.label));
    assert.deepEqual(families, ['wan', 'happyhorse', 'seedance', 'kling', 'minimax', 'veo', 'sora', 'grok', 'gemini', 'other'], 'grouped by family');
  });

  it('builds the form from the model schema, with file pickers for media', async () => {
    await page.selectOption('#model', 'wan2.7-image-to-video');
    assert.equal(await page.getAttribute('#f-image_start', 'type'), 'file');
    assert.equal(await page.getAttribute('#f-image_start', 'accept'), 'image/jpeg,image/png,image/webp,image/bmp');
    assert.deepEqual(await page.$$eval('#f-generation_mode option', (o) => o.map((x: any) => x.value)), ['', 'first_frame', 'first_last_frame', 'video_continuation']);
    assert.equal(await page.getAttribute('#f-duration', 'max'), '15');
    await page.selectOption('#model', 'happyhorse-1.0-video-edit');
    assert.equal(await page.getAttribute('#f-image_urls', 'multiple'), '', 'up to 5 reference images');
    assert.equal(await page.$('#f-video_url'), null, 'aliases are left to the API');
  });

  it('checks ranges in the page, and shows the API error naming the field, marking it', async () => {
    await page.selectOption('#model', 'wan2.7-text-to-video');
    await page.fill('#f-duration', '99');
    assert.equal(await page.$eval('#f-duration', (input: any) => input.validity.rangeOverflow), true, 'the schema maximum reaches the browser');
    await page.selectOption('#model', 'wan2.7-image-to-video');
    await page.selectOption('#f-generation_mode', 'first_last_frame');
    await page.fill('[data-field="image_start"] [data-role=url]', 'https://example.test/start.png');
    await page.click('#submit');
    await page.waitForSelector('#form-error:not([hidden])');
    assert.match(await page.textContent('#form-error') ?? '', /^image_end: /);
    assert.equal(await page.getAttribute('[data-field="image_end"] [data-role=url]', 'class'), 'invalid');
    await page.selectOption('#model', 'wan2.7-text-to-video');
  });

  it('submits a text-to-video task, follows it to the end and plays the video', async () => {
    await page.fill('#f-prompt', 'a lighthouse at dusk');
    await page.fill('#f-duration', '2');
    await page.click('#submit');
    await page.waitForFunction(() => document.getElementById('current-status')?.textContent === 'completed · 100%', null, { timeout: 60_000 });
    const id = await page.textContent('#current-id');
    const task = (await server.call('GET', `/v1/tasks/${id}`)).body;
    assert.equal(task.status, 'completed');
    const playback = await page.evaluate(async () => {
      const video = document.getElementById('player');
      await video.play();
      const start = video.currentTime;
      // Playing shows as time moving on: wait for that event (bounded, so a stuck player fails, not hangs).
      const advanced = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), 15_000);
        video.addEventListener('timeupdate', () => video.currentTime > start && (clearTimeout(timer), resolve(true)));
      });
      return { src: video.currentSrc, advanced, readyState: video.readyState, width: video.videoWidth, height: video.videoHeight, error: video.error?.code ?? null };
    });
    assert.deepEqual(playback, { src: task.results[0], advanced: true, readyState: 4, width: 1280, height: 720, error: null });
    assert.equal(await page.getAttribute('#download', 'href'), task.results[0]);
    await page.waitForFunction((taskId) => document.querySelector(`#history-rows tr[data-id="${taskId}"] td:nth-child(3)`)?.textContent === 'completed', id);
    await page.waitForFunction(() => document.getElementById('credits')?.textContent?.endsWith(' 17.2 used')); // credits reload after the task ends
  });

  it('builds a catalog model\'s form, nested parameters as JSON, and submits it', async () => {
    await page.selectOption('#model', 'kling-v3-text-to-video');
    assert.deepEqual(await page.$$eval('#f-sound option', (o) => o.map((x: any) => x.value)), ['on', 'off']);
    assert.equal(await page.$eval('#f-model_params', (node: any) => node.tagName), 'TEXTAREA');
    await page.fill('#f-model_params', '{"multi_shot": true, "shot_type": "customize", "multi_prompt": [{"index": 1, "prompt": "a fox", "duration": "2"}]}');
    await page.fill('#f-duration', '3');
    await page.click('#submit');
    await page.waitForSelector('#form-error:not([hidden])');
    assert.match(await page.textContent('#form-error') ?? '', /^model_params\.multi_prompt: shot durations add up to 2 s; they must add up to duration \(3 s\)/);
    await page.fill('#f-model_params', '{"multi_shot": true, "shot_type": "customize", "multi_prompt": [{"index": 1, "prompt": "a fox", "duration": "3"}]}');
    await page.click('#submit');
    await page.waitForFunction(() => document.getElementById('current-model')?.textContent === 'kling-v3-text-to-video');
    await page.waitForFunction(() => document.getElementById('current-status')?.textContent === 'completed · 100%', null, { timeout: 60_000 });
    assert.deepEqual(pageErrors, []);
  });

  it('uploads a picked file for a media field and starts from it', async () => {
    await page.selectOption('#model', 'wan2.7-image-to-video');
    await page.setInputFiles('#f-image_start', path.join(fixturesDir(), 'image-640x360.png'));
    await page.fill('#f-duration', '2');
    await page.click('#submit');
    await page.waitForFunction(() => document.getElementById('current-model')?.textContent === 'wan2.7-image-to-video');
    const id = await page.textContent('#current-id');
    const input = await server.app.db.selectFrom('task_inputs').selectAll().where('task_id', '=', id!).executeTakeFirstOrThrow();
    assert.match(input.url, new RegExp(`^${server.baseUrl}/files/file_[a-z0-9]{24}/image-640x360\\.png$`));
    assert.deepEqual([input.width, input.height], [640, 360]);
    await page.waitForFunction(() => document.getElementById('current-status')?.textContent?.startsWith('completed'), null, { timeout: 60_000 });
    assert.deepEqual(pageErrors, []);
  });

  it('after a reload, a remembered key is in use and the box says so', async () => {
    await page.fill('#api-key', server.key);
    await page.check('#remember');
    await page.click('#key-form button[type=submit]');
    // The key was already in use (the box said so before): wait for what "remember" does, the key kept in localStorage.
    await page.waitForFunction((key) => window.localStorage.getItem('vidgate.key') === key, server.key);
    await page.reload();
    await page.waitForSelector('#workspace:not([hidden])');
    assert.equal(await page.isChecked('#remember'), true);
    assert.equal(await page.isHidden('#welcome'), true);
  });

  it('says a result has expired instead of showing a black player and a dead link', async () => {
    const [done] = await server.app.db.selectFrom('tasks').select('id').where('status', '=', 'completed').orderBy('created_at').limit(1).execute();
    await server.app.db.updateTable('tasks').set({ finished_at: 1 }).where('id', '=', done.id).execute(); // finished long before the TTL
    await page.reload();
    await page.waitForSelector(`#history-rows tr[data-id="${done.id}"]`);
    await page.click(`#history-rows tr[data-id="${done.id}"]`);
    await page.waitForSelector('#expired:not([hidden])');
    assert.equal(await page.isHidden('#player'), true);
    assert.equal(await page.isHidden('#download'), true);
    assert.deepEqual(pageErrors, []);
  });

  it('Keys: makes a key shown once, which works, then revokes it, leaving the key in use active', async () => {
    page.on('dialog', (dialog) => void dialog.accept());
    await page.click('[data-tab=keys]');
    await page.waitForSelector('#keys tbody tr td');
    await page.fill('#k-name', 'laptop');
    await page.fill('#k-credits', '5000000'); // more than the user has
    await page.click('#key-create-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('status').className === 'error');
    assert.match(await page.textContent('#status') ?? '', /^credits:/, 'the error names the field');
    assert.equal(await page.getAttribute('#k-credits', 'class'), 'invalid');
    await page.fill('#k-credits', '40');
    await page.click('#key-create-form button[type=submit]');
    await page.waitForSelector('#new-key:not([hidden])');
    assert.equal(await page.textContent('#status'), 'Created laptop with 40 credits. Copy it now: it is not shown again.');
    const secret = (await page.textContent('#new-key-value')) ?? '';
    const made = await server.call('POST', '/v1/videos/generations', { key: secret, body: { model: 'wan2.7-text-to-video', prompt: 'a kite over dunes', duration: 2 } });
    assert.equal(made.status, 200, 'the new key makes tasks');
    await page.waitForSelector('button[aria-label="Revoke laptop"]');
    await page.click('button[aria-label="Revoke laptop"]');
    await page.waitForFunction(() => /^Revoked laptop/.test(document.getElementById('status').textContent));
    // Read past the caller cache's short TTL: the store refuses the key now.
    const { findCallerByKey } = await import('../../src/auth/accounts.ts');
    assert.equal(await findCallerByKey(server.app.db, secret), null);
    const own = (await page.$$eval('#keys tbody tr', (rows) => rows.map((r: any) => r.textContent))).find((text: string) => text.includes('active'))!;
    assert.ok(own, 'the key in use is still active');
  });

  it('Usage: draws tasks per day and per model from the usage report, and downloads it as CSV', async () => {
    await page.click('[data-tab=usage]');
    await page.waitForFunction(() => (window as any).Chart?.getChart(document.getElementById('chart-models')) !== undefined);
    const charts = await page.evaluate(() => ['chart-days', 'chart-models'].map((id) => {
      const { data } = (window as any).Chart.getChart(document.getElementById(id));
      return { labels: [...data.labels], datasets: data.datasets.map((d: any) => ({ label: d.label, data: [...d.data] })) };
    }));
    const report = (await server.call('GET', '/v1/usage?group_by=model')).body.data;
    const [days, models] = charts;
    assert.equal(days.labels.length, 30);
    assert.deepEqual(days.datasets.map((d: { label: string }) => d.label), ['completed', 'failed', 'cancelled']);
    const completed = days.datasets[0].data.reduce((a: number, b: number) => a + b, 0);
    assert.equal(completed, report.reduce((sum: number, m: { completed: number }) => sum + m.completed, 0));
    assert.ok(completed >= 1, 'the videos made earlier in this file are counted');
    assert.deepEqual(models.labels, report.map((m: { model: string }) => m.model));
    assert.deepEqual(models.datasets[1].data, report.map((m: { credits_charged: number }) => m.credits_charged));
    const download = page.waitForEvent('download');
    await page.click('#usage-csv-model');
    assert.equal((await download).suggestedFilename(), 'usage-by-model.csv');
    if (process.env.VIDGATE_SCREENSHOTS_DIR) await page.screenshot({ path: path.join(process.env.VIDGATE_SCREENSHOTS_DIR, 'console-usage.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });
});
