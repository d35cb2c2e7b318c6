// api_alerts.test.mjs - /api/v1/alerts (rules and history) and
// /api/v1/summaries against a real nginx with the module, a real Redis and
// cognito-local tokens.
//
// Rules: the whole life of a rule with exact bodies and its defaults,
// every validation error with its field, the topic that must exist, the
// 100-rule limit, owner-only writes. History and summaries are written by
// workers that come later, so the test writes them into Redis itself (XADD
// / HSET) the way those workers will, including damaged entries that must
// be skipped; pages of history are followed to the end with the cursor.
// A summary request must land in the shared requests stream. Every JSON
// answer is checked against docs/openapi.yaml by the stack's api().

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startApiStack, signToken } from '../../lib/api.mjs';

let s;

before(async () => {
  // members join through the tenant claim (echostream_tenant_claim on)
  s = await startApiStack({ tenantClaim: true });
});

after(async () => {
  await s?.stop();
});

const api = (method, path, token, body, opts = {}) =>
  s.api(method, `/api/v1${path}`, { token, body, ...opts });

const tag = () => randomBytes(4).toString('hex');

// The owner of a new tenant with one topic "t1": {sub, token, tenant}.
async function owner() {
  const sub = `own-${tag()}`;
  const token = signToken(s.cognito.idClaims({ sub }));
  const r = await api('POST', '/topics', token, { id: 't1', name: 'topic',
    subreddits: [`al${tag()}`] });
  assert.equal(r.status, 201, r.text);
  const me = await api('GET', '/me', token);
  return { sub, token, tenant: me.json.tenant };
}

function assertError(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error.code, code, r.text);
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
}

const DEFAULTS = { enabled: true, min_volume: 20, sensitivity: 3.0,
  cooldown_minutes: 60, email: [], webhook: null, metric: 'negative_share',
  window_minutes: 60 };

