/*
 * comment.js - one Reddit comment as the topic page shows it, in the live
 * feed and in the newest comments alike.
 *
 * Everything in a comment was written by a stranger, so every part goes in
 * as text through h(): a body holding an image tag with an event handler,
 * a javascript: link or Markdown shows as the characters it is. Line
 * breaks survive through CSS (white-space: pre-wrap), not by turning text
 * into markup. The link
 * to Reddit is built only from a permalink that is a path ("/r/…"):
 * anything else (a full URL, "//host", "@host") could make
 * "https://www.reddit.com" + permalink point elsewhere, so it gets no link.
 */

import { h, safeHref } from '../dom.js';
import { fmtAgo, fmtInt, fmtTime, sentimentOf } from '../format.js';

const REDDIT = 'https://www.reddit.com';

function redditHref(permalink) {
  if (typeof permalink !== 'string' || !/^\/[^/\\]/.test(permalink)) return null;
  const href = safeHref(REDDIT + permalink);
  return href && href.startsWith(`${REDDIT}/`) ? href : null;
}

function points(score) {
  const n = Number.isFinite(score) ? score : 0;
  return `${fmtInt(n)} ${Math.abs(n) === 1 ? 'point' : 'points'}`;
}

/* Text of a <time> made by commentEl, refreshed by refreshTimes(). */
function ago(el) {
  el.textContent = fmtAgo(el.dateTime);
}

export function commentEl(c) {
  const label = sentimentOf(c.sentiment && c.sentiment.label);
  const href = redditHref(c.permalink);
  const time = h('time', { dateTime: c.created, title: fmtTime(c.created) });
  ago(time);
  return h('article', { class: 'comment', dataset: { id: c.id, sentiment: label } },
    h('div', { class: 'comment-meta' },
      h('span', { class: `badge ${label}` }, label),
      h('span', { class: 'comment-score' }, points(c.score)),
      h('span', { class: 'comment-author' }, `u/${c.author}`),
      h('span', { class: 'comment-sub' }, `r/${c.subreddit}`),
      time),
    c.link_title ? h('p', { class: 'comment-thread' }, 'in ', h('cite', null, c.link_title)) : null,
    h('p', { class: 'comment-body' }, c.body),
    href ? h('p', { class: 'comment-link' },
      h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, 'View on Reddit')) : null);
}

/* Brings the "5 min ago" texts under root up to date. */
export function refreshTimes(root) {
  for (const el of root.querySelectorAll('article.comment time')) ago(el);
}
