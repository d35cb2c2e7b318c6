/*
 * alert_history.js - the "Alert history" section of #/alerts: the fired
 * alerts, newest first, a page at a time (GET /alerts/history, cursor).
 *
 * Each event says what was seen against what is usual (observed value,
 * baseline mean and deviation, the threshold it crossed, the comments in
 * the window), so the reader can judge the alert without opening a chart,
 * and shows the sample comments the worker kept with it. Sample bodies are
 * Reddit comments: text only; their links go through safeHref().
 */

import { get } from '../api.js';
import { h, mount } from '../dom.js';
import { fmtInt, fmtNum, fmtTime, sentimentOf } from '../format.js';
import { empty, errorState, loading, markReady } from '../ui.js';
import { metricOf, minutes } from './alert_metric.js';
import { redditLink } from './reddit_link.js';
import './figures.css';

function sample(c) {
  const label = sentimentOf(c.label);
  return h('li', null, h('article', { class: 'comment', dataset: { id: c.id } },
    h('p', { class: 'comment-meta' },
      h('span', { class: `badge ${label}` }, label),
      ` ${fmtNum(c.compound, 2)} · u/${c.author || '[unknown]'} · r/${c.subreddit || '?'}`),
    h('p', { class: 'comment-body' }, c.body || ''),
    redditLink(c.link)));
}

function event(ev, topicName) {
  const m = metricOf(ev.metric);
  const b = ev.baseline || {};
  const rows = [
    ['Observed', m.value(ev.observed)],
    ['Usual', `${m.value(b.mean)} ± ${m.value(b.stddev)}${Number.isFinite(b.hours) ? ` (${fmtInt(b.hours)} hours of history)` : ''}`],
    ['Threshold', `${m.value(ev.threshold)}${Number.isFinite(ev.sensitivity) ? ` (sensitivity ${fmtNum(ev.sensitivity, 1)})` : ''}`],
    ['Comments in the window', fmtInt(ev.volume)],
  ];
  const win = ev.window
    ? `${fmtTime(ev.window.from)} – ${fmtTime(ev.window.to)}` : minutes(ev.window_minutes);
  const samples = Array.isArray(ev.samples) ? ev.samples : [];
  return h('article', { class: 'alert-event', dataset: { id: ev.id } },
    h('h3', null, `${m.event} on ${topicName(ev.topic)}`),
    h('p', { class: 'alert-event-meta' },
      'Fired ', h('time', { attrs: { datetime: ev.fired || null } }, fmtTime(ev.fired)),
      ` · window ${win}`),
    h('dl', { class: 'figures' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
    samples.length
      ? [h('h4', null, 'Sample comments'), h('ul', { class: 'alert-samples' }, samples.map(sample))]
      : null);
}

/*
 * Fills el with the history; topicName(id) names a topic once `ready`
 * (a promise) has settled. Returns the function that stops it.
 */
export function alertHistory(el, topicName, ready) {
  const list = h('div', { class: 'alert-history' });
  const more = h('div', { class: 'actions' });
  const ctrl = new AbortController();

  async function page(cursor) {
    const slot = h('div', null, loading());
    more.replaceChildren();
    list.append(slot);
    try {
      await ready;
      const data = await get('/alerts/history', { cursor, limit: 25 }, { signal: ctrl.signal });
      slot.remove();
      if (!cursor && data.history.length === 0) {
        list.append(empty('No alerts have fired yet'));
      }
      const added = data.history.map((ev) => event(ev, topicName));
      list.append(...added);
      if (cursor && added.length) {
        /* "Load more" is gone now: keep the keyboard where the new page starts */
        added[0].tabIndex = -1;
        added[0].focus();
      }
      if (data.next_cursor) {
        more.append(h('button', {
          type: 'button', class: 'btn', on: { click: () => page(data.next_cursor) },
        }, 'Load more'));
      }
    } catch (err) {
      if (err.name === 'AbortError') return;
      mount(slot, errorState(err, () => { slot.remove(); page(cursor); }));
    }
    markReady();
  }

  mount(el, h('h2', null, 'Alert history'), list, more);
  page(undefined);
  return () => ctrl.abort();
}
