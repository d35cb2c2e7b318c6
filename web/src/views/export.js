/*
 * export.js - #/export: a topic's comments over whole days as a CSV file.
 *
 * The API wants the Authorization header, which a plain link cannot send,
 * so the file is fetched (api(..., {raw: true})), read chunk by chunk to
 * show how much has arrived (an export of months can be large and the API
 * streams it as it reads), and handed to the browser as a Blob behind an
 * object URL and a clicked <a download>. The range is checked first
 * (day_range.js) so an impossible one is explained at its field instead
 * of costing a request; the API's own refusals land at their field too.
 * Leaving the page or "Cancel" aborts the download.
 */

import { api, get } from '../api.js';
import { clearFieldErrors, field, h, mount, showFieldErrors } from '../dom.js';
import { empty, section } from '../ui.js';
import { dayEnd, dayStart, lastDays, rangeProblem } from './day_range.js';
import { showSaveError } from './form_errors.js';
import './date_input.css';
import './export.css';

const kb = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

function size(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${kb.format(bytes / 1024)} KB`;
  return `${kb.format(bytes / (1024 * 1024))} MB`;
}

/* Reads the whole body, telling progress(bytes) as it goes. */
async function readAll(res, progress) {
  if (!res.body || !res.body.getReader) {
    const blob = await res.blob();
    progress(blob.size);
    return blob;
  }
  const reader = res.body.getReader();
  const parts = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    bytes += value.byteLength;
    progress(bytes);
  }
  return new Blob(parts, { type: 'text/csv' });
}

/* Offers blob as a download named name. */
function save(blob, name) {
  const href = URL.createObjectURL(blob);
  const a = h('a', { download: name, class: 'visually-hidden' }, 'download');
  /* set directly: safeHref() admits no blob: URLs, and this one is ours, not data */
  a.href = href;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

function build(root, topics, state) {
  const range = lastDays(7);
  const topic = h('select', null, topics.map((t) => h('option', { value: t.id }, t.name)));
  const from = h('input', { type: 'date', value: range.from });
  const to = h('input', { type: 'date', value: range.to });
  const status = h('p', { class: 'export-status', role: 'status' });
  const download = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Download CSV');
  const cancel = h('button', { type: 'button', class: 'btn', hidden: true }, 'Cancel');
  const form = h('form', { class: 'form export-form', noValidate: true },
    field({ label: 'Topic', input: topic, name: 'topic' }),
    field({ label: 'From', input: from, name: 'from' }),
    field({ label: 'To', input: to, name: 'to', help: 'Whole days in UTC, both included; at most 366 days.' }),
    h('div', { class: 'actions' }, download, cancel),
    status);

  cancel.addEventListener('click', () => { if (state.ctrl) state.ctrl.abort(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (state.ctrl) return;
    clearFieldErrors(form);
    const problem = rangeProblem(from.value, to.value);
    if (problem) {
      showFieldErrors(form, problem);
      return;
    }
    state.ctrl = new AbortController();
    cancel.hidden = false;
    status.textContent = 'Starting the export…';
    let shownAt = 0;
    try {
      const res = await api('GET', '/export.csv', {
        raw: true,
        signal: state.ctrl.signal,
        query: { topic: topic.value, from: dayStart(from.value), to: dayEnd(to.value) },
      });
      const blob = await readAll(res, (bytes) => {
        /* a live region read out on every chunk would be noise: once a second */
        const now = Date.now();
        if (now - shownAt >= 1000) {
          shownAt = now;
          status.textContent = `Received ${size(bytes)}…`;
        }
      });
      save(blob, `${topic.value}_${from.value}_${to.value}.csv`);
      status.textContent = `Done: ${size(blob.size)} saved as ${topic.value}_${from.value}_${to.value}.csv.`;
    } catch (err) {
      if (err.name === 'AbortError') {
        status.textContent = 'Export cancelled.';
      } else {
        status.textContent = '';
        /* an ApiError has a status; anything else broke the download midway */
        showSaveError(form, err.status !== undefined ? err : { message: `The download broke off: ${err.message}` });
      }
    } finally {
      state.ctrl = null;
      /* hiding a focused "Cancel" would drop the keyboard on the page's body */
      if (document.activeElement === cancel) download.focus();
      cancel.hidden = true;
    }
  });
  mount(root, form);
}

export function render(root, params, ctx) {
  ctx.setTitle('Export');
  const state = { ctrl: null };
  const body = h('div');
  mount(root, h('h1', null, 'Export'),
    h('p', { class: 'lede' }, 'A topic\'s comments, oldest first, with their sentiment scores, as a CSV file for a spreadsheet.'),
    body);
  section(body, () => get('/topics'), (t) => {
    if (t.topics.length === 0) {
      mount(body, empty('No topics yet', ctx.isOwner()
        ? h('a', { class: 'btn', href: '#/topics/new' }, 'New topic') : null));
      return;
    }
    build(body, t.topics, state);
  });
  return () => { if (state.ctrl) state.ctrl.abort(); };
}
