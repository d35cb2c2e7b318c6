// web_units.test.mjs - the dashboard's pure functions, in Node, on the
// inputs a hostile API answer or URL could give them: safeHref (the only
// gate between data and a live link), the router's hash parsing and the
// session's reading of token claims. The browser suites check the same
// properties end to end; these pin the edge cases down one by one.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { safeHref } from '../../../web/src/dom.js';
import { parseHash } from '../../../web/src/router.js';
import { claimsOf } from '../../../web/src/auth.js';
import { ApiError } from '../../../web/src/api.js';
import { fmtPct, fmtUsd, fmtAgo, sentimentOf } from '../../../web/src/format.js';

test('safeHref lets through http(s) and same-site paths only', () => {
  assert.equal(safeHref('https://www.reddit.com/r/rust/comments/x/_/y/'),
               'https://www.reddit.com/r/rust/comments/x/_/y/');
  assert.equal(safeHref('http://example.com/a?b=c'), 'http://example.com/a?b=c');
  assert.equal(safeHref('/api/v1/export.csv'), '/api/v1/export.csv');
  assert.equal(safeHref('#/topics/abc'), '#/topics/abc');
  for (const bad of [
    'javascript:alert(1)', 'JavaScript:alert(1)', ' javascript:alert(1)',
    'java\tscript:alert(1)', 'java\nscript:alert(1)', 'data:text/html,<script>1</script>',
    'vbscript:x', 'file:///etc/passwd', '//evil.example/x', 'blob:https://x/y',
    'mailto:a@b', '', null, undefined, 42, {}, 'x'.repeat(5000),
    'javascript&colon;alert(1)', '\u0000javascript:alert(1)',
  ]) {
    const out = safeHref(bad);
    assert.ok(out === null || /^(https?:|\/[^/]|#)/.test(out),
              `${JSON.stringify(bad)} -> ${JSON.stringify(out)}`);
    assert.ok(out === null || !/script:/i.test(out), `${JSON.stringify(bad)} stays dead`);
  }
  // a relative word is not a URL of ours (it would resolve against the page)
  assert.equal(safeHref('javascript&colon;alert(1)'), null);
});

test('parseHash splits path and query, tolerating junk', () => {
  assert.deepEqual(parseHash('#/topics/abc?step=hour&range=7d'),
                   ['/topics/abc', { step: 'hour', range: '7d' }]);
  assert.deepEqual(parseHash(''), ['/', {}]);
  assert.deepEqual(parseHash('#'), ['/', {}]);
  assert.deepEqual(parseHash('#/signin?next=%23%2Fsettings'),
                   ['/signin', { next: '#/settings' }]);
  const [p, q] = parseHash('#/x?%E0%A4%A=1&a=%ZZ');
  assert.equal(p, '/x');
  assert.equal(typeof q, 'object');
});

test('claimsOf reads a JWT payload and survives garbage', () => {
  const payload = Buffer.from(JSON.stringify({ exp: 123, email: 'zoë@example.com' }))
    .toString('base64url');
  assert.deepEqual(claimsOf(`x.${payload}.y`), { exp: 123, email: 'zoë@example.com' });
  for (const bad of ['', 'a', 'a.b.c', 'a.!!!.c', null, undefined, 'a.bnVsbA.c']) {
    const c = claimsOf(bad);
    assert.ok(c === null || typeof c === 'object', String(bad));
  }
});

test('ApiError carries the API error shape', () => {
  const e = new ApiError(422, { code: 'invalid_query', message: 'unexpected )',
                                position: 7, column: 8, field: 'query' }, undefined);
  assert.equal(e.status, 422);
  assert.equal(e.code, 'invalid_query');
  assert.equal(e.field, 'query');
  assert.equal(e.position, 7);
  assert.equal(e.message, 'unexpected )');
  const down = new ApiError(0, null);
  assert.equal(down.code, 'network');
  assert.match(down.message, /cannot be reached/);
  const limited = new ApiError(429, { code: 'rate_limited', message: 'slow down' }, 3);
  assert.equal(limited.retryAfter, 3);
});

test('format helpers never print NaN or undefined', () => {
  for (const f of [fmtPct, fmtUsd, fmtAgo]) {
    for (const v of [undefined, null, NaN, Infinity, 'x', {}]) {
      const out = f(v);
      assert.ok(!/NaN|undefined|Infinity/.test(out), `${f.name}(${String(v)}) = ${out}`);
    }
  }
  assert.equal(fmtPct(0.234), '23.4%');
  assert.equal(sentimentOf('NEGATIVE'), 'negative');
  assert.equal(sentimentOf('<img>'), 'neutral');
});
