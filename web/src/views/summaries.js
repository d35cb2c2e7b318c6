/*
 * summaries.js - #/summaries: the daily and requested summaries, by day,
 * for one topic or all of them, and (owners) "Request summary".
 *
 * GET /summaries has no topic filter, so the newest 100 are read once and
 * filtered here: switching topics costs no request. The "Topic" select
 * does both jobs the screen has - which summaries to list, and what a
 * requested summary covers ("All topics": the whole tenant) - so what is
 * asked for is always what is being looked at. A request is followed by
 * summary_request.js; when it is done its summary is read and put at the
 * top of the list.
 */

import { get } from '../api.js';
import { clearFieldErrors, field, h, mount } from '../dom.js';
import { showSaveError } from './form_errors.js';
import { empty, section, toast, describe } from '../ui.js';
import { summaryCard } from './summary_card.js';
import { requestTracker } from './summary_request.js';
import './summaries.css';

const dayFmt = new Intl.DateTimeFormat(undefined, {
  weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC',
});

/* '2026-11-24' as a long date; the day is a calendar day, not an instant. */
function dayTitle(day) {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(t) ? String(day) : dayFmt.format(new Date(t));
}

export function render(root, params, ctx) {
  ctx.setTitle('Summaries');
  const state = { summaries: [], names: new Map() };
  const topicName = (id) => state.names.get(id) || `Topic ${id} (deleted)`;

  const select = h('select', null, h('option', { value: '' }, 'All topics'));
  const requests = h('div', { class: 'summary-requests' });
  const list = h('div', { class: 'summary-list' });
  const tracker = requestTracker(requests, { topicName, onDone: (id) => addSummary(id) });

  function showList() {
    const topic = select.value;
    const shown = state.summaries.filter((s) => !topic || s.topic === topic);
    if (shown.length === 0) {
      mount(list, empty(topic ? 'No summaries of this topic yet' : 'No summaries yet'));
      return;
    }
    const days = new Map();
    for (const s of shown) {
      if (!days.has(s.date)) days.set(s.date, []);
      days.get(s.date).push(s);
    }
    mount(list, [...days].map(([day, items]) => h('section', { class: 'summary-day' },
      h('h2', null, dayTitle(day)),
      items.map((s) => summaryCard(s, topicName)))));
  }

  async function addSummary(id) {
    try {
      const s = await get(`/summaries/${encodeURIComponent(id)}`);
      state.summaries = [s, ...state.summaries.filter((x) => x.id !== s.id)];
      showList();
    } catch (err) {
      toast(`The summary is written but could not be read: ${describe(err)}`, 'error');
    }
  }

  let busy = false;
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Request summary');
  const form = h('form', { class: 'row summary-controls', noValidate: true },
    field({ label: 'Topic', input: select, name: 'topic' }),
    ctx.isOwner()
      ? h('div', { class: 'actions' }, button) : null,
    ctx.isOwner()
      ? h('p', { class: 'help' }, 'Request summary writes one now, of the last 24 hours: of the chosen topic, or with All topics of the whole team. Daily summaries cover the day before, at the hour set in Settings.')
      : h('p', { class: 'help' }, 'Owners can request a summary now; daily ones are written every day.'));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    /* a flag, not `disabled`: disabling the focused button would drop focus */
    if (!ctx.isOwner() || busy) return;
    busy = true;
    clearFieldErrors(form);
    try {
      await tracker.request(select.value || null);
    } catch (err) {
      showSaveError(form, err);
    } finally {
      busy = false;
    }
  });
  select.addEventListener('change', () => {
    history.replaceState(null, '', select.value
      ? `#/summaries?topic=${encodeURIComponent(select.value)}` : '#/summaries');
    showList();
  });

  mount(root, h('h1', null, 'Summaries'), form, requests, list);

  section(list,
    () => Promise.all([get('/summaries', { limit: 100 }), get('/topics')]),
    ([sums, tops]) => {
      state.summaries = sums.summaries;
      for (const t of tops.topics) {
        state.names.set(t.id, t.name);
        select.append(h('option', { value: t.id }, t.name));
      }
      const want = params.query && params.query.topic;
      if (want && state.names.has(want)) select.value = want;
      showList();
    });

  return () => tracker.stop();
}
