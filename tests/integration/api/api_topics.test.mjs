// api_topics.test.mjs - /api/v1/topics against a real nginx with the
// module, a real Redis and cognito-local tokens.
//
// Covers the whole life of a topic with exact bodies, every validation
// error (status, code, field, and the query parser's position and column),
// what a write leaves in Redis (the tenant's hash, the watch union
// es:{watch}:subs and both version counters, read directly), that the real
// ingest worker follows the watch union, the 100-topic limit, owner-only
// writes, tenant isolation, and a race: concurrent creates of one id make
// exactly one topic and count its subreddits exactly once.
//
// Subreddit names are unique per test (the watch union is shared by all
// tenants), and every JSON answer is checked against docs/openapi.yaml by
// the stack's api().

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startApiStack, signToken } from '../../lib/api.mjs';
import { bin, startProc } from '../../lib/harness.mjs';

let s;

before(async () => {
  // members join through the tenant claim (echostream_tenant_claim on)
  s = await startApiStack({ tenantClaim: true });
});

after(async () => {
  await s?.stop();
});

// A new user (so a new tenant, owned by them): {token, sub, tenant}.
async function owner() {
  const sub = `own-${randomBytes(6).toString('hex')}`;
  const token = signToken(s.cognito.idClaims({ sub }));
  const me = await s.api('GET', '/api/v1/me', { token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.role, 'owner');
  return { token, sub, tenant: me.json.tenant };
}

// A member of tenant (through the custom:tenant_id claim of a tenant that
// has an owner already).
async function member(tenant) {
  const sub = `mem-${randomBytes(6).toString('hex')}`;
  const token = signToken(s.cognito.idClaims({ sub,
    'custom:tenant_id': tenant }));
  const me = await s.api('GET', '/api/v1/me', { token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.tenant, tenant);
  assert.equal(me.json.role, 'member');
  return { token, sub, tenant };
}

// A unique, valid subreddit name (lower case).
const uniq = (p) => `${p}${randomBytes(4).toString('hex')}`;

const api = (method, path, token, body) =>
  s.api(method, `/api/v1${path}`, { token, body });

async function watchCounts(names) {
  const out = {};
  for (const n of names) {
    const v = await s.redis.cmd('HGET', 'es:{watch}:subs', n);
    out[n] = v === null ? 0 : Number(v);
  }
  return out;
}

async function versions() {
  const [w, t] = await s.redis.cmd('MGET', 'es:{watch}:version',
    'es:{topics}:version');
  return { watch: Number(w || 0), topics: Number(t || 0) };
}

function assertError(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error.code, code, r.text);
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
  assert.ok(r.json.error.message.length > 0);
}

test('create, read, replace, change and delete a topic', async () => {
  const o = await owner();
  const [a, b, c] = [uniq('ta'), uniq('tb'), uniq('tc')];
  const w0 = await watchCounts([a, b, c]);
  const v0 = await versions();

  // POST: names normalized, duplicates dropped, id generated
  let r = await api('POST', '/topics', o.token, {
    name: 'Rust async', subreddits: [a.toUpperCase(), b, a],
    query: '(tokio OR "async-std") -java' });
  assert.equal(r.status, 201, r.text);
  const id = r.json.id;
  assert.match(id, /^[a-z0-9]{12}$/);
  assert.deepEqual(r.json, { id, name: 'Rust async', subreddits: [a, b],
    query: '(tokio OR "async-std") -java' });
  const created = r.json;

  // what enrich loads: the canonical JSON in the tenant's hash
  const stored = JSON.parse(await s.redis.cmd('HGET',
    `es:{t:${o.tenant}}:topics`, id));
  assert.deepEqual(stored, created);
  assert.deepEqual(await watchCounts([a, b, c]),
    { [a]: w0[a] + 1, [b]: w0[b] + 1, [c]: w0[c] });
  let v = await versions();
  assert.equal(v.watch, v0.watch + 1);
  assert.equal(v.topics, v0.topics + 1);
  assert.ok(await s.redis.cmd('SISMEMBER', 'es:{tenants}:all', o.tenant));

  r = await api('GET', `/topics/${id}`, o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, created);

  // a second topic with an explicit id; the list is sorted by id
  r = await api('POST', '/topics', o.token, {
    id: '0-first_topic', name: 'Café ☕', subreddits: [c] });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json, { id: '0-first_topic', name: 'Café ☕',
    subreddits: [c], query: '' });
  r = await api('GET', '/topics', o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.topics.map((t) => t.id), ['0-first_topic', id]);
  assert.deepEqual(r.json.topics[1], created);

  // PUT replaces everything; a missing query becomes ""
  let before = await versions();
  r = await api('PUT', `/topics/${id}`, o.token, {
    name: 'Rust only', subreddits: [b, c] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { id, name: 'Rust only', subreddits: [b, c],
    query: '' });
  // a left, b stays (net 0), c gains one
  assert.deepEqual(await watchCounts([a, b, c]),
    { [a]: w0[a], [b]: w0[b] + 1, [c]: w0[c] + 2 });
  v = await versions();
  assert.equal(v.watch, before.watch + 1);
  assert.equal(v.topics, before.topics + 1);

  // PATCH changes only what it names; same subreddits: union untouched
  before = v;
  r = await api('PATCH', `/topics/${id}`, o.token, { query: 'gopher*',
    name: 'Renamed' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { id, name: 'Renamed', subreddits: [b, c],
    query: 'gopher*' });
  v = await versions();
  assert.equal(v.watch, before.watch, 'no watch change, no watch version');
  assert.equal(v.topics, before.topics + 1);
  assert.deepEqual(await watchCounts([a, b, c]),
    { [a]: w0[a], [b]: w0[b] + 1, [c]: w0[c] + 2 });

  // PATCH of the subreddits moves the union
  before = v;
  r = await api('PATCH', `/topics/${id}`, o.token, { subreddits: [a] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { id, name: 'Renamed', subreddits: [a],
    query: 'gopher*' });
  assert.deepEqual(await watchCounts([a, b, c]),
    { [a]: w0[a] + 1, [b]: w0[b], [c]: w0[c] + 1 });
  v = await versions();
  assert.equal(v.watch, before.watch + 1);
  assert.equal(v.topics, before.topics + 1);

  // DELETE: 204, gone, counts back; a field at 0 is removed
  before = v;
  r = await api('DELETE', `/topics/${id}`, o.token);
  assert.equal(r.status, 204);
  assert.equal(r.text, '');
  r = await api('GET', `/topics/${id}`, o.token);
  assertError(r, 404, 'not_found');
  assert.equal(await s.redis.cmd('HEXISTS', 'es:{watch}:subs', a), 0);
  assert.deepEqual(await watchCounts([a, b, c]),
    { [a]: w0[a], [b]: w0[b], [c]: w0[c] + 1 });
  v = await versions();
  assert.equal(v.watch, before.watch + 1);
  assert.equal(v.topics, before.topics + 1);

  r = await api('DELETE', `/topics/${id}`, o.token);
  assertError(r, 404, 'not_found');
  r = await api('DELETE', '/topics/0-first_topic', o.token);
  assert.equal(r.status, 204);
  assert.deepEqual(await watchCounts([a, b, c]), w0);
  r = await api('GET', '/topics', o.token);
  assert.deepEqual(r.json, { topics: [] });
});

test('PUT and PATCH of a missing topic are 404 and create nothing',
  async () => {
    const o = await owner();
    const sub = uniq('tm');
    let r = await api('PUT', '/topics/nope', o.token, { name: 'x',
      subreddits: [sub] });
    assertError(r, 404, 'not_found');
    r = await api('PATCH', '/topics/nope', o.token, { name: 'x' });
    assertError(r, 404, 'not_found');
    assert.equal(await s.redis.cmd('HLEN', `es:{t:${o.tenant}}:topics`), 0);
    assert.deepEqual(await watchCounts([sub]), { [sub]: 0 });
  });

test('every invalid topic is refused with its code and field', async () => {
  const o = await owner();
  const sub = uniq('tv');
  const ok = { name: 'ok', subreddits: [sub] };
  const cases = [
    [{ ...ok, color: 'red' }, 'validation_failed', 'color', /color/],
    [{ ...ok, id: 'has space' }, 'validation_failed', 'id'],
    [{ ...ok, id: 'x'.repeat(65) }, 'validation_failed', 'id'],
    [{ ...ok, id: 7 }, 'validation_failed', 'id'],
    [{ subreddits: [sub] }, 'invalid_topic', 'name'],
    [{ ...ok, name: '' }, 'invalid_topic', 'name'],
    [{ ...ok, name: 42 }, 'invalid_topic', 'name'],
    [{ ...ok, name: 'é'.repeat(101) }, 'invalid_topic', 'name'],
    [{ ...ok, name: 'tab\there' }, 'invalid_topic', 'name'],
    [{ ...ok, name: 'bell\u0007' }, 'invalid_topic', 'name'],
    [{ ...ok, name: 'c1\u0085' }, 'invalid_topic', 'name'],
    [{ name: 'x' }, 'invalid_topic', 'subreddits'],
    [{ ...ok, subreddits: [] }, 'invalid_topic', 'subreddits'],
    [{ ...ok, subreddits: 'rust' }, 'invalid_topic', 'subreddits'],
    [{ ...ok, subreddits: Array.from({ length: 21 }, (_, i) => `s${i}x`) },
      'invalid_topic', 'subreddits'],
    [{ ...ok, subreddits: [sub, 'not a sub'] }, 'invalid_topic',
      'subreddits', /not a sub/],
    [{ ...ok, subreddits: ['_under'] }, 'invalid_topic', 'subreddits',
      /_under/],
    [{ ...ok, subreddits: ['x'] }, 'invalid_topic', 'subreddits', /"x"/],
    [{ ...ok, subreddits: ['a'.repeat(22)] }, 'invalid_topic', 'subreddits'],
    [{ ...ok, subreddits: [sub, 5] }, 'invalid_topic', 'subreddits'],
    [{ ...ok, query: 5 }, 'validation_failed', 'query'],
  ];
  for (const [body, code, field, msg] of cases) {
    const r = await api('POST', '/topics', o.token, body);
    assertError(r, 422, code, field);
    if (msg) assert.match(r.json.error.message, msg);
  }
  // exactly 100 characters (200 bytes) is fine, 20 subreddits too
  let r = await api('POST', '/topics', o.token, {
    name: 'é'.repeat(100), subreddits: Array.from({ length: 20 },
      (_, i) => `${sub}_${i}`) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.subreddits.length, 20);
  // "all" is a subreddit of its own, in any case
  r = await api('POST', '/topics', o.token, { name: 'all', subreddits: ['ALL'],
    query: '' });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.subreddits, ['all']);
  // (watching "all" keeps every comment: not left behind for other tests)
  assert.equal((await api('DELETE', `/topics/${r.json.id}`, o.token)).status,
    204);
  // nothing invalid reached Redis
  assert.equal(await s.redis.cmd('HLEN', `es:{t:${o.tenant}}:topics`), 1);
  assert.deepEqual(await watchCounts([sub]), { [sub]: 0 });
});

test('query errors carry the parser reason, position and column',
  async () => {
    const o = await owner();
    const sub = uniq('tq');
    const cases = [
      // [query, reason, byte position, column]
      ['rust (async', 'unbalanced parenthesis', 5, 6],
      ['café (tokio', 'unbalanced parenthesis', 6, 6],
      ['"borrow checker', 'unterminated quote', 0, 1],
      ['rust OR', 'OR needs a term on both sides', 5, 6],
      ['-java', 'query cannot match: only negated terms', 0, 1],
      ['ab*cd', "'*' is only allowed at the end of a word", 2, 3],
      ['x'.repeat(1025), 'query too long (max 1024 bytes)', 1024, 1025],
    ];
    for (const [query, reason, position, column] of cases) {
      const r = await api('POST', '/topics', o.token, { name: 'q',
        subreddits: [sub], query });
      assertError(r, 422, 'invalid_query', 'query');
      assert.equal(r.json.error.message, reason, query.slice(0, 40));
      assert.equal(r.json.error.position, position, query.slice(0, 40));
      assert.equal(r.json.error.column, column, query.slice(0, 40));
    }
    // the same checks on PUT and PATCH
    let r = await api('POST', '/topics', o.token, { id: 'q1', name: 'q',
      subreddits: [sub], query: 'ok' });
    assert.equal(r.status, 201, r.text);
    r = await api('PATCH', '/topics/q1', o.token, { query: 'a OR' });
    assertError(r, 422, 'invalid_query', 'query');
    assert.equal(r.json.error.position, 2);
    r = await api('PUT', '/topics/q1', o.token, { name: 'q',
      subreddits: [sub], query: '()' });
    assertError(r, 422, 'invalid_query', 'query');
    r = await api('GET', '/topics/q1', o.token);
    assert.equal(r.json.query, 'ok', 'refused writes change nothing');
    // exactly 1024 bytes is accepted
    r = await api('PATCH', '/topics/q1', o.token, {
      query: `rust ${'x'.repeat(1019)}` });
    assert.equal(r.status, 200, r.text);
  });

test('PUT and PATCH: a body id must be the path id, unknown members fail',
  async () => {
    const o = await owner();
    const sub = uniq('ti');
    let r = await api('POST', '/topics', o.token, { id: 'same', name: 'n',
      subreddits: [sub] });
    assert.equal(r.status, 201);
    r = await api('PUT', '/topics/same', o.token, { id: 'other', name: 'n',
      subreddits: [sub] });
    assertError(r, 422, 'validation_failed', 'id');
    r = await api('PUT', '/topics/same', o.token, { id: 'same', name: 'n2',
      subreddits: [sub] });
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'n2');
    r = await api('PATCH', '/topics/same', o.token, { nme: 'typo' });
    assertError(r, 422, 'validation_failed', 'nme');
    r = await api('PATCH', '/topics/same', o.token, { name: null });
    assertError(r, 422, 'invalid_topic', 'name');
    r = await api('PATCH', '/topics/same', o.token, { subreddits: [] });
    assertError(r, 422, 'invalid_topic', 'subreddits');
  });

test('the ingest worker watches what the topics watch', async () => {
  const o = await owner();
  const [w, u] = [uniq('iw'), uniq('iu')];
  let r = await api('POST', '/topics', o.token, { id: 'ing', name: 'i',
    subreddits: [w] });
  assert.equal(r.status, 201);
  assert.equal(await s.redis.cmd('HGET', 'es:{watch}:subs', 'all'), null,
    'no topic watches "all" (it would keep every comment)');

  const line = (id, sub) => JSON.stringify({ author: 'a', body: 'text',
    created_utc: 1700000000, id, link_id: 't3_abc', parent_id: 't3_abc',
    score: 1, subreddit: sub });
  const base = 36 ** 6 * 30 + Number.parseInt(randomBytes(3).toString('hex'),
    16);
  const ids = [0, 1, 2, 3].map((i) => (base + i).toString(36));

  async function backfill(lines) {
    const p = startProc(bin('ingest'), ['--backfill', '-'], {
      env: { ECHOSTREAM_REDIS: s.redis.url, ECHOSTREAM_STREAM_MAX_LEN: '0' },
      name: 'ingest', stdin: true });
    p.child.stdin.end(lines.join('\n') + '\n');
    const e = await p.exited;
    assert.equal(e.code, 0, p.output());
  }
  async function streamed(id) {
    const entries = await s.redis.cmd('XRANGE', 'es:{ingest}:comments', '-',
      '+');
    return entries.some(([, f]) => f[f.indexOf('id') + 1] === id);
  }

  await backfill([line(ids[0], w), line(ids[1], u)]);
  assert.ok(await streamed(ids[0]), 'a watched subreddit is kept');
  assert.ok(!(await streamed(ids[1])), 'an unwatched one is not');

  r = await api('DELETE', '/topics/ing', o.token);
  assert.equal(r.status, 204);
  await backfill([line(ids[2], w)]);
  assert.ok(!(await streamed(ids[2])), 'unwatched after the delete');
});

test('a tenant has at most 100 topics', async () => {
  const o = await owner();
  const sub = uniq('tl');
  for (let i = 0; i < 100; i++) {
    const r = await api('POST', '/topics', o.token, { id: `t${i}`,
      name: `topic ${i}`, subreddits: [sub] });
    assert.equal(r.status, 201, r.text);
  }
  let r = await api('POST', '/topics', o.token, { name: 'one too many',
    subreddits: [sub] });
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /topic limit/);
  assert.deepEqual(await watchCounts([sub]), { [sub]: 100 });
  r = await api('GET', '/topics', o.token);
  assert.equal(r.json.topics.length, 100);
  // replacing one still works at the limit; deleting one makes room
  r = await api('PUT', '/topics/t5', o.token, { name: 'x', subreddits: [sub] });
  assert.equal(r.status, 200);
  r = await api('DELETE', '/topics/t5', o.token);
  assert.equal(r.status, 204);
  r = await api('POST', '/topics', o.token, { name: 'fits again',
    subreddits: [sub] });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(await watchCounts([sub]), { [sub]: 100 });
});

test('members read topics, only owners write them', async () => {
  const o = await owner();
  const m = await member(o.tenant);
  const sub = uniq('tr');
  let r = await api('POST', '/topics', o.token, { id: 'shared', name: 's',
    subreddits: [sub] });
  assert.equal(r.status, 201);

  r = await api('GET', '/topics', m.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.topics.map((t) => t.id), ['shared']);
  r = await api('GET', '/topics/shared', m.token);
  assert.equal(r.status, 200);

  const writes = [
    ['POST', '/topics', { name: 'm', subreddits: [sub] }],
    ['PUT', '/topics/shared', { name: 'm', subreddits: [sub] }],
    ['PATCH', '/topics/shared', { name: 'm' }],
    ['DELETE', '/topics/shared', undefined],
  ];
  for (const [method, path, body] of writes) {
    r = await api(method, path, m.token, body);
    assertError(r, 403, 'forbidden');
  }
  r = await api('GET', '/topics/shared', o.token);
  assert.equal(r.json.name, 's', 'nothing changed');
  assert.deepEqual(await watchCounts([sub]), { [sub]: 1 });
});

test('tenants never see each other\'s topics; the union adds up',
  async () => {
    const a = await owner();
    const b = await owner();
    const sub = uniq('tt');
    let r = await api('POST', '/topics', a.token, { id: 'mine', name: 'a',
      subreddits: [sub] });
    assert.equal(r.status, 201);
    r = await api('GET', '/topics/mine', b.token);
    assertError(r, 404, 'not_found');
    r = await api('PATCH', '/topics/mine', b.token, { name: 'stolen' });
    assertError(r, 404, 'not_found');
    r = await api('DELETE', '/topics/mine', b.token);
    assertError(r, 404, 'not_found');
    r = await api('GET', '/topics', b.token);
    assert.deepEqual(r.json, { topics: [] });

    // the same id in the other tenant is another topic
    r = await api('POST', '/topics', b.token, { id: 'mine', name: 'b',
      subreddits: [sub] });
    assert.equal(r.status, 201);
    assert.deepEqual(await watchCounts([sub]), { [sub]: 2 });
    r = await api('DELETE', '/topics/mine', a.token);
    assert.equal(r.status, 204);
    assert.deepEqual(await watchCounts([sub]), { [sub]: 1 });
    r = await api('GET', '/topics/mine', b.token);
    assert.equal(r.json.name, 'b');
  });

test('a damaged stored topic is skipped, not served', async () => {
  const o = await owner();
  const sub = uniq('td');
  let r = await api('POST', '/topics', o.token, { id: 'good', name: 'g',
    subreddits: [sub] });
  assert.equal(r.status, 201);
  await s.redis.cmd('HSET', `es:{t:${o.tenant}}:topics`, 'bad', '{"name":');
  await s.redis.cmd('HSET', `es:{t:${o.tenant}}:topics`, 'odd',
    '{"name":1,"subreddits":"x"}');
  r = await api('GET', '/topics', o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.topics.map((t) => t.id), ['good']);
  r = await api('GET', '/topics/bad', o.token);
  assertError(r, 404, 'not_found');
  assert.match(s.nginx.errorLog(), /skipping malformed topic "bad"/);
  // a PATCH naming every field repairs it
  r = await api('PATCH', '/topics/bad', o.token, { name: 'fixed',
    subreddits: [sub] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { id: 'bad', name: 'fixed', subreddits: [sub],
    query: '' });
});

test('20 concurrent creates of one id: one 201, 19 409, counted once',
  async () => {
    const o = await owner();
    const [x, y] = [uniq('rx'), uniq('ry')];
    const v0 = await versions();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      api('POST', '/topics', o.token, { id: 'raced', name: `racer ${i}`,
        subreddits: [x, y] })));
    const codes = results.map((r) => r.status).sort();
    assert.deepEqual(codes, [201, ...Array(19).fill(409)]);
    for (const r of results.filter((q) => q.status === 409)) {
      assert.equal(r.json.error.code, 'conflict');
    }
    const winner = results.find((r) => r.status === 201).json;
    const stored = JSON.parse(await s.redis.cmd('HGET',
      `es:{t:${o.tenant}}:topics`, 'raced'));
    assert.deepEqual(stored, winner);
    assert.deepEqual(await watchCounts([x, y]), { [x]: 1, [y]: 1 });
    const v = await versions();
    assert.equal(v.topics, v0.topics + 1);
    assert.equal(v.watch, v0.watch + 1);
  });

test('concurrent PATCHes of one topic all land (compare-and-set)',
  async () => {
    const o = await owner();
    const subs = Array.from({ length: 6 }, () => uniq('cp'));
    let r = await api('POST', '/topics', o.token, { id: 'cas', name: 'c',
      subreddits: [subs[0]] });
    assert.equal(r.status, 201);
    // each PATCH moves the topic to its own subreddit; whatever the order,
    // the union must end with exactly the final topic's subreddit counted
    const results = await Promise.all(subs.slice(1).map((sub) =>
      api('PATCH', '/topics/cas', o.token, { subreddits: [sub] })));
    for (const q of results) {
      assert.ok(q.status === 200 || q.status === 409, q.text);
    }
    r = await api('GET', '/topics/cas', o.token);
    const final = r.json.subreddits[0];
    const counts = await watchCounts(subs);
    for (const sub of subs) {
      assert.equal(counts[sub], sub === final ? 1 : 0, `${sub}`);
    }
  });
