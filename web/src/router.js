/*
 * router.js - hash routes to views, the sign-in guard and the shared ctx.
 *
 * Hash routing keeps the dashboard a set of static files: nginx serves one
 * index.html and never needs to know the app's paths. A route is a pattern
 * ('/topics/:id') with its view's render(root, params, ctx); a view may
 * return a cleanup function, called before the next view renders, so no
 * stream, timer or request of a left page keeps running.
 *
 * Pages other than the account screens need a session: without one the
 * user goes to sign in with ?next= the page asked for, and comes back to it
 * afterwards. GET /me is read once per session (it also places a new user
 * in a tenant of their own); a user removed from their team (403
 * no_tenant) reaches only the Team page, where their invites are.
 */

import * as auth from './auth.js';
import { get } from './api.js';
import { h, mount } from './dom.js';
import { errorState, loading, markReady } from './ui.js';

let routes = [];
let root = null;
let cleanup = null;
let renderSeq = 0;
let onNavigate = () => {};

export const ctx = {
  config: null,
  me: null,
  isOwner() {
    return Boolean(this.me && this.me.role === 'owner');
  },
  navigate(hash) {
    if (location.hash === hash) {
      render();
    } else {
      location.hash = hash;
    }
  },
  setTitle(title) {
    document.title = title ? `${title} · EchoStream` : 'EchoStream';
  },
  async refreshMe() {
    try {
      this.me = await get('/me');
    } catch (err) {
      if (err.status === 403 && err.code === 'no_tenant') {
        this.me = { noTenant: true, email: (auth.current() || {}).email || '' };
      } else {
        throw err;
      }
    }
    onNavigate(currentPath());
    return this.me;
  },
};

/* The hash's path and query: '#/topics/x?step=hour' -> ['/topics/x', {step:'hour'}]. */
export function parseHash(hash) {
  const raw = (hash || '').replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  const query = Object.fromEntries(new URLSearchParams(qs || ''));
  return [path || '/', query];
}

function currentPath() {
  return parseHash(location.hash)[0];
}

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const route of routes) {
    const want = route.path.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < want.length && ok; i += 1) {
      if (want[i].startsWith(':')) {
        try {
          params[want[i].slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          ok = false;
        }
      } else {
        ok = want[i] === parts[i];
      }
    }
    if (ok) return { route, params };
  }
  return null;
}

/* Sends the user to sign in, coming back to the page they were on. */
export function toSignIn() {
  const here = location.hash && !location.hash.startsWith('#/signin') ? location.hash : '';
  const next = here ? `?next=${encodeURIComponent(here)}` : '';
  location.hash = `#/signin${next}`;
}

/* Where a signed-in user goes after the account screens. */
export function afterSignIn(query) {
  const next = query && query.next;
  /* only a page of this app: '#/…', never a URL elsewhere */
  const target = next && /^#\/[A-Za-z0-9/_?=&%.-]*$/.test(next) && !next.startsWith('#/signin')
    ? next : '#/topics';
  ctx.me = null;
  location.hash = target;
}

async function render() {
  const seq = ++renderSeq;
  if (cleanup) {
    try { cleanup(); } catch { /* a broken cleanup must not stop navigation */ }
    cleanup = null;
  }
  const [path, query] = parseHash(location.hash);
  if (path === '/') {
    location.replace(auth.signedIn() ? '#/topics' : '#/signin');
    return;
  }
  const found = match(path);
  onNavigate(path);
  if (!found) {
    ctx.setTitle('Not found');
    mount(root, h('h1', null, 'Page not found'),
      h('p', null, h('a', { href: '#/topics' }, 'Back to your topics')));
    markReady();
    return;
  }
  const { route, params } = found;
  params.query = query;
  if (!route.public && !auth.signedIn()) {
    toSignIn();
    return;
  }
  if (route.public && auth.signedIn() && !route.always) {
    location.replace('#/topics');
    return;
  }
  if (!route.public && !ctx.me) {
    mount(root, loading());
    try {
      await ctx.refreshMe();
    } catch (err) {
      if (seq !== renderSeq) return;
      mount(root, errorState(err, () => render()));
      markReady();
      return;
    }
    if (seq !== renderSeq) return;
  }
  if (!route.public && ctx.me && ctx.me.noTenant && path !== '/team') {
    location.replace('#/team');
    return;
  }
  root.removeAttribute('aria-busy');
  mount(root);
  ctx.setTitle(route.title || '');
  const out = route.view(root, params, ctx);
  cleanup = typeof out === 'function' ? out : null;
  /* a view that rendered without loading anything is usable now; one
     that is loading marks itself (ui.section) when its data is shown */
  if (!root.querySelector('.state-loading')) markReady();
}

/*
 * Starts routing into rootEl. table: [{path, view, title, public}];
 * navigated(path) is told each page so the layout can mark its nav link.
 */
export function start(rootEl, table, navigated) {
  root = rootEl;
  routes = table;
  onNavigate = navigated || onNavigate;
  let first = true;
  window.addEventListener('hashchange', () => {
    render();
    if (!first) root.focus({ preventScroll: false });
  });
  render();
  first = false;
}
