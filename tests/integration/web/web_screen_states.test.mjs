// web_screen_states.test.mjs - every screen's empty, unavailable (503)
// and rate-limited (429) states, in a real browser against the real stack.
//
// web_states follows the topics list through a real Redis outage; this
// suite walks every main screen: a new team with nothing in it shows each
// screen's empty state (never an error, never a blank), and with every API
// call answered 503 or 429 (playwright's request routing, after the
// session and the membership were read) each screen says "unavailable" or
// "Too many requests" and offers "Try again" - which, once the API
// answers again, brings the screen back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { openBrowser, ownerWithTopic, signIn, startStack } from '../../lib/web.mjs';

const USER = { email: 'empty@screens.test', password: 'Screens-Pass-42!' };
const STEP_MS = 20000;

let stack;
let browser;
let page;
let g;
let topic;

before(async () => {
  stack = await startStack({ reddit: false });
  ({ topic } = await ownerWithTopic(stack, USER,
    { name: 'Quiet watch', subreddits: ['quietscreens'], query: '' }));
  ({ browser, g, page } = await openBrowser(stack, STEP_MS));
  await signIn(page, stack, USER.email, USER.password);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

// Goes to a screen without reloading (the session and membership stay
// read) and waits until nothing is loading.
async function visit(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  try {
    await page.waitForFunction(() => document.querySelector('main h1, main .state-error') &&
      !document.querySelector('main .state-loading'), null, { timeout: STEP_MS });
  } catch (err) {
    const text = await page.locator('main').innerText().catch(() => '?');
    throw new Error(`${hash}: still loading (no heading, no error) after ${STEP_MS} ms: ` +
                    `${text.slice(0, 400)}`);
  }
}

const SCREENS = ['#/topics', null, '#/share', '#/summaries', '#/alerts',
                 '#/team', '#/settings', '#/export'];
const screens = () => SCREENS.map((s) => s ?? `#/topics/${topic.id}`);

test('a new team: every screen shows content or an empty state, no error',
  async () => {
    const found = [];
    for (const hash of screens()) {
      await visit(hash);
      const errors = await page.locator('main .state-error').count();
      const text = (await page.locator('main').innerText()).trim();
      if (errors) found.push(`${hash}: an error state: ${text.slice(0, 200)}`);
      if (text.split('\n').length < 2) found.push(`${hash}: nearly blank: ${text}`);
    }
    assert.deepEqual(found, []);
    // the places that have nothing yet say so
    await visit('#/summaries');
    assert.match(await page.locator('main').innerText(), /no summar/i);
    await visit('#/alerts');
    assert.match(await page.locator('main').innerText(), /no (alert )?rules?|no alerts/i);
  });

for (const [status, code, words] of [
  [503, 'unavailable', /unavailable/i],
  [429, 'rate_limited', /Too many requests/],
]) {
  test(`every screen with the API answering ${status}: "${words.source}" and ` +
       '"Try again" that works once the API is back', async () => {
    const found = [];
    for (const hash of screens()) {
      // leave, so the screen is built afresh
      await visit(hash === '#/team' ? '#/export' : '#/team');
      await page.route('**/api/v1/**', (route) => route.fulfill({
        status, contentType: 'application/json',
        headers: { 'Retry-After': '2' },
        body: JSON.stringify({ error: { code, message: 'from the test' } }),
      }));
      try {
        await visit(hash);
        const text = await page.locator('main').innerText();
        if (!words.test(text)) found.push(`${hash}: no "${words.source}" in: ${text.slice(0, 200)}`);
        const retry = page.locator('main').getByRole('button', { name: 'Try again' });
        if (!await retry.count()) found.push(`${hash}: no "Try again"`);
      } finally {
        await page.unroute('**/api/v1/**');
      }
      const retry = page.locator('main').getByRole('button', { name: 'Try again' });
      for (let i = await retry.count(); i > 0; i -= 1) {
        await retry.first().click();
        await page.waitForFunction(() => !document.querySelector('main .state-loading'));
      }
      if (await page.locator('main .state-error').count()) {
        found.push(`${hash}: still an error after "Try again" with the API back`);
      }
    }
    assert.deepEqual(found, []);
  });
}

test('nothing else went wrong on the way', () => {
  assert.deepEqual(g.problems({ allowResourceErrors: true }), []);
});
