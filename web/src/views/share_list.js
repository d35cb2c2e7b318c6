/*
 * share_list.js - the share-of-voice answer as a list of horizontal bars.
 *
 * Every figure is written out as text (share, count, sentiment split), so
 * a screen reader or a narrow screen loses nothing; the bars only repeat
 * those numbers for the eye and are hidden from assistive technology.
 * Their widths are set from numbers computed here (CSSOM, which the
 * Content-Security-Policy allows), never from strings of the API.
 */

import { h } from '../dom.js';
import { fmtInt, fmtPct } from '../format.js';
import { LABELS } from './share_sentiment.js';

const NAMES = { positive: 'Positive', neutral: 'Neutral', negative: 'Negative', mixed: 'Mixed' };

/* A width in percent for a fraction, clamped to 0..100. */
function pct(x) {
  const v = Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
  return `${(v * 100).toFixed(2)}%`;
}

function bar(fraction) {
  const fill = h('span', { class: 'sov-fill' });
  fill.style.width = pct(fraction);
  return h('div', { class: 'sov-bar', attrs: { 'aria-hidden': 'true' } }, fill);
}

/* Fills a row's sentiment slot with the split as text and a stacked bar. */
export function showSplit(slot, split, err) {
  slot.replaceChildren();
  if (err) {
    slot.append(h('p', { class: 'sov-split-text muted' }, `Sentiment could not be read: ${err.message}`));
    return;
  }
  if (!split || split.n === 0) {
    slot.append(h('p', { class: 'sov-split-text muted' }, 'Sentiment: no comments in this range.'));
    return;
  }
  const parts = LABELS.map((l) => `${NAMES[l]} ${fmtPct(split[l] / split.n)}`);
  const stack = h('div', { class: 'sov-split', attrs: { 'aria-hidden': 'true' } },
    LABELS.filter((l) => split[l] > 0).map((l) => {
      const seg = h('span', { class: `sov-seg sov-seg-${l}` });
      seg.style.width = pct(split[l] / split.n);
      return seg;
    }));
  slot.append(h('p', { class: 'sov-split-text' }, `Sentiment: ${parts.join(' · ')}`), stack);
}

/*
 * The list, biggest share first. Returns {el, slots}: slots maps a topic
 * id to the element its sentiment split goes into once loaded.
 */
export function shareList(data) {
  const slots = new Map();
  const topics = data.topics.slice().sort((a, b) => b.count - a.count
    || String(a.name).localeCompare(String(b.name)));
  const items = topics.map((t) => {
    const slot = h('div', { class: 'sov-sentiment' },
      h('p', { class: 'sov-split-text muted' }, 'Sentiment: Loading…'));
    slots.set(t.id, slot);
    return h('li', { class: 'sov-item' },
      h('div', { class: 'sov-head' },
        h('a', { class: 'sov-name', href: `#/topics/${encodeURIComponent(t.id)}` }, t.name),
        h('span', { class: 'sov-figure' },
          `${fmtPct(t.share)} · ${fmtInt(t.count)} ${t.count === 1 ? 'comment' : 'comments'}`)),
      bar(t.share),
      slot);
  });
  const legend = h('p', { class: 'sov-legend', attrs: { 'aria-hidden': 'true' } },
    LABELS.map((l) => h('span', { class: 'sov-key' }, h('span', { class: `sov-swatch sov-seg-${l}` }), NAMES[l])));
  const el = h('div', { class: 'sov' },
    h('p', { class: 'sov-total' },
      `${fmtInt(data.total)} ${data.total === 1 ? 'comment' : 'comments'} across your topics, ${String(data.from).slice(0, 10)} to ${String(data.to).slice(0, 10)} (UTC days).`),
    data.total === 0 ? h('p', { class: 'muted' }, 'No comments matched any topic in this range.') : null,
    data.total > 0 ? legend : null,
    h('ol', { class: 'sov-list', attrs: { 'aria-label': 'Share of voice by topic' } }, items));
  return { el, slots };
}
