import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { markProcessing } from '../../src/tasks/transitions.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { launchChromium } from '../helpers/chromium.ts';

// Callbacks given to page.evaluate run in the page, where these exist.
declare const document: any;
declare const window: any;

const ADMIN_KEY = `sk-adm-${'c4'.repeat(20)}`;
const MODEL = 'wan2.7-text-to-video';
const HISTORY_MODELS = [MODEL, 'wan2.6-text-to-video', 'kling-v3-text-to-video'];
/** Set to a folder (docs/) to save the screenshots the README shows. */
const SCREENSHOTS = process.env.VIDGATE_SCREENSHOTS_DIR;

/** A chart's datasets as Chart.js holds them: what it draws, not just that a canvas exists. */
async function chartData(page: Page, id: string): Promise<{ labels: string[]; datasets: { label: string; data: number[] }[] }> {
  await page.waitForFunction((canvas) => window.Chart.getChart(document.getElementById(canvas)) !== undefined, id);
  return page.evaluate((canvas) => {
    const { data } = window.Chart.getChart(document.getElementById(canvas));
    return { labels: [...data.labels], datasets: data.datasets.map((d: any) => ({ label: d.label, data: [...d.data] })) };
  }, id);
}

/** Waits for the status line to say something matching `pattern`, and returns it. */
async function statusSays(page: Page, pattern: RegExp): Promise<string> {
  await page.waitForFunction((source) => new RegExp(source).test(document.getElementById('status').textContent), pattern.source);
  return (await page.textContent('#status')) ?? '';
}

