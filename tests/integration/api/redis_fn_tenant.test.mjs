// redis_fn_tenant.test.mjs - the functions of lib/redis/tenant.lua (library
// "echostream_tenant": topics, alert rules, members and their mail
// opt-ins, invites, settings and summary requests) called one by one
// against a real redis-server, with the KEYS/ARGV protocol of the file's
// header.
//
// The API suites see these functions only through HTTP answers; here each
// header paragraph is checked on its own and on the exact keys: the topic
// hash and the watch union ingest polls (counts per subreddit, a count
// reaching 0 deleted, its version moved only when a count changed), the
// version counters and the tenant's data version, both sides of an invite
// (the tenant's entry and its field of the per-e-mail hash, whose TTL only
// grows), the detaching of a tenant whose last member leaves. Every
// documented error is provoked and its exact "<CODE> <message>" asserted,
// and an error must leave every key as it was: those tests take a snapshot
// of all of Redis before and compare it after. Times given as arguments
// (invites) are fixed numbers, so expiry decisions are exact; Redis is
// emptied before every test, so tests do not depend on each other.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { startRedis } from '../../lib/harness.mjs';
import {
  fcall, fcallError, hgetall, registeredFunctions, resetRedis, snapshot,
  xrange,
} from '../../lib/redis_fn.mjs';

const T = 'acme';
const WSUBS = 'es:{watch}:subs';
const WVER = 'es:{watch}:version';
const TVER = 'es:{topics}:version';
const TALL = 'es:{tenants}:all';
const SREQ = 'es:{summaries}:requests';
const tkey = (t, s) => `es:{t:${t}}:${s}`;
const userKey = (sub) => `es:{users}:${sub}`;
const ikey = (email) =>
  `es:{invites}:${createHash('sha256').update(email).digest('hex')}`;

const NOW = 1732543261000; // invite times are arguments: a fixed "now" (ms)
const WEEK = 7 * 86400; // echostream_invite_ttl's default, seconds

let redis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

beforeEach(async () => {
  await resetRedis(redis, 'tenant.lua');
});

const get = (k) => redis.cmd('GET', k);
const hget = (k, f) => redis.cmd('HGET', k, f);
const exists = (...k) => redis.cmd('EXISTS', ...k);

// TTL right after a write: the value set, or one second less when the
// clock ticked in between (a value check, not a timing one)
async function assertTtl(key, ttl) {
  const t = await redis.cmd('TTL', key);
  assert.ok(t === ttl || t === ttl - 1, `TTL of ${key} is ${t}, not ${ttl}`);
}

// Calls fn, expects the error message msg, and that no key changed.
async function expectError(name, keys, args, msg) {
  const before1 = await snapshot(redis);
  const got = await fcallError(redis, name, keys, args);
  if (msg instanceof RegExp) assert.match(got, msg); else assert.equal(got, msg);
  assert.deepEqual(await snapshot(redis), before1, `${name}: nothing written`);
}

test('the suite covers every function the library registers', () => {
  assert.deepEqual(registeredFunctions('tenant.lua'), [
    'es_invite_accept', 'es_invite_decline', 'es_invite_remove',
    'es_invites_list', 'es_item_delete', 'es_item_put', 'es_member_invite',
    'es_member_optins', 'es_member_remove', 'es_rule_put', 'es_settings_put',
    'es_settings_set', 'es_summary_request', 'es_topic_delete', 'es_topic_put',
  ]);
});

// --- es_topic_put / es_topic_delete ---

const topicKeys = (t = T) => [tkey(t, 'topics'), WSUBS, WVER, TVER, TALL];
const topicJson = (id, subs, query = '') =>
  JSON.stringify({ id, name: `Topic ${id}`, subreddits: subs, query });

function topicArgs({ mode = 'create', expected = '', id = 't1', subs = ['rust'],
                     json, limit = 100, tenant = T } = {}) {
  return [mode, expected, id, json ?? topicJson(id, subs), String(limit), tenant,
          ...subs];
}

const putTopic = (o = {}) =>
  fcall(redis, 'es_topic_put', topicKeys(o.tenant), topicArgs(o));
const delTopic = (id, t = T) =>
  fcall(redis, 'es_topic_delete', topicKeys(t).slice(0, 4), [id]);
const watch = () => hgetall(redis, WSUBS);

test('es_topic_put create stores the topic, counts its subreddits and moves every version',
  async () => {
    const json = topicJson('t1', ['rust', 'golang']);
    assert.equal(await putTopic({ id: 't1', subs: ['rust', 'golang'], json }), 1);
    const snap = await snapshot(redis);
    assert.deepEqual(snap, {
      [tkey(T, 'topics')]: { type: 'hash', expire: -1, value: { t1: json } },
      [WSUBS]: { type: 'hash', expire: -1, value: { golang: '1', rust: '1' } },
      [WVER]: { type: 'string', expire: -1, value: '1' },
      [TVER]: { type: 'string', expire: -1, value: '1' },
      [tkey(T, 'dv')]: { type: 'string', expire: -1, value: '1' },
      [TALL]: { type: 'set', expire: -1, value: [T] },
    });
  });

test('es_topic_put counts only valid subreddit names, each once', async () => {
  const long21 = 'a'.repeat(21);
  const subs = ['rust', 'rust', 'ab', long21, 'all', 'r_2',
    'R', 'x', 'a'.repeat(22), '_ab', 'a-b', 'Rust', ''];
  assert.equal(await putTopic({ subs }), 1);
  assert.deepEqual(await watch(),
    { rust: '1', ab: '1', [long21]: '1', all: '1', r_2: '1' });
  assert.equal(await get(WVER), '1', 'one version step for the whole change');
});

test('es_topic_put adds up the subreddits of every topic and tenant', async () => {
  await putTopic({ id: 't1', subs: ['rust'] });
  await putTopic({ id: 't2', subs: ['rust', 'golang'] });
  await putTopic({ tenant: 'beta', id: 't1', subs: ['rust'] });
  assert.deepEqual(await watch(), { rust: '3', golang: '1' });
  assert.equal(await get(WVER), '3');
  assert.equal(await get(TVER), '3');
  assert.equal(await get(tkey(T, 'dv')), '2');
  assert.equal(await get(tkey('beta', 'dv')), '1');
  assert.deepEqual((await redis.cmd('SMEMBERS', TALL)).sort(), ['acme', 'beta']);
});

test('es_topic_put create of an existing id is a CONFLICT and changes nothing',
  async () => {
    await putTopic({ id: 't1', subs: ['rust'] });
    await expectError('es_topic_put', topicKeys(),
      topicArgs({ id: 't1', subs: ['golang'] }), 'CONFLICT topic t1 already exists');
  });

test('es_topic_put create stops at the topic limit', async () => {
  await putTopic({ id: 't1', limit: 2 });
  await putTopic({ id: 't2', limit: 2 });
  await expectError('es_topic_put', topicKeys(),
    topicArgs({ id: 't3', limit: 2 }), 'CONFLICT topic limit reached (2 topics)');
  // a limit of 0 refuses the first topic; replacing at the limit is fine
  await expectError('es_topic_put', topicKeys('beta'),
    topicArgs({ tenant: 'beta', id: 't1', limit: 0 }),
    'CONFLICT topic limit reached (0 topics)');
  assert.equal(await putTopic({ mode: 'replace', id: 't2', subs: ['golang'], limit: 2 }), 1);
});

test('es_topic_put replace moves the watch counts by the difference', async () => {
  await putTopic({ id: 't1', subs: ['rust', 'golang'] });
  await putTopic({ id: 't2', subs: ['golang'] });
  const json = topicJson('t1', ['golang', 'python']);
  assert.equal(await putTopic({ mode: 'replace', id: 't1', subs: ['golang', 'python'],
    json }), 1);
  assert.equal(await hget(tkey(T, 'topics'), 't1'), json);
  // rust reached 0 and is gone, golang unchanged, python new
  assert.deepEqual(await watch(), { golang: '2', python: '1' });
  assert.equal(await get(WVER), '3');
  assert.equal(await get(TVER), '3');
  assert.equal(await get(tkey(T, 'dv')), '3');
});

test('es_topic_put replace with the same subreddits leaves the watch version alone',
  async () => {
    await putTopic({ id: 't1', subs: ['rust', 'golang'] });
    // the same set in another order, with a duplicate: no count changes
    assert.equal(await putTopic({ mode: 'replace', id: 't1',
      subs: ['golang', 'rust', 'rust'], json: topicJson('t1', ['golang', 'rust']) }), 1);
    assert.deepEqual(await watch(), { rust: '1', golang: '1' });
    assert.equal(await get(WVER), '1');
    // the topic did change: its version and the tenant's data version move
    assert.equal(await get(TVER), '2');
    assert.equal(await get(tkey(T, 'dv')), '2');
    // and a replay of the same replace changes no count either
    await putTopic({ mode: 'replace', id: 't1', subs: ['golang', 'rust'] });
    assert.deepEqual(await watch(), { rust: '1', golang: '1' });
    assert.equal(await get(WVER), '1');
  });

