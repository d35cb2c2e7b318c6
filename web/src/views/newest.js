/*
 * newest.js - the "Newest comments" section: /topics/{id}/comments, a page
 * at a time, newest first, with a "Load more" button.
 *
 * The API pages with an opaque cursor (next_cursor, null on the last page)
 * and filters by label itself (`sentiment`), so a filter change starts
 * over from the first page rather than filtering what is loaded: a page
 * of 25 might otherwise hold no comment of the chosen label at all.
 */

import { h, mount, clear } from '../dom.js';
import { get } from '../api.js';
import { loading, empty, errorState } from '../ui.js';
import { commentEl } from './comment.js';

const PAGE = 25;

export function newestComments(topicId) {
  let filter = '';
  let cursor = null;
  let ctl = null;
  let count = 0;

  const list = h('div', { class: 'comment-list' });
  const status = h('div', { class: 'list-status' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true, on: { click: () => load(false) } }, 'Load more');
  const el = h('section', { class: 'card topic-newest' },
    h('h2', { id: 'h-newest', tabIndex: -1 }, 'Newest comments'),
    list, status, h('div', { class: 'actions' }, more));

  async function load(first) {
    if (ctl) ctl.abort();
    const mine = new AbortController();
    ctl = mine;
    if (first) {
      cursor = null;
      count = 0;
      clear(list);
    }
    more.hidden = true;
    mount(status, loading());
    try {
      const page = await get(`/topics/${encodeURIComponent(topicId)}/comments`, {
        limit: PAGE, sentiment: filter || undefined, cursor: first ? undefined : cursor,
      }, { signal: mine.signal });
      if (mine.signal.aborted) return;
      const firstNew = page.comments.length ? commentEl(page.comments[0]) : null;
      if (firstNew) list.append(firstNew, ...page.comments.slice(1).map(commentEl));
      count += page.comments.length;
      cursor = page.next_cursor;
      clear(status);
      if (count === 0) {
        mount(status, empty(filter ? `No ${filter} comments yet.` : 'No comments yet.'));
      } else if (!cursor) {
        mount(status, h('p', { class: 'muted' }, 'That is all.'));
      }
      more.hidden = !cursor;
      /* after "Load more", keyboard users continue at the first new comment */
      if (!first && firstNew) {
        firstNew.tabIndex = -1;
        firstNew.focus({ preventScroll: false });
      }
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      mount(status, errorState(err, () => load(first)));
    } finally {
      if (ctl === mine) ctl = null;
    }
  }

  return {
    el,
    setFilter(label) {
      filter = label;
      load(true);
    },
    start() {
      load(true);
    },
    /* the first live comment of an empty topic: show it here too */
    refreshIfEmpty() {
      if (count === 0 && !ctl) load(true);
    },
    destroy() {
      if (ctl) ctl.abort();
    },
  };
}
