// The admin console (/admin): an admin key, then the dashboard, users, keys, prices, channels, the task browser and the audit log,
// all over /admin/v1. Every value shown goes through textContent.
import { $, announce, apiClient, drawChart, el, fillTable, last30Days, when } from '/console/common.js';

const KEY_STORE = 'vidgate.adminKey';
let api = null;
const pages = {}; // tab → the `before` of its next page
const loaders = { dashboard: loadDashboard, users: () => loadUsers(), keys: () => loadKeys(), prices: loadPrices, channels: loadChannels, tasks: () => loadTasks(), audit: () => loadAudit() };

/** The form's filled-in fields as an object (numbers where the input is a number). */
function formValues(form) {
  const values = {};
  for (const input of form.querySelectorAll('input[name], select[name]')) {
    if (input.value.trim() === '') continue;
    values[input.name] = input.type === 'number' ? Number(input.value) : input.value.trim();
  }
  return values;
}

const query = (values) => new URLSearchParams(Object.entries(values).filter(([, v]) => v !== undefined && v !== '')).toString();

/** Runs an action: says what it did, or names what was wrong. */
async function act(what, form, run) {
  try {
    const done = await run();
    announce(typeof what === 'function' ? what(done) : what, form);
    return done;
  } catch (error) {
    announce(error, form);
    return undefined;
  }
}

function button(text, onClick, attributes = {}) {
  const node = el('button', { type: 'button', class: 'small', ...attributes }, text);
  node.addEventListener('click', onClick);
  return node;
}

async function loadDashboard() {
  const byModel = await api.get('/admin/v1/usage?group_by=model');
  const days = last30Days(byModel.until);
  $('window').textContent = `${byModel.since} – ${byModel.until} (UTC)`;
  const top = [...byModel.data].sort((a, b) => b.tasks - a.tasks).slice(0, 6);
  const perModel = await Promise.all(top.map((row) => api.get(`/admin/v1/usage?group_by=day&model=${encodeURIComponent(row.model)}`)));
  const series = (field) => top.map((row, i) => {
    const byDay = new Map(perModel[i].data.map((d) => [d.day, d[field]]));
    return { label: row.model, data: days.map((day) => byDay.get(day) ?? 0) };
  });
  drawChart($('chart-tasks'), { labels: days, series: series('tasks'), yTitle: 'tasks' });
  drawChart($('chart-credits'), { labels: days, series: series('credits_charged'), yTitle: 'credits' });
  const total = new Map((await api.get('/admin/v1/usage?group_by=day')).data.map((d) => [d.day, d]));
  drawChart($('chart-outcomes'), {
    type: 'line', stacked: false, labels: days, yTitle: 'tasks',
    series: [
      { label: 'completed', data: days.map((day) => total.get(day)?.completed ?? 0), color: '#1b7f3b' },
      { label: 'failed', data: days.map((day) => total.get(day)?.failed ?? 0), color: '#b3261e' },
    ],
  });
  const users = (await api.get('/admin/v1/usage?group_by=user')).data.sort((a, b) => b.credits_charged - a.credits_charged).slice(0, 10);
  fillTable($('top-users'), [['User', (r) => r.user], ['Tasks', (r) => r.tasks], ['Completed', (r) => r.completed], ['Failed', (r) => r.failed], ['Credits charged', (r) => r.credits_charged], ['p95 s', (r) => r.p95_s]], users, { empty: 'No tasks in the last 30 days.' });
}

