/*
 * terms.js - the "Trending terms" section: /topics/{id}/terms as a table
 * of term, count and change against the same hours a day earlier.
 *
 * A table rather than a word cloud: counts and changes must be readable
 * exactly, by keyboard and screen reader, and at 360 px. The change is
 * shown as text with a sign ("+150%", "new"), never by colour alone. The
 * window (1 to 24 hours, as the API allows) is a select; the terms are
 * fetched again every few minutes, as the hourly counts grow.
 */

import { h, mount, field } from '../dom.js';
import { get } from '../api.js';
import { empty, errorState, loading } from '../ui.js';
import { fmtInt } from '../format.js';

const LIMIT = 20;
const REFRESH_MS = 5 * 60 * 1000;
const WINDOWS = [
  { value: '1', label: 'Last hour' },
  { value: '6', label: 'Last 6 hours' },
  { value: '24', label: 'Last 24 hours' },
];

function change(t) {
  if (t.previous === 0 && t.count > 0) return { text: 'new', cls: 'up' };
  const pct = Math.round(t.change * 100);
  if (pct === 0) return { text: '±0%', cls: 'flat' };
  return pct > 0 ? { text: `+${pct}%`, cls: 'up' } : { text: `−${-pct}%`, cls: 'down' };
}

export function trendingTerms(topicId) {
  let ctl = null;
  let timer = null;
  const windowSel = h('select', { on: { change: () => load(true) } },
    WINDOWS.map((w) => h('option', { value: w.value }, w.label)));
  windowSel.value = '24';
  const body = h('div', { class: 'terms-body' });
  const el = h('section', { class: 'card topic-terms' },
    h('h2', { id: 'h-terms' }, 'Trending terms'),
    h('div', { class: 'chart-controls' }, field({ label: 'Window', input: windowSel })),
    body);

  function render(data) {
    if (!data.terms.length) {
      mount(body, empty('No terms in this window yet.'));
      return;
    }
    const top = data.terms[0].count || 1;
    mount(body, h('table', { class: 'terms' },
      h('caption', { class: 'visually-hidden' }, `Top ${data.terms.length} terms, change against the same hours a day earlier`),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Term'),
        h('th', { scope: 'col' }, 'Count'),
        h('th', { scope: 'col' }, 'Change'))),
      h('tbody', null, data.terms.map((t) => {
        const c = change(t);
        const bar = h('span', { class: 'term-bar', attrs: { 'aria-hidden': 'true' } });
        /* a computed number, not data text: allowed by the CSP (CSSOM) */
        bar.style.width = `${Math.max(2, Math.round((t.count / top) * 100))}%`;
        return h('tr', null,
          h('th', { scope: 'row' }, h('span', { class: 'term' }, t.term), bar),
          h('td', null, fmtInt(t.count)),
          h('td', { class: `term-change term-${c.cls}`, title: `${fmtInt(t.previous)} a day earlier` }, c.text));
      }))));
  }

  async function load(showLoading) {
    if (ctl) ctl.abort();
    const mine = new AbortController();
    ctl = mine;
    if (showLoading) mount(body, loading());
    try {
      const data = await get(`/topics/${encodeURIComponent(topicId)}/terms`,
        { hours: windowSel.value, limit: LIMIT }, { signal: mine.signal });
      if (!mine.signal.aborted) render(data);
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      mount(body, errorState(err, () => load(true)));
    } finally {
      if (ctl === mine) ctl = null;
    }
  }

  return {
    el,
    start() {
      load(true);
      timer = setInterval(() => { if (!document.hidden) load(false); }, REFRESH_MS);
    },
    destroy() {
      if (ctl) ctl.abort();
      clearInterval(timer);
    },
  };
}
