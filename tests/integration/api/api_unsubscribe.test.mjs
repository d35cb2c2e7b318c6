// api_unsubscribe.test.mjs - /api/v1/unsubscribe, the link at the foot of
// every digest and alert mail, against a real nginx with the module, a
// real Redis and cognito-local tokens.
//
// The link needs no token: its HMAC signature (lib/es_unsub.h, computed
// here with Node's own crypto, as the mail worker's C computes it) is the
// proof. GET shows a page that changes nothing; POST (RFC 8058's
// one-click body, the page's own button, or an empty body) turns the
// member's digest or alert mail off. Forgeries of every kind (another
// tenant's, member's or list's signature, a wrong key, a changed
// character, upper-case hex, none) are 403 and change nothing; unknown
// tenants and members get the answer a real one gets and no key is made;
// hostile arguments are 400 and never reflected; the page loads nothing
// and runs nothing; no log line carries a signature; the route is limited
// per client address, not per tenant. Without echostream_mail_secret_file
// the route answers 503 not_configured, and a bad secret file fails
// nginx -t. Every answer is checked against docs/openapi.yaml.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { apiConf, request, signToken, startApiStack } from '../../lib/api.mjs';
import { tmpDir } from '../../lib/harness.mjs';
import { nginxConfTest, startNginx } from '../../lib/nginx.mjs';
import { validateResponse } from '../../lib/openapi.mjs';
import { ONE_CLICK, mailSecret, unsubPath, unsubSig }
  from '../../lib/unsub.mjs';

let s;
let secret;

before(async () => {
  secret = await mailSecret();
  s = await startApiStack({
    extraConf: [secret.conf, '    echostream_membership_ttl 0;',
      '    echostream_rate_limit 50r/s burst=100;'].join('\n'),
  });
});

after(async () => {
  await s?.stop();
});

const api = (method, p, token, body, opts = {}) =>
  s.api(method, `/api/v1${p}`, { token, body, ...opts });
// a link request: no token at all
const link = (method, p, opts = {}) => s.api(method, p, opts);

const tag = () => randomBytes(4).toString('hex');

function assertError(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error.code, code, r.text);
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
}

// The owner of a new tenant, opted in to both: {sub, token, tenant}.
async function optedIn() {
  const sub = `own-${tag()}`;
  const token = signToken(s.cognito.idClaims({ sub }));
  const r = await api('PATCH', '/me', token, { digest: true,
    alert_email: true });
  assert.equal(r.status, 200, r.text);
  return { sub, token, tenant: r.json.tenant };
}

async function optins(u) {
  const r = await api('GET', '/me', u.token);
  return [r.json.digest, r.json.alert_email];
}

// the form's action, as a browser reads it from the page
function formAction(html) {
  const m = /<form method="post" action="([^"]*)">/.exec(html);
  assert.ok(m, html);
  return m[1].replace(/&amp;/g, '&').replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