test('es_topic_put replace of a missing topic is NOTFOUND and changes nothing',
  async () => {
    await putTopic({ id: 't1' });
    await expectError('es_topic_put', topicKeys(),
      topicArgs({ mode: 'replace', id: 't9' }), 'NOTFOUND no such topic');
  });

test('es_topic_put replace is a compare-and-set on the expected value', async () => {
  const v1 = topicJson('t1', ['rust']);
  await putTopic({ id: 't1', json: v1 });
  await expectError('es_topic_put', topicKeys(),
    topicArgs({ mode: 'replace', expected: topicJson('t1', ['golang']), id: 't1',
      subs: ['golang'] }), 'STALE topic changed meanwhile');
  const v2 = topicJson('t1', ['golang']);
  assert.equal(await putTopic({ mode: 'replace', expected: v1, id: 't1',
    subs: ['golang'], json: v2 }), 1);
  assert.equal(await hget(tkey(T, 'topics'), 't1'), v2);
  assert.deepEqual(await watch(), { golang: '1' });
  // the same compare again lost: the stored value moved on
  await expectError('es_topic_put', topicKeys(),
    topicArgs({ mode: 'replace', expected: v1, id: 't1', subs: ['python'] }),
    'STALE topic changed meanwhile');
});

test('es_topic_put replace of a stored topic that does not decode leaves its counts',
  async () => {
    await redis.cmd('HSET', tkey(T, 'topics'), 't1', '{"subreddits": [');
    await redis.cmd('HSET', WSUBS, 'rust', '1');
    assert.equal(await putTopic({ mode: 'replace', id: 't1', subs: ['golang'] }), 1);
    // the old names could not be read: rust keeps its count, golang is added
    assert.deepEqual(await watch(), { rust: '1', golang: '1' });
    const log = readFileSync(path.join(redis.dir, 'redis.log'), 'utf8');
    assert.match(log, /echostream_tenant: a stored topic has no readable subreddits/);
  });

test('es_topic_put treats a watch count that is not an integer as 0', async () => {
  await redis.cmd('HSET', WSUBS, 'rust', 'many', 'golang', '1.5');
  await putTopic({ subs: ['rust', 'golang'] });
  assert.deepEqual(await watch(), { rust: '1', golang: '1' });
});

test('es_topic_put answers an error and writes nothing with bad arguments', async () => {
  await putTopic({ id: 't1' });
  const cases = [
    { what: 'no ARGV', args: [] },
    { what: 'garbage limit', args: topicArgs({ id: 't2', limit: 'lots' }) },
    { what: 'no limit', args: ['create', '', 't2', topicJson('t2', [])] },
    { what: 'no KEYS', keys: [], args: topicArgs({ id: 't2' }) },
  ];
  for (const c of cases) {
    await expectError('es_topic_put', c.keys ?? topicKeys(), c.args, /^ERR /);
  }
});

// Redis does not undo a function's writes when it raises an error: the
// checks must come before the first write, or an error leaves the topic
// stored with versions moved but (here) the tenant not listed.
test('es_topic_put with a missing tenant argument or KEY answers an error and writes nothing',
  async () => {
    await expectError('es_topic_put', topicKeys(),
      ['create', '', 't1', topicJson('t1', []), '100'], /^ERR /);
    await expectError('es_topic_put', topicKeys().slice(0, 4),
      topicArgs({ id: 't2' }), /^ERR /);
  });

test('es_topic_put refuses a mode other than create or replace',
  async () => {
    await putTopic({ id: 't1', subs: ['rust'] });
    await expectError('es_topic_put', topicKeys(),
      topicArgs({ mode: 'upsert', id: 't1', subs: ['golang'] }), /^[A-Z]+ /);
  });

test('es_topic_delete removes the topic and its watch counts', async () => {
  await putTopic({ id: 't1', subs: ['rust', 'golang'] });
  await putTopic({ id: 't2', subs: ['rust'] });
  await putTopic({ id: 't3', subs: [] });
  await redis.cmd('SET', tkey(T, 'ts:t1:m:2024112514'), 'left to expire');
  assert.equal(await delTopic('t1'), 1);
  assert.deepEqual(await hgetall(redis, tkey(T, 'topics')),
    { t2: topicJson('t2', ['rust']), t3: topicJson('t3', []) });
  assert.deepEqual(await watch(), { rust: '1' });
  assert.equal(await get(WVER), '3');
  assert.equal(await get(TVER), '4');
  assert.equal(await get(tkey(T, 'dv')), '4');
  // series and comment keys are left to expire; the tenant stays listed
  assert.equal(await get(tkey(T, 'ts:t1:m:2024112514')), 'left to expire');
  assert.equal(await redis.cmd('SISMEMBER', TALL, T), 1);
  // a topic watching nothing: no watch change, the other versions move
  assert.equal(await delTopic('t3'), 1);
  assert.equal(await get(WVER), '3');
  assert.equal(await get(TVER), '5');
  // the last one: its count reaches 0 and the field goes
  assert.equal(await delTopic('t2'), 1);
  assert.deepEqual(await watch(), {});
  assert.equal(await exists(tkey(T, 'topics')), 0);
});

test('es_topic_delete of a missing topic is NOTFOUND and changes nothing', async () => {
  await putTopic({ id: 't1' });
  await expectError('es_topic_delete', topicKeys().slice(0, 4), ['t9'],
    'NOTFOUND no such topic');
  // a replayed delete is NOTFOUND too
  await delTopic('t1');
  await expectError('es_topic_delete', topicKeys().slice(0, 4), ['t1'],
    'NOTFOUND no such topic');
});

test('es_topic_delete answers an error and writes nothing with bad arguments',
  async () => {
    await putTopic({ id: 't1' });
    await expectError('es_topic_delete', topicKeys().slice(0, 4), [], /^ERR /);
    await expectError('es_topic_delete', [], ['t1'], /^ERR /);
  });

test('es_topic_delete with too few KEYS answers an error and writes nothing',
  async () => {
    await putTopic({ id: 't1', subs: ['rust'] });
    await expectError('es_topic_delete', [tkey(T, 'topics')], ['t1'], /^ERR /);
  });

// --- es_item_put / es_item_delete: any kind of tenant item ---

// a kind with no hook and no reference, as a new kind (saved views) is
const VIEWS = tkey(T, 'views');
const viewJson = (id, n = 1) => JSON.stringify({ id, name: `View ${id}`, n });
function itemArgs({ what = 'view', mode = 'create', expected = '', id = 'v1',
                    json, limit = 100, ref = '', hook = '', extra = [] } = {}) {
  return [what, mode, expected, id, json ?? viewJson(id), String(limit), ref,
          hook, ...extra];
}
const putItem = (o = {}, keys = [VIEWS, VIEWS]) =>
  fcall(redis, 'es_item_put', keys, itemArgs(o));
const topicHookKeys = (t = T) => [tkey(t, 'dv'), WSUBS, WVER, TVER];

test('es_item_put of a kind without a hook stores the item and nothing else',
  async () => {
    const before1 = await snapshot(redis);
    assert.equal(await putItem({ id: 'v1' }), 1);
    const after1 = await snapshot(redis);
    assert.deepEqual(after1[VIEWS],
      { type: 'hash', expire: -1, value: { v1: viewJson('v1') } });
    delete after1[VIEWS];
    assert.deepEqual(after1, before1, 'no version moves without a hook');
  });

test('es_item_put create: CONFLICT for a taken id and at the limit', async () => {
  await putItem({ id: 'v1', limit: 2 });
  await expectError('es_item_put', [VIEWS, VIEWS],
    itemArgs({ id: 'v1', json: viewJson('v1', 2) }),
    'CONFLICT view v1 already exists');
  await putItem({ id: 'v2', limit: 2 });
  await expectError('es_item_put', [VIEWS, VIEWS], itemArgs({ id: 'v3', limit: 2 }),
    'CONFLICT view limit reached (2 views)');
});

test('es_item_put replace: NOTFOUND when missing, STALE when changed meanwhile',
  async () => {
    await expectError('es_item_put', [VIEWS, VIEWS],
      itemArgs({ mode: 'replace', id: 'v9' }), 'NOTFOUND no such view');
    await putItem({ id: 'v1' });
    await expectError('es_item_put', [VIEWS, VIEWS],
      itemArgs({ mode: 'replace', expected: viewJson('v1', 7), id: 'v1',
                 json: viewJson('v1', 8) }),
      'STALE view changed meanwhile');
    assert.equal(await putItem({ mode: 'replace', expected: viewJson('v1'),
                                 id: 'v1', json: viewJson('v1', 3) }), 1);
    assert.equal(await hget(VIEWS, 'v1'), viewJson('v1', 3));
    assert.equal(await putItem({ mode: 'replace', id: 'v1',
                                 json: viewJson('v1', 4) }), 1,
    'an empty expected value replaces whatever is stored');
    assert.equal(await hget(VIEWS, 'v1'), viewJson('v1', 4));
  });

test('es_item_put with a reference: NOREF unless the referenced item exists',
  async () => {
    const keys = [VIEWS, tkey(T, 'topics')];
    await expectError('es_item_put', keys, itemArgs({ ref: 't1' }), 'NOREF t1');
    await putTopic({ id: 't1' });
    assert.equal(await putItem({ ref: 't1' }, keys), 1);
    assert.equal(await hget(VIEWS, 'v1'), viewJson('v1'));
  });