test('create, read, replace, change and delete a rule', async () => {
  const o = await owner();
  let r = await api('POST', '/alerts/rules', o.token, { topic: 't1' });
  assert.equal(r.status, 201, r.text);
  const id = r.json.id;
  assert.match(id, /^[a-z0-9]{12}$/);
  assert.deepEqual(r.json, { id, topic: 't1', ...DEFAULTS });
  assert.match(r.text, /"sensitivity":3\.0/, 'a number, as documented');
  const stored = JSON.parse(await s.redis.cmd('HGET',
    `es:{t:${o.tenant}}:alerts:rules`, id));
  assert.deepEqual(stored, r.json, 'stored with every member');

  r = await api('GET', `/alerts/rules/${id}`, o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { id, topic: 't1', ...DEFAULTS });

  r = await api('POST', '/alerts/rules', o.token, { id: 'a-rule', topic: 't1',
    enabled: false, min_volume: 5, sensitivity: 1.5, cooldown_minutes: 10,
    email: ['On-Call@Example.com', 'oncall@example.com', 'b@example.org'],
    webhook: 'https://hooks.example.com/x?y=1' });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json, { id: 'a-rule', topic: 't1', enabled: false,
    min_volume: 5, sensitivity: 1.5, cooldown_minutes: 10,
    email: ['on-call@example.com', 'oncall@example.com', 'b@example.org'],
    webhook: 'https://hooks.example.com/x?y=1', metric: 'negative_share',
    window_minutes: 60 });

  r = await api('GET', '/alerts/rules', o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.rules.map((x) => x.id), ['a-rule', id].sort());

  // PUT: members left out take their defaults
  r = await api('PUT', '/alerts/rules/a-rule', o.token, { topic: 't1',
    min_volume: 7 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { id: 'a-rule', topic: 't1', ...DEFAULTS,
    min_volume: 7 });

  // PATCH: only what it names
  r = await api('PATCH', '/alerts/rules/a-rule', o.token, { enabled: false,
    webhook: 'https://h.example.com/' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { id: 'a-rule', topic: 't1', ...DEFAULTS,
    min_volume: 7, enabled: false, webhook: 'https://h.example.com/' });
  r = await api('PATCH', '/alerts/rules/a-rule', o.token, { webhook: null });
  assert.equal(r.json.webhook, null);

  r = await api('DELETE', '/alerts/rules/a-rule', o.token);
  assert.equal(r.status, 204);
  r = await api('GET', '/alerts/rules/a-rule', o.token);
  assertError(r, 404, 'not_found');
  r = await api('DELETE', '/alerts/rules/a-rule', o.token);
  assertError(r, 404, 'not_found');
  r = await api('PUT', '/alerts/rules/a-rule', o.token, { topic: 't1' });
  assertError(r, 404, 'not_found');
  r = await api('PATCH', '/alerts/rules/a-rule', o.token, { enabled: true });
  assertError(r, 404, 'not_found');

  r = await api('POST', '/alerts/rules', o.token, { id, topic: 't1' });
  assertError(r, 409, 'conflict');
});

test('every invalid rule is refused with its field', async () => {
  const o = await owner();
  const cases = [
    [{}, 'validation_failed', 'topic'],
    [{ topic: 'no such' }, 'validation_failed', 'topic'],
    [{ topic: 'missing' }, 'invalid_topic', 'topic'],
    [{ topic: 't1', color: 1 }, 'validation_failed', 'color'],
    [{ topic: 't1', id: 'bad id' }, 'validation_failed', 'id'],
    [{ topic: 't1', enabled: 'yes' }, 'validation_failed', 'enabled'],
    [{ topic: 't1', min_volume: 0 }, 'validation_failed', 'min_volume'],
    [{ topic: 't1', min_volume: 1000001 }, 'validation_failed', 'min_volume'],
    [{ topic: 't1', min_volume: 2.5 }, 'validation_failed', 'min_volume'],
    [{ topic: 't1', min_volume: '20' }, 'validation_failed', 'min_volume'],
    [{ topic: 't1', sensitivity: 0.4 }, 'validation_failed', 'sensitivity'],
    [{ topic: 't1', sensitivity: 20.5 }, 'validation_failed', 'sensitivity'],
    [{ topic: 't1', sensitivity: null }, 'validation_failed', 'sensitivity'],
    [{ topic: 't1', cooldown_minutes: 0 }, 'validation_failed',
      'cooldown_minutes'],
    [{ topic: 't1', cooldown_minutes: 10081 }, 'validation_failed',
      'cooldown_minutes'],
    [{ topic: 't1', email: 'a@b.c' }, 'validation_failed', 'email'],
    [{ topic: 't1', email: ['not-an-email'] }, 'validation_failed', 'email'],
    [{ topic: 't1', email: Array.from({ length: 11 }, (_, i) =>
      `u${i}@x.test`) }, 'validation_failed', 'email'],
    [{ topic: 't1', webhook: 'http://example.com/h' }, 'validation_failed',
      'webhook'],
    [{ topic: 't1', webhook: 'ftp://example.com/h' }, 'validation_failed',
      'webhook'],
    [{ topic: 't1', webhook: 'https://' }, 'validation_failed', 'webhook'],
    [{ topic: 't1', webhook: 'https://user@evil.test/' }, 'validation_failed',
      'webhook'],
    [{ topic: 't1', webhook: 'http://localhost@evil.test/' },
      'validation_failed', 'webhook'],
    [{ topic: 't1', webhook: 'http://localhost.evil.test/' },
      'validation_failed', 'webhook'],
    [{ topic: 't1', webhook: 'https://a b.test/' }, 'validation_failed',
      'webhook'],
    [{ topic: 't1', webhook: 'https://x.test:99999999/' }, 'validation_failed',
      'webhook'],
    [{ topic: 't1', webhook: `https://x.test/${'a'.repeat(2040)}` },
      'validation_failed', 'webhook'],
    [{ topic: 't1', webhook: 5 }, 'validation_failed', 'webhook'],
  ];
  for (const [body, code, field] of cases) {
    const r = await api('POST', '/alerts/rules', o.token, body);
    assertError(r, 422, code, field);
  }
  assert.equal(await s.redis.cmd('HLEN', `es:{t:${o.tenant}}:alerts:rules`),
    0, 'nothing stored');

  // the edges that pass
  let r = await api('POST', '/alerts/rules', o.token, { topic: 't1',
    min_volume: 1000000, sensitivity: 20, cooldown_minutes: 10080,
    email: Array.from({ length: 10 }, (_, i) => `u${i}@x.test`),
    webhook: `https://x.test:8443/${'a'.repeat(2000)}` });
  assert.equal(r.status, 201, r.text);
  r = await api('POST', '/alerts/rules', o.token, { topic: 't1',
    min_volume: 1, sensitivity: 0.5, cooldown_minutes: 1 });
  assert.equal(r.status, 201, r.text);
  const edge = r.json.id;
  // plain http only to this machine (a local receiver); the document
  // describes https webhooks, so these answers are not schema-checked
  for (const hook of ['http://127.0.0.1:8080/hook', 'http://LOCALHOST/h']) {
    r = await api('POST', '/alerts/rules', o.token, { topic: 't1',
      webhook: hook }, { validate: false });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.webhook, hook);
  }

  // PATCH checks the merged rule; a missing topic cannot be named
  r = await api('PATCH', `/alerts/rules/${edge}`, o.token,
    { topic: 'missing' });
  assertError(r, 422, 'invalid_topic', 'topic');
  r = await api('PATCH', `/alerts/rules/${edge}`, o.token,
    { min_volume: -1 });
  assertError(r, 422, 'validation_failed', 'min_volume');
  r = await api('PUT', `/alerts/rules/${edge}`, o.token, { id: 'other',
    topic: 't1' });
  assertError(r, 422, 'validation_failed', 'id');
  r = await api('GET', `/alerts/rules/${edge}`, o.token);
  assert.equal(r.json.min_volume, 1, 'refused writes change nothing');
});

