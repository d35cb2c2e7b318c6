/*
 * ui.js - the states every screen shows the same way: loading, empty,
 * error (with what the user can do about it), an inline confirmation in
 * place of window.confirm (which blocks the page and cannot be styled or
 * reached by keyboard in a predictable way), and a polite status line for
 * transient news.
 */

import { h, mount } from './dom.js';

/* Tells the budget tests (and anyone watching) that a screen is usable. */
export function markReady() {
  document.body.dataset.ready = '1';
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'state state-loading', role: 'status' }, text);
}

export function empty(text, action) {
  return h('div', { class: 'state state-empty' }, h('p', null, text), action || null);
}

/* What went wrong, in the user's terms, for an ApiError or AuthError. */
export function describe(err) {
  const s = err && err.status;
  if (s === 503) {
    return 'EchoStream\'s API is unavailable right now (its database may be restarting). It usually comes back within a minute.';
  }
  if (s === 429) {
    const wait = err.retryAfter ? ` — wait ${err.retryAfter} s` : '';
    return `Too many requests${wait} and try again.`;
  }
  if (s === 0) return 'The API cannot be reached. Check your connection; the service may be unavailable.';
  if (s === 403 && err.code === 'no_tenant') {
    return 'You are not a member of any team. Accept an invite on the Team page.';
  }
  if (s === 403) return 'Your role does not allow this. Ask an owner of your team.';
  if (s === 404) return 'Not found: it may have been deleted.';
  return (err && err.message) || 'Something went wrong.';
}

export function errorState(err, retry) {
  return h('div', { class: 'state state-error', role: 'alert' },
    h('p', null, describe(err)),
    retry ? h('button', { type: 'button', class: 'btn', on: { click: retry } }, 'Try again') : null);
}

/*
 * Loads into el: "Loading…", then render(data) or the error with a retry.
 * Returns the data (undefined on error).
 */
export async function section(el, load, render) {
  mount(el, loading());
  try {
    const data = await load();
    render(data);
    markReady();
    return data;
  } catch (err) {
    if (err && err.name === 'AbortError') return undefined;
    mount(el, errorState(err, () => section(el, load, render)));
    markReady();
    return undefined;
  }
}

/*
 * An inline "are you sure" after anchor; resolves true on yes, false on
 * cancel or Escape. Focus goes to the yes button and back to the anchor.
 */
export function confirmInline(anchor, message, yesLabel = 'Yes', noLabel = 'Cancel') {
  const prev = anchor.parentNode.querySelector(':scope > .confirm');
  if (prev) prev.remove();
  return new Promise((resolve) => {
    const done = (answer) => {
      box.remove();
      if (anchor.isConnected) anchor.focus();
      resolve(answer);
    };
    const yes = h('button', { type: 'button', class: 'btn btn-danger', on: { click: () => done(true) } }, yesLabel);
    const no = h('button', { type: 'button', class: 'btn', on: { click: () => done(false) } }, noLabel);
    const box = h('div', {
      class: 'confirm', role: 'group',
      on: { keydown: (e) => { if (e.key === 'Escape') done(false); } },
    }, h('p', null, message), h('div', { class: 'actions' }, yes, no));
    anchor.insertAdjacentElement('afterend', box);
    yes.focus();
  });
}

let toastTimer = null;

/* A transient status line at the bottom of the screen. */
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  if (!el) return;
  el.className = `toast toast-${kind}`;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
}
