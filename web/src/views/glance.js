/*
 * glance.js - a topic's last 24 hours at a glance, for the topics list:
 * the number of comments, the split by sentiment (as text and as a bar),
 * and the hourly volume as a tiny bar sparkline.
 *
 * Plain elements sized by computed percentages rather than a uPlot chart
 * per topic: a list of 100 topics should cost 100 small DOM trees, not 100
 * canvases. The text carries everything; the bars repeat it for the eye
 * and are hidden from screen readers.
 */

import { h, mount } from '../dom.js';
import { get } from '../api.js';
import { fmtInt, fmtPct } from '../format.js';

const LABELS = ['positive', 'neutral', 'negative', 'mixed'];

/* 24 hourly points: the 23 full hours before this one, and this one so far. */
export function fetchDay(topicId, signal) {
  const now = Math.floor(Date.now() / 1000);
  const from = Math.floor(now / 3600) * 3600 - 23 * 3600;
  return get(`/topics/${encodeURIComponent(topicId)}/series`,
    { step: 'hour', from, to: now }, { signal });
}

function sum(points) {
  const t = { n: 0, positive: 0, neutral: 0, negative: 0, mixed: 0 };
  for (const p of points) for (const k of Object.keys(t)) t[k] += p[k];
  return t;
}

/* Fills el with the glance of series (a /series answer). */
export function renderGlance(el, series) {
  const t = sum(series.points);
  if (t.n === 0) {
    mount(el, h('p', { class: 'glance-text' }, 'No comments in the last 24 h.'));
    return;
  }
  const split = LABELS.filter((k) => t[k] > 0 || k !== 'mixed')
    .map((k) => `${fmtPct(t[k] / t.n)} ${k}`).join(' · ');

  const bar = h('div', { class: 'glance-split', attrs: { 'aria-hidden': 'true' } });
  for (const k of LABELS) {
    if (!t[k]) continue;
    const part = h('span', { class: `glance-${k}` });
    part.style.width = `${(t[k] / t.n) * 100}%`;
    bar.appendChild(part);
  }

  const max = Math.max(1, ...series.points.map((p) => p.n));
  const spark = h('div', { class: 'glance-spark', attrs: { 'aria-hidden': 'true' } });
  for (const p of series.points) {
    const b = h('span');
    b.style.height = `${Math.max(p.n ? 8 : 0, Math.round((p.n / max) * 100))}%`;
    spark.appendChild(b);
  }

  mount(el,
    h('p', { class: 'glance-text' },
      h('strong', null, `${fmtInt(t.n)} ${t.n === 1 ? 'comment' : 'comments'}`), ' in the last 24 h: ', split),
    h('div', { class: 'glance-graphics' }, spark, bar));
}