async function loadUsers(more = false) {
  const page = await api.get(`/admin/v1/users?limit=50${more && pages.users ? `&before=${encodeURIComponent(pages.users)}` : ''}`);
  const table = $('users');
  const columns = [
    ['Name', (u) => u.name], ['Role', (u) => u.role], ['Group', (u) => u.group], ['Balance', (u) => u.balance], ['Used', (u) => u.used], ['Keys', (u) => u.key_count],
    ['Status', (u) => (u.disabled ? 'disabled' : 'active')], ['Created', (u) => when(u.created)],
    ['', (u) => {
      const span = el('span', { class: 'row-actions' });
      span.append(button('Top up', () => { $('t-user').value = u.name; $('t-credits').focus(); }, { 'aria-label': `Top up ${u.name}` }));
      span.append(button(u.disabled ? 'Enable' : 'Disable', () => setUserDisabled(u.name, !u.disabled), { 'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.name}` }));
      return span;
    }],
  ];
  const rows = more ? [...(table.rows_ ?? []), ...page.data] : page.data;
  table.rows_ = rows;
  fillTable(table, columns, rows);
  pages.users = page.last_id;
  $('users-more').hidden = !page.has_more;
}

async function setUserDisabled(name, disabled) {
  if (disabled && !confirm(`Disable ${name}? All its keys stop working.`)) return;
  await act(`${disabled ? 'Disabled' : 'Enabled'} user ${name}.`, null, () => api.patch(`/admin/v1/users/${encodeURIComponent(name)}`, { disabled }));
  await loadUsers();
}

async function loadKeys(more = false) {
  const user = $('kf-user').value.trim();
  const page = await api.get(`/admin/v1/keys?${query({ limit: 50, user, before: more ? pages.keys : undefined })}`);
  const table = $('keys');
  const rows = more ? [...(table.rows_ ?? []), ...page.data] : page.data;
  table.rows_ = rows;
  fillTable(table, [
    ['Id', (k) => k.id], ['User', (k) => k.user], ['Name', (k) => k.name], ['Prefix', (k) => `${k.prefix}…`], ['Allowance left', (k) => (k.unlimited ? 'unlimited' : k.credits ?? 'user balance')],
    ['Models', (k) => k.models?.join(', ') ?? 'all'], ['RPM', (k) => k.rpm ?? 'default'], ['Last used', (k) => when(k.last_used)], ['Status', (k) => (k.disabled ? 'disabled' : 'active')],
    ['', (k) => (k.disabled ? '' : button('Disable', () => disableKey(k), { 'aria-label': `Disable key ${k.id}` }))],
  ], rows);
  pages.keys = page.last_id;
  $('keys-more').hidden = !page.has_more;
}

async function disableKey(key) {
  if (!confirm(`Disable key ${key.prefix}… of ${key.user}? Apps using it stop working.`)) return;
  await act(`Disabled key ${key.id}.`, null, () => api.del(`/admin/v1/keys/${encodeURIComponent(key.id)}`));
  await loadKeys();
}

async function loadPrices() {
  const { data } = await api.get('/admin/v1/prices');
  const filter = $('pf-model').value.trim().toLowerCase();
  const shown = data.filter((p) => p.model.includes(filter));
  fillTable($('prices'), [
    ['Model', (p) => p.model],
    ['Rule', (p) => {
      const select = el('select', { name: 'rule', 'aria-label': `Rule of ${p.model}` });
      for (const rule of ['per_second', 'per_call', 'per_token']) select.append(el('option', { selected: rule === p.rule }, rule));
      return select;
    }],
    ['Credits per quality', (p) => {
      const span = el('span', { class: 'qualities' });
      for (const quality of Object.keys(p).filter((k) => !['model', 'rule', 'version', 'updated'].includes(k))) {
        const label = el('label', { class: 'inline' }, `${quality} `);
        label.append(el('input', { type: 'number', step: 'any', min: 0, name: quality, value: p[quality], 'aria-label': `${p.model} ${quality}` }));
        span.append(label);
      }
      return span;
    }],
    ['Version', (p) => p.version], ['Updated', (p) => when(p.updated)],
    ['', (p) => button('Save', (event) => savePrice(p.model, event.target.closest('tr')), { 'aria-label': `Save the price of ${p.model}` })],
  ], shown, { empty: 'No model matches.' });
}

async function savePrice(model, row) {
  const body = { rule: row.querySelector('select[name=rule]').value };
  for (const input of row.querySelectorAll('input[type=number]')) body[input.name] = Number(input.value);
  await act((price) => `Saved ${model}: ${Object.entries(price).filter(([k]) => !['model', 'rule', 'version', 'updated'].includes(k)).map(([k, v]) => `${k} ${v}`).join(', ')} (${price.rule}), version ${price.version}.`, row, () => api.put(`/admin/v1/prices/${encodeURIComponent(model)}`, body));
  await loadPrices();
}

async function loadChannels() {
  const { data } = await api.get('/admin/v1/channels');
  fillTable($('channels'), [
    ['Name', (c) => c.name], ['Engine', (c) => c.engine], ['Priority', (c) => c.priority], ['Weight', (c) => c.weight],
    ['Health', (c) => (c.health.state === 'resting' ? `resting until ${when(c.health.resting_until)}` : c.health.state)], ['Failures in a row', (c) => c.health.consecutive_failures],
    ['In flight', (c) => c.in_flight], ['Queued', (c) => c.queued], ['p50 run s', (c) => c.p50_run_s], ['Last error', (c) => c.last_error],
    ['', (c) => button(c.paused ? 'Resume' : 'Pause', () => pauseChannel(c.name, !c.paused), { 'aria-label': `${c.paused ? 'Resume' : 'Pause'} ${c.name}` })],
  ], data);
}

async function pauseChannel(name, pause) {
  if (pause && !confirm(`Pause channel ${name}? It takes no new jobs until resumed; jobs on it finish.`)) return;
  await act(`${pause ? 'Paused' : 'Resumed'} channel ${name} in every process.`, null, () => api.post(`/admin/v1/channels/${encodeURIComponent(name)}/${pause ? 'pause' : 'resume'}`));
  await loadChannels();
}

/** The task browser's filters as query parameters (dates as unix seconds). */
function taskFilters() {
  const values = formValues($('tasks-filter'));
  for (const field of ['since', 'until']) if (values[field]) values[field] = String(Date.parse(`${values[field]}T00:00:00Z`) / 1000);
  return values;
}

async function loadTasks(more = false) {
  const page = await api.get(`/admin/v1/tasks?${query({ ...taskFilters(), limit: 50, before: more ? pages.tasks : undefined })}`);
  const table = $('tasks');
  const rows = more ? [...(table.rows_ ?? []), ...page.data] : page.data;
  table.rows_ = rows;
  fillTable(table, [
    ['Task', (t) => t.id], ['Created', (t) => when(t.created)], ['User', (t) => t.user], ['Model', (t) => t.model],
    ['Status', (t) => el('span', { class: `status-${t.status}` }, t.status)], ['Channel', (t) => t.channel], ['Attempts', (t) => t.attempts],
    ['Charged', (t) => t.credits_charged ?? '—'], ['Released', (t) => t.credits_released ?? '—'], ['Queued s', (t) => t.queued_s], ['Run s', (t) => t.run_s ?? '—'],
    ['Error', (t) => t.error?.code ?? ''],
  ], rows, { onOpen: (t) => openTask(t.id), empty: 'No task matches these filters.' });
  pages.tasks = page.last_id;
  $('tasks-more').hidden = !page.has_more;
}

async function openTask(id) {
  const task = await act((t) => `Opened ${t.id}.`, null, () => api.get(`/admin/v1/tasks/${encodeURIComponent(id)}`));
  if (!task) return;
  $('task-detail').hidden = false;
  $('detail-id').textContent = task.id;
  fillTable($('detail-ledger'), [['Row', (r) => r.id], ['Time', (r) => when(r.time)], ['Kind', (r) => r.kind], ['Credits', (r) => r.credits], ['Balance after', (r) => r.balance_after]], task.ledger);
  const { ledger, ...rest } = task;
  $('detail-json').textContent = JSON.stringify(rest, null, 2);
  $('task-detail').scrollIntoView();
  $('detail-close').focus();
}

async function loadAudit(more = false) {
  const page = await api.get(`/admin/v1/audit?limit=50${more && pages.audit ? `&before=${encodeURIComponent(pages.audit)}` : ''}`);
  const table = $('audit');
  const rows = more ? [...(table.rows_ ?? []), ...page.data] : page.data;
  table.rows_ = rows;
  const short = (value) => (value === null ? '' : JSON.stringify(value).slice(0, 160));
  fillTable(table, [['Time', (a) => when(a.time)], ['Actor', (a) => a.actor], ['Action', (a) => a.action], ['Target', (a) => a.target], ['Before', (a) => short(a.before)], ['After', (a) => short(a.after)]], rows);
  pages.audit = page.last_id;
  $('audit-more').hidden = !page.has_more;
}

function showTab(name) {
  for (const tab of document.querySelectorAll('[role=tab]')) tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  for (const section of document.querySelectorAll('main.tab')) section.hidden = section.id !== `tab-${name}`;
  loaders[name]().catch((error) => announce(error));
}

async function signIn(key, remember) {
  const candidate = apiClient(key);
  $('key-error').hidden = true;
  try {
    await candidate.get('/admin/v1/users?limit=1');
  } catch (error) {
    $('key-error').textContent = error.code === 'admin_required' ? 'That key is not an admin key (sk-adm-…).' : `That key was refused: ${error.message}`;
    $('key-error').hidden = false;
    return;
  }
  api = candidate;
  (remember ? localStorage : sessionStorage).setItem(KEY_STORE, key);
  $('workspace').hidden = false;
  $('welcome').hidden = true;
  $('forget').hidden = false;
  $('admin-key').value = '';
  $('admin-key').placeholder = `${key.slice(0, 10)}… signed in`;
  showTab('dashboard');
}

function signOut() {
  localStorage.removeItem(KEY_STORE);
  sessionStorage.removeItem(KEY_STORE);
  api = null;
  $('workspace').hidden = true;
  $('welcome').hidden = false;
  $('forget').hidden = true;
  $('admin-key').placeholder = 'sk-adm-…';
}

function onSubmit(id, run) {
  $(id).addEventListener('submit', (event) => {
    event.preventDefault();
    void run(event.target);
  });
}

function start() {
  onSubmit('key-form', () => signIn($('admin-key').value.trim(), $('remember').checked));
  $('forget').addEventListener('click', signOut);
  for (const tab of document.querySelectorAll('[role=tab]')) tab.addEventListener('click', () => showTab(tab.dataset.tab));
  onSubmit('user-form', async (form) => {
    const user = await act((u) => `Created user ${u.name} with ${u.balance} credits.`, form, () => api.post('/admin/v1/users', formValues(form)));
    if (user) { form.reset(); await loadUsers(); }
  });
  onSubmit('topup-form', async (form) => {
    const { user, credits, note } = formValues(form);
    const done = await act((r) => `${credits < 0 ? 'Took back' : 'Added'} ${Math.abs(credits)} credits ${credits < 0 ? 'from' : 'to'} ${r.user}: the balance is now ${r.balance}.`, form,
      () => api.post(`/admin/v1/users/${encodeURIComponent(user ?? '')}/topups`, { credits, note }));
    if (done) { form.reset(); await loadUsers(); }
  });
  onSubmit('key-create-form', async (form) => {
    const values = formValues(form);
    if (values.models) values.models = String(values.models).split(',').map((m) => m.trim()).filter(Boolean);
    const key = await act((k) => `Created key ${k.id} for ${k.user}. Copy it now: it is not shown again.`, form, () => api.post('/admin/v1/keys', values));
    if (!key) return;
    $('new-key').hidden = false;
    $('new-key-value').textContent = key.key;
    form.reset();
    await loadKeys();
  });
  $('copy-key').addEventListener('click', async () => {
    await navigator.clipboard?.writeText($('new-key-value').textContent).catch(() => {});
    announce('Copied the key.');
  });
  onSubmit('keys-filter', () => loadKeys());
  $('pf-model').addEventListener('input', () => void loadPrices());
  onSubmit('prices-filter', () => loadPrices());
  $('channels-refresh').addEventListener('click', () => void loadChannels());
  onSubmit('tasks-filter', (form) => act((n) => `${n} tasks shown.`, form, async () => { await loadTasks(); return $('tasks').rows_.length; }));
  $('tasks-csv').addEventListener('click', () => act('Exported the matching tasks as tasks.csv.', $('tasks-filter'), () => api.download(`/admin/v1/tasks?${query({ ...taskFilters(), format: 'csv' })}`, 'tasks.csv')));
  $('detail-close').addEventListener('click', () => { $('task-detail').hidden = true; });
  for (const [name, load] of [['users', loadUsers], ['keys', loadKeys], ['tasks', loadTasks], ['audit', loadAudit]]) $(`${name}-more`).addEventListener('click', () => void load(true));
  const saved = localStorage.getItem(KEY_STORE) ?? sessionStorage.getItem(KEY_STORE);
  if (saved) void signIn(saved, localStorage.getItem(KEY_STORE) !== null);
}

start();