describe('the admin console in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const ids: string[] = [];

  before(async () => {
    server = await startTestServer({ VIDGATE_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY }, { worker: false });
    // Two tasks of today: one completed and one failed, ended through the settlement as a worker ends them.
    const { settlement } = server.app;
    for (const duration of [5, 2]) ids.push((await server.call('POST', '/v1/videos/generations', { body: { model: MODEL, prompt: 'a harbour at night', duration } })).body.id);
    await server.app.store.write(async (trx) => {
      const now = Date.now();
      await markProcessing(trx, ids[0], now);
      await settlement.complete(trx, await trx.selectFrom('tasks').selectAll().where('id', '=', ids[0]).executeTakeFirstOrThrow(), { path: `results/${ids[0]}.mp4`, billedSeconds: 5 }, now + 3000);
      await settlement.fail(trx, ids[1], 'service_error', 'the upstream gave up', now);
    });
    // And 18 tasks of the past 12 days on three models, ended the same way: a month the dashboard can show.
    for (let i = 0; i < 18; i++) {
      const model = HISTORY_MODELS[i % 3];
      const made = await server.call('POST', '/v1/videos/generations', { body: { model, prompt: `history ${i}` } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const created = Date.now() - (1 + (i % 12)) * 86_400_000;
      await server.app.db.updateTable('tasks').set({ created_at: created }).where('id', '=', made.body.id).execute();
      await server.app.store.write(async (trx) => {
        if (i % 5 === 4) return void await settlement.fail(trx, made.body.id, 'service_error', 'the upstream gave up', created + 20_000);
        await markProcessing(trx, made.body.id, created + 1000);
        const task = await trx.selectFrom('tasks').selectAll().where('id', '=', made.body.id).executeTakeFirstOrThrow();
        await settlement.complete(trx, task, { path: `results/${made.body.id}.mp4`, billedSeconds: task.billed_seconds }, created + 30_000 + i * 1000);
      });
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept()); // the confirmations of disable and pause
    await page.goto(`${server.baseUrl}/admin`);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('refuses a user key, then signs in with the admin key and draws the dashboard from real data', async () => {
    await page.fill('#admin-key', server.key);
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#key-error:not([hidden])');
    assert.equal(await page.textContent('#key-error'), 'That key is not an admin key (sk-adm-…).');
    await page.fill('#admin-key', ADMIN_KEY);
    await page.press('#admin-key', 'Enter');
    await page.waitForSelector('#workspace:not([hidden])');

    const today = new Date().toISOString().slice(0, 10);
    const byDay = new Map<string, { tasks: number }>((await server.call('GET', '/admin/v1/usage?group_by=day', { key: ADMIN_KEY })).body.data.map((d: any) => [d.day, d]));
    const tasks = await chartData(page, 'chart-tasks');
    assert.equal(tasks.labels.length, 30);
    assert.equal(tasks.labels.at(-1), today);
    assert.deepEqual(tasks.datasets.map((d) => d.label).sort(), [...HISTORY_MODELS].sort());
    const perDay = (chart: typeof tasks) => chart.labels.map((_, i) => chart.datasets.reduce((sum, d) => sum + d.data[i], 0));
    assert.deepEqual(perDay(tasks), tasks.labels.map((day) => byDay.get(day)?.tasks ?? 0), 'each day\'s bars add up to the usage report');
    assert.equal(perDay(tasks).at(-1), 2, 'two tasks today');
    assert.equal(perDay(tasks).reduce((a, b) => a + b, 0), 20);
    const credits = await chartData(page, 'chart-credits');
    const used = (await server.call('GET', '/v1/credits')).body.data.user.used_credits;
    assert.equal(Math.round(perDay(credits).reduce((a, b) => a + b, 0) * 1e6), Math.round(used * 1e6), 'the credits drawn = what alice used');
    const outcomes = await chartData(page, 'chart-outcomes');
    assert.deepEqual(outcomes.datasets.map((d) => d.label), ['completed', 'failed']);
    assert.deepEqual(outcomes.datasets.map((d) => d.data.reduce((a, b) => a + b, 0)), [16, 4]);
    assert.deepEqual(outcomes.datasets.map((d) => d.data.at(-1)), [1, 1]);
    await page.waitForSelector('#top-users tbody tr td');
    assert.match(await page.textContent('#top-users tbody') ?? '', /^alice20/);
    if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-console.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });

  it('creates a user, names the field of a bad value, tops the user up and makes a key shown once', async () => {
    await page.click('[data-tab=users]');
    await page.fill('#u-name', 'bad name!');
    await page.click('#user-form button[type=submit]');
    assert.match(await statusSays(page, /^name:/), /^name: must be 1–100 letters, digits or \. _ @ -/);
    assert.equal(await page.getAttribute('#u-name', 'class'), 'invalid', 'the field is marked');
    await page.fill('#u-name', 'carol');
    await page.fill('#u-credits', '10');
    await page.click('#user-form button[type=submit]');
    assert.equal(await statusSays(page, /^Created/), 'Created user carol with 10 credits.');
    await page.click('button[aria-label="Top up carol"]');
    await page.fill('#t-credits', '5');
    await page.keyboard.press('Enter');
    assert.equal(await statusSays(page, /^Added/), 'Added 5 credits to carol: the balance is now 15.');
    assert.equal((await server.call('GET', '/admin/v1/users/carol', { key: ADMIN_KEY })).body.balance, 15);

    await page.click('[data-tab=keys]');
    await page.fill('#k-user', 'carol');
    await page.fill('#k-name', 'carol-app');
    await page.click('#key-create-form button[type=submit]');
    assert.match(await statusSays(page, /^Created key/), /^Created key \S+ for carol\. Copy it now/);
    const secret = (await page.textContent('#new-key-value')) ?? '';
    assert.match(secret, /^sk-evo-/);
    assert.equal((await server.call('GET', '/v1/credits', { key: secret })).status, 200, 'the key shown works');
  });

  it('edits a price, which the API then quotes', async () => {
    await page.click('[data-tab=prices]');
    await page.fill('#pf-model', MODEL);
    const input = `input[aria-label="${MODEL} 720p"]`;
    await page.waitForSelector(input);
    await page.fill(input, '9.5');
    await page.click(`button[aria-label="Save the price of ${MODEL}"]`);
    assert.match(await statusSays(page, /^Saved/), new RegExp(`^Saved ${MODEL.replaceAll('.', '\\.')}: 720p 9\\.5, .* version \\d+\\.$`));
    const price = (await server.call('GET', '/admin/v1/prices', { key: ADMIN_KEY })).body.data.find((p: { model: string }) => p.model === MODEL);
    assert.equal(price['720p'], 9.5);
  });

  it('pauses and resumes a channel, in the store every process reads', async () => {
    await page.click('[data-tab=channels]');
    await page.click('button[aria-label="Pause local"]');
    assert.equal(await statusSays(page, /^Paused/), 'Paused channel local in every process.');
    await page.waitForSelector('button[aria-label="Resume local"]');
    assert.notEqual((await server.app.db.selectFrom('channel_health').select('paused_at').where('name', '=', 'local').executeTakeFirstOrThrow()).paused_at, null);
    await page.click('button[aria-label="Resume local"]');
    assert.equal(await statusSays(page, /^Resumed/), 'Resumed channel local in every process.');
  });

  it('finds the failed task by filter and opens it from the keyboard, then shows the audit log', async () => {
    await page.click('[data-tab=tasks]');
    await page.selectOption('#tf-status', 'failed');
    await page.click('#tasks-filter button[type=submit]');
    assert.equal(await statusSays(page, /tasks shown/), '4 tasks shown.');
    await page.fill('#tf-since', new Date().toISOString().slice(0, 10)); // and only today's
    await page.click('#tasks-filter button[type=submit]');
    assert.equal(await statusSays(page, /^1 tasks shown/), '1 tasks shown.');
    assert.equal(await page.$$eval('#tasks tbody tr', (rows) => rows.length), 1);
    await page.focus('#tasks tbody tr');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#task-detail:not([hidden])');
    assert.equal(await page.textContent('#detail-id'), ids[1]);
    assert.deepEqual(await page.$$eval('#detail-ledger tbody tr td:nth-child(3)', (cells) => cells.map((c: any) => c.textContent)), ['reserve', 'release']);
    assert.match(await page.textContent('#detail-json') ?? '', /the upstream gave up/);

    const download = page.waitForEvent('download');
    await page.click('#tasks-csv');
    const csv = await download;
    assert.equal(csv.suggestedFilename(), 'tasks.csv');

    await page.click('[data-tab=audit]');
    await page.waitForSelector('#audit tbody tr td');
    const actions = await page.$$eval('#audit tbody tr td:nth-child(3)', (cells) => cells.map((c: any) => c.textContent));
    assert.deepEqual(actions.slice(0, 6), ['channel.resume', 'channel.pause', 'price.update', 'key.create', 'topup', 'user.create']);
    assert.deepEqual(pageErrors, []);
  });
});
