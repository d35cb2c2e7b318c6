// api_asan.test.mjs - the module under AddressSanitizer + UBSan inside the
// real nginx: every route, hostile input, clients that go away while their
// Redis command is pending, a Redis that dies and returns, streams closed
// mid-way; then a graceful stop, whose exit runs LeakSanitizer in every
// worker. Any report (memory error, undefined behaviour, leak) fails.
//
// The module is build/asan/ngx_http_echostream_module.so (make
// module-asan); nginx itself is Debian's, with the sanitizer runtimes
// preloaded.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { hostile, request } from '../../lib/api.mjs';
import { startAsanStack } from '../../lib/asan.mjs';
import { ROOT, sleep, waitFor } from '../../lib/harness.mjs';
import { ONE_CLICK, mailSecret, unsubPath } from '../../lib/unsub.mjs';

let stack;
let redis;
let cognito;
let nginx;
let owner;
let tenant;
let secret;

before(async () => {
  secret = await mailSecret();
  stack = await startAsanStack({
    extraConf: `    echostream_redis_timeout 600;\n${secret.conf}\n` +
      // the price file is parsed (and /usage predicts) under the sanitizers too
      `    echostream_prices ${path.join(ROOT, 'deploy', 'aws', 'prices.json')} t4g.micro 8;` });
  ({ redis, cognito, nginx } = stack);
  owner = await cognito.user('asan-owner@asan.test');
  const me = await request(nginx.url, 'GET', '/api/v1/me',
    { token: owner.idToken });
  assert.equal(me.status, 200, me.text);
  tenant = me.json.tenant;
});

after(async () => {
  await stack?.stop();
});

const reports = () => stack.reports();

test('the sanitizer runtime is really loaded into the workers', () => {
  const pids = execFileSync('pgrep', ['-P', String(nginx.proc.child.pid)])
    .toString().trim().split('\n');
  assert.ok(pids.length >= 1);
  const maps = readFileSync(`/proc/${pids[0]}/maps`, 'utf8');
  assert.match(maps, /libasan/);
});

