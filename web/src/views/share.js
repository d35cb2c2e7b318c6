/*
 * share.js - #/share: each topic's share of the tenant's comments over a
 * range of days, with its sentiment split.
 *
 * The range is a preset ("Range") or two dates; it is kept in the page's
 * address (replaceState, so Back still leaves the page) so a reload or a
 * shared link shows the same range. Counts come in one request and are
 * shown at once; the sentiment splits follow topic by topic
 * (share_sentiment.js). Choosing another range aborts what the previous
 * one still had in flight, so a late answer never overwrites a newer one.
 */

import { get } from '../api.js';
import { field, h, mount, showFieldErrors, clearFieldErrors } from '../dom.js';
import { empty, errorState, loading, markReady } from '../ui.js';
import { lastDays, rangeProblem, isDay } from './day_range.js';
import { loadSplits } from './share_sentiment.js';
import { shareList, showSplit } from './share_list.js';
import './date_input.css';
import './share.css';

const PRESETS = [['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days'],
  ['365', 'Last 365 days'], ['custom', 'Custom dates']];

export function render(root, params, ctx) {
  ctx.setTitle('Share of voice');
  const q = params.query || {};
  const custom = isDay(q.from) && isDay(q.to);
  const start = custom ? { from: q.from, to: q.to } : lastDays(7);

  const preset = h('select', null, PRESETS.map(([v, t]) => h('option', { value: v }, t)));
  preset.value = custom ? 'custom' : '7';
  const from = h('input', { type: 'date', value: start.from, required: true });
  const to = h('input', { type: 'date', value: start.to, required: true });
  const form = h('form', { class: 'row range-form', noValidate: true },
    field({ label: 'Range', input: preset, name: 'range' }),
    field({ label: 'From', input: from, name: 'from' }),
    field({ label: 'To', input: to, name: 'to' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Show')),
    h('p', { class: 'help range-help' }, 'Whole days in UTC, both included; at most 366.'));
  const out = h('div', { class: 'sov-out' });

  let ctrl = null;

  async function load(range) {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const { signal } = ctrl;
    history.replaceState(null, '', `#/share?from=${range.from}&to=${range.to}`);
    mount(out, loading());
    let data;
    try {
      data = await get('/share-of-voice', range, { signal });
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (err.field === 'from' || err.field === 'to') showFieldErrors(form, err);
      mount(out, errorState(err, () => load(range)));
      markReady();
      return;
    }
    if (signal.aborted) return;
    if (data.topics.length === 0) {
      mount(out, empty('No topics yet', ctx.isOwner()
        ? h('a', { class: 'btn', href: '#/topics/new' }, 'New topic') : null));
      markReady();
      return;
    }
    const { el, slots } = shareList(data);
    mount(out, el);
    markReady();
    /* a topic without comments in the range has no split to ask for */
    const busy = data.topics.filter((t) => t.count > 0).map((t) => t.id);
    for (const t of data.topics) if (t.count === 0) showSplit(slots.get(t.id), null, null);
    await loadSplits(busy, range.from, range.to, signal,
      (id, split, err) => showSplit(slots.get(id), split, err));
  }

  function apply() {
    clearFieldErrors(form);
    const problem = rangeProblem(from.value, to.value);
    if (problem) {
      showFieldErrors(form, problem);
      return;
    }
    load({ from: from.value, to: to.value });
  }

  preset.addEventListener('change', () => {
    if (preset.value === 'custom') {
      from.focus();
      return;
    }
    const r = lastDays(Number(preset.value));
    from.value = r.from;
    to.value = r.to;
    apply();
  });
  const toCustom = () => { preset.value = 'custom'; };
  from.addEventListener('input', toCustom);
  to.addEventListener('input', toCustom);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });

  mount(root,
    h('h1', null, 'Share of voice'),
    h('p', { class: 'lede' },
      'Each topic\'s part of the comments your topics matched. A comment two topics match counts for both.'),
    form, out);
  load(start);
  return () => { if (ctrl) ctrl.abort(); };
}
