/*
 * topic_facts.js - what a topic watches (its subreddits and keyword
 * query), in the one form the list and the topic page both show.
 *
 * The query is shown verbatim in <code> (as text: it is user input), and
 * an empty query is spelled out, since "no query" means every comment of
 * the subreddits rather than none.
 */

import { h } from '../dom.js';

export function subredditsText(subs) {
  return (subs || []).map((s) => (s === 'all' ? 'all of Reddit' : `r/${s}`)).join(', ');
}

export function topicFacts(topic) {
  const q = (topic.query || '').trim();
  return h('dl', { class: 'topic-facts' },
    h('dt', null, 'Subreddits'),
    h('dd', null, subredditsText(topic.subreddits)),
    h('dt', null, 'Query'),
    h('dd', null, q ? h('code', null, q) : h('span', { class: 'muted' }, 'none: every comment')));
}
