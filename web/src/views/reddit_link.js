/*
 * reddit_link.js - "View on Reddit" links for comments the API quotes
 * (alert samples, the comments a summary was written from).
 *
 * Those carry a full link, but a bare permalink ("/r/…") would otherwise
 * pass safeHref() as a path on this site, so it is made absolute on
 * reddit.com first. A link safeHref() refuses (javascript:, data:, …)
 * yields no element at all rather than a dead <a> without an href.
 */

import { h, safeHref } from '../dom.js';

export function redditLink(link) {
  const url = typeof link === 'string' && link.startsWith('/') && !link.startsWith('//')
    ? `https://www.reddit.com${link}` : link;
  if (!safeHref(url)) return null;
  return h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, 'View on Reddit');
}
