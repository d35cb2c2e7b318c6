/*
 * layout.js - the frame around every page: a skip link, the header with
 * the app's name, the navigation (a "Menu" button folds it away on narrow
 * screens), who is signed in with which role, and "Sign out"; the <main>
 * region the router renders into; the toast line.
 *
 * Built once at start; only what depends on the session changes after
 * that, so navigating never rebuilds the header (and never moves the
 * keyboard focus out of it unexpectedly).
 */

import * as auth from './auth.js';
import { h, mount } from './dom.js';
import { ctx } from './router.js';

const NAV = [
  ['#/topics', 'Topics', '/topics'],
  ['#/share', 'Share of voice', '/share'],
  ['#/summaries', 'Summaries', '/summaries'],
  ['#/alerts', 'Alerts', '/alerts'],
  ['#/team', 'Team', '/team'],
  ['#/settings', 'Settings', '/settings'],
  ['#/export', 'Export', '/export'],
];

let navEl = null;
let menuBtn = null;
let whoEl = null;
let sessionEls = [];

function setMenu(open) {
  menuBtn.setAttribute('aria-expanded', String(open));
  navEl.classList.toggle('open', open);
}

/* Builds the frame into document.body; returns the <main> element. */
export function build(onSignOut) {
  const main = h('main', { id: 'main', tabIndex: -1 });
  menuBtn = h('button', {
    type: 'button', class: 'btn menu-btn', attrs: { 'aria-controls': 'nav', 'aria-expanded': 'false' },
    on: { click: () => setMenu(menuBtn.getAttribute('aria-expanded') !== 'true') },
  }, 'Menu');
  navEl = h('nav', { id: 'nav', attrs: { 'aria-label': 'Main' } },
    h('ul', null, NAV.map(([href, text, path]) => h('li', null,
      h('a', { href, dataset: { path }, on: { click: () => setMenu(false) } }, text)))));
  whoEl = h('span', { class: 'who' });
  const signOut = h('button', { type: 'button', class: 'btn', on: { click: onSignOut } }, 'Sign out');
  sessionEls = [menuBtn, navEl, whoEl, signOut];
  const header = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '#/topics' }, 'EchoStream'),
    menuBtn, navEl, h('div', { class: 'session' }, whoEl, signOut));
  mount(document.body,
    h('a', { class: 'skip', href: '#main', on: { click: (e) => { e.preventDefault(); main.focus(); } } }, 'Skip to content'),
    header, main,
    h('div', { id: 'toast', class: 'toast', attrs: { 'aria-live': 'polite' }, hidden: true }));
  return main;
}

/* Marks the current page's link and shows or hides what needs a session. */
export function navigated(path) {
  const inSession = auth.signedIn();
  for (const el of sessionEls) el.hidden = !inSession;
  if (!inSession) return;
  const me = ctx.me;
  whoEl.textContent = me && !me.noTenant
    ? `${me.email || (auth.current() || {}).email || ''} · ${me.role}`
    : (auth.current() || {}).email || '';
  for (const a of navEl.querySelectorAll('a')) {
    const on = path === a.dataset.path || path.startsWith(`${a.dataset.path}/`);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}