test('es_item_put with the topic hook does what es_topic_put does', async () => {
  const json = topicJson('t1', ['rust', 'golang']);
  await putTopic({ id: 't1', subs: ['rust', 'golang'], json });
  const legacy = await snapshot(redis);
  await resetRedis(redis, 'tenant.lua');
  assert.equal(await fcall(redis, 'es_item_put',
    [tkey(T, 'topics'), tkey(T, 'topics'), ...topicHookKeys(), TALL],
    itemArgs({ what: 'topic', id: 't1', json, hook: 'topic',
               extra: [T, 'rust', 'golang'] })), 1);
  assert.deepEqual(await snapshot(redis), legacy);
});

test('es_item_delete removes the item; NOTFOUND for a missing one', async () => {
  await putItem({ id: 'v1' });
  await putItem({ id: 'v2' });
  const before1 = await snapshot(redis);
  assert.equal(await fcall(redis, 'es_item_delete', [VIEWS], ['view', 'v1', '']), 1);
  const after1 = await snapshot(redis);
  assert.deepEqual(after1[VIEWS], { type: 'hash', expire: -1, value: { v2: viewJson('v2') } });
  delete after1[VIEWS];
  delete before1[VIEWS];
  assert.deepEqual(after1, before1);
  await expectError('es_item_delete', [VIEWS], ['view', 'v1', ''], 'NOTFOUND no such view');
});

test('es_item_delete with the topic hook does what es_topic_delete does',
  async () => {
    await putTopic({ id: 't1', subs: ['rust'] });
    await putTopic({ id: 't2', subs: ['rust', 'golang'] });
    await delTopic('t2');
    const legacy = await snapshot(redis);
    await resetRedis(redis, 'tenant.lua');
    await putTopic({ id: 't1', subs: ['rust'] });
    await putTopic({ id: 't2', subs: ['rust', 'golang'] });
    assert.equal(await fcall(redis, 'es_item_delete',
      [tkey(T, 'topics'), ...topicHookKeys()], ['topic', 't2', 'topic']), 1);
    assert.deepEqual(await snapshot(redis), legacy);
  });

test('es_item_put and es_item_delete answer an error and write nothing with bad arguments',
  async () => {
    await putTopic({ id: 't1' });
    const P = 'es_item_put';
    const tk = tkey(T, 'topics');
    await expectError(P, [VIEWS], itemArgs(), /^ERR /);
    await expectError(P, [VIEWS, VIEWS], itemArgs().slice(0, 7), /^ERR /);
    await expectError(P, ['views', 'views'], itemArgs(), /^ERR .*tenant key/);
    await expectError(P, [VIEWS, VIEWS], itemArgs({ mode: 'upsert' }), 'ERR mode');
    await expectError(P, [VIEWS, VIEWS], itemArgs({ limit: 'x' }), 'ERR view limit');
    await expectError(P, [VIEWS, VIEWS], itemArgs({ hook: 'nope' }),
      /^ERR unknown hook/);
    // the topic hook: all its keys, and the data version of the same tenant
    await expectError(P, [tk, tk, ...topicHookKeys()],
      itemArgs({ what: 'topic', id: 't2', hook: 'topic', extra: [T, 'rust'] }),
      /^ERR hook topic needs/);
    await expectError(P, [tk, tk, ...topicHookKeys('other'), TALL],
      itemArgs({ what: 'topic', id: 't2', hook: 'topic', extra: [T, 'rust'] }),
      /^ERR hook topic: KEYS\[3\] is not the data version/);
    await expectError(P, [tk, tk, ...topicHookKeys(), TALL],
      itemArgs({ what: 'topic', id: 't2', hook: 'topic' }), /^ERR hook topic needs/);
    const D = 'es_item_delete';
    await expectError(D, [], ['topic', 't1', ''], /^ERR /);
    await expectError(D, [tk], ['topic', 't1'], /^ERR /);
    await expectError(D, ['topics'], ['topic', 't1', ''], /^ERR .*tenant key/);
    await expectError(D, [tk, ...topicHookKeys().slice(0, 3)], ['topic', 't1', 'topic'],
      /^ERR hook topic needs/);
    await expectError(D, [tk, ...topicHookKeys('other')], ['topic', 't1', 'topic'],
      /^ERR hook topic: KEYS\[2\] is not the data version/);
    await expectError(D, [tk], ['topic', 't1', 'nope'], /^ERR unknown hook/);
  });

// --- es_rule_put ---

const RULES = tkey(T, 'alerts:rules');
const ruleKeys = [RULES, tkey(T, 'topics')];
const ruleJson = (id, topic, threshold = 10) =>
  JSON.stringify({ id, topic, kind: 'volume_spike', threshold });
const ruleArgs = ({ mode = 'create', expected = '', id = 'r1', topic = 't1',
                    json, limit = 50 } = {}) =>
  [mode, expected, id, json ?? ruleJson(id, topic), String(limit), topic];
const putRule = (o) => fcall(redis, 'es_rule_put', ruleKeys, ruleArgs(o));

test('es_rule_put create stores the rule of an existing topic and nothing else',
  async () => {
    await putTopic({ id: 't1' });
    const before1 = await snapshot(redis);
    assert.equal(await putRule({ id: 'r1' }), 1);
    const after1 = await snapshot(redis);
    assert.deepEqual(after1[RULES],
      { type: 'hash', expire: -1, value: { r1: ruleJson('r1', 't1') } });
    delete after1[RULES];
    // no version or data version moves for a rule
    assert.deepEqual(after1, before1);
  });

test('es_rule_put create of an existing id is a CONFLICT', async () => {
  await putTopic({ id: 't1' });
  await putRule({ id: 'r1' });
  await expectError('es_rule_put', ruleKeys, ruleArgs({ id: 'r1', json: ruleJson('r1', 't1', 99) }),
    'CONFLICT rule r1 already exists');
});

test('es_rule_put create stops at the rule limit', async () => {
  await putTopic({ id: 't1' });
  await putRule({ id: 'r1', limit: 2 });
  await putRule({ id: 'r2', limit: 2 });
  await expectError('es_rule_put', ruleKeys, ruleArgs({ id: 'r3', limit: 2 }),
    'CONFLICT rule limit reached (2 rules)');
  assert.equal(await putRule({ mode: 'replace', id: 'r2', limit: 2,
    json: ruleJson('r2', 't1', 3) }), 1);
});

test('es_rule_put refuses a rule whose topic is not the tenant\'s with NOTOPIC',
  async () => {
    await putTopic({ id: 't1' });
    await putTopic({ tenant: 'beta', id: 't2' });
    // t2 is beta's topic, not acme's
    await expectError('es_rule_put', ruleKeys, ruleArgs({ id: 'r1', topic: 't2' }),
      'NOTOPIC no such topic: t2');
    await putRule({ id: 'r1' });
    await expectError('es_rule_put', ruleKeys,
      ruleArgs({ mode: 'replace', id: 'r1', topic: 't2' }), 'NOTOPIC no such topic: t2');
  });

test('es_rule_put replace: NOTFOUND, STALE, and the compare-and-set', async () => {
  await putTopic({ id: 't1' });
  await putTopic({ id: 't2' });
  await expectError('es_rule_put', ruleKeys, ruleArgs({ mode: 'replace', id: 'r1' }),
    'NOTFOUND no such rule');
  const v1 = ruleJson('r1', 't1');
  await putRule({ id: 'r1', json: v1 });
  await expectError('es_rule_put', ruleKeys,
    ruleArgs({ mode: 'replace', expected: 'older', id: 'r1' }),
    'STALE rule changed meanwhile');
  const v2 = ruleJson('r1', 't2', 5);
  assert.equal(await putRule({ mode: 'replace', expected: v1, id: 'r1', topic: 't2',
    json: v2 }), 1);
  assert.equal(await hget(RULES, 'r1'), v2);
  // expected "" replaces whatever is stored, and a replay is harmless
  assert.equal(await putRule({ mode: 'replace', id: 'r1', json: v1 }), 1);
  assert.equal(await putRule({ mode: 'replace', id: 'r1', json: v1 }), 1);
  assert.deepEqual(await hgetall(redis, RULES), { r1: v1 });
});

test('es_rule_put answers an error and writes nothing with bad arguments', async () => {
  await putTopic({ id: 't1' });
  const cases = [
    { what: 'no ARGV', args: [] },
    { what: 'no topic', args: ruleArgs({ id: 'r1' }).slice(0, 5) },
    { what: 'garbage limit', args: ruleArgs({ id: 'r1', limit: 'x' }) },
    { what: 'one KEY', keys: [RULES], args: ruleArgs({ id: 'r1' }) },
  ];
  for (const c of cases) {
    await expectError('es_rule_put', c.keys ?? ruleKeys, c.args, /^ERR /);
  }
});

test('es_rule_put refuses a mode other than create or replace',
  async () => {
    await putTopic({ id: 't1' });
    await putRule({ id: 'r1' });
    await expectError('es_rule_put', ruleKeys,
      ruleArgs({ mode: 'upsert', id: 'r1', json: ruleJson('r1', 't1', 1) }), /^[A-Z]+ /);
  });

