/*
 * topics.js - #/topics, the tenant's topics: what each watches and its
 * last 24 hours at a glance, each a link to its page; owners also get
 * "New topic" and an "Edit" link per topic.
 *
 * The list itself is one request; the glances are one series request per
 * topic, so they load only when their card scrolls into view
 * (IntersectionObserver) and at most CONCURRENCY at a time (limiter.js),
 * which keeps a tenant with 100 topics inside the API's rate limit. Leaving
 * the page aborts what is in flight and drops what is queued.
 */

import { h, mount } from '../dom.js';
import { get } from '../api.js';
import { section, empty } from '../ui.js';
import { topicFacts } from './topic_facts.js';
import { fetchDay, renderGlance } from './glance.js';
import { limiter } from './limiter.js';
import './topics.css';

const CONCURRENCY = 4;

export function render(root, params, ctx) {
  const ctl = new AbortController();
  const queue = limiter(CONCURRENCY);
  let observer = null;
  const glances = new Map(); /* card -> starts loading its glance */

  function loadGlance(el, topic) {
    mount(el, h('p', { class: 'glance-text muted' }, 'Loading the last 24 h…'));
    queue.run(() => fetchDay(topic.id, ctl.signal))
      .then((series) => renderGlance(el, series))
      .catch((err) => {
        if (err && err.name === 'AbortError') return;
        const retry = h('button', { type: 'button', class: 'btn btn-small', on: { click: () => loadGlance(el, topic) } }, 'Retry');
        mount(el, h('p', { class: 'glance-text muted' },
          err && err.status === 429 ? 'Too many requests: the last 24 h could not be loaded. ' : 'The last 24 h could not be loaded. ',
          retry));
      });
  }

  function card(topic) {
    const glance = h('div', { class: 'glance' });
    /* "Edit" is described by the topic's name rather than named with it, so
       the topic's own link stays the only one whose name is the topic's */
    const headId = `topic-${topic.id}`;
    const el = h('li', { class: 'card topic-card' },
      h('h2', { id: headId }, h('a', { href: `#/topics/${encodeURIComponent(topic.id)}` }, topic.name)),
      topicFacts(topic),
      glance,
      ctx.isOwner()
        ? h('p', { class: 'topic-card-actions' },
          h('a', { href: `#/topics/${encodeURIComponent(topic.id)}/edit`, attrs: { 'aria-describedby': headId } }, 'Edit'))
        : null);
    glances.set(el, () => loadGlance(glance, topic));
    return el;
  }

  function show(data) {
    /* the API sorts by id, which means nothing to people: by name here */
    const topics = [...data.topics].sort((a, b) => a.name.localeCompare(b.name));
    const list = h('div', { class: 'topics-body' });
    if (!topics.length) {
      mount(list, empty('No topics yet',
        h('p', { class: 'muted' }, ctx.isOwner()
          ? 'A topic watches subreddits for a keyword query. Create one with "New topic".'
          : 'An owner of your team can create one.')));
      return list;
    }
    const cards = topics.map(card);
    mount(list, h('ul', { class: 'topic-list' }, cards));
    observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        observer.unobserve(e.target);
        glances.get(e.target)();
      }
    }, { rootMargin: '200px 0px' });
    for (const c of cards) observer.observe(c);
    return list;
  }

  const body = h('div');
  mount(root,
    h('div', { class: 'page-head' },
      h('h1', null, 'Topics'),
      ctx.isOwner() ? h('a', { class: 'btn btn-primary', href: '#/topics/new' }, 'New topic') : null),
    body);

  section(body, () => get('/topics', null, { signal: ctl.signal }), (data) => mount(body, show(data)));

  return () => {
    ctl.abort();
    queue.clear();
    if (observer) observer.disconnect();
  };
}