test('a valid link: the page changes nothing, its button unsubscribes',
  async () => {
    const u = await optedIn();
    const p = unsubPath(secret.key, u.tenant, u.sub, 'digest');
    let r = await link('GET', p);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'], /^text\/html; charset=utf-8/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.headers['content-security-policy'],
      /^default-src 'none'; .*form-action 'self'.*frame-ancestors 'none'/);
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.match(r.text, /the daily digest/);
    // nothing to load, nothing to run
    const loads = /<script|<style|<link|<img|<iframe|src=|href=|https?:/i;
    assert.doesNotMatch(r.text, loads);
    assert.doesNotMatch(r.text, /style=|\son[a-z]+=/i);
    assert.deepEqual(await optins(u), [true, true], 'GET changes nothing');
    // HEAD too
    r = await link('HEAD', p);
    assert.equal(r.status, 200);
    assert.deepEqual(await optins(u), [true, true]);

    // the page's button posts its own field to the link it shows
    const action = formAction((await link('GET', p)).text);
    assert.ok(action.startsWith('?'), action);
    r = await link('POST', `/api/v1/unsubscribe${action}`, ONE_CLICK);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'], /^text\/plain/);
    assert.match(r.text, /no more the daily digest/);
    assert.deepEqual(await optins(u), [false, true]);
    // again: the same answer
    r = await link('POST', p, ONE_CLICK);
    assert.equal(r.status, 200, r.text);

    // the alerts list turns the other one off; an empty POST will do
    const pa = unsubPath(secret.key, u.tenant, u.sub, 'alerts');
    assert.match((await link('GET', pa)).text, /alert e-mails/);
    r = await link('POST', pa);
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /alert e-mails/);
    assert.deepEqual(await optins(u), [false, false]);

    // a token is neither needed nor looked at
    await api('PATCH', '/me', u.token, { digest: true });
    r = await link('POST', p, { ...ONE_CLICK,
      headers: { ...ONE_CLICK.headers, Authorization: 'Bearer forged.x.y' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(await optins(u), [false, false]);
  });

test('forged and mismatched signatures are 403 and change nothing',
  async () => {
    const a = await optedIn();
    const b = await optedIn();
    const k = secret.key;
    const good = unsubSig(k, a.tenant, a.sub, 'digest');
    const flip = `${good.slice(0, 10)}${good[10] === '0' ? '1' : '0'}${
      good.slice(11)}`;
    const forged = [
      // B's own valid signature on A's tenant, member or list
      unsubPath(k, a.tenant, a.sub, 'digest',
        { sig: unsubSig(k, b.tenant, b.sub, 'digest') }),
      unsubPath(k, a.tenant, b.sub, 'digest',
        { sig: unsubSig(k, b.tenant, b.sub, 'digest') }),
      unsubPath(k, b.tenant, a.sub, 'digest',
        { sig: unsubSig(k, a.tenant, a.sub, 'digest') }),
      // the digest's signature for the alerts
      unsubPath(k, a.tenant, a.sub, 'alerts', { sig: good }),
      // another key, one character changed, upper-case, cut, none
      unsubPath('another secret 0123456789', a.tenant, a.sub, 'digest'),
      unsubPath(k, a.tenant, a.sub, 'digest', { sig: flip }),
      unsubPath(k, a.tenant, a.sub, 'digest', { sig: good.toUpperCase() }),
      unsubPath(k, a.tenant, a.sub, 'digest', { sig: good.slice(0, 63) }),
      unsubPath(k, a.tenant, a.sub, 'digest', { sig: `${good}0` }),
      unsubPath(k, a.tenant, a.sub, 'digest', { sig: '' }),
      `/api/v1/unsubscribe?t=${a.tenant}&s=${a.sub}&l=digest`,
    ];
    for (const p of forged) {
      for (const method of ['GET', 'POST']) {
        const r = await link(method, p, method === 'POST' ? ONE_CLICK : {});
        assertError(r, 403, 'invalid_signature');
      }
    }
    assert.deepEqual(await optins(a), [true, true]);
    assert.deepEqual(await optins(b), [true, true]);
  });

test('unknown tenants and members get the same answer, and no key',
  async () => {
    const u = await optedIn();
    const cases = [['ghost', u.sub], [u.tenant, 'nobody-here'],
      ['ghost', 'nobody-here']];
    const known = await link('POST', unsubPath(secret.key, u.tenant, u.sub,
      'alerts'), ONE_CLICK);
    for (const [t, sub] of cases) {
      const r = await link('POST', unsubPath(secret.key, t, sub, 'alerts'),
        ONE_CLICK);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, known.text);
      assert.equal((await link('GET', unsubPath(secret.key, t, sub,
        'alerts'))).status, 200);
    }
    assert.equal(await s.redis.cmd('EXISTS', 'es:{t:ghost}:members'), 0);
    assert.equal(await s.redis.cmd('HEXISTS', `es:{t:${u.tenant}}:members`,
      'nobody-here'), 0);
  });