// --- es_member_invite ---

const memberJson = (sub, email, role = 'member') =>
  JSON.stringify({ sub, email, role, joined_ms: 1 });

async function addMember(tenant, sub, email, role = 'member') {
  await redis.cmd('HSET', tkey(tenant, 'members'), sub, memberJson(sub, email, role));
}

// the tenant's entry as the module builds it
const inviteEntry = ({ id, email, role = 'member', by = 'alice', now = NOW,
                       ttl = WEEK }) =>
  JSON.stringify({ id, email, role, invited_by: by, created_ms: now,
                   expires_ms: now + ttl * 1000 });

function inviteArgs({ tenant = T, email = 'carol@x.io', role = 'member', by = 'alice',
                      now = NOW, ttl = WEEK, max = 50, id = 'inv1',
                      byEmail = 'alice@x.io', entry } = {}) {
  return {
    keys: [tkey(tenant, 'invites'), ikey(email), tkey(tenant, 'members')],
    args: [tenant, email, role, by, String(now), String(ttl), String(max),
           entry ?? inviteEntry({ id, email, role, by, now, ttl }), id, byEmail],
  };
}

const invite = (o) => {
  const a = inviteArgs(o);
  return fcall(redis, 'es_member_invite', a.keys, a.args);
};

// the per-e-mail hash's field of tenant, decoded
async function perEmail(email, tenant = T) {
  const raw = await hget(ikey(email), tenant);
  return raw === null ? null : JSON.parse(raw);
}

test('es_member_invite writes both sides of the invite', async () => {
  assert.equal(await invite({ email: 'carol@x.io', role: 'owner', id: 'inv1' }), 1);
  assert.deepEqual(await hgetall(redis, tkey(T, 'invites')), {
    'carol@x.io': inviteEntry({ id: 'inv1', email: 'carol@x.io', role: 'owner' }),
  });
  assert.deepEqual(await perEmail('carol@x.io'), {
    id: 'inv1', role: 'owner', invited_by: 'alice', invited_by_email: 'alice@x.io',
    created_ms: NOW, expires_ms: NOW + WEEK * 1000,
  });
  await assertTtl(ikey('carol@x.io'), WEEK);
  // the tenant's own entry has no TTL: expired entries are pruned instead
  assert.equal(await redis.cmd('TTL', tkey(T, 'invites')), -1);
  assert.deepEqual(Object.keys(await snapshot(redis)).sort(),
    [ikey('carol@x.io'), tkey(T, 'invites')].sort());
});

test('es_member_invite again renews the invite with a new id', async () => {
  await invite({ id: 'inv1' });
  const later = NOW + 3600000;
  assert.equal(await invite({ id: 'inv2', now: later, role: 'owner' }), 1);
  assert.deepEqual(await hgetall(redis, tkey(T, 'invites')), {
    'carol@x.io': inviteEntry({ id: 'inv2', email: 'carol@x.io', role: 'owner',
      now: later }),
  });
  assert.deepEqual(await perEmail('carol@x.io'), {
    id: 'inv2', role: 'owner', invited_by: 'alice', invited_by_email: 'alice@x.io',
    created_ms: later, expires_ms: later + WEEK * 1000,
  });
});

test('es_member_invite keeps several tenants\' invites of one e-mail apart, the TTL only growing',
  async () => {
    await invite({ tenant: 'acme', id: 'a1', ttl: 1000 });
    await invite({ tenant: 'beta', id: 'b1', ttl: 500, by: 'bob', byEmail: 'bob@y.io' });
    // beta's shorter lifetime does not cut acme's invite short
    await assertTtl(ikey('carol@x.io'), 1000);
    await invite({ tenant: 'gamma', id: 'g1', ttl: 5000 });
    await assertTtl(ikey('carol@x.io'), 5000);
    assert.deepEqual(Object.keys(await hgetall(redis, ikey('carol@x.io'))).sort(),
      ['acme', 'beta', 'gamma']);
    assert.equal((await perEmail('carol@x.io', 'beta')).invited_by_email, 'bob@y.io');
    assert.equal((await perEmail('carol@x.io', 'acme')).id, 'a1');
  });

test('es_member_invite of a member\'s e-mail is a CONFLICT', async () => {
  await addMember(T, 'carol', 'Carol@X.io');
  await expectError('es_member_invite', ...Object.values(inviteArgs({ email: 'carol@x.io' })),
    'CONFLICT carol@x.io is already a member');
  // another tenant may invite her
  assert.equal(await invite({ tenant: 'beta', email: 'carol@x.io' }), 1);
});

test('es_member_invite stops at the limit of pending invites, renewals aside',
  async () => {
    await invite({ email: 'a@x.io', id: 'i1', max: 2 });
    await invite({ email: 'b@x.io', id: 'i2', max: 2 });
    await expectError('es_member_invite',
      ...Object.values(inviteArgs({ email: 'c@x.io', id: 'i3', max: 2 })),
      'CONFLICT invite limit reached (2 invites)');
    // renewing one of the two is not a new invite
    assert.equal(await invite({ email: 'b@x.io', id: 'i4', max: 2 }), 1);
    assert.equal(JSON.parse(await hget(tkey(T, 'invites'), 'b@x.io')).id, 'i4');
  });

test('es_member_invite prunes expired and unreadable entries before counting',
  async () => {
    // a@: ends exactly now (expired); b@: one ms later (valid);
    // c@: an older entry with only created_ms, ended by the lifetime; d@: garbage
    await redis.cmd('HSET', tkey(T, 'invites'),
      'a@x.io', JSON.stringify({ id: 'i1', created_ms: NOW - 1000, expires_ms: NOW }),
      'b@x.io', JSON.stringify({ id: 'i2', created_ms: NOW - 1000, expires_ms: NOW + 1 }),
      'c@x.io', JSON.stringify({ id: 'i3', created_ms: NOW - WEEK * 1000 }),
      'd@x.io', 'not json');
    assert.equal(await invite({ email: 'e@x.io', id: 'i5', max: 2 }), 1);
    assert.deepEqual(Object.keys(await hgetall(redis, tkey(T, 'invites'))).sort(),
      ['b@x.io', 'e@x.io']);
    await expectError('es_member_invite',
      ...Object.values(inviteArgs({ email: 'f@x.io', id: 'i6', max: 2 })),
      'CONFLICT invite limit reached (2 invites)');
  });

test('es_member_invite answers an error and writes nothing with bad arguments',
  async () => {
    const good = inviteArgs();
    const cases = [
      { what: 'no ARGV', keys: good.keys, args: [] },
      { what: 'garbage limit', ...inviteArgs({ max: 'x' }) },
      { what: 'no members key', keys: good.keys.slice(0, 2), args: good.args },
      { what: 'no KEYS', keys: [], args: good.args },
    ];
    for (const c of cases) {
      await expectError('es_member_invite', c.keys, c.args, /^ERR /);
    }
  });

test('es_member_invite with a garbage time or lifetime answers an error and writes nothing',
  async () => {
    await expectError('es_member_invite', ...Object.values(inviteArgs({ now: 'soon' })),
      /^ERR /);
    await expectError('es_member_invite', ...Object.values(inviteArgs({ ttl: 'week' })),
      /^ERR /);
  });

// --- es_member_remove ---

const removeKeys = (sub) => [tkey(T, 'members'), userKey(sub)];
const removeMember = (sub) => fcall(redis, 'es_member_remove', removeKeys(sub), [T, sub]);

test('es_member_remove removes the membership and records the removal', async () => {
  await addMember(T, 'alice', 'alice@x.io', 'owner');
  await addMember(T, 'bob', 'bob@x.io');
  await redis.cmd('HSET', userKey('bob'), 'tenant', T, 'role', 'member');
  const before1 = await snapshot(redis);
  assert.equal(await removeMember('bob'), 1);
  const after1 = await snapshot(redis);
  assert.deepEqual(after1[tkey(T, 'members')].value,
    { alice: memberJson('alice', 'alice@x.io', 'owner') });
  assert.deepEqual(after1[tkey(T, 'removed')], { type: 'set', expire: -1, value: ['bob'] });
  // the user record stays as it was, so the removal sticks
  assert.deepEqual(after1[userKey('bob')], before1[userKey('bob')]);
  // a replay finds no member
  await expectError('es_member_remove', removeKeys('bob'), [T, 'bob'],
    'NOTFOUND no such member');
});

test('es_member_remove keeps the last owner', async () => {
  await addMember(T, 'alice', 'alice@x.io', 'owner');
  await addMember(T, 'bob', 'bob@x.io');
  // an entry that does not decode counts as no owner
  await redis.cmd('HSET', tkey(T, 'members'), 'eve', '{"role":"owner"');
  await expectError('es_member_remove', removeKeys('alice'), [T, 'alice'],
    'CONFLICT cannot remove the last owner');
  // with a second owner either may go
  await addMember(T, 'dave', 'dave@x.io', 'owner');
  assert.equal(await removeMember('alice'), 1);
  await expectError('es_member_remove', removeKeys('dave'), [T, 'dave'],
    'CONFLICT cannot remove the last owner');
  // an undecodable entry is not an owner: it can be removed
  assert.equal(await removeMember('eve'), 1);
  assert.deepEqual((await redis.cmd('SMEMBERS', tkey(T, 'removed'))).sort(),
    ['alice', 'eve']);
});

