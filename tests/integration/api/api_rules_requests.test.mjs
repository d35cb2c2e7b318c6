// api_rules_requests.test.mjs - alert rules' metric and window, and the
// life of a summary request as the API shows it, against a real nginx with
// the module, a real Redis and cognito-local tokens.
//
// Rules: metric and window_minutes through POST, PUT and PATCH with their
// ranges, and rules stored before they existed (written into Redis without
// them, as the previous version of the API did) answered with the
// defaults everywhere they are listed, and kept when such a rule is
// changed. Summary requests: GET /summaries/requests/{id} as the
// summarizer moves a request on (its writes are simulated with HSET of
// the record, as the worker does them), and POST /summaries answering the
// request in flight for the same topic (or whole tenant) instead of
// queueing another, until that one is done or failed. Every JSON answer
// is checked against docs/openapi.yaml by the stack's api().

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startApiStack, signToken } from '../../lib/api.mjs';

let s;

before(async () => {
  s = await startApiStack({ extraConf: '    echostream_membership_ttl 0;' });
});

after(async () => {
  await s?.stop();
});

const api = (method, path, token, body, opts = {}) =>
  s.api(method, `/api/v1${path}`, { token, body, ...opts });

const tag = () => randomBytes(4).toString('hex');

function assertError(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error.code, code, r.text);
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
}

// The owner of a new tenant with topics "t1" and "t2": {sub, token, tenant}.
async function owner() {
  const sub = `own-${tag()}`;
  const token = signToken(s.cognito.idClaims({ sub }));
  for (const id of ['t1', 't2']) {
    const r = await api('POST', '/topics', token, { id, name: id,
      subreddits: [`rr${tag()}`] });
    assert.equal(r.status, 201, r.text);
  }
  const me = await api('GET', '/me', token);
  return { sub, token, tenant: me.json.tenant };
}

async function member(o) {
  const sub = `mem-${tag()}`;
  const email = `${sub}@members.test`;
  const token = signToken(s.cognito.idClaims({ sub, email }));
  let r = await api('POST', '/members', o.token, { email });
  assert.equal(r.status, 201, r.text);
  r = await api('GET', '/invites', token);
  r = await api('POST', `/invites/${r.json.invites[0].id}/accept`, token,
    { confirm: true });
  assert.equal(r.status, 200, r.text);
  return { sub, token };
}

const OLD = { enabled: true, min_volume: 20, sensitivity: 3.0,
  cooldown_minutes: 60, email: [], webhook: null };
const NEW = { metric: 'negative_share', window_minutes: 60 };

test('rules: metric and window_minutes, with their defaults', async () => {
  const o = await owner();
  let r = await api('POST', '/alerts/rules', o.token, { id: 'vol',
    topic: 't1', metric: 'volume', window_minutes: 5 });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json, { id: 'vol', topic: 't1', ...OLD,
    metric: 'volume', window_minutes: 5 });
  r = await api('POST', '/alerts/rules', o.token, { id: 'def', topic: 't1' });
  assert.deepEqual(r.json, { id: 'def', topic: 't1', ...OLD, ...NEW });
  const stored = JSON.parse(await s.redis.cmd('HGET',
    `es:{t:${o.tenant}}:alerts:rules`, 'def'));
  assert.deepEqual(stored, r.json, 'stored with both, for the worker');

  // PUT: left out is the default again; PATCH: only what it names
  r = await api('PUT', '/alerts/rules/vol', o.token, { topic: 't1',
    metric: 'mean_compound', window_minutes: 1440 });
  assert.deepEqual([r.json.metric, r.json.window_minutes],
    ['mean_compound', 1440]);
  r = await api('PATCH', '/alerts/rules/vol', o.token, { window_minutes: 30 });
  assert.deepEqual([r.json.metric, r.json.window_minutes],
    ['mean_compound', 30]);
  r = await api('PUT', '/alerts/rules/vol', o.token, { topic: 't1' });
  assert.deepEqual([r.json.metric, r.json.window_minutes],
    ['negative_share', 60]);

  const bad = [
    [{ metric: 'Volume' }, 'metric'], [{ metric: 'sentiment' }, 'metric'],
    [{ metric: '' }, 'metric'], [{ metric: null }, 'metric'],
    [{ metric: 1 }, 'metric'], [{ metric: ['volume'] }, 'metric'],
    [{ window_minutes: 4 }, 'window_minutes'],
    [{ window_minutes: 1441 }, 'window_minutes'],
    [{ window_minutes: 0 }, 'window_minutes'],
    [{ window_minutes: -60 }, 'window_minutes'],
    [{ window_minutes: 59.5 }, 'window_minutes'],
    [{ window_minutes: '60' }, 'window_minutes'],
    [{ window_minutes: null }, 'window_minutes'],
    [{ window_minutes: 1e300 }, 'window_minutes'],
  ];
  for (const [body, field] of bad) {
    r = await api('POST', '/alerts/rules', o.token, { topic: 't1', ...body });
    assertError(r, 422, 'validation_failed', field);
    r = await api('PATCH', '/alerts/rules/def', o.token, body);
    assertError(r, 422, 'validation_failed', field);
  }
  assert.equal(Number(await s.redis.cmd('HLEN',
    `es:{t:${o.tenant}}:alerts:rules`)), 2, 'nothing more stored');

  const m = await member(o);
  r = await api('PATCH', '/alerts/rules/def', m.token, { metric: 'volume' });
  assertError(r, 403, 'forbidden');
  r = await api('GET', '/alerts/rules/def', m.token);
  assert.equal(r.json.metric, 'negative_share');
});

