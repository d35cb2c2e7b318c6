// web.mjs - what the dashboard's browser suites (tests/integration/web/)
// share: the whole stack as `make run` starts it, a real Chromium driven by
// playwright-core, the local mail inbox, screenshots, axe and a guard that
// records what a page must never do.
//
// The stack is deploy/local/run.sh itself (never a hand-made imitation):
// its own temporary state directory under /tmp (short, because Redis's
// unix socket path must fit in 108 bytes), free ports, no demo source,
// and ingest pointed at the Reddit test server (tests/reddit/server.mjs),
// so a comment a test posts there travels the real path: ingest, enrich,
// Redis, the API, the browser. The dashboard served is this tree's
// web/dist, built once per test process from web/src.
//
// The browser is Debian's /usr/bin/chromium (never a downloaded one), one
// fresh profile directory per launch, so no state leaks between suites.
//
// Everything started here is stopped when the test process exits, even
// after a crash: run.sh is killed and so is every process it recorded in
// var/run/pids (they run in sessions of their own, so killing run.sh alone
// would leave them behind).

import { execFile } from 'node:child_process';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient, InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  ROOT, freePort, httpRequest, sleep, startProc, waitFor,
} from './harness.mjs';
import { startRedditServer } from '../reddit/server.mjs';

const require = createRequire(import.meta.url);
const run = promisify(execFile);

export const CHROMIUM = process.env.ES_CHROMIUM || '/usr/bin/chromium';
export const DIST = path.join(ROOT, 'web', 'dist');
export const SHOTS = path.join(ROOT, 'build', 'screenshots');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };
const RUN_SH = path.join(ROOT, 'deploy', 'local', 'run.sh');
// first start creates the user pool; the workers report to /healthz
const START_MS = 90000;
const STOP_MS = 45000;
// what PEERS.md found to work for headless Chromium in containers
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

// --- the dashboard build -------------------------------------------------

let built = null;
// Builds web/dist from web/src once per process (esbuild: well under a
// second), so a suite always tests the sources it sits next to.
export function buildWeb() {
  if (!built) {
    const script = path.join(ROOT, 'web', 'build.mjs');
    if (!existsSync(script)) {
      built = Promise.reject(new Error(`${script} is missing: the dashboard ` +
                                       'build is not on this branch'));
    } else {
      built = run(process.execPath, [script], { cwd: ROOT })
        .then(() => DIST);
    }
  }
  return built;
}

// --- the stack -----------------------------------------------------------

const live = new Set(); // stacks not stopped yet

// Pids run.sh recorded ({name: pid}).
function readPids(varDir) {
  const file = path.join(varDir, 'run', 'pids');
  const pids = {};
  if (!existsSync(file)) return pids;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [name, pid] = line.trim().split(/\s+/);
    if (name && Number(pid) > 0) pids[name] = Number(pid);
  }
  return pids;
}

