// redis_fn_tenancy.test.mjs - es_api_signin, the one function of
// lib/redis/tenancy.lua (library "echostream_tenancy"), called on its own
// against a real redis-server with the KEYS/ARGV protocol of the file's
// header.
//
// The API tests reach sign-in only through a token and the module; here
// each of the header's three cases (a tenant claim, a user record, the
// first sign-in) is driven directly, and every key it may write is
// compared whole: the user record, the tenant's members and meta, the set
// of tenants and the topics version (moved only when a tenant is added).
// A repeated sign-in must write nothing; a removed user must stay without
// a tenant, with or without a claim; a call with missing arguments must
// answer an error and leave every key as it was (a snapshot of all of
// Redis before and after). Redis is emptied before every test.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { startRedis } from '../../lib/harness.mjs';
import {
  fcall, fcallError, hgetall, redisNow, registeredFunctions, resetRedis,
  snapshot,
} from '../../lib/redis_fn.mjs';

const TALL = 'es:{tenants}:all';
const TVER = 'es:{topics}:version';
const userKey = (sub) => `es:{users}:${sub}`;
const tkey = (t, s) => `es:{t:${t}}:${s}`;

let redis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

beforeEach(async () => {
  await resetRedis(redis, 'tenancy.lua');
});

// one sign-in: {sub, email, claim, own} as the module sends them
const signin = ({ sub, email = '', claim = '', own }) =>
  fcall(redis, 'es_api_signin', [userKey(sub), TALL, TVER],
        [sub, email, claim, own ?? `u-${sub}`]);

// The members entry of sub in tenant, decoded; joined_ms checked to be
// Redis's clock during the call (t0..t1, seconds) and then left out.
async function member(tenant, sub, t0, t1) {
  const raw = await redis.cmd('HGET', tkey(tenant, 'members'), sub);
  assert.ok(raw, `${sub} is a member of ${tenant}`);
  const m = JSON.parse(raw);
  assert.ok(Number.isInteger(m.joined_ms) && m.joined_ms >= t0 * 1000 &&
            m.joined_ms < (t1 + 1) * 1000, `joined_ms ${m.joined_ms}`);
  delete m.joined_ms;
  return m;
}

// meta's created_ms checked the same way, then left out
async function meta(tenant, t0, t1) {
  const h = await hgetall(redis, tkey(tenant, 'meta'));
  const c = Number(h.created_ms);
  assert.ok(c >= t0 * 1000 && c < (t1 + 1) * 1000, `created_ms ${h.created_ms}`);
  delete h.created_ms;
  return h;
}

const tenants = async () => (await redis.cmd('SMEMBERS', TALL)).sort();

test('the suite covers every function the library registers', () => {
  assert.deepEqual(registeredFunctions('tenancy.lua'), ['es_api_signin']);
});

test('a first sign-in creates the user\'s own tenant with them as owner', async () => {
  const t0 = await redisNow(redis);
  assert.deepEqual(await signin({ sub: 'alice', email: 'alice@example.com',
    own: 'u-alice' }), ['u-alice', 'owner']);
  const t1 = await redisNow(redis);
  assert.deepEqual(await hgetall(redis, userKey('alice')),
    { tenant: 'u-alice', role: 'owner' });
  assert.deepEqual(await member('u-alice', 'alice', t0, t1),
    { sub: 'alice', email: 'alice@example.com', role: 'owner' });
  assert.deepEqual(await meta('u-alice', t0, t1), { owner: 'alice' });
  assert.deepEqual(await tenants(), ['u-alice']);
  assert.equal(await redis.cmd('GET', TVER), '1');
  // and nothing else
  assert.deepEqual(Object.keys(await snapshot(redis)).sort(), [
    TALL, TVER, userKey('alice'), tkey('u-alice', 'members'),
    tkey('u-alice', 'meta')].sort());
  // no permanent key expires
  for (const [k, v] of Object.entries(await snapshot(redis))) {
    assert.equal(v.expire, -1, k);
  }
});

test('a sign-in without an e-mail stores it as null', async () => {
  const t0 = await redisNow(redis);
  await signin({ sub: 'bob' });
  const t1 = await redisNow(redis);
  assert.deepEqual(await member('u-bob', 'bob', t0, t1),
    { sub: 'bob', email: null, role: 'owner' });
});

test('signing in again writes nothing and answers the same', async () => {
  await signin({ sub: 'alice', email: 'alice@example.com' });
  const snap = await snapshot(redis);
  assert.deepEqual(await signin({ sub: 'alice', email: 'alice@example.com' }),
    ['u-alice', 'owner']);
  // another e-mail or own id changes nothing either: the record decides
  assert.deepEqual(await signin({ sub: 'alice', email: 'new@example.com',
    own: 'u-other' }), ['u-alice', 'owner']);
  assert.deepEqual(await snapshot(redis), snap);
});

