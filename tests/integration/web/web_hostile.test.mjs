// web_hostile.test.mjs - comments written to attack the page reach it as
// plain text, in a real Chromium against the real stack.
//
// Each hostile comment is posted to the Reddit test server and travels the
// path every comment takes (ingest polls it, enrich scores it, the API
// serves it, the live stream pushes it), so what the page receives is what
// an attacker on Reddit could send. The API's copy of each comment (GET
// /topics/{id}/comments) is the reference: the page must show exactly that
// body and author as text, in the live feed and in the newest comments.
//
// What would show an injection: an element whose textContent is not the
// body (markup was parsed), an <img>/<script>/<iframe> in the page that the
// dashboard did not make, a dialog (alert(1) ran), a CSP violation (the
// browser had to block something), or a link whose href is javascript:.
// A topic named with markup (what an owner writes, every member reads) is
// checked the same way on the pages that name topics.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { waitFor } from '../../lib/harness.mjs';
import {
  api, openBrowser, ownerWithTopic, signIn, startStack,
} from '../../lib/web.mjs';

const EMAIL = 'hostile@example.test';
const PASSWORD = 'Hostile-Pass-42!';
const SUB = 'hostiletest';
const STEP_MS = 30000;

const LONG = ('A long comment that goes on and on. '.repeat(300))
  .slice(0, 9990) + ' THE END';
const HOSTILE = [
  { author: 'xss_img', body: '<img src=x onerror=alert(1)>' },
  { author: 'xss_script', body: '<script>alert(1)</script> after the tag' },
  { author: 'md_js', body: '[click](javascript:alert(1)) here' },
  { author: 'bare_js', body: 'javascript:alert(1)' },
  { author: 'md_link', body: 'see [the docs](https://example.com/docs) now' },
  { author: 'bidi_zw',
    body: 'invoice\u202Egnp.exe\u202C zero\u200Bwidth\u200D joiner ' +
          '\u2066isolate\u2069 \uFEFFbom' },
  { author: 'long_body', body: LONG },
  { author: '<img src=x onerror=alert(2)>', body: 'the author is the attack' },
  { author: 'javascript:alert(3)', body: 'the author is a js URL' },
  { author: 'html_entities', body: '&lt;b&gt;not bold&lt;/b&gt; & <b>nor this</b>' },
];

let stack;
let browser;
let page;
let g;
let topic;
let token;

