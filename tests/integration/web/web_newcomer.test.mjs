// web_newcomer.test.mjs - the dashboard as a newcomer meets it under
// `make run`: the demo on (its default), no Reddit credentials. They open
// the URL, create an account with the code from the local inbox, create a
// topic, and comments with their sentiment arrive - within two minutes of
// opening the page, all told. The time it took is printed as a
// `newcomer:` line.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { waitFor } from '../../lib/harness.mjs';
import { mailbox, openBrowser, startStack } from '../../lib/web.mjs';

const USER = { email: 'newcomer@example.test', password: 'Newcomer-Pass-42!' };
const STEP_MS = 20000;
const LIMIT_MS = 120000;

let stack;
let browser;
let page;
let g;

before(async () => {
  stack = await startStack({ demo: true, reddit: false });
  ({ browser, g, page } = await openBrowser(stack, STEP_MS));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('sign up, create a topic, watch comments and sentiment arrive, in ' +
     'under two minutes', async () => {
  const box = mailbox(stack);
  const t0 = Date.now();
  await page.goto(`${stack.url}/`);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Email').fill(USER.email);
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByLabel('Confirmation code').fill(await box.code(USER.email, /confirmation code/));
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Topics' }).waitFor();
  await page.getByText('No topics yet').waitFor();

  await page.getByRole('link', { name: 'New topic' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Gadgets');
  await page.getByLabel('Subreddits').fill('technology, gadgets');
  await page.getByRole('button', { name: 'Create topic' }).click();
  await page.getByRole('heading', { level: 1, name: 'Gadgets' }).waitFor();

  // the demo's synthetic source writes to every watched subreddit
  const first = page.locator('article.comment .badge').first();
  await first.waitFor({ timeout: LIMIT_MS - (Date.now() - t0) });
  assert.match(await first.innerText(), /^(positive|neutral|negative|mixed)$/);
  await waitFor(async () => /[1-9][0-9,]* comments?/.test(
    await page.locator('main').innerText()), {
    timeout: Math.max(1000, LIMIT_MS - (Date.now() - t0)),
    what: 'the charts counting the new comments' });
  const ms = Date.now() - t0;
  console.log(`newcomer: from opening the page to comments and sentiment in ${(ms / 1000).toFixed(1)} s`);
  assert.ok(ms < LIMIT_MS, `took ${ms} ms`);
  assert.deepEqual(g.problems(), []);
});