test('a tenant has at most 100 rules; members only read', async () => {
  const o = await owner();
  for (let i = 0; i < 100; i++) {
    const r = await api('POST', '/alerts/rules', o.token, { id: `r${i}`,
      topic: 't1' });
    assert.equal(r.status, 201, r.text);
  }
  let r = await api('POST', '/alerts/rules', o.token, { topic: 't1' });
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /rule limit/);
  r = await api('GET', '/alerts/rules', o.token);
  assert.equal(r.json.rules.length, 100);

  const m = signToken(s.cognito.idClaims({ sub: `mem-${tag()}`,
    'custom:tenant_id': o.tenant }));
  r = await api('GET', '/alerts/rules/r1', m);
  assert.equal(r.status, 200);
  for (const [method, path, body] of [
    ['POST', '/alerts/rules', { topic: 't1' }],
    ['PUT', '/alerts/rules/r1', { topic: 't1' }],
    ['PATCH', '/alerts/rules/r1', { enabled: false }],
    ['DELETE', '/alerts/rules/r1', undefined]]) {
    r = await api(method, path, m, body);
    assertError(r, 403, 'forbidden');
  }

  // another tenant sees none of them
  const other = await owner();
  r = await api('GET', '/alerts/rules/r1', other.token);
  assertError(r, 404, 'not_found');
  r = await api('GET', '/alerts', other.token);
  assert.deepEqual(r.json, { rules: [], history: [] });
});

