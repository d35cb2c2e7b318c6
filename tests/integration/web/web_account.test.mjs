// web_account.test.mjs - the account screens' other paths in a real
// browser against the real stack: a forgotten password reset with the
// code from the local mail inbox, "Send a new code" on the confirmation
// screen, and the session's refresh (before the id token expires, by the
// timer and on demand, both with REFRESH_TOKEN_AUTH against the identity
// provider, without the user doing anything).
//
// cognito-local's tokens live a day, so the test moves the stored
// session's expiry (localStorage) instead of waiting: the dashboard
// decides when to refresh from that figure alone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { waitFor } from '../../lib/harness.mjs';
import {
  createUser, guard, launchBrowser, mailbox, signIn, startStack,
} from '../../lib/web.mjs';

const USER = { email: 'reset@account.test', password: 'First-Pass-42!' };
const NEWPASS = 'Second-Pass-42!';
const LATE = { email: 'late@account.test', password: 'Late-Pass-42!' };
const STEP_MS = 20000;

let stack;
let box;
let browser;
let page;
let g;
const refreshes = [];

before(async () => {
  stack = await startStack({ reddit: false });
  box = mailbox(stack);
  await createUser(stack, USER.email, USER.password);
  browser = await launchBrowser();
  g = await guard(browser, stack);
  page = browser.pages()[0] ?? await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('request', (r) => {
    if (r.url().startsWith(stack.cognitoUrl) &&
        /InitiateAuth$/.test(r.headers()['x-amz-target'] || '') &&
        /REFRESH_TOKEN_AUTH/.test(r.postData() || '')) {
      refreshes.push(Date.now());
    }
  });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const heading = (name) => page.getByRole('heading', { level: 1, name, exact: true });

test('a forgotten password is reset with the mailed code', async () => {
  await page.goto(`${stack.url}/#/signin`);
  await heading('Sign in').waitFor();
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await heading('Reset your password').waitFor();
  await page.getByLabel('Email').fill(USER.email);
  await page.getByRole('button', { name: 'Send code' }).click();
  const code = await box.code(USER.email, /reset code/);
  await page.getByLabel('Code', { exact: true }).fill(code);
  await page.getByLabel('New password').fill(NEWPASS);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await heading('Sign in').waitFor();
  assert.equal(await page.getByLabel('Email').inputValue(), USER.email,
               'the address is filled in');
  // the old password no longer works, the new one does
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: /Wrong e-mail or password/ })
    .waitFor().catch(async (e) => {
      throw new Error(`${e.message}\nat ${page.url()}: ${await page.locator('body').innerText()}`);
    });
  await signIn(page, stack, USER.email, NEWPASS, { next: true });
});

test('the session refreshes itself before the id token expires', async () => {
  const before = await page.evaluate(() =>
    JSON.parse(localStorage.getItem('echostream.session')));
  assert.ok(before?.refreshToken, 'a refresh token is kept');
  // five minutes and three seconds left: the timer fires in about 3 s
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('echostream.session'));
    s.expiresAt = Date.now() + 5 * 60 * 1000 + 3000;
    localStorage.setItem('echostream.session', JSON.stringify(s));
  });
  const n = refreshes.length;
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Topics' }).waitFor();
  await waitFor(() => refreshes.length > n, {
    timeout: 15000, what: 'a REFRESH_TOKEN_AUTH call by the timer' });
  const after = await page.evaluate(() =>
    JSON.parse(localStorage.getItem('echostream.session')));
  assert.ok(after.expiresAt > Date.now() + 10 * 60 * 1000,
            'the new tokens expire later than the old ones were made to');

  // almost expired: the next API call refreshes first
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('echostream.session'));
    s.expiresAt = Date.now() + 20 * 1000;
    localStorage.setItem('echostream.session', JSON.stringify(s));
  });
  const m = refreshes.length;
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Topics' }).waitFor();
  await waitFor(() => refreshes.length > m, {
    timeout: 15000, what: 'a REFRESH_TOKEN_AUTH call before the API call' });
  assert.equal(await page.getByRole('alert').filter({ hasText: /\S/ }).count(), 0);
});

test('"Send a new code" mails a second code that confirms the account',
  async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Sign in').waitFor();
    await page.goto(`${stack.url}/#/signup`);
    await heading('Create an account').waitFor();
    await page.getByLabel('Email').fill(LATE.email);
    await page.getByLabel('Password').fill(LATE.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await heading('Confirm your e-mail').waitFor();
    const first = await box.code(LATE.email, /confirmation code/);
    await page.getByRole('button', { name: 'Send a new code' }).click();
    await page.getByText(/new code is on its way/).waitFor();
    const second = await box.code(LATE.email, /confirmation code/);
    // the first code is spent when a new one is sent (as in Cognito)
    if (first !== second) {
      await page.getByLabel('Confirmation code').fill(first);
      await page.getByRole('button', { name: 'Confirm', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: /code is not right/ }).waitFor();
    }
    await page.getByLabel('Confirmation code').fill(second);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Topics' }).waitFor();
  });

test('nothing else went wrong on the way', () => {
  // the wrong password and the spent code were asked for
  const asked = /status of 400/;
  const problems = g.problems().filter((p) => !(p.startsWith('console errors') &&
    p.replace(/\(responses:.*$/, '').split(' | ').every((t) => asked.test(t))));
  assert.deepEqual(problems, []);
});
