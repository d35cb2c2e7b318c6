// web_access.test.mjs - the dashboard by keyboard alone and on a 360 px
// phone, in a real browser against the real stack.
//
//   * keyboard only: sign in, reach the navigation, create a topic and land
//     on its page with Tab, typing and Enter, never a click; every element
//     the Tab key reaches shows a visible focus indicator (an outline or a
//     box shadow that is not none);
//   * on every main screen, as an owner (who sees every form): every
//     visible form control has a visible <label>, every visible button is
//     named by its own text (no aria-label standing in for it), and at
//     360 px nothing is wider than the screen (no sideways scrolling).
//
// axe (web_journey) checks contrast and names in general; these are the
// issue's own rules, checked directly.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { openBrowser, ownerWithTopic, startStack } from '../../lib/web.mjs';

const USER = { email: 'keys@access.test', password: 'Keys-Pass-42!' };
const STEP_MS = 20000;
const PHONE = { width: 360, height: 740 };

let stack;
let browser;
let page;
let g;
let ruleTopic;

before(async () => {
  stack = await startStack({ reddit: false });
  ({ topic: ruleTopic } = await ownerWithTopic(stack, USER,
    { name: 'Access watch', subreddits: ['accesstest'], query: '' }));
  ({ browser, g, page } = await openBrowser(stack, STEP_MS));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

// What the focused element is, and whether its focus shows.
function focused() {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const cs = getComputedStyle(el);
    const label = el.labels && el.labels[0] ? el.labels[0].textContent.trim() : '';
    return {
      tag: el.tagName.toLowerCase(),
      name: (label || el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 60),
      visibleFocus: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) ||
        (cs.boxShadow && cs.boxShadow !== 'none'),
    };
  });
}

// Presses Tab until the focused element's name matches want; every stop
// on the way must show its focus.
async function tabTo(want, max = 80) {
  const seen = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused();
    if (!f) continue;
    assert.ok(f.visibleFocus, `no visible focus on <${f.tag}> "${f.name}"`);
    seen.push(f.name);
    if (want.test(f.name)) return f;
  }
  throw new Error(`Tab never reached ${want}; reached: ${seen.join(' / ')}`);
}

test('sign in, navigate and create a topic by keyboard alone', async () => {
  await page.goto(`${stack.url}/#/signin`);
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  await page.evaluate(() => document.activeElement?.blur());
  await tabTo(/^Email$/);
  await page.keyboard.type(USER.email);
  await tabTo(/^Password$/);
  await page.keyboard.type(USER.password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Topics' }).waitFor();

  await tabTo(/^New topic$/);
  await page.keyboard.press('Enter');
  await page.getByLabel('Name', { exact: true }).waitFor();
  await page.evaluate(() => document.activeElement?.blur());
  await tabTo(/^Name$/);
  await page.keyboard.type('Typed by keys');
  await tabTo(/^Subreddits$/);
  await page.keyboard.type('keyboardtest, r/accesstest');
  await tabTo(/^Keyword query$/);
  await page.keyboard.type('"focus ring" OR tab*');
  await tabTo(/^Create topic$/);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Typed by keys' }).waitFor();

  // the navigation by keyboard: Settings
  await tabTo(/^Settings$/);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
});

const SCREENS = [
  ['#/topics', 'Topics'],
  [null, 'Access watch'], // the topic page, filled in below
  ['#/topics/new', 'New topic'],
  ['#/share', 'Share of voice'],
  ['#/summaries', 'Summaries'],
  ['#/alerts', 'Alerts'],
  ['#/alerts/new', null],
  ['#/team', 'Team'],
  ['#/settings', 'Settings'],
  ['#/export', 'Export'],
];

test('every screen: labelled controls, buttons named by their text, no ' +
     'sideways scrolling at 360 px', async () => {
  await page.setViewportSize(PHONE);
  const problems = [];
  for (let [hash, h1] of SCREENS) {
    if (!hash) hash = `#/topics/${ruleTopic.id}`;
    await page.goto(`${stack.url}/${hash}`);
    if (h1) await page.getByRole('heading', { level: 1, name: h1 }).waitFor();
    await page.waitForFunction(() => document.body.dataset.ready === '1' &&
      !document.querySelector('main .state-loading'));
    const found = await page.evaluate(() => {
      const out = [];
      const visible = (el) => {
        const r = el.getBoundingClientRect();
        const cs = getComputedStyle(el);
        return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' &&
          !el.closest('[hidden]');
      };
      for (const el of document.querySelectorAll('input, select, textarea')) {
        if (el.type === 'hidden' || !visible(el)) continue;
        const labels = [...(el.labels || [])].filter((l) => visible(l) &&
          l.textContent.trim() && !l.classList.contains('visually-hidden'));
        if (!labels.length) out.push(`a <${el.tagName.toLowerCase()} name="${el.name}"> without a visible label`);
      }
      for (const b of document.querySelectorAll('button')) {
        if (!visible(b)) continue;
        const text = b.textContent.trim();
        if (!text) out.push('a button without text');
        const aria = b.getAttribute('aria-label');
        if (aria && aria.trim() !== text) out.push(`button "${text}" is named "${aria}" instead`);
      }
      const wide = document.documentElement.scrollWidth;
      if (wide > window.innerWidth) out.push(`the page is ${wide} px wide at ${window.innerWidth} px`);
      return out;
    });
    for (const f of found) problems.push(`${hash}: ${f}`);
  }
  assert.deepEqual(problems, []);
});

test('nothing else went wrong on the way', () => {
  assert.deepEqual(g.problems(), []);
});
