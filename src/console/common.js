// Shared by the consoles: DOM helpers, an API caller that turns the §1 error body into an Error naming its field, charts, CSV downloads.
export const $ = (id) => document.getElementById(id);

/** An element with attributes and text; values always go through textContent. */
export function el(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined && value !== false && value !== null) node.setAttribute(name, value === true ? '' : value);
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** An error from the API: its message names the field (`param`) it is about. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.param = body?.error?.param;
  }
}

/** Calls this vidgate with a Bearer key; JSON in and out. */
export function apiClient(key) {
  const call = async (method, path, body) => {
    const response = await fetch(path, {
      method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, parsed);
    return parsed;
  };
  /** Downloads a CSV the API streams (the key goes in a header, so not through a plain link). */
  const download = async (path, fileName) => {
    const response = await fetch(path, { headers: { authorization: `Bearer ${key}` } });
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
    const url = URL.createObjectURL(await response.blob());
    const link = el('a', { href: url, download: fileName });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return { call, get: (path) => call('GET', path), post: (path, body) => call('POST', path, body ?? {}), patch: (path, body) => call('PATCH', path, body), put: (path, body) => call('PUT', path, body), del: (path) => call('DELETE', path), download };
}

/** Says what an action did (or what went wrong, naming the field, and marks that field in `form`). */
export function announce(outcome, form) {
  const status = $('status');
  form?.querySelectorAll('.invalid').forEach((node) => node.classList.remove('invalid'));
  if (outcome instanceof Error) {
    status.textContent = outcome.message;
    status.className = 'error';
    const field = outcome.param ?? /^([a-z_]+):/.exec(outcome.message)?.[1];
    const input = field && form?.querySelector(`[name="${CSS.escape(field)}"]`);
    if (input) { input.classList.add('invalid'); input.focus(); }
  } else {
    status.textContent = outcome;
    status.className = 'done';
  }
}

/** Rows of a table from objects: `columns` are [header, value-of-row] pairs; `onOpen` makes rows open by click or Enter. */
export function fillTable(table, columns, rows, { onOpen, empty = 'Nothing here yet.' } = {}) {
  table.replaceChildren();
  const head = el('thead');
  const headRow = el('tr');
  for (const [header] of columns) headRow.append(el('th', { scope: 'col' }, header));
  head.append(headRow);
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr', onOpen ? { tabindex: 0 } : {});
    for (const [, value] of columns) {
      const cell = value(row);
      const td = el('td');
      if (cell instanceof Node) td.append(cell); else td.textContent = cell ?? '';
      tr.append(td);
    }
    if (onOpen) {
      tr.addEventListener('click', (event) => event.target.closest('button, a, input') || onOpen(row));
      tr.addEventListener('keydown', (event) => event.key === 'Enter' && event.target === tr && onOpen(row));
    }
    body.append(tr);
  }
  if (!rows.length) {
    const tr = el('tr');
    tr.append(el('td', { colspan: columns.length, class: 'note' }, empty));
    body.append(tr);
  }
  table.append(head, body);
}

export const when = (seconds) => (seconds === null || seconds === undefined ? '—' : new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 16));

const PALETTE = ['#2f6fde', '#e0762b', '#1b7f3b', '#9c4dcc', '#c9a227', '#d14d72', '#3aa6a6', '#6a7380'];

/** Draws (or redraws) a Chart.js chart on a canvas: `series` is [{label, data}], over `labels`. */
export function drawChart(canvas, { type = 'bar', labels, series, stacked = true, yTitle }) {
  window.Chart.getChart(canvas)?.destroy();
  return new window.Chart(canvas, {
    type,
    data: { labels, datasets: series.map((s, i) => ({ ...s, backgroundColor: s.color ?? PALETTE[i % PALETTE.length], borderColor: s.color ?? PALETTE[i % PALETTE.length], borderWidth: type === 'line' ? 2 : 0, pointRadius: 0 })) },
    options: {
      animation: false, maintainAspectRatio: false, interaction: { mode: 'index', intersect: false },
      scales: {
        x: { stacked }, y: { stacked, beginAtZero: true, title: { display: !!yTitle, text: yTitle } },
        // A series with `yAxisID: 'right'` (credits beside tasks) gets its own scale.
        ...(series.some((s) => s.yAxisID === 'right') ? { right: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: series.find((s) => s.yAxisID === 'right').label } } } : {}),
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    },
  });
}

/** The last 30 UTC days as YYYY-MM-DD, oldest first (a chart shows days without tasks as 0). */
export function last30Days(untilDay) {
  const end = Date.parse(`${untilDay}T00:00:00Z`);
  return Array.from({ length: 30 }, (_, i) => new Date(end - (29 - i) * 86_400_000).toISOString().slice(0, 10));
}
