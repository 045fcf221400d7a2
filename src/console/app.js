// The vidgate console: a key, a form per model built from its JSON Schema, live progress, the video, the history.
// Talks to this origin through the SDK (served as /console/sdk.js); every value shown goes through textContent.
import { VidgateApiError, VidgateClient, VidgateTaskError } from '/console/sdk.js';
import { $, announce, apiClient, drawChart, el, fillTable, last30Days, when } from '/console/common.js';
const KEY_STORE = 'vidgate.key';
const MEDIA_ACCEPT = { image: 'image/jpeg,image/png,image/webp,image/bmp', video: 'video/mp4,video/quicktime', audio: 'audio/wav,audio/mpeg' };
const FIELD_LABELS = {
  image_start: 'First frame', image_end: 'Last frame', video_urls: 'Video', video_url: 'Video (alias)', video: 'Video (alias)', audio_urls: 'Audio',
  image_urls: 'Reference images', negative_prompt: 'What to avoid', aspect_ratio: 'Aspect ratio', duration: 'Length (seconds)', generation_mode: 'Mode',
  prompt_extend: 'Let the model rewrite the prompt', keep_original_sound: 'Keep the sound of the source video', callback_url: 'Callback URL',
};

let client = null;
let api = null; // the same key, for the Keys and Usage pages
let schemas = [];
let following = null; // the AbortController of the task being followed
let olderThan = null;

/** The request schema of a model, with a top-level $ref resolved. */
function requestSchema(model) {
  const { schema } = schemas.find((m) => m.id === model);
  return schema.$ref ? schema.$defs[schema.$ref.split('/').pop()] : schema;
}

function mediaKind(name, property) {
  const isMedia = property['x-vidgate-media'] || property.items?.['x-vidgate-media'];
  if (!isMedia) return null;
  return /image|mask/.test(name) ? 'image' : name.includes('audio') ? 'audio' : 'video';
}

