// web_states.test.mjs - what the dashboard shows when things go wrong, in
// a real Chromium against the real stack (deploy/local/run.sh).
//
//   * the API down: Redis really stopped (SIGSTOP to the pid run.sh
//     recorded, so its supervisor does not restart it behind the test's
//     back), and an nginx answer of 503 for every API call: the page says
//     "unavailable" and offers "Try again", which works once the API is
//     back;
//   * rate limited: API calls answered 429 with Retry-After: the page says
//     "Too many requests";
//   * a session the API no longer accepts (id token with a broken
//     signature, refresh token revoked): the sign-in screen, then back to
//     the very page (the `next` parameter);
//   * "Sign out": the session is gone from storage, the header's session
//     controls are gone, and a signed-in page sends to sign in again.
//
// Failures the test provokes (401/429/503) make Chromium log "Failed to
// load resource"; those are allowed, nothing else on the console is.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { sleep, waitFor } from '../../lib/harness.mjs';
import {
  openBrowser, ownerWithTopic, signIn, startStack,
} from '../../lib/web.mjs';

const EMAIL = 'states@example.test';
const PASSWORD = 'States-Pass-42!';
const STEP_MS = 20000;

let stack;
let browser;
let page;
let g;
let topic;

before(async () => {
  stack = await startStack();
  // first sign-in makes the user's own tenant; then one topic to open
  ({ topic } = await ownerWithTopic(stack, { email: EMAIL, password: PASSWORD },
    { name: 'States watch', subreddits: ['statestest'], query: '' }));
  ({ browser, g, page } = await openBrowser(stack, STEP_MS));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const hash = () => page.evaluate(() => location.hash);
const alertText = () => page.getByRole('alert').allInnerTexts()
  .then((t) => t.join(' | '));

async function topicPage() {
  await page.goto(`${stack.url}/#/topics/${topic.id}`);
  await page.getByRole('heading', { level: 1, name: topic.name })
    .waitFor({ timeout: STEP_MS });
}

test('signed in, the topic page shows', async () => {
  await signIn(page, stack, EMAIL, PASSWORD);
  await topicPage();
  assert.deepEqual(g.problems(), [], 'a clean page');
});

test('API down (Redis stopped): "unavailable" and a working "Try again"',
  async () => {
    const redisPid = stack.pids().redis;
    assert.ok(redisPid, 'run.sh recorded the Redis pid');
    process.kill(redisPid, 'SIGSTOP');
    try {
      await page.goto(`${stack.url}/#/topics`);
      await page.reload();
      await page.getByText(/unavailable/i).first()
        .waitFor({ timeout: 45000 })
        .catch(async (e) => {
          throw new Error(`no "unavailable" with Redis stopped; the page ` +
                          `says: ${await page.locator('main').innerText()}` +
                          `\n${e.message}`);
        });
      await page.getByRole('button', { name: 'Try again' })
        .waitFor({ timeout: 5000 });
    } finally {
      process.kill(redisPid, 'SIGCONT');
    }
    // the API comes back (nginx reconnects to Redis within a few
    // seconds): "Try again" brings the page
    const list = page.getByRole('link', { name: topic.name });
    await waitFor(async () => {
      if (await list.count()) return true;
      const retry = page.getByRole('button', { name: 'Try again' }).first();
      if (await retry.count()) await retry.click();
      return false;
    }, { timeout: 45000, interval: 1000,
         what: 'the topics list after "Try again" with Redis back' });
    assert.equal(await page.getByText(/unavailable/i).count(), 0,
                 'the error is gone');
  });

test('API answering 503: "unavailable" with "Try again"', async () => {
  let calls = 0;
  await page.route('**/api/v1/**', (route) => {
    calls++;
    return route.fulfill({
      status: 503, contentType: 'application/json',
      headers: { 'Retry-After': '1' },
      body: '{"error":{"code":"unavailable","message":"redis is down"}}',
    });
  });
  try {
    await page.goto(`${stack.url}/#/topics`);
    await page.reload();
    await page.getByText(/unavailable/i).first().waitFor();
    assert.ok(calls > 0, 'the page called the API');
    const retry = page.getByRole('button', { name: 'Try again' }).first();
    await retry.waitFor();
    const before = calls;
    await retry.click();
    await page.getByText(/unavailable/i).first().waitFor();
    assert.ok(calls > before, '"Try again" calls the API again');
  } finally {
    await page.unroute('**/api/v1/**');
  }
  await page.getByRole('button', { name: 'Try again' }).first().click();
  await page.getByRole('link', { name: topic.name }).waitFor();
});

test('rate limited (429 with Retry-After): "Too many requests"', async () => {
  await page.route('**/api/v1/**', (route) => route.fulfill({
    status: 429, contentType: 'application/json',
    headers: { 'Retry-After': '7' },
    body: '{"error":{"code":"rate_limited","message":"too many requests"}}',
  }));
  try {
    await page.goto(`${stack.url}/#/topics`);
    await page.reload();
    await page.getByText(/Too many requests/).first().waitFor();
    const text = await alertText();
    assert.match(text, /Too many requests/, `the alert says: ${text}`);
    assert.match(text, /7\s*s/, `the wait (Retry-After 7) is named: ${text}`);
  } finally {
    await page.unroute('**/api/v1/**');
  }
  await page.getByRole('button', { name: 'Try again' }).first().click();
  await page.getByRole('link', { name: topic.name }).waitFor();
  assert.equal(await page.getByText(/Too many requests/).count(), 0);
});

test('a session the API refuses: sign in, then back to the same page',
  async () => {
    await topicPage();
    const target = await hash();
    // the id token's signature broken, the refresh token revoked: what a
    // session looks like once the identity provider has ended it
    await page.evaluate(() => {
      const key = 'echostream.session';
      const s = JSON.parse(localStorage.getItem(key));
      const [h, p, sig] = s.idToken.split('.');
      const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
      s.idToken = [h, p, flipped].join('.');
      s.refreshToken = 'revoked-refresh-token';
      localStorage.setItem(key, JSON.stringify(s));
    });
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in', exact: true })
      .waitFor({ timeout: STEP_MS })
      .catch(async (e) => {
        throw new Error(`no sign-in screen for a refused session; at ` +
                        `${await hash()}: ${e.message}`);
      });
    const at = await hash();
    assert.ok(at.startsWith('#/signin'), `at ${at}`);
    const next = new URLSearchParams(at.split('?')[1] || '').get('next');
    assert.equal(next, target, `next names the page the user was on (${at})`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: topic.name })
      .waitFor({ timeout: STEP_MS });
    assert.equal(await hash(), target, 'back on the same page');
  });

test('"Sign out" ends the session', async () => {
  await topicPage();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  await sleep(300); // the revocation call may still be under way
  const stored = await page.evaluate(() =>
    Object.keys(localStorage).filter((k) => /session|token/i.test(k) &&
      localStorage.getItem(k)));
  assert.deepEqual(stored, [], 'no session or token left in localStorage');
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(),
               0, 'a signed-out page offers no "Sign out"');
  assert.equal(await page.getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Topics' }).count(), 0,
  'a signed-out page shows no navigation');
  // a signed-in page now asks to sign in, and the back button shows
  // nothing of the old session
  await page.goto(`${stack.url}/#/topics/${topic.id}`);
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  await page.goBack();
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  assert.equal(await page.getByText(topic.name).count(), 0,
               'the topic is not shown after sign-out');
});

test('nothing else went wrong on the way', () => {
  assert.deepEqual(g.problems({ allowResourceErrors: true }), []);
});
