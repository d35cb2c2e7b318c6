// web_live.test.mjs - the live feed across a dropped connection, in a real
// browser against the real stack.
//
// The topic page reads /api/v1/stream with fetch() (docs/dashboard.md).
// When the connection drops - here nginx is reloaded (SIGHUP to the pid
// run.sh recorded), which ends its old workers' streams - the page says it
// is reconnecting, connects again with Last-Event-ID set to the last entry
// id it received, and the comments posted meanwhile arrive exactly once:
// none lost, none shown twice.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { waitFor } from '../../lib/harness.mjs';
import { openBrowser, ownerWithTopic, signIn, startStack } from '../../lib/web.mjs';

const USER = { email: 'live@feed.test', password: 'Live-Pass-42!' };
const SUB = 'livefeedtest';
const STEP_MS = 30000;

let stack;
let browser;
let page;
let g;
let topic;
const streams = [];

before(async () => {
  stack = await startStack();
  ({ topic } = await ownerWithTopic(stack, USER,
    { name: 'Live watch', subreddits: [SUB], query: '' }));
  ({ browser, g, page } = await openBrowser(stack, STEP_MS));
  page.on('request', (r) => {
    if (r.url().endsWith('/api/v1/stream')) {
      streams.push({ at: Date.now(), lastEventId: r.headers()['last-event-id'] ?? null });
    }
  });
  await signIn(page, stack, USER.email, USER.password);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});


// The ids of the comments in the live list (once each, or the test says so).
async function liveIds() {
  return page.evaluate(() => {
    const h2 = [...document.querySelectorAll('main h2')]
      .find((e) => e.textContent.trim() === 'Live comments');
    const box = h2 ? h2.closest('section') || h2.parentElement : document;
    return [...box.querySelectorAll('article.comment')].map((a) => a.dataset.id);
  });
}

test('a comment arrives live, the connection drops, the next ones arrive once',
  async () => {
    await page.goto(`${stack.url}/#/topics/${topic.id}`);
    await page.getByRole('heading', { level: 1, name: topic.name }).waitFor();
    await page.getByText('Live', { exact: true }).first().waitFor();
    const [first] = stack.reddit.addComments(SUB, 1, { body: 'first live comment, all good' });
    await waitFor(async () => (await liveIds()).length === 1,
                  { timeout: STEP_MS, what: 'the first comment in the live list' });
    const before = streams.length;
    assert.ok(before >= 1, 'the page opened the stream');

    // drop the connection: nginx reloads, its old workers end their streams
    const nginx = stack.pids().nginx;
    assert.ok(nginx, 'run.sh recorded nginx');
    process.kill(nginx, 'SIGHUP');
    await waitFor(() => streams.length > before,
                  { timeout: STEP_MS, what: 'a new /stream request after the drop' });
    const again = streams[streams.length - 1];
    assert.match(String(again.lastEventId), /^[0-9]+-[0-9]+$/,
                 `the reconnect names the last entry: ${JSON.stringify(again)}`);

    stack.reddit.addComments(SUB, 2, { body: 'after the reconnect, still fine' });
    await waitFor(async () => (await liveIds()).length === 3,
                  { timeout: STEP_MS, what: 'three comments in the live list' });
    const ids = await liveIds();
    assert.equal(new Set(ids).size, ids.length, `no comment twice: ${ids}`);
    assert.ok(ids.includes(first), `the first comment ${first} is still there: ${ids}`);
    await page.getByText('Live', { exact: true }).first().waitFor();
  });

test('nothing else went wrong on the way', () => {
  // the dropped stream may show as a network error on the console
  const problems = g.problems({ allowResourceErrors: true }).filter((p) =>
    !(p.startsWith('console errors') && /ERR_INCOMPLETE_CHUNKED_ENCODING|network error/i.test(p)));
  assert.deepEqual(problems, []);
});