test('every route, good and bad input', async () => {
  const t = owner.idToken;
  const api = (m, p, o = {}) => request(nginx.url, m, p, { token: t, ...o });
  let r = await api('POST', '/api/v1/topics', { body: { id: 'rust',
    name: 'Rust', subreddits: ['rust'], query: 'borrow OR "async fn"' } });
  assert.ok([201, 409].includes(r.status), r.text);
  await api('POST', '/api/v1/topics', { body: { name: 'x', subreddits: [],
    query: '((' } });
  await api('PATCH', '/api/v1/topics/rust', { body: { name: 'Rust 2' } });
  await api('PUT', '/api/v1/topics/rust', { body: { name: 'Rust',
    subreddits: ['rust', 'programming'], query: '' } });
  for (const p of ['/me', '/topics', '/topics/rust', '/topics/rust/series',
    '/topics/rust/series', '/topics/rust/series?step=minute',
    '/topics/rust/series?step=minute', '/topics/rust/series?step=day',
    '/topics/rust/series?from=garbage', '/topics/rust/comments?limit=5',
    '/topics/rust/comments?cursor=%ff%00', '/topics/rust/terms',
    '/share-of-voice', '/usage', '/settings', '/summaries', '/alerts',
    '/alerts/rules', '/alerts/history', '/members', '/topics/nope/series']) {
    r = await api('GET', `/api/v1${p}`);
    assert.ok(r.status < 500, `${p}: ${r.status} ${r.text}`);
  }
  r = await api('GET', '/api/v1/usage');
  assert.equal(r.json.prediction.instance, 't4g.micro', r.text);
  await api('POST', '/api/v1/alerts/rules', { body: { topic: 'rust' } });
  await api('POST', '/api/v1/members', { body: { email: 'm@asan.test' } });
  await api('POST', '/api/v1/summaries', { body: {} });
  await api('PATCH', '/api/v1/settings', { body: { retention_days: 7 } });
  // every settable member at once: the most arguments the FCALL can take
  r = await api('PATCH', '/api/v1/settings', { body: { engine: 'comprehend',
    comprehend_budget_usd: 12.5, retention_days: 30, summary_hour: 23,
    time_zone: 'America/Argentina/Buenos_Aires', bedrock_budget_usd: 7.25 } });
  assert.equal(r.status, 200, r.text);
  await api('POST', '/api/v1/topics', { body: '{"a":',
    headers: { 'Content-Type': 'application/json' } });
  await api('POST', '/api/v1/topics', { body: Buffer.from([0x7b, 0xff]),
    headers: { 'Content-Type': 'application/json' } });
  r = await api('GET', '/api/v1/export.csv?topic=rust');
  assert.ok(r.status < 500, r.text);
  await api('DELETE', '/api/v1/topics/rust');
  // a cached series answer of a topic that is gone
  r = await api('GET', '/api/v1/topics/rust/series');
  assert.equal(r.status, 404, r.text);
  r = await api('POST', '/api/v1/topics', { body: { id: 'kept',
    name: 'Kept', subreddits: ['rust'] } });
  assert.ok([201, 409].includes(r.status), r.text);

  // the opt-ins, the webhook secret, summary requests
  r = await api('PATCH', '/api/v1/me', { body: { digest: true,
    alert_email: true } });
  assert.equal(r.status, 200, r.text);
  await api('PATCH', '/api/v1/me', { body: { digest: 'yes' } });
  for (const m of ['GET', 'POST', 'GET']) {
    r = await api(m, '/api/v1/settings/webhook-secret');
    assert.equal(r.status, 200, r.text);
  }
  r = await api('POST', '/api/v1/summaries', { body: { topic: 'kept' } });
  assert.equal(r.status, 202, r.text);
  const id = r.json.request.id;
  r = await api('POST', '/api/v1/summaries', { body: { topic: 'kept' } });
  assert.equal(r.json.request.id, id);
  for (const p of [id, 'nope', 'x'.repeat(64)]) {
    r = await api('GET', `/api/v1/summaries/requests/${p}`);
    assert.ok(r.status < 500, r.text);
  }
  await redis.cmd('HSET', `es:{t:${tenant}}:summary_requests`, 'bad1',
    '{"id":"bad1","status":"queued","topic":null,"requested":"x"}');
  r = await api('GET', '/api/v1/summaries/requests/bad1');
  assert.equal(r.status, 404, r.text);
  await api('PATCH', '/api/v1/settings', { body: { time_zone: '../../x' } });
  await api('PATCH', '/api/v1/settings', { body: { time_zone:
    'a'.repeat(5000) } });

  // the unsubscribe link: the page, the one-click POST, forgeries
  const link = (m, p, o = {}) => request(nginx.url, m, p, o);
  const good = unsubPath(secret.key, tenant, owner.sub, 'digest');
  r = await link('GET', good);
  assert.equal(r.status, 200, r.text);
  r = await link('POST', good, ONE_CLICK);
  assert.equal(r.status, 200, r.text);
  r = await link('POST', unsubPath(secret.key, 'ghost', 'nobody', 'alerts'));
  assert.equal(r.status, 200, r.text);
  for (const p of [unsubPath('wrong key', tenant, owner.sub, 'digest'),
    `/api/v1/unsubscribe?t=${tenant}&s=${'x'.repeat(3000)}&l=digest`,
    '/api/v1/unsubscribe?sig=%00%ff&t=&s=&l=', '/api/v1/unsubscribe',
    `/api/v1/unsubscribe?${'sig=1&'.repeat(500)}`]) {
    for (const m of ['GET', 'POST']) {
      r = await link(m, p, { body: 'List-Unsubscribe=One-Click&x',
        headers: ONE_CLICK.headers });
      assert.ok([400, 403].includes(r.status), `${p}: ${r.text}`);
    }
  }
});