test('rules stored before metric and window are answered with the defaults',
  async () => {
    const o = await owner();
    const key = `es:{t:${o.tenant}}:alerts:rules`;
    const old = { id: 'old1', topic: 't1', enabled: false, min_volume: 7,
      sensitivity: 2.5, cooldown_minutes: 30, email: ['ops@example.com'],
      webhook: 'https://hooks.example.com/x' };
    const raw = JSON.stringify(old);
    await s.redis.cmd('HSET', key, 'old1', raw);
    const want = { ...old, ...NEW };

    let r = await api('GET', '/alerts/rules/old1', o.token);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, want);
    r = await api('GET', '/alerts/rules', o.token);
    assert.deepEqual(r.json.rules, [want]);
    r = await api('GET', '/alerts', o.token);
    assert.deepEqual(r.json.rules, [want]);
    assert.equal(await s.redis.cmd('HGET', key, 'old1'), raw,
      'reading does not rewrite it');

    // a change of such a rule stores the whole rule, defaults included
    r = await api('PATCH', '/alerts/rules/old1', o.token, { enabled: true });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { ...want, enabled: true });
    assert.deepEqual(JSON.parse(await s.redis.cmd('HGET', key, 'old1')),
      { ...want, enabled: true });

    // one with a metric of a later version is damaged for this one: skipped
    await s.redis.cmd('HSET', key, 'odd', JSON.stringify({ ...old, id: 'odd',
      metric: 'vibes' }));
    r = await api('GET', '/alerts/rules', o.token);
    assert.deepEqual(r.json.rules.map((x) => x.id), ['old1']);
    r = await api('GET', '/alerts/rules/odd', o.token);
    assertError(r, 404, 'not_found');
    assert.match(s.nginx.errorLog(), /skipping malformed rule "odd": metric/);
  });

// The summarizer moves request id of tenant t on: merges fields into its
// record, as the worker does.
async function worker(t, id, fields) {
  const key = `es:{t:${t}}:summary_requests`;
  const rec = JSON.parse(await s.redis.cmd('HGET', key, id));
  await s.redis.cmd('HSET', key, id, JSON.stringify({ ...rec, ...fields }));
}

