/*
 * topic.js - #/topics/:id, one topic: its charts, trending terms, the live
 * feed and the newest comments.
 *
 * The page is put together from one small module per section
 * (topic_charts.js, terms.js, feed.js, newest.js); this file loads the
 * topic, lays the sections out, joins them (a live comment nudges the
 * charts; the Sentiment filter drives both comment lists) and owns their
 * life: the router calls the returned cleanup on navigation, which aborts
 * requests, stops timers and closes the stream. render() itself stays
 * synchronous because the router takes its return value as that cleanup.
 */

import { h, mount, field } from '../dom.js';
import { get } from '../api.js';
import { section } from '../ui.js';
import { topicCharts } from './topic_charts.js';
import { trendingTerms } from './terms.js';
import { liveFeed } from './feed.js';
import { newestComments } from './newest.js';
import { refreshTimes } from './comment.js';
import { topicFacts } from './topic_facts.js';
import './topic.css';

const FILTERS = [
  { value: '', label: 'All' },
  { value: 'positive', label: 'Positive' },
  { value: 'neutral', label: 'Neutral' },
  { value: 'negative', label: 'Negative' },
];

function sentimentFilter(onChange) {
  const sel = h('select', { on: { change: () => onChange(sel.value) } },
    FILTERS.map((f) => h('option', { value: f.value }, f.label)));
  return h('div', { class: 'topic-filter' },
    field({ label: 'Sentiment', input: sel, help: 'Applies to the live and the newest comments.' }));
}

export function render(root, params, ctx) {
  const parts = [];
  let clock = null;
  let gone = false;
  const ctl = new AbortController();

  function build(topic) {
    ctx.setTitle(topic.name);
    const charts = topicCharts(topic.id, params.query || {});
    const terms = trendingTerms(topic.id);
    const newest = newestComments(topic.id);
    const live = liveFeed(topic.id, () => {
      charts.nudge();
      newest.refreshIfEmpty();
    });
    parts.push(charts, terms, live, newest);

    const filter = sentimentFilter((label) => {
      live.setFilter(label);
      newest.setFilter(label);
    });

    mount(root,
      h('div', { class: 'page-head' },
        h('h1', null, topic.name),
        ctx.isOwner()
          ? h('a', { class: 'btn', href: `#/topics/${encodeURIComponent(topic.id)}/edit` }, 'Edit topic')
          : null),
      topicFacts(topic),
      h('div', { class: 'topic-grid' },
        charts.sentiment, charts.volume, terms.el),
      filter,
      h('div', { class: 'topic-lists' }, live.el, newest.el));

    for (const p of parts) p.start();
    /* "3 min ago" must not stay "just now" on a page left open */
    clock = setInterval(() => refreshTimes(root), 60 * 1000);
  }

  section(root,
    () => get(`/topics/${encodeURIComponent(params.id)}`, null, { signal: ctl.signal }),
    (topic) => { if (!gone) build(topic); });

  return () => {
    gone = true;
    ctl.abort();
    clearInterval(clock);
    for (const p of parts) p.destroy();
  };
}