/** The first paragraph of a field's description: the catalog's own descriptions run long. */
function helpText(property) {
  return (property.description ?? '').split(/\n\s*\n/)[0].replace(/\*\*|`/g, '').trim();
}

/** A text box's value as the schema wants it: a number where a number is allowed and given, else the text. */
function typedValue(property, text) {
  const types = [property.type, ...(property.anyOf ?? property.oneOf ?? []).map((member) => member.type)];
  const numeric = types.includes('integer') || types.includes('number');
  return numeric && text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
}

/** One form control per schema property: media fields get a file picker and a URL box. */
function fieldControl(name, property, required) {
  const wrap = el('div', { class: 'field', 'data-field': name });
  const words = name.replaceAll('_', ' ');
  const label = FIELD_LABELS[name] ?? words[0].toUpperCase() + words.slice(1);
  wrap.append(el('label', { for: `f-${name}` }, required ? `${label} *` : label));
  const kind = mediaKind(name, property);
  if (kind) {
    const many = property.type === 'array' && (property.maxItems ?? 1) > 1;
    const box = el('div', { class: 'media' });
    box.append(el('input', { id: `f-${name}`, type: 'file', accept: MEDIA_ACCEPT[kind], multiple: many, 'data-role': 'file' }));
    box.append(el('input', { type: 'url', placeholder: many ? 'or URLs, one per line…' : 'or a URL…', 'data-role': 'url', 'aria-label': `${label} URL` }));
    wrap.append(box);
  } else if (property.enum) {
    const select = el('select', { id: `f-${name}` });
    if (property.default === undefined) select.append(el('option', { value: '' }, '(not set)'));
    for (const value of property.enum) select.append(el('option', { value, selected: value === property.default }, value));
    wrap.append(select);
  } else if (property.type === 'boolean') {
    wrap.querySelector('label').replaceChildren(el('input', { id: `f-${name}`, type: 'checkbox', checked: property.default === true }), ` ${label}`);
    wrap.querySelector('label').className = 'inline';
  } else if (property.type === 'object') {
    // Nested parameters (model_params): written as JSON, checked by the API like any other field.
    wrap.append(el('textarea', { id: `f-${name}`, class: 'json', placeholder: '{ }', spellcheck: 'false' }));
  } else if (property.type === 'integer' || property.type === 'number') {
    wrap.append(el('input', { id: `f-${name}`, type: 'number', min: property.minimum, max: property.maximum, step: property.type === 'integer' ? 1 : 'any', placeholder: property.default ?? '' }));
  } else if (name.includes('prompt')) {
    wrap.append(el('textarea', { id: `f-${name}`, required }));
  } else {
    wrap.append(el('input', { id: `f-${name}`, type: property.format === 'uri' ? 'url' : 'text' }));
  }
  const range = property.minimum !== undefined && property.maximum !== undefined && property.maximum < 1e6 ? ` (${property.minimum}–${property.maximum})` : '';
  if (property.description || range) wrap.append(el('p', { class: 'field-help' }, `${helpText(property)}${range}`));
  return wrap;
}

function renderForm(model) {
  const schema = requestSchema(model);
  const required = new Set(schema.required ?? []);
  // Aliases (video_url for video_urls[0], …) stay API-only: one control per input is enough.
  const shown = Object.entries(schema.properties).filter(([name, p]) => name !== 'model' && !p.description?.startsWith('Alias of'));
  $('fields').replaceChildren(...shown.map(([name, p]) => fieldControl(name, p, required.has(name))));
  $('model-note').textContent = schema.description ?? '';
  $('form-error').hidden = true;
}

/** The create body from the form; local files are uploaded first and named by their file_url. */
async function requestBody(model) {
  const schema = requestSchema(model);
  const body = { model };
  for (const [name, property] of Object.entries(schema.properties)) {
    const wrap = document.querySelector(`[data-field="${name}"]`);
    if (!wrap) continue;
    if (mediaKind(name, property)) {
      const files = [...wrap.querySelector('[data-role=file]').files];
      const urls = wrap.querySelector('[data-role=url]').value.split(/\s+/).filter(Boolean);
      const uploaded = await Promise.all(files.map((file) => client.uploadFile(file, { fileName: file.name })));
      const all = [...uploaded.map((f) => f.file_url), ...urls];
      if (all.length) body[name] = property.type === 'array' ? all : all[0];
      continue;
    }
    const input = wrap.querySelector('input, select, textarea');
    if (property.type === 'boolean') body[name] = input.checked;
    else if (input.value === '') continue;
    else if (property.type === 'object') body[name] = parseJsonField(name, input.value);
    else body[name] = typedValue(property, input.value);
  }
  return body;
}

function parseJsonField(name, text) {
  try {
    return JSON.parse(text);
  } catch {
    throw Object.assign(new Error(`${name}: must be a JSON object, e.g. {"key": "value"}`), { param: name });
  }
}

/** The model picker: one group per family, models in catalog order. */
function modelOptions(allowed) {
  const groups = new Map();
  for (const model of schemas.filter((m) => allowed.has(m.id))) {
    if (!groups.has(model.family)) groups.set(model.family, el('optgroup', { label: model.family }));
    groups.get(model.family).append(el('option', { value: model.id }, `${model.id} · ${model.kind}`));
  }
  return [...groups.values()];
}

function showFormError(error) {
  document.querySelectorAll('.invalid').forEach((node) => node.classList.remove('invalid'));
  $('form-error').textContent = error.message;
  $('form-error').hidden = false;
  const field = error.param && document.querySelector(`[data-field="${error.param}"]`);
  field?.querySelectorAll('input, select, textarea').forEach((node) => node.classList.add('invalid'));
}

async function submitTask(event) {
  event.preventDefault();
  if (!client) return showFormError(new Error('Enter an API key first.'));
  const model = $('model').value;
  $('submit').disabled = true;
  $('submit').textContent = 'Uploading and creating…';
  $('form-error').hidden = true;
  try {
    const task = await client.createTask(await requestBody(model));
    showTask(task);
    void followTask(task.id);
    void loadHistory();
    void loadCredits();
  } catch (error) {
    showFormError(error);
  } finally {
    $('submit').disabled = false;
    $('submit').textContent = 'Generate';
  }
}

function showTask(task) {
  $('viewer-empty').hidden = true;
  $('current').hidden = false;
  $('current-id').textContent = task.id;
  $('current-model').textContent = task.model;
  $('current-progress').value = task.progress;
  $('current-status').textContent = `${task.status} · ${task.progress}%`;
  $('current-status').className = `status-${task.status}`;
  const running = task.status === 'pending' || task.status === 'processing';
  $('current-eta').textContent = running ? `about ${task.task_info.estimated_time} s left` : `${task.usage.credits_charged ?? task.usage.credits_reserved} credits ${task.usage.credits_charged === undefined ? 'reserved' : 'charged'}`;
  $('cancel').hidden = !task.task_info.can_cancel;
  $('current-error').hidden = !task.error;
  $('current-error').textContent = task.error ? `${task.error.code}: ${task.error.message}` : '';
  const video = task.results?.[0];
  const player = $('player');
  if (video && player.dataset.src !== video) {
    player.dataset.src = video;
    player.src = video;
    void player.play().catch(() => {}); // muted autoplay; the controls are there if the browser refuses
  } else if (!video) {
    player.removeAttribute('src');
    delete player.dataset.src;
  }
  const expired = video !== undefined && player.dataset.expired === video;
  player.hidden = !video || expired;
  $('download').hidden = !video || expired;
  $('expired').hidden = !expired;
  if (video) $('download').href = video;
  document.querySelectorAll('#history-rows tr').forEach((row) => row.classList.toggle('selected', row.dataset.id === task.id));
  const row = document.querySelector(`#history-rows tr[data-id="${CSS.escape(task.id)}"]`);
  if (row) fillHistoryRow(row, task);
}

/** A result past VIDGATE_RESULT_TTL answers 404: say so instead of showing a black player and a dead link. */
function showExpired() {
  $('player').dataset.expired = $('player').dataset.src;
  $('player').hidden = true;
  $('download').hidden = true;
  $('expired').hidden = false;
}

async function followTask(id) {
  following?.abort();
  const controller = new AbortController();
  following = controller;
  try {
    await client.waitForTask(id, { signal: controller.signal, intervalMs: 500, maxIntervalMs: 2000, onProgress: (task) => following === controller && showTask(task) });
  } catch (error) {
    if (controller.signal.aborted) return;
    if (!(error instanceof VidgateTaskError)) showFormError(error);
  }
  if (following === controller) {
    void loadHistory();
    void loadCredits();
  }
}

function fillHistoryRow(row, task) {
  const created = new Date(task.created * 1000).toLocaleString();
  const cells = [task.id, task.model, task.status, `${task.progress}%`, created, String(task.usage.credits_charged ?? task.usage.credits_reserved)];
  row.replaceChildren(...cells.map((text, i) => el('td', i === 2 ? { class: `status-${task.status}` } : {}, text)));
}

function historyRow(task) {
  const row = el('tr', { 'data-id': task.id });
  fillHistoryRow(row, task);
  row.addEventListener('click', () => {
    showTask(task);
    void followTask(task.id);
  });
  return row;
}

async function loadHistory(append = false) {
  const page = await client.listTasks({ limit: 20, before: append ? olderThan ?? undefined : undefined });
  const rows = page.data.map(historyRow);
  if (append) $('history-rows').append(...rows);
  else $('history-rows').replaceChildren(...rows);
  if (!rows.length && !append) {
    const empty = el('tr');
    empty.append(el('td', { colspan: 6, class: 'note' }, 'No tasks yet.'));
    $('history-rows').append(empty);
  }
  olderThan = page.last_id;
  $('more').hidden = !page.has_more;
  const selected = $('current-id').textContent;
  document.querySelectorAll('#history-rows tr').forEach((row) => row.classList.toggle('selected', row.dataset.id === selected));
}

async function loadCredits() {
  const { token, user } = await client.credits();
  $('credits').textContent = token.unlimited_credits ? `unlimited credits · ${user.used_credits} used` : `${token.remaining_credits} credits left · ${user.used_credits} used`;
}

async function useKey(key, remember) {
  const candidate = new VidgateClient({ baseUrl: location.origin, apiKey: key });
  $('key-error').hidden = true;
  $('form-error').hidden = true;
  let allowed;
  try {
    allowed = new Set(await candidate.models());
  } catch (error) {
    $('key-error').textContent = error instanceof VidgateApiError ? `That key was refused: ${error.message}` : `vidgate did not answer: ${error.message}`;
    $('key-error').hidden = false;
    return;
  }
  client = candidate;
  api = apiClient(key);
  (remember ? localStorage : sessionStorage).setItem(KEY_STORE, key);
  $('model').replaceChildren(...modelOptions(allowed));
  renderForm($('model').value);
  $('workspace').hidden = false;
  $('welcome').hidden = true;
  $('forget').hidden = false;
  $('remember').checked = remember;
  $('api-key').value = '';
  $('api-key').placeholder = `${key.slice(0, 10)}… in use`;
  await Promise.all([loadCredits(), loadHistory()]).catch(showFormError);
}

/** The Keys page: the user's keys, a form to make one (shown once), revoke. */
async function loadKeys() {
  const { data } = await api.get('/v1/keys?limit=200');
  fillTable($('keys'), [
    ['Name', (k) => k.name ?? '—'], ['Key', (k) => `${k.prefix}…`], ['Allowance left', (k) => (k.unlimited ? 'unlimited' : k.credits ?? 'your balance')],
    ['Models', (k) => k.models?.join(', ') ?? 'all'], ['Created', (k) => when(k.created)], ['Last used', (k) => when(k.last_used)], ['Expires', (k) => when(k.expires_at)],
    ['Status', (k) => (k.disabled ? 'revoked' : 'active')],
    ['', (k) => {
      if (k.disabled) return '';
      const revoke = el('button', { type: 'button', class: 'small', 'aria-label': `Revoke ${k.name ?? k.prefix}` }, 'Revoke');
      revoke.addEventListener('click', () => revokeKey(k));
      return revoke;
    }],
  ], data);
}

async function revokeKey(key) {
  if (!confirm(`Revoke ${key.name ?? key.prefix}? Apps using it stop working at once.`)) return;
  try {
    await api.del(`/v1/keys/${encodeURIComponent(key.id)}`);
    announce(`Revoked ${key.name ?? key.prefix}…; it no longer works.`);
  } catch (error) {
    announce(error);
  }
  await loadKeys();
}

async function createKey(event) {
  event.preventDefault();
  const form = event.target;
  const body = {};
  for (const input of form.querySelectorAll('input[name]')) {
    const value = input.value.trim();
    if (value === '') continue;
    if (input.name === 'models') body.models = value.split(',').map((m) => m.trim()).filter(Boolean);
    else if (input.name === 'expires_at') body.expires_at = Date.parse(`${value}T23:59:59Z`) / 1000;
    else body[input.name] = input.type === 'number' ? Number(value) : value;
  }
  try {
    const key = await api.post('/v1/keys', body);
    $('new-key').hidden = false;
    $('new-key-value').textContent = key.key;
    announce(`Created ${key.name ?? 'a key'}${key.credits === null ? '' : ` with ${key.credits} credits`}. Copy it now: it is not shown again.`, form);
    form.reset();
    await Promise.all([loadKeys(), loadCredits()]);
  } catch (error) {
    announce(error, form);
  }
}

/** The Usage page: a chart per day and one per model, the last 30 days. */
async function loadUsage() {
  const [byDay, byModel] = await Promise.all([api.get('/v1/usage?group_by=day'), api.get('/v1/usage?group_by=model')]);
  const days = last30Days(byDay.until);
  $('usage-window').textContent = `${byDay.since} – ${byDay.until} (UTC)`;
  const of = new Map(byDay.data.map((d) => [d.day, d]));
  drawChart($('chart-days'), {
    labels: days, yTitle: 'tasks',
    series: [['completed', '#1b7f3b'], ['failed', '#b3261e'], ['cancelled', '#c9a227']].map(([field, color]) => ({ label: field, color, data: days.map((day) => of.get(day)?.[field] ?? 0) })),
  });
  drawChart($('chart-models'), {
    labels: byModel.data.map((m) => m.model), stacked: false, yTitle: 'tasks',
    series: [{ label: 'tasks', data: byModel.data.map((m) => m.tasks) }, { label: 'credits charged', yAxisID: 'right', data: byModel.data.map((m) => m.credits_charged) }],
  });
  fillTable($('usage-models'), [
    ['Model', (m) => m.model], ['Tasks', (m) => m.tasks], ['Completed', (m) => m.completed], ['Failed', (m) => m.failed], ['Billed seconds', (m) => m.billed_seconds],
    ['Credits charged', (m) => m.credits_charged], ['p50 s', (m) => m.p50_s], ['p95 s', (m) => m.p95_s],
  ], byModel.data, { empty: 'No tasks in the last 30 days.' });
}

function showTab(name) {
  for (const tab of document.querySelectorAll('[role=tab]')) tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  for (const section of document.querySelectorAll('main.tab')) section.hidden = section.id !== `tab-${name}`;
  $('status').textContent = '';
  const load = { videos: loadHistory, keys: loadKeys, usage: loadUsage }[name];
  load().catch((error) => announce(error));
}

function forgetKey() {
  localStorage.removeItem(KEY_STORE);
  sessionStorage.removeItem(KEY_STORE);
  following?.abort();
  client = null;
  api = null;
  $('new-key').hidden = true;
  $('workspace').hidden = true;
  $('welcome').hidden = false;
  $('forget').hidden = true;
  $('remember').checked = false;
  $('credits').textContent = '';
  $('api-key').placeholder = 'sk-evo-…';
}

async function start() {
  schemas = await (await fetch('/console/models.json')).json();
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void useKey($('api-key').value.trim(), $('remember').checked);
  });
  $('forget').addEventListener('click', forgetKey);
  $('model').addEventListener('change', () => renderForm($('model').value));
  $('task-form').addEventListener('submit', submitTask);
  $('player').addEventListener('error', () => $('player').getAttribute('src') && showExpired());
  $('refresh').addEventListener('click', () => void loadHistory());
  for (const tab of document.querySelectorAll('[role=tab]')) tab.addEventListener('click', () => showTab(tab.dataset.tab));
  $('key-create-form').addEventListener('submit', createKey);
  $('copy-key').addEventListener('click', async () => {
    await navigator.clipboard?.writeText($('new-key-value').textContent).catch(() => {});
    announce('Copied the key.');
  });
  for (const group of ['day', 'model']) {
    $(`usage-csv-${group}`).addEventListener('click', () => api.download(`/v1/usage?group_by=${group}&format=csv`, `usage-by-${group}.csv`).then(() => announce(`Downloaded usage-by-${group}.csv.`), announce));
  }
  $('more').addEventListener('click', () => void loadHistory(true));
  $('cancel').addEventListener('click', async () => {
    const id = $('current-id').textContent;
    await client.cancelTask(id).catch(showFormError);
    void followTask(id);
  });
  const saved = localStorage.getItem(KEY_STORE) ?? sessionStorage.getItem(KEY_STORE);
  if (saved) await useKey(saved, localStorage.getItem(KEY_STORE) !== null);
}

void start();
