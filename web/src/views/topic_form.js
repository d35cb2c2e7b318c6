/*
 * topic_form.js - #/topics/new and #/topics/:id/edit: a topic's name,
 * subreddits and keyword query; on edit also "Delete topic".
 *
 * The API is the one validator (name rules, subreddit names, the query
 * parser), so the form sends what was typed (noValidate: no browser
 * bubbles) and shows the API's answer at the field it names; a query error
 * also shows the query with the faulty spot marked. The only shaping done
 * here is of the subreddits box, which takes names the way people paste
 * them ("r/rust, golang", reddit.com URLs) and sends the bare names as an
 * array. Edit replaces the topic whole with PUT, since the form holds
 * every member; the ids the API returns are the ones navigated to.
 * Members reach the form only by URL and get a read-only notice.
 */

import { h, mount, field, showFieldErrors, clearFieldErrors } from '../dom.js';
import { get, post, put, del } from '../api.js';
import { section, confirmInline, toast, markReady } from '../ui.js';
import { queryHelpLine, querySyntax, queryWhere, errorColumn } from './query_help.js';
import './topic_form.css';

/* "r/Rust, golang  https://www.reddit.com/r/node/" -> ['Rust', 'golang', 'node'] */
export function parseSubreddits(text) {
  const seen = new Set();
  const out = [];
  for (let s of String(text || '').split(/[\s,;]+/)) {
    s = s.replace(/^https?:\/\/(?:[a-z]+\.)?reddit\.com/i, '').replace(/^\/?r\//i, '').replace(/\/+$/, '');
    if (!s || seen.has(s.toLowerCase())) continue;
    seen.add(s.toLowerCase());
    out.push(s);
  }
  return out;
}

function readOnly(root, topicId) {
  mount(root,
    h('h1', null, topicId ? 'Edit topic' : 'New topic'),
    h('div', { class: 'card' },
      h('p', null, 'Only owners of your team can create or change topics. Ask an owner if this topic should change.'),
      h('p', null, h('a', { href: topicId ? `#/topics/${encodeURIComponent(topicId)}` : '#/topics' },
        topicId ? 'Back to the topic' : 'Back to topics'))));
}

function buildForm(root, ctx, topic) {
  const editing = Boolean(topic);
  const name = h('input', { type: 'text', maxLength: 100, required: true, autocomplete: 'off', value: editing ? topic.name : '' });
  const subs = h('input', {
    type: 'text', required: true, autocomplete: 'off', spellcheck: false,
    value: editing ? topic.subreddits.join(', ') : '',
  });
  const query = h('textarea', { rows: 3, spellcheck: false, value: editing ? topic.query : '' });
  const where = h('div', { class: 'query-where-slot' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save changes' : 'Create topic');
  const cancelHref = editing ? `#/topics/${encodeURIComponent(topic.id)}` : '#/topics';

  const queryField = field({ label: 'Keyword query', input: query, name: 'query', help: queryHelpLine() });
  queryField.append(where, querySyntax());

  const form = h('form', { class: 'form topic-form', noValidate: true },
    field({ label: 'Name', input: name, name: 'name' }),
    field({
      label: 'Subreddits', input: subs, name: 'subreddits',
      help: 'Up to 20, separated by commas or spaces; "r/" is optional. "all" watches all of Reddit.',
    }),
    queryField,
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn', href: cancelHref }, 'Cancel')));

  query.addEventListener('input', () => mount(where));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    mount(where);
    const body = { name: name.value.trim(), subreddits: parseSubreddits(subs.value), query: query.value };
    submit.disabled = true;
    try {
      const saved = editing
        ? await put(`/topics/${encodeURIComponent(topic.id)}`, body)
        : await post('/topics', body);
      toast(editing ? 'Topic saved.' : 'Topic created.');
      ctx.navigate(`#/topics/${encodeURIComponent(saved.id)}`);
    } catch (err) {
      submit.disabled = false;
      if (err && err.status === 401) return; /* the session ended: sign in comes next */
      const column = err && err.field === 'query' ? errorColumn(body.query, err) : null;
      if (column) {
        /* one number for the spot, the column people count in (not the byte offset) */
        showFieldErrors(form, { message: err.message, field: 'query', column });
        mount(where, queryWhere(body.query, column));
      } else {
        showFieldErrors(form, err);
      }
    }
  });

  const parts = [
    h('div', { class: 'page-head' }, h('h1', null, editing ? `Edit “${topic.name}”` : 'New topic')),
    form,
  ];

  if (editing) {
    const delBtn = h('button', { type: 'button', class: 'btn btn-danger' }, 'Delete topic');
    const delError = h('p', { class: 'form-error', role: 'alert', hidden: true });
    delBtn.addEventListener('click', async () => {
      delError.hidden = true;
      const yes = await confirmInline(delBtn,
        `Delete “${topic.name}”? Its charts, terms and stored comments go with it.`, 'Yes, delete');
      if (!yes) return;
      delBtn.disabled = true;
      try {
        await del(`/topics/${encodeURIComponent(topic.id)}`);
        toast('Topic deleted.');
        ctx.navigate('#/topics');
      } catch (err) {
        delBtn.disabled = false;
        delError.textContent = err && err.status === 404 ? 'This topic no longer exists.' : (err.message || 'Could not delete the topic.');
        delError.hidden = false;
      }
    });
    parts.push(h('section', { class: 'card danger-zone' },
      h('h2', { id: 'h-danger' }, 'Delete this topic'),
      h('p', null, 'EchoStream stops collecting comments for it; its subreddits stop being watched when no other topic needs them.'),
      delError,
      h('div', null, delBtn)));
  }

  mount(root, ...parts);
  ctx.setTitle(editing ? `Edit ${topic.name}` : 'New topic');
}

export function render(root, params, ctx) {
  const topicId = params.id || null;
  /* these two render at once, without ui.section, so they say "ready" themselves */
  if (!ctx.isOwner()) {
    readOnly(root, topicId);
    markReady();
    return undefined;
  }
  if (!topicId) {
    buildForm(root, ctx, null);
    markReady();
    return undefined;
  }
  const ctl = new AbortController();
  let gone = false;
  section(root,
    () => get(`/topics/${encodeURIComponent(topicId)}`, null, { signal: ctl.signal }),
    (topic) => { if (!gone) buildForm(root, ctx, topic); });
  return () => {
    gone = true;
    ctl.abort();
  };
}