test('hostile tokens', async () => {
  const claims = cognito.idClaims();
  const good = owner.idToken;
  const tokens = [
    hostile.algNone(claims), hostile.algNone(claims, { keepSignature: true }),
    hostile.hs256WithPublicKey(claims), hostile.tamperPayload(good,
      { sub: 'someone-else' }), hostile.tamperSignature(good),
    hostile.foreignKey(claims), hostile.twoParts(good),
    hostile.fourParts(good), hostile.oversized(claims, 12000),
    hostile.badBase64Chars(good), hostile.paddedBase64(claims),
    hostile.notJson(claims), '', '.', '..', 'a.b.c', '\u00ff'.repeat(50)];
  for (const token of tokens) {
    const r = await request(nginx.url, 'GET', '/api/v1/me', { token })
      .catch(() => ({ status: 0 }));
    assert.ok(r.status === 401 || r.status === 400 || r.status === 0,
      `${token.slice(0, 40)}: ${r.status}`);
  }
});

test('clients leave while Redis is stopped; Redis dies and returns',
  async () => {
    for (const p of ['/topics/kept/series', '/topics/kept/series?step=day']) {
      const r = await request(nginx.url, 'GET', `/api/v1${p}`,
        { token: owner.idToken });
      assert.equal(r.status, 200, r.text);
    }
    const info = await redis.cmd('INFO', 'server');
    const pid = Number(/process_id:(\d+)/.exec(info)[1]);
    const fresh = await cognito.user(`asan-${Date.now()}@asan.test`);
    process.kill(pid, 'SIGSTOP');
    try {
      // series: cached answers waiting for their check, and whole reads
      const paths = ['/api/v1/topics', '/api/v1/me',
        '/api/v1/topics/kept/series', '/api/v1/topics/kept/series?step=day'];
      await Promise.all(Array.from({ length: 40 }, (_, i) =>
        request(nginx.url, 'GET', paths[i % 4],
          { token: i % 3 ? owner.idToken : fresh.idToken, timeout: 100 })
          .catch(() => null)));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await redis.kill9();
    await Promise.all(Array.from({ length: 10 }, () =>
      request(nginx.url, 'GET', '/api/v1/topics', { token: owner.idToken })
        .catch(() => null)));
    await redis.restart();
    await waitFor(async () => (await request(nginx.url, 'GET',
      '/api/v1/topics', { token: owner.idToken })).status === 200,
    { timeout: 15000, interval: 200, what: 'API back' });
  });

test('streams and exports closed mid-way', async () => {
  for (const p of ['/api/v1/stream', '/api/v1/export.csv?topic=rust']) {
    await new Promise((resolve) => {
      const req = http.get(`${nginx.url}${p}`,
        { headers: { Authorization: `Bearer ${owner.idToken}` } }, (res) => {
          res.once('data', () => req.destroy());
          setTimeout(() => req.destroy(), 300);
        });
      req.on('close', resolve);
      req.on('error', () => {});
    });
  }
  // an entry without its hours (skipped as malformed) and one with them
  // (its record read, none found)
  await redis.cmd('XADD', `es:{t:${tenant}}:live`, '*', 'ids', 'abc');
  await redis.cmd('XADD', `es:{t:${tenant}}:live`, '*', 'ids', 'abd,abe', 'hours',
    new Date().toISOString().slice(0, 13).replace(/[-T]/g, ''));
  await sleep(800);
});

test('graceful stop: no sanitizer report of any kind', async () => {
  await nginx.stop();
  // exiting workers write their leak reports; give the files a moment
  await sleep(500);
  const all = reports();
  assert.deepEqual(all, [], all.join('\n'));
  assert.doesNotMatch(nginx.errorLog(), /exited on signal/);
});