test('a first sign-in whose own id has another owner gets a fresh id', async () => {
  // an operator's claim made "u-carol" somebody else's
  await signin({ sub: 'mallory', claim: 'u-carol' });
  const before1 = await snapshot(redis);
  const t0 = await redisNow(redis);
  const [tenant, role] = await signin({ sub: 'carol', own: 'u-carol' });
  const t1 = await redisNow(redis);
  assert.equal(role, 'owner');
  const m = /^u-carol-([0-9a-f]+)$/.exec(tenant);
  assert.ok(m, tenant);
  // the suffix is the time in ms, in hex
  const ms = parseInt(m[1], 16);
  assert.ok(ms >= t0 * 1000 && ms < (t1 + 1) * 1000, tenant);
  assert.deepEqual(await meta(tenant, t0, t1), { owner: 'carol' });
  assert.deepEqual(await member(tenant, 'carol', t0, t1),
    { sub: 'carol', email: null, role: 'owner' });
  assert.deepEqual(await hgetall(redis, userKey('carol')), { tenant, role: 'owner' });
  assert.deepEqual(await tenants(), [tenant, 'u-carol'].sort());
  assert.equal(await redis.cmd('GET', TVER), '2');
  // u-carol itself is untouched
  const after1 = await snapshot(redis);
  for (const k of [tkey('u-carol', 'meta'), tkey('u-carol', 'members')]) {
    assert.deepEqual(after1[k], before1[k], k);
  }
});

test('a first sign-in whose own tenant already names the user as owner keeps it',
  async () => {
    // the tenant exists (its meta names alice) but alice has no record
    await redis.cmd('HSET', tkey('u-alice', 'meta'), 'owner', 'alice',
                    'created_ms', '1000', 'retention_days', '90');
    const t0 = await redisNow(redis);
    assert.deepEqual(await signin({ sub: 'alice' }), ['u-alice', 'owner']);
    const t1 = await redisNow(redis);
    // created_ms is set only when missing
    assert.deepEqual(await hgetall(redis, tkey('u-alice', 'meta')),
      { owner: 'alice', created_ms: '1000', retention_days: '90' });
    assert.deepEqual(await member('u-alice', 'alice', t0, t1),
      { sub: 'alice', email: null, role: 'owner' });
  });

test('a user with a record takes the role stored in the tenant\'s members', async () => {
  await signin({ sub: 'alice' });
  await redis.cmd('HSET', userKey('bob'), 'tenant', 'u-alice', 'role', 'owner');
  await redis.cmd('HSET', tkey('u-alice', 'members'), 'bob',
    JSON.stringify({ sub: 'bob', email: null, role: 'member', joined_ms: 1 }));
  const snap = await snapshot(redis);
  // the record's role does not count, the members entry does
  assert.deepEqual(await signin({ sub: 'bob' }), ['u-alice', 'member']);
  assert.deepEqual(await snapshot(redis), snap);
});

test('a members entry that does not decode never makes an owner', async () => {
  await redis.cmd('HSET', userKey('bob'), 'tenant', 'acme', 'role', 'owner');
  await redis.cmd('HSET', tkey('acme', 'members'), 'bob', '{"role":"owner"');
  const snap = await snapshot(redis);
  assert.deepEqual(await signin({ sub: 'bob' }), ['acme', 'member']);
  assert.deepEqual(await snapshot(redis), snap);
});

test('a removed user keeps no tenant and gets no new one', async () => {
  await signin({ sub: 'alice' });
  // removed: the record stays, the membership is gone
  await redis.cmd('HSET', userKey('bob'), 'tenant', 'u-alice', 'role', 'member');
  await redis.cmd('SADD', tkey('u-alice', 'removed'), 'bob');
  const snap = await snapshot(redis);
  assert.deepEqual(await signin({ sub: 'bob', own: 'u-bob' }), ['', 'none']);
  assert.deepEqual(await snapshot(redis), snap);
  // not even as the first owner of a tenant that lost its members
  await redis.cmd('DEL', tkey('u-alice', 'members'), tkey('u-alice', 'meta'));
  const snap2 = await snapshot(redis);
  assert.deepEqual(await signin({ sub: 'bob' }), ['', 'none']);
  assert.deepEqual(await snapshot(redis), snap2);
});