test('a summary request followed from queued to done', async () => {
  const o = await owner();
  const stream = 'es:{summaries}:requests';
  const xlen0 = Number(await s.redis.cmd('XLEN', stream));
  let r = await api('POST', '/summaries', o.token, { topic: 't1' });
  assert.equal(r.status, 202, r.text);
  const q = r.json.request;
  assert.deepEqual(Object.keys(q).sort(), ['id', 'requested', 'status',
    'topic']);
  assert.equal(q.status, 'queued');

  r = await api('GET', `/summaries/requests/${q.id}`, o.token);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { request: q }, 'who asked is not shown');

  // a second POST for the topic: that request, nothing queued
  r = await api('POST', '/summaries', o.token, { topic: 't1' });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(r.json.request, q);
  assert.equal(Number(await s.redis.cmd('XLEN', stream)), xlen0 + 1);
  // running: still that one, as it is now
  await worker(o.tenant, q.id, { status: 'running',
    started: '2026-11-25T14:03:01Z' });
  r = await api('POST', '/summaries', o.token, { topic: 't1' });
  assert.deepEqual(r.json.request, { ...q, status: 'running',
    started: '2026-11-25T14:03:01Z' });
  r = await api('GET', `/summaries/requests/${q.id}`, o.token);
  assert.deepEqual(r.json.request, { ...q, status: 'running',
    started: '2026-11-25T14:03:01Z' });

  // another topic and the whole tenant are requests of their own
  r = await api('POST', '/summaries', o.token, { topic: 't2' });
  assert.notEqual(r.json.request.id, q.id);
  r = await api('POST', '/summaries', o.token, {});
  const whole = r.json.request;
  assert.equal(whole.topic, null);
  r = await api('POST', '/summaries', o.token, { topic: null });
  assert.equal(r.json.request.id, whole.id);
  assert.equal(Number(await s.redis.cmd('XLEN', stream)), xlen0 + 3);

  // done: the next POST is a new request
  const done = { status: 'done', finished: '2026-11-25T14:03:09.5Z',
    summary: 's20261125t1', source: 'bedrock' };
  await worker(o.tenant, q.id, done);
  r = await api('GET', `/summaries/requests/${q.id}`, o.token);
  assert.deepEqual(r.json.request, { ...q, status: 'done',
    started: '2026-11-25T14:03:01Z', ...done });
  r = await api('POST', '/summaries', o.token, { topic: 't1' });
  assert.equal(r.status, 202, r.text);
  const q2 = r.json.request;
  assert.notEqual(q2.id, q.id);
  assert.equal(q2.status, 'queued');
  assert.equal(await s.redis.cmd('HGET', `es:{t:${o.tenant}}:summary_pending`,
    't1'), q2.id);

  // failed, with the worker's reason: the next POST is new too
  await worker(o.tenant, q2.id, { status: 'failed', reason: 'no comments',
    finished: '2026-11-25T15:00:00Z', source: 'local' });
  r = await api('GET', `/summaries/requests/${q2.id}`, o.token);
  assert.deepEqual([r.json.request.status, r.json.request.reason],
    ['failed', 'no comments']);
  r = await api('POST', '/summaries', o.token, { topic: 't1' });
  assert.notEqual(r.json.request.id, q2.id);
  assert.equal(Number(await s.redis.cmd('XLEN', stream)), xlen0 + 5);

  // members follow requests too
  const m = await member(o);
  r = await api('GET', `/summaries/requests/${q.id}`, m.token);
  assert.equal(r.json.request.status, 'done');
});

test('a summary request is its tenant\'s; damaged records are not shown',
  async () => {
    const o = await owner();
    const other = await owner();
    let r = await api('POST', '/summaries', o.token, { topic: 't1' });
    const q = r.json.request;
    r = await api('GET', `/summaries/requests/${q.id}`, other.token);
    assertError(r, 404, 'not_found');
    // the other tenant's POST for its own t1 is its own request
    r = await api('POST', '/summaries', other.token, { topic: 't1' });
    assert.notEqual(r.json.request.id, q.id);

    for (const id of ['nope', 'x'.repeat(64)]) {
      r = await api('GET', `/summaries/requests/${id}`, o.token);
      assertError(r, 404, 'not_found');
    }
    for (const id of ['x'.repeat(65), 'a%2Fb', '..', '%7Bt%3Ax%7D']) {
      r = await api('GET', `/summaries/requests/${id}`, o.token);
      assertError(r, 404, 'not_found');
    }

    const key = `es:{t:${o.tenant}}:summary_requests`;
    const damaged = {
      d1: '{"id":"d1"',
      d2: JSON.stringify({ id: 'd2', status: 'lost', topic: null,
        requested: '2026-11-25T00:00:00Z' }),
      d3: JSON.stringify({ id: 'd3', status: 'queued', topic: 'a b',
        requested: '2026-11-25T00:00:00Z' }),
      d4: JSON.stringify({ id: 'd4', status: 'queued', topic: null,
        requested: '1764000000' }),
      d5: JSON.stringify({ id: 'other', status: 'queued', topic: null,
        requested: '2026-11-25T00:00:00Z' }),
    };
    for (const [id, v] of Object.entries(damaged)) {
      await s.redis.cmd('HSET', key, id, v);
      r = await api('GET', `/summaries/requests/${id}`, o.token);
      assertError(r, 404, 'not_found');
    }
    // well-formed, with members of the worker's that are not: those left
    // out, and members the API does not document never shown
    await s.redis.cmd('HSET', key, 'ok1', JSON.stringify({ id: 'ok1',
      status: 'done', topic: 't1', requested: '2026-11-25T00:00:00Z',
      started: 'soon', finished: 5, summary: 'a b', source: 'gpt',
      reason: '', requested_by: o.sub, requested_ms: 1, kind: 'daily' }));
    r = await api('GET', '/summaries/requests/ok1', o.token);
    assert.deepEqual(r.json, { request: { id: 'ok1', status: 'done',
      topic: 't1', requested: '2026-11-25T00:00:00Z' } });
  });