// SIGKILLs every recorded process's session (each child is a session and
// group leader, started by setsid), then the process itself.
function killRecorded(varDir) {
  for (const pid of Object.values(readPids(varDir))) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

process.on('exit', () => {
  for (const s of live) {
    try { s.proc.child.kill('SIGKILL'); } catch { /* gone */ }
    killRecorded(s.varDir);
  }
});

// Distinct free ports (freePort can hand out the same port twice).
async function ports(n) {
  const out = new Set();
  while (out.size < n) out.add(await freePort());
  return [...out];
}

// Starts the whole stack with deploy/local/run.sh and waits until
// /healthz answers 200. Options: demo (the synthetic source and demo
// topic, off by default), env (more ECHOSTREAM_* for the workers),
// reddit (false: no Reddit test server). Resolves the stack:
//   url, cognitoUrl, mailUi, ports, varDir, reddit, config (config.json),
//   ids (pool and client), redisPid(), log(name), stop()
export async function startStack({ demo = false, env = {}, reddit = true }
  = {}) {
  await buildWeb();
  const varDir = mkdtempSync(path.join('/tmp', 'esw-'));
  const [http, redisPort, cognito, mail, mailUi] = await ports(5);
  const rs = reddit ? await startRedditServer() : null;
  const redditEnv = rs ? {
    ECHOSTREAM_REDDIT_API_URL: rs.url,
    ECHOSTREAM_REDDIT_TOKEN_URL: rs.tokenUrl,
    ECHOSTREAM_REDDIT_CLIENT_ID: rs.clientId,
    ECHOSTREAM_REDDIT_CLIENT_SECRET: rs.clientSecret,
    ECHOSTREAM_REDDIT_QPM: '600',
    // a new topic's subreddit is polled within a second or two
    ECHOSTREAM_INGEST_MIN_INTERVAL: '1',
    ECHOSTREAM_INGEST_MAX_INTERVAL: '2',
    ECHOSTREAM_INGEST_WATCH_REFRESH: '1',
  } : {};
  const proc = startProc(RUN_SH, [], {
    name: 'run.sh',
    env: {
      ECHOSTREAM_SKIP_DEPS: '1',
      ECHOSTREAM_VAR: varDir,
      ECHOSTREAM_WEB_ROOT: DIST,
      ECHOSTREAM_PORT: String(http),
      ECHOSTREAM_REDIS_PORT: String(redisPort),
      ECHOSTREAM_COGNITO_PORT: String(cognito),
      ECHOSTREAM_MAIL_PORT: String(mail),
      ECHOSTREAM_MAIL_UI_PORT: String(mailUi),
      ECHOSTREAM_DEMO: demo ? '1' : '0',
      ...redditEnv,
      ...env,
    },
  });
  const stack = {
    proc, varDir, reddit: rs,
    ports: { http, redis: redisPort, cognito, mail, mailUi },
    url: `http://127.0.0.1:${http}`,
    cognitoUrl: `http://127.0.0.1:${cognito}`,
    mailUi: `http://127.0.0.1:${mailUi}`,
    config: null,
    ids: null,
    log(name) {
      const f = path.join(varDir, 'log', `${name}.log`);
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
    pids: () => readPids(varDir),
    async stop() {
      if (!live.has(stack)) return;
      proc.kill('SIGTERM');
      let timer;
      const late = new Promise((resolve) => {
        timer = setTimeout(() => resolve('late'), STOP_MS);
      });
      const how = await Promise.race([proc.exited, late]);
      clearTimeout(timer);
      if (how === 'late') {
        proc.kill('SIGKILL');
        killRecorded(varDir);
        await proc.exited;
      }
      live.delete(stack);
      await rs?.close();
      if (!process.env.ES_KEEP_TMP) {
        rmSync(varDir, { recursive: true, force: true });
      }
      if (how === 'late') {
        throw new Error(`run.sh did not stop within ${STOP_MS} ms of ` +
                        'SIGTERM');
      }
    },
  };
  live.add(stack);
  try {
    const died = proc.exited.then(({ code, signal }) => {
      throw new Error(`run.sh exited (code ${code}, signal ${signal}) ` +
                      `during start-up:\n${proc.output().slice(-4000)}`);
    });
    died.catch(() => {});
    await Promise.race([proc.waitForOutput(/Ctrl-C to stop/, START_MS), died]);
    await Promise.race([waitFor(async () => {
      const r = await httpRequest({ url: `${stack.url}/healthz` });
      return r.status === 200;
    }, { timeout: 30000, interval: 200, what: 'GET /healthz 200' }), died]);
    stack.config = JSON.parse(readFileSync(
      path.join(varDir, 'run', 'config.json'), 'utf8'));
    stack.ids = JSON.parse(readFileSync(
      path.join(varDir, 'cognito', 'ids.json'), 'utf8'));
  } catch (err) {
    await stack.stop().catch(() => {});
    throw err;
  }
  return stack;
}

// --- users and the API, outside the browser -----------------------------

function idpClient(stack) {
  return new CognitoIdentityProviderClient({
    endpoint: stack.cognitoUrl, region: 'us-east-1', maxAttempts: 2,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

// A confirmed user with a permanent password, made through the admin API
// (no mail): for suites whose subject is not the sign-up itself.
export async function createUser(stack, email, password) {
  const c = idpClient(stack);
  try {
    await c.send(new AdminCreateUserCommand({
      UserPoolId: stack.ids.userPoolId, Username: email,
      MessageAction: 'SUPPRESS',
      UserAttributes: [{ Name: 'email', Value: email },
                       { Name: 'email_verified', Value: 'true' }],
    }));
    await c.send(new AdminSetUserPasswordCommand({
      UserPoolId: stack.ids.userPoolId, Username: email, Password: password,
      Permanent: true,
    }));
  } finally {
    c.destroy();
  }
}

// The id token of a user (what the dashboard sends the API).
export async function idToken(stack, email, password) {
  const c = idpClient(stack);
  try {
    const out = await c.send(new InitiateAuthCommand({
      ClientId: stack.ids.clientId, AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }));
    return out.AuthenticationResult.IdToken;
  } finally {
    c.destroy();
  }
}

// One API call as a user: resolves {status, json, headers}.
export async function api(stack, token, method, p, body) {
  const r = await httpRequest({
    method, url: `${stack.url}/api/v1${p}`,
    headers: { Authorization: `Bearer ${token}`,
               ...(body !== undefined
                 ? { 'Content-Type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  let json = null;
  try { json = r.body ? JSON.parse(r.body) : null; } catch { /* text */ }
  return { status: r.status, json, headers: r.headers };
}

// --- the mail inbox (maildev's REST API) --------------------------------

// A reader of the local mail catcher that hands out each mail once, so a
// second code is never mistaken for the first. code(email, subjectRe)
// waits for the newest unseen mail to that address (and subject) and
// returns the 6-digit code in its text.
export function mailbox(stack) {
  const seen = new Set();
  async function newest(email, subject) {
    const r = await httpRequest({ url: `${stack.mailUi}/email` });
    if (r.status !== 200) throw new Error(`GET /email: ${r.status}`);
    const to = email.toLowerCase();
    const mine = JSON.parse(r.body).filter((m) => !seen.has(m.id) &&
      (m.to || []).some((t) => String(t.address).toLowerCase() === to) &&
      (!subject || subject.test(m.subject || '')));
    mine.sort((a, b) => new Date(b.time || b.date) - new Date(a.time || a.date));
    return mine[0] || null;
  }
  return {
    async mail(email, { subject, timeout = 20000 } = {}) {
      const m = await waitFor(() => newest(email, subject), {
        timeout, interval: 200,
        what: `a mail to ${email}${subject ? ` matching ${subject}` : ''} ` +
              `in the inbox at ${stack.mailUi}`,
      });
      seen.add(m.id);
      return m;
    },
    async code(email, subject, opts = {}) {
      const m = await this.mail(email, { ...opts, subject });
      const hit = /\b(\d{6})\b/.exec(m.text || '');
      if (!hit) throw new Error(`no 6-digit code in "${m.subject}": ${m.text}`);
      return hit[1];
    },
  };
}

// --- the browser ---------------------------------------------------------

let playwright = null;
// Launches Chromium with a fresh profile; resolves the persistent context
// (close() also removes the profile).
export async function launchBrowser(options = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing (apt-get install chromium; ` +
                    'deploy/local/install-deps.sh does)');
  }
  playwright ??= await import('playwright-core');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'esw-profile-'));
  const ctx = await playwright.chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    viewport: DESKTOP, ...options,
  });
  const close = ctx.close.bind(ctx);
  ctx.close = async () => {
    await close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  return ctx;
}

// Records what the pages of a browser context must never do: dialogs
// (alert/confirm/prompt; dismissed at once), uncaught errors, console
// errors, Content-Security-Policy violations (securitypolicyviolation
// events, reported through a binding that the page's CSP cannot block)
// and requests to any origin but the stack's nginx and identity provider.
export async function guard(ctx, stack) {
  const g = { dialogs: [], pageErrors: [], consoleErrors: [], csp: [],
              foreign: [], failed: [] };
  const allowed = new Set([new URL(stack.url).origin,
                           new URL(stack.cognitoUrl).origin]);
  ctx.on('request', (req) => {
    const u = req.url();
    if (/^(data|blob|about):/.test(u)) return;
    if (!allowed.has(new URL(u).origin)) g.foreign.push(`${req.method()} ${u}`);
  });
  await ctx.exposeBinding('__esCspViolation', (_src, v) => { g.csp.push(v); });
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__esCspViolation({
        directive: e.violatedDirective, blocked: e.blockedURI,
        sample: e.sample, source: e.sourceFile, line: e.lineNumber,
      });
    });
  });
  const watch = (page) => {
    page.on('dialog', (d) => {
      g.dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => g.pageErrors.push(String(e?.stack || e)));
    page.on('console', (m) => {
      if (m.type() === 'error') g.consoleErrors.push(m.text());
    });
    // which request a "Failed to load resource" line was about
    page.on('response', (r) => {
      if (r.status() >= 400) {
        g.failed.push(`${r.status()} ${r.request().method()} ${r.url()}`);
      }
    });
  };
  ctx.pages().forEach(watch);
  ctx.on('page', watch);
  // Fails naming every recorded problem. Console errors that only say a
  // resource answered with an error status are what a test provoking a
  // 401/429/503 expects: allowResourceErrors skips those.
  g.problems = ({ allowResourceErrors = false } = {}) => {
    const cons = g.consoleErrors.filter((t) => !(allowResourceErrors &&
      /^Failed to load resource: the server responded with a status of/
        .test(t)));
    const out = [];
    if (g.dialogs.length) out.push(`dialogs: ${g.dialogs.join(' | ')}`);
    if (g.pageErrors.length) out.push(`page errors: ${g.pageErrors.join(' | ')}`);
    if (cons.length) {
      out.push(`console errors: ${cons.join(' | ')}` +
               (g.failed.length ? ` (responses: ${g.failed.join(' | ')})` : ''));
    }
    if (g.csp.length) out.push(`CSP violations: ${JSON.stringify(g.csp)}`);
    if (g.foreign.length) out.push(`foreign requests: ${g.foreign.join(' | ')}`);
    return out;
  };
  g.clear = () => {
    for (const k of ['dialogs', 'pageErrors', 'consoleErrors', 'csp',
                     'foreign', 'failed']) g[k].length = 0;
  };
  return g;
}

// Records, in every page of the context, when document.body.dataset.ready
// first becomes '1' (ms since the navigation started), for the first-load
// budget: window.__esReadyAt. Installed before any page script runs.
export async function trackReady(ctx) {
  await ctx.addInitScript(() => {
    const seen = () => document.body && document.body.dataset.ready === '1';
    const obs = new MutationObserver(() => {
      if (window.__esReadyAt === undefined && seen()) {
        window.__esReadyAt = performance.now();
        obs.disconnect();
      }
    });
    obs.observe(document, { subtree: true, childList: true,
                            attributes: true, attributeFilter: ['data-ready'] });
  });
}

// ms from navigation start to the ready flag of the page's current
// document (waits for it).
export async function readyMs(page, timeout = 15000) {
  await page.waitForFunction(() => window.__esReadyAt !== undefined, null,
                             { timeout });
  return page.evaluate(() => window.__esReadyAt);
}

// Waits two animation frames: what the page drew for a new size is there.
export function settled(page) {
  return page.evaluate(() => new Promise((r) =>
    requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

// Saves build/screenshots/<name>-desktop.png (1280x800) and -phone.png
// (360x740), whole pages; the viewport is put back afterwards.
export async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const before = page.viewportSize() || DESKTOP;
  for (const [size, vp] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await page.setViewportSize(vp);
    await settled(page);
    await sleep(100); // a chart redraws on resize, after the frame
    await page.screenshot({ path: path.join(SHOTS, `${name}-${size}.png`),
                            fullPage: true });
  }
  await page.setViewportSize(before);
  await settled(page);
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// Runs axe-core in the page (evaluated through the DevTools protocol: the
// page's CSP forbids inline script, so no <script> tag is added) and
// returns the serious and critical violations, each with a few nodes.
export async function runAxe(page) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) {
    await page.evaluate(AXE);
  }
  const all = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ` +
        String(n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 200)),
    }));
  });
  return all.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function axeReport(violations) {
  return violations.map((v) => `${v.impact} ${v.id} (${v.help}): ` +
                        v.nodes.join(' ; ')).join('\n');
}

// --- UI steps every suite needs ------------------------------------------

// Signs in through the Sign in screen (next: the screen is already there,
// e.g. after a redirect); resolves once the sign-in screen is gone and the
// signed-in navigation shows (at a desktop width).
export async function signIn(page, stack, email, password, { next } = {}) {
  if (!next) await page.goto(`${stack.url}/#/signin`);
  const heading = page.getByRole('heading', { name: 'Sign in', exact: true });
  await heading.waitFor({ timeout: 15000 });
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await heading.waitFor({ state: 'detached', timeout: 15000 });
  await page.getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Topics' }).waitFor({ timeout: 15000 });
}

// The JavaScript files under dir (web/dist), and their total gzip size in
// bytes (level 9, as nginx's gzip_static or a CDN would serve them).
export function jsFiles(dir = DIST) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.m?js$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function jsGzipBytes(dir = DIST) {
  return jsFiles(dir).reduce((n, f) =>
    n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
}

// --- the usual start of a suite --------------------------------------------

// A confirmed user who has signed in once (so owns a tenant of their own)
// and a topic of theirs: resolves {token, topic} (topic as the API
// answered POST /topics).
export async function ownerWithTopic(stack, user, topicBody) {
  await createUser(stack, user.email, user.password);
  const token = await idToken(stack, user.email, user.password);
  const me = await api(stack, token, 'GET', '/me');
  if (me.status !== 200) throw new Error(`GET /me: ${me.status}`);
  const r = await api(stack, token, 'POST', '/topics', topicBody);
  if (r.status !== 201) {
    throw new Error(`POST /topics: ${r.status} ${JSON.stringify(r.json)}`);
  }
  return { token, topic: r.json };
}

// A fresh browser with its guard and its first page (default timeout
// stepMs): resolves {browser, g, page}.
export async function openBrowser(stack, stepMs) {
  const browser = await launchBrowser();
  const g = await guard(browser, stack);
  const page = browser.pages()[0] ?? await browser.newPage();
  page.setDefaultTimeout(stepMs);
  return { browser, g, page };
}