test('es_member_remove of a non-member is NOTFOUND and changes nothing', async () => {
  await addMember(T, 'alice', 'alice@x.io', 'owner');
  await expectError('es_member_remove', removeKeys('zed'), [T, 'zed'],
    'NOTFOUND no such member');
  // no ARGV: refused before anything is looked at
  await expectError('es_member_remove', removeKeys('zed'), [], /^ERR /);
  await expectError('es_member_remove', [], [T, 'alice'], /^ERR /);
});

// --- es_invites_list ---

// Files an invite on both sides directly: {tenant, id, role, created, end}.
async function fileInvite({ tenant, email = 'carol@x.io', id, role = 'member',
                            created = NOW - 1000, end = NOW + 1000, by = 'alice',
                            byEmail = 'alice@x.io', tenantId = id }) {
  await redis.cmd('HSET', ikey(email), tenant, JSON.stringify({ id, role,
    invited_by: by, invited_by_email: byEmail, created_ms: created, expires_ms: end }));
  if (tenantId !== null) {
    await redis.cmd('HSET', tkey(tenant, 'invites'), email, JSON.stringify({
      id: tenantId, email, role, invited_by: by, created_ms: created, expires_ms: end }));
  }
}

const list = async (email = 'carol@x.io', now = NOW) =>
  (await fcall(redis, 'es_invites_list', [ikey(email)], [email, String(now)]))
    .map((s) => JSON.parse(s));

test('es_invites_list answers the valid invites oldest first, in the documented shape',
  async () => {
    await fileInvite({ tenant: 'gamma', id: 'g1', created: NOW - 500, role: 'admin' });
    await fileInvite({ tenant: 'beta', id: 'b2', created: NOW - 900, role: 'owner',
      by: 'bob', byEmail: 'bob@y.io' });
    await fileInvite({ tenant: 'acme', id: 'a1', created: NOW - 900, end: NOW + 1 });
    const snap = await snapshot(redis);
    assert.deepEqual(await list(), [
      { id: 'a1', tenant: 'acme', role: 'member', invited_by: 'alice',
        invited_by_email: 'alice@x.io', created_ms: NOW - 900, expires_ms: NOW + 1 },
      { id: 'b2', tenant: 'beta', role: 'owner', invited_by: 'bob',
        invited_by_email: 'bob@y.io', created_ms: NOW - 900, expires_ms: NOW + 1000 },
      // any role but owner is shown as member
      { id: 'g1', tenant: 'gamma', role: 'member', invited_by: 'alice',
        invited_by_email: 'alice@x.io', created_ms: NOW - 500, expires_ms: NOW + 1000 },
    ]);
    // valid invites are not touched, and listing again answers the same
    assert.deepEqual(await snapshot(redis), snap);
    assert.equal((await list()).length, 3);
  });

test('es_invites_list prunes expired, withdrawn, renewed and unreadable invites',
  async () => {
    // expired exactly now: pruned on both sides
    await fileInvite({ tenant: 'acme', id: 'a1', end: NOW });
    // withdrawn by its tenant: the tenant's entry is gone
    await fileInvite({ tenant: 'beta', id: 'b1', tenantId: null });
    // renewed: the tenant files it under another id now
    await fileInvite({ tenant: 'gamma', id: 'g1', tenantId: 'g2' });
    // unreadable
    await redis.cmd('HSET', ikey('carol@x.io'), 'delta', '{');
    // still valid
    await fileInvite({ tenant: 'omega', id: 'o1' });
    assert.deepEqual((await list()).map((i) => i.id), ['o1']);
    assert.deepEqual(Object.keys(await hgetall(redis, ikey('carol@x.io'))), ['omega']);
    assert.equal(await exists(tkey('acme', 'invites')), 0, 'expired: both sides');
    // the renewed invite's tenant entry is the tenant's, and stays
    assert.equal(JSON.parse(await hget(tkey('gamma', 'invites'), 'carol@x.io')).id, 'g2');
  });

