/*
 * main.js - the dashboard's start: read /config.json (where the API and
 * the identity provider are; written by the deployment, never built in),
 * restore the session, finish a Hosted UI sign-in when the URL carries its
 * code, build the frame and start the router.
 */

import './styles.css';
import * as auth from './auth.js';
import { setBase, setUnauthorizedHandler } from './api.js';
import { h, mount } from './dom.js';
import { build, navigated } from './layout.js';
import { ctx, start, toSignIn } from './router.js';
import { ROUTES } from './routes.js';
import { setSignInNotice } from './views/auth.js';
import { describe, markReady } from './ui.js';

async function loadConfig() {
  const res = await fetch('/config.json', { cache: 'no-store', credentials: 'omit' });
  if (!res.ok) throw Object.assign(new Error('config'), { status: res.status });
  const cfg = await res.json();
  if (!cfg || !cfg.cognito || !cfg.cognito.clientId) {
    throw Object.assign(new Error('/config.json names no identity provider (cognito.clientId).'), { status: -1 });
  }
  return cfg;
}

function fatal(message) {
  mount(document.body, h('main', { id: 'main', class: 'fatal' },
    h('h1', null, 'EchoStream cannot start'), h('p', { role: 'alert' }, message)));
  markReady();
}

async function boot() {
  let cfg;
  try {
    cfg = await loadConfig();
  } catch (err) {
    fatal(err.status === -1 ? err.message
      : `The dashboard's settings (/config.json) could not be read: ${describe(err)}`);
    return;
  }
  ctx.config = cfg;
  setBase(cfg.apiBase);
  auth.init(cfg);
  const main = build(async () => {
    ctx.me = null;
    await auth.signOut();
    location.hash = '#/signin';
  });
  setUnauthorizedHandler(() => {
    ctx.me = null;
    auth.drop();
    toSignIn();
  });
  auth.onChange((s) => {
    if (!s) ctx.me = null;
  });
  try {
    const next = await auth.completeHostedSignIn();
    if (next) location.hash = next;
  } catch (err) {
    /* a failed or forged Hosted UI return: say why on the sign-in screen */
    setSignInNotice(err.message);
    location.hash = '#/signin';
  }
  start(main, ROUTES, navigated);
}

boot();