test('a tenant claim makes the first user its owner and the next ones members',
  async () => {
    const t0 = await redisNow(redis);
    assert.deepEqual(await signin({ sub: 'alice', email: 'a@x.io', claim: 'acme' }),
      ['acme', 'owner']);
    assert.deepEqual(await signin({ sub: 'bob', email: 'b@x.io', claim: 'acme' }),
      ['acme', 'member']);
    const t1 = await redisNow(redis);
    assert.deepEqual(await meta('acme', t0, t1), { owner: 'alice' });
    assert.deepEqual(await member('acme', 'alice', t0, t1),
      { sub: 'alice', email: 'a@x.io', role: 'owner' });
    assert.deepEqual(await member('acme', 'bob', t0, t1),
      { sub: 'bob', email: 'b@x.io', role: 'member' });
    assert.deepEqual(await hgetall(redis, userKey('alice')), { tenant: 'acme', role: 'owner' });
    assert.deepEqual(await hgetall(redis, userKey('bob')), { tenant: 'acme', role: 'member' });
    assert.deepEqual(await tenants(), ['acme']);
    // the tenant was added once: the version moved once
    assert.equal(await redis.cmd('GET', TVER), '1');
    // no own tenant was made for either
    assert.equal(await redis.cmd('EXISTS', tkey('u-alice', 'meta'), tkey('u-bob', 'meta')), 0);
    // a repeated claimed sign-in writes nothing
    const snap = await snapshot(redis);
    assert.deepEqual(await signin({ sub: 'bob', claim: 'acme' }), ['acme', 'member']);
    assert.deepEqual(await snapshot(redis), snap);
  });

test('a tenant claim points the user record at the claimed tenant', async () => {
  await signin({ sub: 'alice', claim: 'acme' });
  // bob is a member of acme, but his record names his own tenant
  await signin({ sub: 'bob' });
  await redis.cmd('HSET', tkey('acme', 'members'), 'bob',
    JSON.stringify({ sub: 'bob', email: null, role: 'owner', joined_ms: 5 }));
  const members = await hgetall(redis, tkey('acme', 'members'));
  assert.deepEqual(await signin({ sub: 'bob', claim: 'acme' }), ['acme', 'owner']);
  assert.deepEqual(await hgetall(redis, userKey('bob')), { tenant: 'acme', role: 'owner' });
  // the membership is read, not rewritten
  assert.deepEqual(await hgetall(redis, tkey('acme', 'members')), members);
});

test('a tenant claim does not bring back a user removed from that tenant', async () => {
  await signin({ sub: 'alice', claim: 'acme' });
  await redis.cmd('SADD', tkey('acme', 'removed'), 'bob');
  const snap = await snapshot(redis);
  assert.deepEqual(await signin({ sub: 'bob', claim: 'acme' }), ['', 'none']);
  assert.deepEqual(await snapshot(redis), snap);
  // not even when bob's membership is still there (removed wins)
  await redis.cmd('HSET', tkey('acme', 'members'), 'bob',
    JSON.stringify({ sub: 'bob', email: null, role: 'owner', joined_ms: 5 }));
  const snap2 = await snapshot(redis);
  assert.deepEqual(await signin({ sub: 'bob', claim: 'acme' }), ['', 'none']);
  assert.deepEqual(await snapshot(redis), snap2);
});

test('es_api_signin answers an error and writes nothing without its arguments',
  async () => {
    const keys = [userKey('alice'), TALL, TVER];
    const cases = [
      { what: 'no ARGV', keys, args: [] },
      { what: 'sub only', keys, args: ['alice'] },
      { what: 'no own id', keys, args: ['alice', '', ''] },
      { what: 'no KEYS', keys: [], args: ['alice', '', '', 'u-alice'] },
    ];
    for (const c of cases) {
      await redis.cmd('FLUSHALL');
      const msg = await fcallError(redis, 'es_api_signin', c.keys, c.args);
      assert.match(msg, /^ERR /, c.what);
      assert.deepEqual(await snapshot(redis), {}, `${c.what}: nothing written`);
    }
  });

// The header: "The record, the membership and the tenant's meta are
// written in the same call" - all of them or, on an error, none.
test('es_api_signin with too few KEYS answers an error and writes nothing',
  async () => {
    for (const [what, keys, claim] of [
      ['first sign-in, 1 key', [userKey('alice')], ''],
      ['first sign-in, 2 keys', [userKey('alice'), TALL], ''],
      ['claim, 1 key', [userKey('alice')], 'acme'],
    ]) {
      await redis.cmd('FLUSHALL');
      const msg = await fcallError(redis, 'es_api_signin', keys,
        ['alice', '', claim, 'u-alice']);
      assert.match(msg, /^ERR /, what);
      assert.deepEqual(await snapshot(redis), {}, `${what}: nothing written`);
    }
  });