before(async () => {
  stack = await startStack();
  ({ token, topic } = await ownerWithTopic(stack, { email: EMAIL, password: PASSWORD },
    { name: 'Hostile input', subreddits: [SUB], query: '' }));
  ({ browser, g, page } = await openBrowser(stack, STEP_MS));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

// The API's copies of the topic's comments.
async function apiComments() {
  const r = await api(stack, token, 'GET',
                      `/topics/${topic.id}/comments?limit=100`);
  assert.equal(r.status, 200, `GET comments: ${JSON.stringify(r.json)}`);
  return r.json.comments;
}

// Every rendered comment: its section's heading, data-id, and for the
// given texts whether some element inside holds exactly that text.
function rendered(texts) {
  return page.evaluate((want) => {
    const headingOf = (el) => {
      for (let a = el.parentElement; a; a = a.parentElement) {
        const h = a.querySelector('h2');
        if (h) return h.textContent.trim();
      }
      return '';
    };
    return [...document.querySelectorAll('article.comment')].map((a) => ({
      section: headingOf(a),
      id: a.dataset.id,
      text: a.textContent,
      exact: want.filter((t) => [a, ...a.querySelectorAll('*')]
        .some((el) => el.textContent === t)),
    }));
  }, texts);
}

// Elements and links the page must not have made from comment text.
function injected() {
  return page.evaluate(() => ({
    imgs: [...document.querySelectorAll('img')].map((i) => i.outerHTML),
    scripts: [...document.querySelectorAll('script')]
      .filter((s) => !/\/assets\/app-[^/]+\.js$/.test(s.src))
      .map((s) => s.outerHTML.slice(0, 120)),
    frames: document.querySelectorAll('iframe, object, embed').length,
    bold: document.querySelectorAll('main article b').length,
    badLinks: [...document.querySelectorAll('a[href]')]
      .map((a) => a.getAttribute('href'))
      .filter((h) => !/^(https?:\/\/|\/|#)/i.test(h.trim()) ||
                     /^\s*javascript:/i.test(h)),
    exampleLinks: [...document.querySelectorAll('a[href*="example.com"]')]
      .length,
  }));
}

test('hostile comments reach the live feed as text', async () => {
  await signIn(page, stack, EMAIL, PASSWORD);
  await page.goto(`${stack.url}/#/topics/${topic.id}`);
  await page.getByRole('heading', { level: 1, name: topic.name }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'Live comments' })
    .waitFor();
  // the page is open (its stream connected) before the comments exist
  await page.waitForTimeout(1500);
  for (const c of HOSTILE) stack.reddit.addComments(SUB, 1, c);

  const stored = await waitFor(async () => {
    const cs = await apiComments();
    return cs.length >= HOSTILE.length ? cs : null;
  }, { timeout: 60000, interval: 500,
       what: `${HOSTILE.length} comments ingested and enriched` });
  const bodies = stored.map((c) => c.body);
  for (const h of HOSTILE) {
    assert.ok(bodies.includes(h.body) ||
              bodies.some((b) => b.startsWith(h.body.slice(0, 50))),
              `the API holds the comment of ${h.author}`);
  }

  const live = await waitFor(async () => {
    const r = (await rendered(bodies))
      .filter((x) => /live/i.test(x.section));
    return r.length >= HOSTILE.length ? r : null;
  }, { timeout: 45000, interval: 500,
       what: `${HOSTILE.length} comments in the "Live comments" feed` })
    .catch(async (e) => {
      const all = await rendered([]);
      throw new Error(`${e.message}; rendered: ${JSON.stringify(
        all.map((x) => [x.section, x.id]))}`);
    });
  for (const body of bodies) {
    assert.ok(live.some((x) => x.exact.includes(body)),
              `live feed shows the body as text: ${JSON.stringify(
                body.slice(0, 80))}`);
  }
  for (const c of stored) {
    assert.ok(live.some((x) => x.text.includes(c.author)),
              `live feed names the author ${JSON.stringify(c.author)}`);
  }
  const bad = await injected();
  assert.deepEqual(bad.imgs, [], 'no <img> from comment text');
  assert.deepEqual(bad.scripts, [], 'no <script> but the app');
  assert.equal(bad.frames, 0, 'no frame/object/embed');
  assert.equal(bad.bold, 0, 'no <b> from comment text');
  assert.deepEqual(bad.badLinks, [], 'no javascript: or other odd links');
  assert.equal(bad.exampleLinks, 0, 'Markdown is not turned into links');
  assert.deepEqual(g.problems(), [], 'no dialog, error, CSP violation');
});

test('the same comments in "Newest comments" after a reload', async () => {
  const stored = await apiComments();
  const bodies = stored.map((c) => c.body);
  await page.reload();
  await page.getByRole('heading', { level: 2, name: 'Newest comments' })
    .waitFor();
  const newest = await waitFor(async () => {
    const r = (await rendered(bodies))
      .filter((x) => /newest/i.test(x.section));
    return r.length >= HOSTILE.length ? r : null;
  }, { timeout: STEP_MS, interval: 500,
       what: `${HOSTILE.length} comments in "Newest comments"` });
  for (const body of bodies) {
    assert.ok(newest.some((x) => x.exact.includes(body)),
              `newest comments show the body as text: ${JSON.stringify(
                body.slice(0, 80))}`);
  }
  const long = newest.find((x) => x.exact.some((t) => t.endsWith('THE END')));
  assert.ok(long, 'the 10,000-character body is shown whole');
  const bad = await injected();
  assert.deepEqual(bad.imgs, []);
  assert.deepEqual(bad.scripts, []);
  assert.equal(bad.bold, 0);
  assert.deepEqual(bad.badLinks, []);
  assert.equal(bad.exampleLinks, 0);
  // every "View on Reddit" link is Reddit's, opened safely
  const links = await page.getByRole('link', { name: 'View on Reddit' })
    .evaluateAll((as) => as.map((a) => ({
      href: a.href, rel: a.rel, target: a.target })));
  assert.ok(links.length >= HOSTILE.length, 'each comment links to Reddit');
  for (const l of links) {
    assert.match(l.href, /^https:\/\/www\.reddit\.com\/r\//, l.href);
    assert.match(l.rel, /noopener/, `rel of ${l.href}`);
    assert.match(l.rel, /noreferrer/, `rel of ${l.href}`);
    assert.equal(l.target, '_blank');
  }
  assert.deepEqual(g.problems(), [], 'no dialog, error, CSP violation');
});

// A topic's name is data too: an owner writes it and every member of the
// team sees it on the topics list, share of voice, summaries and alerts.
test('a topic named with markup shows as text on every page naming it',
  async () => {
    const name = '<img src=x onerror=alert(4)><b>bold</b>';
    const r = await api(stack, token, 'POST', '/topics',
                        { name, subreddits: [SUB], query: 'zzz' });
    assert.equal(r.status, 201, `POST /topics: ${JSON.stringify(r.json)}`);
    for (const [hash, what] of [['#/topics', 'topics list'],
                                ['#/share', 'share of voice'],
                                ['#/summaries', 'summaries'],
                                ['#/alerts/new', 'new alert rule']]) {
      await page.goto(`${stack.url}/${hash}`);
      await page.waitForFunction(() => document.body.dataset.ready === '1' &&
        !document.querySelector('main .state-loading'));
      const shown = await page.evaluate((n) => {
        const all = [...document.querySelectorAll('main *')];
        return {
          text: all.some((el) => el.textContent === n) ||
                [...document.querySelectorAll('main option')]
                  .some((o) => o.textContent === n),
          imgs: document.querySelectorAll('img').length,
          bold: document.querySelectorAll('main b').length,
        };
      }, name);
      assert.ok(shown.text, `${what} shows the name as text`);
      assert.equal(shown.imgs, 0, `${what}: no <img> from the name`);
      assert.equal(shown.bold, 0, `${what}: no <b> from the name`);
    }
    assert.deepEqual(g.problems(), [], 'no dialog, error, CSP violation');
  });