test('es_invites_list of an e-mail without invites is empty and writes nothing',
  async () => {
    assert.deepEqual(await list('nobody@x.io'), []);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_invites_list answers an error and prunes nothing with bad arguments',
  async () => {
    await fileInvite({ tenant: 'acme', id: 'a1' });
    await expectError('es_invites_list', [ikey('carol@x.io')], ['carol@x.io', 'now'],
      /^ERR /);
    await expectError('es_invites_list', [ikey('carol@x.io')], [], /^ERR /);
    await expectError('es_invites_list', [], ['carol@x.io', String(NOW)], /^ERR /);
  });

// --- es_invite_accept ---

const acceptKeys = (sub, email = 'carol@x.io') =>
  [userKey(sub), ikey(email), TALL, TVER, WSUBS, WVER];
const accept = ({ sub = 'carol', email = 'carol@x.io', id = 'b1', confirm = '0',
                  now = NOW } = {}) =>
  fcall(redis, 'es_invite_accept', acceptKeys(sub, email),
        [sub, email, id, confirm, String(now)]);
const acceptArgs = ({ sub = 'carol', email = 'carol@x.io', id = 'b1', confirm = '0',
                      now = NOW } = {}) => [sub, email, id, confirm, String(now)];

// beta (owner bob) invites carol as role
async function betaInvites(role = 'member', id = 'b1') {
  await addMember('beta', 'bob', 'bob@y.io', 'owner');
  await redis.cmd('SADD', TALL, 'beta');
  await fileInvite({ tenant: 'beta', id, role, by: 'bob', byEmail: 'bob@y.io' });
}

test('es_invite_accept makes a user without a tenant a member and consumes the invite',
  async () => {
    await betaInvites('member');
    // carol was removed from beta once: accepting a new invite takes her out
    await redis.cmd('SADD', tkey('beta', 'removed'), 'carol', 'zed');
    assert.deepEqual(await accept({ now: NOW + 5 }), ['beta', 'member', '']);
    assert.deepEqual(JSON.parse(await hget(tkey('beta', 'members'), 'carol')),
      { sub: 'carol', email: 'carol@x.io', role: 'member', joined_ms: NOW + 5 });
    assert.deepEqual(await hgetall(redis, userKey('carol')), { tenant: 'beta', role: 'member' });
    assert.deepEqual(await redis.cmd('SMEMBERS', tkey('beta', 'removed')), ['zed']);
    assert.equal(await exists(ikey('carol@x.io'), tkey('beta', 'invites')), 0);
    assert.deepEqual(await redis.cmd('SMEMBERS', TALL), ['beta']);
    // a membership change is not a topics change
    assert.equal(await exists(TVER, WVER), 0);
    // a replay finds no invite
    await expectError('es_invite_accept', acceptKeys('carol'), acceptArgs(),
      'NOTFOUND no such invite');
  });

test('es_invite_accept gives the invite\'s role, owner or member', async () => {
  await betaInvites('owner');
  assert.deepEqual(await accept(), ['beta', 'owner', '']);
  assert.equal(JSON.parse(await hget(tkey('beta', 'members'), 'carol')).role, 'owner');
  await fileInvite({ tenant: 'gamma', email: 'dan@x.io', id: 'g1', role: 'superuser' });
  assert.deepEqual(await accept({ sub: 'dan', email: 'dan@x.io', id: 'g1' }),
    ['gamma', 'member', '']);
});

test('es_invite_accept of an unknown, withdrawn or renewed invite is NOTFOUND',
  async () => {
    await betaInvites('member', 'b1');
    await expectError('es_invite_accept', acceptKeys('carol'), acceptArgs({ id: 'zzz' }),
      'NOTFOUND no such invite');
    // withdrawn: beta's entry is gone; the stale per-e-mail field is pruned
    await redis.cmd('HDEL', tkey('beta', 'invites'), 'carol@x.io');
    assert.equal(await fcallError(redis, 'es_invite_accept', acceptKeys('carol'),
      acceptArgs()), 'NOTFOUND no such invite');
    assert.equal(await exists(ikey('carol@x.io')), 0);
    assert.equal(await exists(tkey('beta', 'members')), 1);
    assert.equal(await hget(tkey('beta', 'members'), 'carol'), null);
    // renewed under another id on beta's side
    await fileInvite({ tenant: 'beta', id: 'b1', tenantId: 'b2' });
    assert.equal(await fcallError(redis, 'es_invite_accept', acceptKeys('carol'),
      acceptArgs()), 'NOTFOUND no such invite');
    assert.equal(await exists(userKey('carol')), 0);
  });

test('es_invite_accept of an expired invite is GONE and prunes it', async () => {
  await betaInvites('member');
  await redis.cmd('HSET', ikey('carol@x.io'), 'gamma', JSON.stringify({ id: 'g1' }));
  assert.equal(await fcallError(redis, 'es_invite_accept', acceptKeys('carol'),
    acceptArgs({ now: NOW + 1000 })), 'GONE the invite has expired: ask for a new one');
  // both sides of that invite went, nothing else changed
  assert.equal(await hget(ikey('carol@x.io'), 'beta'), null);
  assert.equal(await exists(tkey('beta', 'invites'), userKey('carol')), 0);
  assert.deepEqual(Object.keys(await hgetall(redis, tkey('beta', 'members'))), ['bob']);
  // one ms earlier it was still valid
  await betaInvites('member');
  assert.deepEqual(await accept({ now: NOW + 999 }), ['beta', 'member', '']);
});

test('es_invite_accept by a member of that tenant is a CONFLICT and uses the invite up',
  async () => {
    await betaInvites('owner');
    await addMember('beta', 'carol', 'carol@x.io');
    await redis.cmd('HSET', userKey('carol'), 'tenant', 'beta', 'role', 'member');
    const members = await hgetall(redis, tkey('beta', 'members'));
    assert.equal(await fcallError(redis, 'es_invite_accept', acceptKeys('carol'),
      acceptArgs()), 'CONFLICT you are already a member of this tenant');
    // the role did not change; the pointless invite is gone on both sides
    assert.deepEqual(await hgetall(redis, tkey('beta', 'members')), members);
    assert.equal(await exists(ikey('carol@x.io'), tkey('beta', 'invites')), 0);
  });

// A user can be in two tenants' members when an operator's tenant claim
// moved their record (es_api_signin joins the claimed tenant and leaves
// the old membership); a claimed sign-in stores no e-mail, so the old
// tenant's invite is not refused as "already a member".
test('es_invite_accept by a member of the inviting tenant whose record names another is a CONFLICT',
  async () => {
    await addMember('beta', 'carol', null, 'owner');
    await addMember('beta', 'bob', 'bob@y.io', 'member');
    await fileInvite({ tenant: 'beta', id: 'b1', role: 'member', by: 'bob' });
    await addMember(T, 'alice', 'alice@x.io', 'owner');
    await addMember(T, 'carol', null, 'member');
    await redis.cmd('HSET', userKey('carol'), 'tenant', T, 'role', 'member');
    const before1 = await snapshot(redis);
    const msg = await fcallError(redis, 'es_invite_accept', acceptKeys('carol'),
      acceptArgs());
    assert.match(msg, /^CONFLICT /);
    // the invite may be used up, as when the record names beta; nothing else
    const after1 = await snapshot(redis);
    for (const k of [ikey('carol@x.io'), tkey('beta', 'invites')]) {
      delete before1[k];
      delete after1[k];
    }
    assert.deepEqual(after1, before1);
  });

test('es_invite_accept moves a member of another tenant, which keeps its other members',
  async () => {
    await betaInvites('member');
    await addMember(T, 'alice', 'alice@x.io', 'owner');
    await addMember(T, 'carol', 'carol@x.io', 'owner');
    await redis.cmd('HSET', userKey('carol'), 'tenant', T, 'role', 'owner');
    await redis.cmd('SADD', TALL, T);
    await putTopic({ id: 't1', subs: ['rust'] });
    const before1 = await snapshot(redis);
    assert.deepEqual(await accept(), ['beta', 'member', '']);
    const after1 = await snapshot(redis);
    assert.deepEqual(after1[tkey(T, 'members')].value,
      { alice: memberJson('alice', 'alice@x.io', 'owner') });
    assert.deepEqual(after1[userKey('carol')].value, { tenant: 'beta', role: 'member' });
    // acme's topics, watch counts and versions are untouched
    for (const k of [tkey(T, 'topics'), WSUBS, WVER, TVER, TALL]) {
      assert.deepEqual(after1[k], before1[k], k);
    }
  });

test('es_invite_accept refuses the only owner of a tenant with other members',
  async () => {
    await betaInvites('member');
    await addMember(T, 'carol', 'carol@x.io', 'owner');
    await addMember(T, 'dave', 'dave@x.io', 'member');
    await redis.cmd('HSET', userKey('carol'), 'tenant', T, 'role', 'owner');
    await expectError('es_invite_accept', acceptKeys('carol'), acceptArgs(),
      'CONFLICT you are the only owner of tenant acme, which has other members: ' +
      'make one of them an owner (or remove them) first');
  });

// carol alone in acme, with two topics (rust is also watched by beta) and
// an alert rule, and more tenant data the module sweeps afterwards
async function carolAlone() {
  await betaInvites('member');
  await addMember(T, 'carol', 'carol@x.io', 'owner');
  await redis.cmd('HSET', userKey('carol'), 'tenant', T, 'role', 'owner');
  await redis.cmd('HSET', tkey(T, 'meta'), 'owner', 'carol', 'engine', 'vader');
  await putTopic({ id: 't1', subs: ['rust', 'golang'] });
  await putTopic({ id: 't2', subs: ['python'] });
  await putTopic({ tenant: 'beta', id: 'bt', subs: ['rust'] });
  await putRule({ id: 'r1', topic: 't1' });
  await redis.cmd('HSET', tkey(T, 'invites'), 'x@x.io', '{}');
  await redis.cmd('SADD', tkey(T, 'removed'), 'mallory');
  // the workers' state: no worker may act for a deleted tenant
  await redis.cmd('HSET', tkey(T, 'alerts:state'), 'r1', '{}');
  await redis.cmd('HSET', tkey(T, 'summary_pending'), '*', 'q1');
  await redis.cmd('HSET', tkey(T, 'deliveries'), 'd1', '{"status":"pending"}');
  await redis.cmd('SET', tkey(T, 'c:k2x9q1'), '{}');
}

test('es_invite_accept asks for confirmation before deleting the user\'s tenant',
  async () => {
    await carolAlone();
    await expectError('es_invite_accept', acceptKeys('carol'), acceptArgs(),
      'CONFIRM accepting deletes your tenant acme and all its data (2 topics, ' +
      '1 alert rules); send {"confirm": true} to accept');
    // anything but "1" is no confirmation
    await expectError('es_invite_accept', acceptKeys('carol'),
      acceptArgs({ confirm: 'true' }), /^CONFIRM /);
  });

test('es_invite_accept with confirmation detaches the user\'s tenant in the same call',
  async () => {
    await carolAlone();
    const wver = Number(await get(WVER));
    const tver = Number(await get(TVER));
    assert.deepEqual(await accept({ confirm: '1' }), ['beta', 'member', 'acme']);
    // its state keys are gone; what the module sweeps later is still there
    for (const s of ['topics', 'meta', 'members', 'invites', 'removed', 'alerts:rules',
      'alerts:state', 'summary_pending', 'deliveries']) {
      assert.equal(await exists(tkey(T, s)), 0, s);
    }
    assert.equal(await get(tkey(T, 'c:k2x9q1')), '{}');
    assert.equal(await get(tkey(T, 'dv')), '2', 'left for the sweep, unchanged');
    // its topics left the watch union: rust stays for beta's topic
    assert.deepEqual(await watch(), { rust: '1' });
    assert.equal(Number(await get(WVER)), wver + 2, 'one step per topic moved');
    assert.equal(Number(await get(TVER)), tver + 1);
    assert.deepEqual(await redis.cmd('SMEMBERS', TALL), ['beta']);
    assert.deepEqual(await hgetall(redis, userKey('carol')), { tenant: 'beta', role: 'member' });
    assert.equal(JSON.parse(await hget(tkey('beta', 'members'), 'carol')).role, 'member');
    assert.equal(await exists(ikey('carol@x.io'), tkey('beta', 'invites')), 0);
  });

test('es_invite_accept of a user whose record names a tenant they left joins without deleting',
  async () => {
    await betaInvites('member');
    await addMember(T, 'alice', 'alice@x.io', 'owner');
    await redis.cmd('HSET', userKey('carol'), 'tenant', T, 'role', 'member');
    await redis.cmd('SADD', tkey(T, 'removed'), 'carol');
    const acme = await hgetall(redis, tkey(T, 'members'));
    assert.deepEqual(await accept(), ['beta', 'member', '']);
    assert.deepEqual(await hgetall(redis, tkey(T, 'members')), acme);
    assert.deepEqual(await redis.cmd('SMEMBERS', tkey(T, 'removed')), ['carol']);
  });

test('es_invite_accept answers an error and writes nothing with bad arguments',
  async () => {
    await betaInvites('member');
    await expectError('es_invite_accept', acceptKeys('carol'), acceptArgs({ now: 'now' }),
      /^ERR /);
    await expectError('es_invite_accept', [], acceptArgs(), /^ERR /);
    // no ARGV: refused before anything is looked at
    await expectError('es_invite_accept', acceptKeys('carol'), [], /^ERR /);
  });

test('es_invite_accept with too few KEYS answers an error and writes nothing',
  async () => {
    await betaInvites('member');
    await expectError('es_invite_accept', acceptKeys('carol').slice(0, 2), acceptArgs(),
      /^ERR /);
  });

// --- es_invite_decline ---

const decline = (id, email = 'carol@x.io') =>
  fcall(redis, 'es_invite_decline', [ikey(email)], [email, id]);

test('es_invite_decline deletes the invite on both sides, and only that one', async () => {
  await fileInvite({ tenant: 'beta', id: 'b1' });
  await fileInvite({ tenant: 'gamma', id: 'g1' });
  await fileInvite({ tenant: 'beta', email: 'dan@x.io', id: 'b9' });
  assert.equal(await decline('b1'), 1);
  assert.deepEqual(Object.keys(await hgetall(redis, ikey('carol@x.io'))), ['gamma']);
  assert.deepEqual(Object.keys(await hgetall(redis, tkey('beta', 'invites'))), ['dan@x.io']);
  assert.equal(JSON.parse(await hget(tkey('gamma', 'invites'), 'carol@x.io')).id, 'g1');
  // a replay is NOTFOUND
  await expectError('es_invite_decline', [ikey('carol@x.io')], ['carol@x.io', 'b1'],
    'NOTFOUND no such invite');
});

test('es_invite_decline leaves a tenant entry filed under another id', async () => {
  // the per-e-mail side still holds b1 while beta files b2
  await fileInvite({ tenant: 'beta', id: 'b1', tenantId: 'b2' });
  assert.equal(await decline('b1'), 1);
  assert.equal(await exists(ikey('carol@x.io')), 0);
  assert.equal(JSON.parse(await hget(tkey('beta', 'invites'), 'carol@x.io')).id, 'b2');
});

test('es_invite_decline of an unknown id is NOTFOUND and changes nothing', async () => {
  await fileInvite({ tenant: 'beta', id: 'b1' });
  await expectError('es_invite_decline', [ikey('carol@x.io')], ['carol@x.io', 'x'],
    'NOTFOUND no such invite');
  await expectError('es_invite_decline', [ikey('carol@x.io')], [], /^ERR /);
  await expectError('es_invite_decline', [], ['carol@x.io', 'b1'], /^ERR /);
});

// --- es_invite_remove ---

const removeInvite = (tenant, email) =>
  fcall(redis, 'es_invite_remove', [tkey(tenant, 'invites'), ikey(email)], [tenant, email]);

test('es_invite_remove withdraws the tenant\'s invite on both sides', async () => {
  await fileInvite({ tenant: 'beta', id: 'b1' });
  await fileInvite({ tenant: 'gamma', id: 'g1' });
  assert.equal(await removeInvite('beta', 'carol@x.io'), 1);
  assert.equal(await exists(tkey('beta', 'invites')), 0);
  assert.deepEqual(Object.keys(await hgetall(redis, ikey('carol@x.io'))), ['gamma']);
  // a replay finds neither side
  await expectError('es_invite_remove', [tkey('beta', 'invites'), ikey('carol@x.io')],
    ['beta', 'carol@x.io'], 'NOTFOUND no such invite');
});

test('es_invite_remove removes whichever side is left', async () => {
  await fileInvite({ tenant: 'beta', id: 'b1', tenantId: null });
  assert.equal(await removeInvite('beta', 'carol@x.io'), 1);
  assert.equal(await exists(ikey('carol@x.io')), 0);
  await redis.cmd('HSET', tkey('beta', 'invites'), 'carol@x.io', '{}');
  assert.equal(await removeInvite('beta', 'carol@x.io'), 1);
  assert.deepEqual(await snapshot(redis), {});
});

test('es_invite_remove answers an error and writes nothing with bad arguments',
  async () => {
    await fileInvite({ tenant: 'beta', id: 'b1' });
    await expectError('es_invite_remove', [tkey('beta', 'invites'), ikey('carol@x.io')],
      [], /^ERR /);
    await expectError('es_invite_remove', [], ['beta', 'carol@x.io'], /^ERR /);
  });

test('es_invite_remove with one KEY answers an error and removes nothing',
  async () => {
    await fileInvite({ tenant: 'beta', id: 'b1' });
    await expectError('es_invite_remove', [tkey('beta', 'invites')],
      ['beta', 'carol@x.io'], /^ERR /);
  });

// --- es_settings_set ---

const META = tkey(T, 'meta');
const settings = (...args) => fcall(redis, 'es_settings_set', [META, TVER], args);

test('es_settings_set writes the three settings and answers them', async () => {
  await redis.cmd('HSET', META, 'owner', 'alice', 'created_ms', '1');
  assert.deepEqual(await settings('engine', 'comprehend', 'comprehend_budget_usd', '12.5',
    'retention_days', '90'), ['comprehend', '12.5', '90']);
  assert.deepEqual(await hgetall(redis, META), { owner: 'alice', created_ms: '1',
    engine: 'comprehend', comprehend_budget_usd: '12.5', retention_days: '90' });
  assert.equal(await get(TVER), '1', 'one step for the whole change');
  // "" deletes a field; the others stay
  assert.deepEqual(await settings('comprehend_budget_usd', ''),
    ['comprehend', null, '90']);
  assert.equal(await hget(META, 'comprehend_budget_usd'), null);
  assert.equal(await get(TVER), '2');
  // the same field twice: the last value wins
  assert.deepEqual(await settings('engine', 'comprehend', 'engine', 'vader'),
    ['vader', null, '90']);
});

test('es_settings_set with nothing to set answers the settings and moves no version',
  async () => {
    await redis.cmd('HSET', META, 'engine', 'vader');
    assert.deepEqual(await settings(), ['vader', null, null]);
    assert.equal(await exists(TVER), 0);
  });

test('es_settings_set refuses any other field, writing none of the call', async () => {
  await redis.cmd('HSET', META, 'owner', 'alice');
  await expectError('es_settings_set', [META, TVER],
    ['engine', 'comprehend', 'owner', 'mallory'], 'INVALID unknown setting owner');
  await expectError('es_settings_set', [META, TVER],
    ['created_ms', '0'], 'INVALID unknown setting created_ms');
});

test('es_settings_set answers an error for a field without its value and writes nothing',
  async () => {
    await redis.cmd('HSET', META, 'engine', 'vader');
    await expectError('es_settings_set', [META, TVER],
      ['engine', 'comprehend', 'retention_days'], /^[A-Z]+ /);
    await expectError('es_settings_set', [META, TVER], ['bogus'], /^[A-Z]+ /);
  });

test('es_settings_set with too few KEYS answers an error and writes nothing',
  async () => {
    await expectError('es_settings_set', [META], ['engine', 'vader'], /^ERR /);
  });

// --- es_summary_request ---

const summaryKeys = [tkey(T, 'topics'), SREQ, tkey(T, 'summary_requests')];
const requestJson = (id, topic) =>
  JSON.stringify({ id, status: 'queued', topic, requested: NOW });
function summaryArgs({ id = '1732543261000-a1', topic = 't1', by = 'alice',
                       ms = NOW, maxLen = 10000, keep = 100 } = {}) {
  return [T, id, topic, by, String(ms), requestJson(id, topic), String(maxLen),
          String(keep)];
}
const request = (o) => fcall(redis, 'es_summary_request', summaryKeys, summaryArgs(o));

test('es_summary_request queues the request and records it', async () => {
  await putTopic({ id: 't1' });
  assert.equal(await request({ id: '1732543261000-a1', topic: 't1' }), 1);
  assert.equal(await request({ id: '1732543262000-b2', topic: '' }), 1);
  const entries = await xrange(redis, SREQ);
  assert.deepEqual(entries.map((e) => e.list), [
    ['tenant', T, 'id', '1732543261000-a1', 'topic', 't1', 'requested_by', 'alice',
     'requested_ms', String(NOW), 'kind', 'request'],
    ['tenant', T, 'id', '1732543262000-b2', 'topic', '', 'requested_by', 'alice',
     'requested_ms', String(NOW), 'kind', 'request'],
  ]);
  assert.deepEqual(await hgetall(redis, tkey(T, 'summary_requests')), {
    '1732543261000-a1': requestJson('1732543261000-a1', 't1'),
    '1732543262000-b2': requestJson('1732543262000-b2', ''),
  });
});

test('es_summary_request for a missing topic is NOTOPIC and queues nothing', async () => {
  await putTopic({ id: 't1' });
  await putTopic({ tenant: 'beta', id: 't2' });
  await expectError('es_summary_request', summaryKeys, summaryArgs({ topic: 't2' }),
    'NOTOPIC no such topic: t2');
});

test('es_summary_request keeps the newest requests per tenant', async () => {
  const ids = ['1732543261000-c', '1732543262000-a', '1732543263000-b',
               '1732543264000-d'];
  for (const id of ids.slice(0, 2)) await request({ id, topic: '', keep: 2 });
  assert.deepEqual(Object.keys(await hgetall(redis, tkey(T, 'summary_requests'))).sort(),
    ids.slice(0, 2), 'at the limit nothing goes');
  await request({ id: ids[2], topic: '', keep: 2 });
  await request({ id: ids[3], topic: '', keep: 2 });
  // the oldest go by id (ids start with their time), not by insertion
  assert.deepEqual(Object.keys(await hgetall(redis, tkey(T, 'summary_requests'))).sort(),
    ids.slice(2));
  // the stream holds all four: it is capped by MAXLEN, not by tenant
  assert.equal(await redis.cmd('XLEN', SREQ), 4);
});

test('es_summary_request queues a replayed request again under the same record',
  async () => {
    // the contract promises no de-duplication: each call is one request
    await request({ topic: '' });
    await request({ topic: '' });
    assert.equal(await redis.cmd('XLEN', SREQ), 2);
    assert.equal(await redis.cmd('HLEN', tkey(T, 'summary_requests')), 1);
  });

test('es_summary_request caps the request stream near MAXLEN', async () => {
  await Promise.all(Array.from({ length: 350 }, (_, i) =>
    redis.cmd('XADD', SREQ, '*', 'n', String(i))));
  await request({ topic: '', maxLen: 100 });
  const len = await redis.cmd('XLEN', SREQ);
  assert.ok(len >= 100 && len <= 200, `XLEN ${len}`);
});

test('es_summary_request answers an error and writes nothing with bad arguments',
  async () => {
    await putTopic({ id: 't1' });
    const cases = [
      { what: 'no ARGV', args: [] },
      { what: 'garbage MAXLEN', args: summaryArgs({ maxLen: 'x' }) },
      { what: 'no KEYS', keys: [], args: summaryArgs() },
    ];
    for (const c of cases) {
      await expectError('es_summary_request', c.keys ?? summaryKeys, c.args, /^ERR /);
    }
  });

test('es_summary_request with a garbage number kept or too few KEYS writes nothing',
  async () => {
    await putTopic({ id: 't1' });
    await expectError('es_summary_request', summaryKeys, summaryArgs({ keep: 'all' }),
      /^ERR /);
    await expectError('es_summary_request', summaryKeys.slice(0, 2), summaryArgs(),
      /^ERR /);
  });

// --- es_summary_request with summary_pending (version 6) ---

const PENDING = tkey(T, 'summary_pending');
const pendingKeys = [...summaryKeys, PENDING];
const requestNew = (o) => fcall(redis, 'es_summary_request', pendingKeys,
                                summaryArgs(o));
// the worker moves a request on: its record's status
async function setStatus(id, status) {
  const r = JSON.parse(await hget(tkey(T, 'summary_requests'), id));
  await redis.cmd('HSET', tkey(T, 'summary_requests'), id,
    JSON.stringify({ ...r, status }));
}

test('es_summary_request answers the queued or running request of a topic instead of a second',
  async () => {
    await putTopic({ id: 't1' });
    const a1 = '1732543261000-a1';
    assert.deepEqual(await requestNew({ id: a1, topic: 't1' }),
      [1, requestJson(a1, 't1')]);
    assert.deepEqual(await hgetall(redis, PENDING), { t1: a1 });
    const snap = await snapshot(redis);
    // queued: the same request, nothing added
    assert.deepEqual(await requestNew({ id: '1732543262000-b2', topic: 't1' }),
      [0, requestJson(a1, 't1')]);
    assert.deepEqual(await snapshot(redis), snap);
    // running: still that one, with its status now
    await setStatus(a1, 'running');
    const [added, raw] = await requestNew({ id: '1732543263000-c3', topic: 't1' });
    assert.equal(added, 0);
    assert.deepEqual(JSON.parse(raw), { ...JSON.parse(requestJson(a1, 't1')),
      status: 'running' });
    assert.equal(await redis.cmd('XLEN', SREQ), 1);
  });

test('es_summary_request keeps topics and the whole tenant apart', async () => {
  await putTopic({ id: 't1' });
  await putTopic({ id: 't2' });
  assert.equal((await requestNew({ id: '1732543261000-a', topic: 't1' }))[0], 1);
  assert.equal((await requestNew({ id: '1732543261000-b', topic: 't2' }))[0], 1);
  assert.equal((await requestNew({ id: '1732543261000-c', topic: '' }))[0], 1);
  assert.equal((await requestNew({ id: '1732543261000-d', topic: '' }))[0], 0);
  assert.deepEqual(await hgetall(redis, PENDING), { t1: '1732543261000-a',
    t2: '1732543261000-b', '*': '1732543261000-c' });
  assert.equal(await redis.cmd('XLEN', SREQ), 3);
});

test('es_summary_request queues anew once the pending request ended or is gone',
  async () => {
    await putTopic({ id: 't1' });
    await requestNew({ id: '1732543261000-a', topic: 't1' });
    for (const [status, id] of [['done', '1732543262000-b'],
      ['failed', '1732543263000-c']]) {
      // the worker marks it; the field may still name it
      const pending = await hget(PENDING, 't1');
      await setStatus(pending, status);
      assert.deepEqual(await requestNew({ id, topic: 't1' }),
        [1, requestJson(id, 't1')]);
      assert.equal(await hget(PENDING, 't1'), id);
    }
    // a field naming a request no longer kept, or a damaged record
    await redis.cmd('HSET', PENDING, 't1', 'gone');
    assert.equal((await requestNew({ id: '1732543264000-d', topic: 't1' }))[0], 1);
    await redis.cmd('HSET', tkey(T, 'summary_requests'), '1732543264000-d', 'x{');
    assert.equal((await requestNew({ id: '1732543265000-e', topic: 't1' }))[0], 1);
    // a record under that id of another request is not it
    await redis.cmd('HSET', tkey(T, 'summary_requests'), '1732543265000-e',
      requestJson('other', 't1'));
    assert.equal((await requestNew({ id: '1732543266000-f', topic: 't1' }))[0], 1);
    assert.equal(await redis.cmd('XLEN', SREQ), 6);
  });

test('es_summary_request for a missing topic writes no pending field', async () => {
  await expectError('es_summary_request', pendingKeys, summaryArgs({ topic: 't9' }),
    'NOTOPIC no such topic: t9');
});

// --- es_member_optins ---

const optins = (sub, digest, alerts, t = T) =>
  fcall(redis, 'es_member_optins', [tkey(t, 'members')], [sub, digest, alerts]);

test('es_member_optins changes only the two opt-ins of one member', async () => {
  await addMember(T, 'alice', 'alice@x.io', 'owner');
  await addMember(T, 'bob', 'bob@x.io', 'member');
  const bob = await hget(tkey(T, 'members'), 'bob');
  const json = await optins('alice', '1', '');
  assert.deepEqual(JSON.parse(json), { ...JSON.parse(memberJson('alice',
    'alice@x.io', 'owner')), digest: true });
  assert.equal(await hget(tkey(T, 'members'), 'alice'), json);
  assert.deepEqual(JSON.parse(await optins('alice', '', '1')),
    { ...JSON.parse(json), alert_email: true });
  assert.deepEqual(JSON.parse(await optins('alice', '0', '0')),
    { ...JSON.parse(json), digest: false, alert_email: false });
  // nothing to change: the record as it is
  assert.deepEqual(JSON.parse(await optins('alice', '', '')),
    { ...JSON.parse(json), digest: false, alert_email: false });
  assert.equal(await hget(tkey(T, 'members'), 'bob'), bob);
});

test('es_member_optins of an unknown member or tenant is NOTFOUND and makes no key',
  async () => {
    await addMember(T, 'alice', 'alice@x.io', 'owner');
    await expectError('es_member_optins', [tkey(T, 'members')], ['bob', '0', ''],
      'NOTFOUND no such member');
    await expectError('es_member_optins', [tkey('nobody', 'members')],
      ['alice', '0', ''], 'NOTFOUND no such member');
    assert.equal(await exists(tkey('nobody', 'members')), 0);
  });

test('es_member_optins refuses bad opt-ins and damaged records, writing nothing',
  async () => {
    await addMember(T, 'alice', 'alice@x.io', 'owner');
    for (const args of [['alice', 'true', ''], ['alice', '', 'yes'], ['alice', '0'],
      []]) {
      await expectError('es_member_optins', [tkey(T, 'members')], args, /^ERR /);
    }
    await expectError('es_member_optins', [], ['alice', '0', ''], /^ERR /);
    await redis.cmd('HSET', tkey(T, 'members'), 'carol', '{broken');
    await expectError('es_member_optins', [tkey(T, 'members')], ['carol', '0', ''],
      /^ERR /);
  });

// --- es_settings_put ---

const settingsPut = (...args) => fcall(redis, 'es_settings_put', [META, TVER], args);

test('es_settings_put writes the six settings and answers them in order', async () => {
  await redis.cmd('HSET', META, 'owner', 'alice', 'webhook_secret', 'ab');
  assert.deepEqual(await settingsPut('summary_hour', '6', 'time_zone',
    'Europe/Berlin', 'bedrock_budget_usd', '2.5', 'engine', 'vader'),
  ['vader', null, null, '6', 'Europe/Berlin', '2.5']);
  assert.equal(await get(TVER), '1');
  assert.deepEqual(await settingsPut('bedrock_budget_usd', '', 'time_zone', ''),
    ['vader', null, null, '6', null, null]);
  assert.deepEqual(await hgetall(redis, META), { owner: 'alice',
    webhook_secret: 'ab', engine: 'vader', summary_hour: '6' });
  // the secret and the owner are not settings
  await expectError('es_settings_put', [META, TVER], ['webhook_secret', 'cd'],
    'INVALID unknown setting webhook_secret');
  // version 5's function still knows only its three
  await expectError('es_settings_set', [META, TVER], ['summary_hour', '3'],
    'INVALID unknown setting summary_hour');
});