test('history pages newest first and skips damaged entries', async () => {
  const o = await owner();
  const key = `es:{t:${o.tenant}}:alerts:history`;
  const ids = [];
  for (let i = 0; i < 7; i++) {
    ids.push(await s.redis.cmd('XADD', key, `${1000 + i}-0`, 'event',
      JSON.stringify({ rule: 'r1', topic: 't1', n: i,
        fired: `2026-11-25T14:0${i}:00Z` })));
    if (i === 2) {
      await s.redis.cmd('XADD', key, '1002-1', 'event', '{broken');
    }
    if (i === 4) {
      await s.redis.cmd('XADD', key, '1004-1', 'other', 'x');
    }
  }

  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const q = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}`
      : '?limit=3';
    const r = await api('GET', `/alerts/history${q}`, o.token);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.history.length <= 3);
    for (const e of r.json.history) {
      assert.equal(e.rule, 'r1');
      seen.push([e.id, e.n]);
    }
    cursor = r.json.next_cursor;
    pages++;
  } while (cursor !== null && pages < 10);
  assert.deepEqual(seen, [6, 5, 4, 3, 2, 1, 0].map((n) =>
    [`${1000 + n}-0`, n]));
  assert.equal(pages, 3, '9 entries in pages of 3');
  assert.match(s.nginx.errorLog(), /skipping malformed alert event 1002-1/);

  // a full last page says so with a null cursor
  let r = await api('GET', '/alerts/history?limit=9', o.token);
  assert.equal(r.json.next_cursor, null);
  assert.equal(r.json.history.length, 7);
  r = await api('GET', '/alerts/history?limit=2', o.token);
  assert.equal(r.json.next_cursor, '1005-0');
  // the default page and GET /alerts
  r = await api('GET', '/alerts/history', o.token);
  assert.equal(r.json.history.length, 7);
  r = await api('GET', '/alerts', o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.rules, []);
  assert.deepEqual(r.json.history.map((e) => e.n), [6, 5, 4, 3, 2, 1, 0]);

  for (const q of ['limit=0', 'limit=101', 'limit=x', 'limit=']) {
    r = await api('GET', `/alerts/history?${q}`, o.token);
    assertError(r, 400, 'bad_request', 'limit');
  }
  // 0-0 has nothing below it and 2^64 is beyond Redis's ids: Redis would
  // refuse either bound, so they are bad cursors, not a failed request
  for (const q of ['cursor=abc', 'cursor=1-2-3', 'cursor=-1',
    'cursor=%28123-0', 'cursor=0-0', 'cursor=18446744073709551616-0',
    'cursor=1-99999999999999999999']) {
    r = await api('GET', `/alerts/history?${q}`, o.token);
    assertError(r, 400, 'bad_request', 'cursor');
  }
});

test('GET /alerts shows at most the 50 newest events', async () => {
  const o = await owner();
  const key = `es:{t:${o.tenant}}:alerts:history`;
  for (let i = 0; i < 55; i++) {
    await s.redis.cmd('XADD', key, '*', 'event', JSON.stringify({ n: i }));
  }
  let r = await api('POST', '/alerts/rules', o.token, { id: 'only',
    topic: 't1' });
  assert.equal(r.status, 201);
  r = await api('GET', '/alerts', o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.rules.map((x) => x.id), ['only']);
  assert.equal(r.json.history.length, 50);
  assert.equal(r.json.history[0].n, 54);
  assert.equal(r.json.history[49].n, 5);
});

test('a damaged stored rule is skipped, not served', async () => {
  const o = await owner();
  const key = `es:{t:${o.tenant}}:alerts:rules`;
  let r = await api('POST', '/alerts/rules', o.token, { id: 'good',
    topic: 't1' });
  assert.equal(r.status, 201);
  await s.redis.cmd('HSET', key, 'junk', 'not json');
  await s.redis.cmd('HSET', key, 'wrong', JSON.stringify({ topic: 't1',
    min_volume: -5 }));
  r = await api('GET', '/alerts/rules', o.token);
  assert.deepEqual(r.json.rules.map((x) => x.id), ['good']);
  r = await api('GET', '/alerts/rules/wrong', o.token);
  assertError(r, 404, 'not_found');
  assert.match(s.nginx.errorLog(), /skipping malformed rule "wrong"/);
});

test('summaries: newest first, limited, damaged ones skipped', async () => {
  const o = await owner();
  const key = `es:{t:${o.tenant}}:summaries`;
  const summary = (i, extra = {}) => ({ id: `s${i}`, topic: i % 2 ? 't1' : null,
    date: `2026-11-1${i}`, created: `2026-11-1${i}T02:00:0${i}Z`,
    source: i % 2 ? 'bedrock' : 'local', text: `summary ${i}`, ...extra });
  for (const i of [3, 1, 4, 0, 2]) {
    await s.redis.cmd('HSET', key, `s${i}`, JSON.stringify(summary(i,
      i === 4 ? { figures: { comments: 312 } } : {})));
  }
  await s.redis.cmd('HSET', key, 'broken', '{"id":"broken"');
  await s.redis.cmd('HSET', key, 'partial', JSON.stringify({ id: 'partial',
    created: '2026-11-20T00:00:00Z' }));
  await s.redis.cmd('HSET', key, 'epoch', JSON.stringify({ ...summary(9),
    id: 'epoch', created: '1764000000' }));

  let r = await api('GET', '/summaries', o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.summaries.map((x) => x.id),
    ['s4', 's3', 's2', 's1', 's0']);
  assert.deepEqual(r.json.summaries[0], summary(4,
    { figures: { comments: 312 } }), 'extra members pass through');
  r = await api('GET', '/summaries?limit=2', o.token);
  assert.deepEqual(r.json.summaries.map((x) => x.id), ['s4', 's3']);
  for (const q of ['limit=0', 'limit=101', 'limit=two']) {
    r = await api('GET', `/summaries?${q}`, o.token);
    assertError(r, 400, 'bad_request', 'limit');
  }

  r = await api('GET', '/summaries/s1', o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, summary(1));
  r = await api('GET', '/summaries/none', o.token);
  assertError(r, 404, 'not_found');
  r = await api('GET', '/summaries/partial', o.token);
  assertError(r, 404, 'not_found');
  assert.match(s.nginx.errorLog(), /skipping malformed summary "partial"/);

  // another tenant sees none
  const other = await owner();
  r = await api('GET', '/summaries/s1', other.token);
  assertError(r, 404, 'not_found');
  r = await api('GET', '/summaries', other.token);
  assert.deepEqual(r.json, { summaries: [] });
});

test('a summary request is queued for the summarizer', async () => {
  const o = await owner();
  const stream = 'es:{summaries}:requests';
  const before = Number(await s.redis.cmd('XLEN', stream));

  let r = await api('POST', '/summaries', o.token, { topic: 't1' });
  assert.equal(r.status, 202, r.text);
  const req = r.json.request;
  assert.match(req.id, /^[a-z0-9]{14}$/);
  assert.deepEqual(req, { id: req.id, status: 'queued', topic: 't1',
    requested: req.requested });
  assert.ok(Math.abs(Date.parse(req.requested) - Date.now()) < 60000);

  const [[, f]] = await s.redis.cmd('XREVRANGE', stream, '+', '-', 'COUNT',
    1);
  const fields = Object.fromEntries(Array.from({ length: f.length / 2 },
    (_, i) => [f[2 * i], f[2 * i + 1]]));
  assert.equal(fields.tenant, o.tenant);
  assert.equal(fields.id, req.id);
  assert.equal(fields.topic, 't1');
  assert.equal(fields.requested_by, o.sub);
  assert.ok(Math.abs(Number(fields.requested_ms) -
    Date.parse(req.requested)) < 1000);
  const rec = JSON.parse(await s.redis.cmd('HGET',
    `es:{t:${o.tenant}}:summary_requests`, req.id));
  assert.equal(rec.status, 'queued');
  assert.equal(rec.topic, 't1');

  // no topic (also no body at all): the whole tenant, one request in
  // flight for it
  r = await api('POST', '/summaries', o.token, {});
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.request.topic, null);
  const whole = r.json.request;
  r = await s.api('POST', '/api/v1/summaries', { token: o.token });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(r.json.request, whole);
  assert.equal(Number(await s.redis.cmd('XLEN', stream)), before + 2);

  r = await api('POST', '/summaries', o.token, { topic: 'missing' });
  assertError(r, 422, 'invalid_topic', 'topic');
  r = await api('POST', '/summaries', o.token, { topic: 'bad id' });
  assertError(r, 422, 'validation_failed', 'topic');
  r = await api('POST', '/summaries', o.token, { topic: 't1', when: 'now' });
  assertError(r, 422, 'validation_failed', 'when');
  assert.equal(Number(await s.redis.cmd('XLEN', stream)), before + 2,
    'refused requests queue nothing');

  const m = signToken(s.cognito.idClaims({ sub: `mem-${tag()}`,
    'custom:tenant_id': o.tenant }));
  r = await api('POST', '/summaries', m, {});
  assertError(r, 403, 'forbidden');
  r = await api('GET', '/summaries', m);
  assert.equal(r.status, 200);
});