test('hostile arguments are 400 and never reflected', async () => {
  const u = await optedIn();
  const k = secret.key;
  const cases = [
    ['<script>alert(1)</script>', u.sub, 'digest', 't'],
    ['{t:victim}', u.sub, 'digest', 't'],
    ['../../etc', u.sub, 'digest', 't'],
    ['a'.repeat(65), u.sub, 'digest', 't'],
    ['', u.sub, 'digest', 't'],
    [u.tenant, '"><img src=x>', 'digest', 's'],
    [u.tenant, 'a b', 'digest', 's'],
    [u.tenant, 'x'.repeat(129), 'digest', 's'],
    [u.tenant, 'a\nb', 'digest', 's'],
    [u.tenant, u.sub, 'everything', 'l'],
    [u.tenant, u.sub, 'Digest', 'l'],
    [u.tenant, u.sub, '', 'l'],
  ];
  for (const [t, sub, l, field] of cases) {
    // signed as the mail worker would sign it, were it asked to
    const p = unsubPath(k, t, sub, l);
    for (const method of ['GET', 'POST']) {
      const r = await link(method, p);
      assertError(r, 400, 'bad_request', field);
      assert.doesNotMatch(r.text, /<script|<img|\{t:victim\}/);
    }
  }
  let r = await link('GET', `/api/v1/unsubscribe?t=${u.tenant}&s=${u.sub}` +
    '&l=digest&sig=%00');
  assertError(r, 403, 'invalid_signature');
  r = await link('GET', `/api/v1/unsubscribe?t=%ff&s=${u.sub}`);
  assertError(r, 400, 'bad_request', 't');

  // what a sub may hold is escaped on its way into the page
  const sub = `a+b.c:d@e_${tag()}`;
  const p = unsubPath(k, u.tenant, sub, 'digest');
  r = await link('GET', p);
  assert.equal(r.status, 200, r.text);
  const action = formAction(r.text);
  assert.equal(new URLSearchParams(action.slice(1)).get('s'), sub);
  assert.doesNotMatch(r.text, /action="[^"]*[<>][^"]*"/);

  // bodies: only the one-click field, or nothing
  const good = unsubPath(k, u.tenant, u.sub, 'digest');
  r = await link('POST', good, { body: '{"List-Unsubscribe":"One-Click"}',
    headers: { 'Content-Type': 'application/json' } });
  assertError(r, 415, 'unsupported_media_type');
  r = await link('POST', good, { body: 'List-Unsubscribe=Later',
    headers: ONE_CLICK.headers });
  assertError(r, 400, 'bad_request');
  r = await link('POST', good, { body: 'a'.repeat(70000),
    headers: ONE_CLICK.headers });
  assertError(r, 413, 'payload_too_large');
  assert.deepEqual(await optins(u), [true, true]);
  r = await link('POST', good, { body: 'x=1&List-Unsubscribe=One-Click\r\n',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; ' +
      'charset=utf-8' } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(await optins(u), [false, true]);

  // other methods
  r = await link('PUT', good);
  assertError(r, 405, 'method_not_allowed');
});

test('no log line carries a signature', async () => {
  const u = await optedIn();
  const sigs = [unsubSig(secret.key, u.tenant, u.sub, 'digest'),
    unsubSig(secret.key, u.tenant, u.sub, 'alerts'), 'f'.repeat(64)];
  await link('GET', unsubPath(secret.key, u.tenant, u.sub, 'digest'));
  await link('POST', `/api/v1/unsubscribe?SIG=${sigs[1]}&t=${u.tenant}&s=${
    u.sub}&l=alerts`, ONE_CLICK);
  await link('POST', unsubPath(secret.key, u.tenant, u.sub, 'digest',
    { sig: sigs[2] }));
  // a failure the module logs (with the request line, as nginx does): a
  // member record that does not decode
  const members = `es:{t:${u.tenant}}:members`;
  const rec = await s.redis.cmd('HGET', members, u.sub);
  await s.redis.cmd('HSET', members, u.sub, '{"broken"');
  const r = await link('POST', unsubPath(secret.key, u.tenant, u.sub,
    'digest'), ONE_CLICK);
  assertError(r, 500, 'internal');
  await s.redis.cmd('HSET', members, u.sub, rec);
  const logs = [s.nginx.errorLog(),
    readFileSync(path.join(s.nginx.prefix, 'logs', 'access.log'), 'utf8')];
  assert.match(logs[0],
    /request: "POST \/api\/v1\/unsubscribe\?t=.*sig=\*{64}/);
  assert.match(logs[1], /unsubscribe\?t=.*sig=\*{64}/);
  assert.match(logs[1], /unsubscribe\?SIG=\*{64}&t=/);
  for (const text of logs) {
    for (const sig of sigs) assert.ok(!text.includes(sig), sig);
    assert.ok(!text.includes(secret.key), 'the secret');
  }
});

test('the link is limited per client address, not per tenant', async () => {
  const u = await optedIn();
  const p = unsubPath(secret.key, u.tenant, u.sub, 'digest');
  const answers = [];
  for (let i = 0; i < 10 && !answers.some((r) => r.status === 429); i++) {
    answers.push(...await Promise.all(Array.from({ length: 100 }, () =>
      request(s.base, 'GET', p))));
  }
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(limited.length > 0, 'the address reached its limit');
  assert.ok(answers.every((r) => r.status === 200 || r.status === 429));
  for (const r of limited.slice(0, 3)) validateResponse('GET', p, r);
  // the tenant's own allowance is untouched
  const r = await api('GET', '/me', u.token);
  assert.equal(r.status, 200, r.text);
});

test('without a mail secret the route answers 503 not_configured',
  async () => {
    const n = await startNginx({ redisUrl: s.redis.url,
      ...apiConf(s.cognito) });
    try {
      const p = unsubPath(secret.key, 'acme', 'sub-1', 'digest');
      for (const method of ['GET', 'POST']) {
        const r = await request(n.url, method, p);
        validateResponse(method, p, r);
        assertError(r, 503, 'not_configured');
      }
    } finally {
      await n.stop();
    }
  });

test('a secret file nginx cannot use fails nginx -t, without its bytes',
  async () => {
    const dir = await tmpDir('es-mail-secret-');
    const short = path.join(dir, 'short');
    writeFileSync(short, 'tooshort-secret\n');
    const big = path.join(dir, 'big');
    writeFileSync(big, 'k'.repeat(5000));
    const cases = [[path.join(dir, 'missing'), /cannot open/],
      [short, /fewer than 16 bytes/], [big, /larger than 4096 bytes/]];
    for (const [file, why] of cases) {
      const r = await nginxConfTest({ ...apiConf(s.cognito, { extraConf:
        `    echostream_mail_secret_file ${file};` }) });
      assert.equal(r.ok, false, r.output);
      assert.match(r.output, /"echostream_mail_secret_file"/);
      assert.match(r.output, why);
      assert.ok(!r.output.includes('tooshort'), 'the bytes are not shown');
    }
    const ok = await nginxConfTest({ ...apiConf(s.cognito, { extraConf:
      `${secret.conf}\n    echostream_bedrock_budget_max 0;` }) });
    assert.equal(ok.ok, true, ok.output);
    const dup = await nginxConfTest({ ...apiConf(s.cognito, { extraConf:
      `${secret.conf}\n${secret.conf}` }) });
    assert.match(dup.output, /is duplicate/);
    const cap = await nginxConfTest({ ...apiConf(s.cognito, { extraConf:
      '    echostream_bedrock_budget_max 1000001;' }) });
    assert.match(cap.output, /"echostream_bedrock_budget_max" must be/);
  });
