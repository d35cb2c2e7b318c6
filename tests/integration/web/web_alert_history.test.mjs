// web_alert_history.test.mjs - the alert history on the Alerts page, in a
// real browser against the real stack.
//
// A real alert needs a week of baseline (alert_e2e builds one through the
// workers); here the entries are written where the alert worker writes
// them - es:{t:<tenant>}:alerts:history, field `event`, in the shape
// docs/alerts.md gives - so the page reads them through the real API. Each
// event shows its figures and its sample comments; a sample's body and
// author are text, and only a Reddit link becomes a link (a javascript:
// one does not).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { RedisClient } from '../../lib/harness.mjs';
import {
  api, openBrowser, ownerWithTopic, signIn, startStack,
} from '../../lib/web.mjs';

const USER = { email: 'history@alerts.test', password: 'History-Pass-42!' };
const STEP_MS = 20000;
const HOSTILE = '<img src=x onerror=alert(1)> spike [here](javascript:alert(2))';

let stack;
let browser;
let page;
let g;
let topic;

function event(topicId, n, samples) {
  return {
    rule: 'spikerule1', topic: topicId, metric: 'negative_share',
    fired: `2026-11-2${n}T14:02:11Z`, window_minutes: 60,
    window: { from: `2026-11-2${n}T13:03:00Z`, to: `2026-11-2${n}T14:02:11Z` },
    observed: 0.62, baseline: { mean: 0.18, stddev: 0.05, hours: 168 },
    threshold: 0.33, sensitivity: 3.0, volume: 143, samples,
  };
}

before(async () => {
  stack = await startStack({ reddit: false });
  let token;
  ({ token, topic } = await ownerWithTopic(stack, USER,
    { name: 'History watch', subreddits: ['historytest'], query: '' }));
  const rule = await api(stack, token, 'POST', '/alerts/rules', {
    id: 'spikerule1', topic: topic.id, enabled: true, metric: 'negative_share',
    window_minutes: 60, min_volume: 20, sensitivity: 3, cooldown_minutes: 60,
    email: ['ops@alerts.test'], webhook: null,
  });
  assert.equal(rule.status, 201, JSON.stringify(rule.json));
  const me = await api(stack, token, 'GET', '/me');
  const redis = new RedisClient(stack.ports.redis);
  const password = readFileSync(path.join(stack.varDir, 'run', 'redis.password'), 'utf8').trim();
  assert.equal(await redis.cmd('AUTH', password), 'OK');
  const key = `es:{t:${me.json.tenant}}:alerts:history`;
  await redis.cmd('XADD', key, '*', 'event', JSON.stringify(event(topic.id, 4, [
    { id: 'k2x9q1', body: 'the old spike, plainly worded', author: 'alice',
      subreddit: 'historytest', label: 'negative', compound: -0.81,
      link: 'https://www.reddit.com/r/historytest/comments/abc/_/k2x9q1/' },
  ])));
  await redis.cmd('XADD', key, '*', 'event', JSON.stringify(event(topic.id, 5, [
    { id: 'k2x9q2', body: HOSTILE, author: '<b>mallory</b>',
      subreddit: 'historytest', label: 'negative', compound: -0.9,
      link: 'javascript:alert(3)' },
  ])));
  redis.close();
  ({ browser, g, page } = await openBrowser(stack, STEP_MS));
  await signIn(page, stack, USER.email, USER.password);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the history shows each event, its figures and its samples as text',
  async () => {
    await page.goto(`${stack.url}/#/alerts`);
    await page.getByRole('heading', { level: 2, name: 'Alert history' }).waitFor();
    const history = page.locator('section, div', {
      has: page.getByRole('heading', { level: 2, name: 'Alert history' }) }).last();
    await history.getByText('the old spike, plainly worded').waitFor();
    const text = await history.innerText();
    assert.match(text, /History watch/, 'names the topic');
    assert.match(text, /62(\.0)?\s*%/, 'the observed share');
    assert.match(text, /143/, 'the volume');
    // the hostile sample: its exact text, no element made of it
    await history.getByText(HOSTILE, { exact: false }).first().waitFor();
    assert.match(text, /<b>mallory<\/b>/, 'the author as text');
    assert.equal(await page.locator('main img, main b, main script').count(), 0);
    const hrefs = await history.locator('a').evaluateAll((as) => as.map((a) => a.href));
    assert.ok(hrefs.some((h) => h.startsWith('https://www.reddit.com/r/historytest/')),
              `the Reddit link: ${hrefs}`);
    assert.ok(!hrefs.some((h) => /^javascript:/i.test(h)), `no javascript: link: ${hrefs}`);
    assert.deepEqual(g.problems(), []);
  });
