/*
 * feed.js - the "Live comments" section: the tenant's /stream, narrowed
 * to one topic, newest on top.
 *
 * The stream carries every comment of the tenant; a comment names the
 * topics it matched in `topics`, so the others are dropped here. At most
 * MAX comments are kept (and so at most MAX articles are in the DOM): a
 * busy topic left open for hours must not grow the page without bound.
 * The list itself is not a live region (a screen reader would read every
 * comment); a short status line says how the connection is and, at most
 * every few seconds, how many comments came.
 */

import { h, mount } from '../dom.js';
import { authHeaders, get, streamUrl } from '../api.js';
import { empty } from '../ui.js';
import { openStream } from './sse.js';
import { commentEl } from './comment.js';

const MAX = 200;
const ANNOUNCE_MS = 5000;
const QUIET_MS = 20000;

const STATE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Stopped',
};

/*
 * Builds the section for topicId. onComment() is told of each new comment
 * of the topic (the charts refresh on it). Returns {el, setFilter(label or
 * ''), start(), destroy()}.
 */
export function liveFeed(topicId, onComment) {
  const kept = []; /* newest first */
  const ids = new Set();
  let filter = '';
  let stream = null;
  let pending = 0;
  let announceTimer = null;
  let quietTimer = null;

  const state = h('span', { class: 'live-state', dataset: { state: 'connecting' } }, STATE_TEXT.connecting);
  const detail = h('span', { class: 'live-detail' });
  const news = h('span', { class: 'live-news' });
  const list = h('div', { class: 'comment-list live-list' });

  /* up to 200 comments of links lie between here and the next section: let keyboard users pass them */
  const skip = h('button', {
    type: 'button', class: 'btn btn-small skip-inline',
    on: { click: () => { const next = document.getElementById('h-newest'); if (next) next.focus(); } },
  }, 'Skip to newest comments');
  const el = h('section', { class: 'card topic-live' },
    h('h2', { id: 'h-live' }, 'Live comments'),
    skip,
    h('p', { class: 'live-status', attrs: { 'aria-live': 'polite' } }, state, detail, ' ', news),
    list);

  const shown = (c) => !filter || (c.sentiment && c.sentiment.label) === filter;

  function renderAll() {
    const items = kept.filter(shown).map(commentEl);
    if (items.length) {
      mount(list, items);
    } else {
      mount(list, empty(kept.length
        ? 'No live comments with this sentiment yet.'
        : 'Waiting for new comments of this topic. They appear here as they are collected.'));
    }
  }

  /* says how many came since the last word; the count goes once the stream is quiet, so it never goes stale */
  function announce() {
    announceTimer = null;
    clearTimeout(quietTimer);
    if (pending > 0) {
      news.textContent = `${pending} new ${pending === 1 ? 'comment' : 'comments'}`;
      pending = 0;
      quietTimer = setTimeout(() => { news.textContent = ''; }, QUIET_MS);
    }
  }

  function add(c) {
    if (ids.has(c.id)) return; /* an entry cut by a reconnect comes again whole */
    ids.add(c.id);
    kept.unshift(c);
    if (kept.length > MAX) ids.delete(kept.pop().id);
    onComment(c);
    if (!shown(c)) return;
    if (!list.querySelector('article.comment')) mount(list);
    list.prepend(commentEl(c));
    while (list.childElementCount > MAX) list.lastElementChild.remove();
    pending += 1;
    if (!announceTimer) announceTimer = setTimeout(announce, ANNOUNCE_MS);
  }

  function onEvent(ev) {
    if (ev.event !== 'comment') return;
    let c;
    try {
      c = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (c && typeof c.id === 'string' && Array.isArray(c.topics) && c.topics.includes(topicId)) add(c);
  }

  function onState(s, seconds) {
    state.textContent = STATE_TEXT[s] || s;
    state.dataset.state = s;
    detail.textContent = s === 'reconnecting' && seconds > 0 ? ` (next try in ${seconds} s)` : '';
  }

  renderAll();

  return {
    el,
    setFilter(label) {
      filter = label;
      renderAll();
    },
    start() {
      stream = openStream({
        url: streamUrl(),
        headers: authHeaders,
        onEvent,
        onState,
        /* an ordinary call refreshes the session once, or ends it and goes to sign in */
        onUnauthorized: () => get('/me'),
      });
    },
    destroy() {
      if (stream) stream.close();
      clearTimeout(announceTimer);
      clearTimeout(quietTimer);
    },
  };
}
