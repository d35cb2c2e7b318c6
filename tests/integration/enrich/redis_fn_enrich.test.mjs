// redis_fn_enrich.test.mjs - the functions of lib/redis/enrich.lua (library
// "echostream_enrich": es_enrich_write, es_enrich_dlq) called one by one
// against a real redis-server, with the KEYS/ARGV protocol of the file's
// header.
//
// The calls are built here the way workers/enrich/aggregate.c builds them:
// the increments summed over the batch as if every comment were new (keys
// in first-use order, slots numbered from 1 in the order they are sent),
// then each comment's record key, record JSON and meta "cs|count slots|cs
// slots" ("cs||" for an id repeated in the batch), or "d", id for a
// deletion. The expected state is not derived from the call but from the
// comments themselves, as docs/redis-keys.md describes every key (series
// fields, recent sets, trending terms, share of voice, usage, the live
// feed, the data version, expiry times fixed by the bucket): so the test
// checks that the function adds exactly what the new comments add, that a
// replay changes nothing, and that a deletion reverses exactly what the
// comment added. Lifetimes come from the prelude of the built library
// (lib/es_schema.h), never repeated by hand.
//
// A call with missing or garbage arguments must answer an error and leave
// every key as it was (a snapshot of all of Redis before and after).
// Redis is emptied before every test, so tests do not depend on each
// other's leftovers.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { startRedis } from '../../lib/harness.mjs';
import {
  fcall, fcallError, hgetall, libraryText, redisNow, registeredFunctions,
  resetRedis, snapshot, xrange, zscores,
} from '../../lib/redis_fn.mjs';

const TENANT = 'acme';
const PRE = `es:{t:${TENANT}}:`;
const META = `${PRE}meta`;
const LIVE = `${PRE}live`;
const RET = 30 * 86400; // the default tenant retention, 30 days
const H = 3600;
const D = 86400;
const LF = { positive: 'pos', negative: 'neg', neutral: 'neu', mixed: 'mix' };
const TOMBSTONE = '{"deleted":true}';
const STREAM = 'es:{ingest}:comments';
const DLQ = 'es:{ingest}:dlq';

// the schema constants exactly as the built library's prelude holds them
const ES = (() => {
  const out = {};
  for (const m of libraryText('enrich.lua').matchAll(/^ {2}([A-Z_]+) = (\d+),/gm)) {
    out[m[1]] = Number(m[2]);
  }
  for (const k of ['TTL_MINUTE', 'TTL_HOUR', 'TTL_DAY', 'TTL_USAGE', 'LIVE_MAXLEN']) {
    assert.ok(Number.isInteger(out[k]), `prelude holds ${k}`);
  }
  return out;
})();

let redis;
let NOW; // Redis's clock at the start of each test, seconds

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

beforeEach(async () => {
  await resetRedis(redis, 'enrich.lua');
  NOW = await redisNow(redis);
});

const pad = (n) => String(n).padStart(2, '0');

// A comment as enrich scores it: created `ago` seconds before NOW (plus
// 250 ms, so milliseconds matter), matched by topics, with its label,
// compound in 1e-4 units and trending terms.
function comment(id, { topics = ['rust'], label = 'positive', cs = 5000,
                       ago = 600, terms = [] } = {}) {
  const created = (NOW - ago) * 1000 + 250;
  const d = new Date(created);
  const t = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}` +
    `${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
  const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
  return { id, topics, label, cs, created, t, month, terms };
}

// The per-comment record (docs/redis-keys.md); the function reads back
// topics, label, cs, created, t, month and terms for a deletion.
function recordJson(c) {
  return JSON.stringify({
    id: c.id, topics: c.topics, label: c.label, compound: c.cs / 1e4,
    neg: 0, neu: 0.4, pos: 0.6, cs: c.cs, engine: 'vader',
    created: c.created, t: c.t, month: c.month, terms: c.terms,
    subreddit: 'rust', author: 'alice', body: `text of ${c.id}`,
    permalink: `/r/rust/comments/p1/x/${c.id}/`, link_title: 'A post',
    score: '7',
  });
}

// Every key a comment adds to, with its lifetime and bucket field:
// [{kind, key, exp, field, v}] for one topic (cs fields apart).
function bucketsOf(c) {
  const s = Math.floor(c.created / 1000);
  const hour0 = s - (s % H);
  const day0 = s - (s % D);
  return {
    s,
    series: [
      { res: 'm', bucket: c.t.slice(0, 10), field: c.t.slice(10, 12),
        exp: hour0 + H + ES.TTL_MINUTE },
      { res: 'h', bucket: c.t.slice(0, 8), field: c.t.slice(8, 10),
        exp: day0 + D + ES.TTL_HOUR },
      { res: 'd', bucket: c.t.slice(0, 6), field: c.t.slice(6, 8),
        exp: c.month + 31 * D + ES.TTL_DAY },
    ],
    sov: { key: `${PRE}sov:${c.t.slice(0, 8)}`, exp: day0 + D + ES.TTL_DAY },
    termsExp: hour0 + H + ES.TTL_MINUTE,
    hour: c.t.slice(0, 10),
  };
}

// The ARGV of one es_enrich_write call over items (comments, or {del: id})
// as the worker builds it; now and ret as given.
function buildWrite(items, { now = NOW, ret = RET, units = 0, usd = 0,
                             month = null } = {}) {
  const keys = new Map(); // key -> {kind, exp, slots: Map(name -> slot)}
  const slot = (kind, key, exp, name, v) => {
    let k = keys.get(key);
    if (!k) { k = { kind, exp, slots: new Map() }; keys.set(key, k); }
    let sl = k.slots.get(name);
    if (!sl) { sl = { v: 0 }; k.slots.set(name, sl); }
    if (kind === 'r') sl.v = v; else sl.v += v;
    return sl;
  };
  const seen = new Set();
  const recs = [];
  for (const it of items) {
    if (it.del) { recs.push({ del: it.del }); continue; }
    const c = it;
    if (seen.has(c.id)) { recs.push({ c, count: [], sums: [] }); continue; }
    seen.add(c.id);
    const b = bucketsOf(c);
    const count = [];
    const sums = [];
    for (const topic of c.topics) {
      for (const sr of b.series) {
        if (sr.exp <= now) continue;
        const k = `${PRE}ts:${topic}:${sr.res}:${sr.bucket}`;
        count.push(slot('h', k, sr.exp, `${sr.field}:n`, 1));
        count.push(slot('h', k, sr.exp, `${sr.field}:${LF[c.label]}`, 1));
      }
      if (b.sov.exp > now) count.push(slot('h', b.sov.key, b.sov.exp, topic, 1));
      if (b.termsExp > now) {
        for (const term of c.terms) {
          count.push(slot('z', `${PRE}terms:${topic}:${b.hour}`, b.termsExp, term, 1));
        }
      }
      if (b.s >= now - ret) {
        count.push(slot('r', `${PRE}recent:${topic}`, 0, c.id, c.created));
        count.push(slot('r', `${PRE}recent:${topic}:${c.label}`, 0, c.id, c.created));
      }
    }
    for (const topic of c.topics) {
      for (const sr of b.series) {
        if (sr.exp <= now) continue;
        const k = `${PRE}ts:${topic}:${sr.res}:${sr.bucket}`;
        sums.push(slot('h', k, sr.exp, `${sr.field}:cs`, c.cs));
      }
    }
    recs.push({ c, count, sums });
  }
  const ops = [];
  let pos = 0;
  for (const [key, k] of keys) {
    ops.push(k.kind, key, String(k.exp), String(k.slots.size));
    for (const [name, sl] of k.slots) {
      sl.pos = ++pos;
      if (k.kind === 'r') ops.push(String(sl.v), name);
      else ops.push(name, String(sl.v));
    }
  }
  const records = recs.flatMap((r) => (r.del ? ['d', r.del] : [
    `${PRE}c:${r.c.id}`, recordJson(r.c),
    `${r.c.cs}|${r.count.map((s) => s.pos).join(' ')}|` +
      `${r.sums.map((s) => s.pos).join(' ')}`,
  ]));
  const head = [PRE, String(now), String(ret), month ?? usageMonth(), String(units),
                String(usd)];
  return [...head, String(head.length + 2 + ops.length), ...ops, ...records];
}

function usageMonth(s = NOW) {
  const d = new Date(s * 1000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}`;
}

const write = (items, opts) =>
  fcall(redis, 'es_enrich_write', [META, LIVE], buildWrite(items, opts));

// The tenant's aggregates as docs/redis-keys.md defines them, from the
// comments counted (created once) and those of them deleted since: series
// and share-of-voice fields of every counted comment (a field a deletion
// brought to 0 stays, holding 0), trending terms and recent members of the
// comments still alive (a member at 0 goes). {key: {type, value, expire}};
// recent sets' expiry is relative and checked apart (expire: 'ret').
function expectedAggregates(counted, deleted = [], { now = NOW, ret = RET } = {}) {
  const dead = new Set(deleted.map((c) => c.id));
  const out = {};
  const hash = (key, exp) => {
    out[key] ??= { type: 'hash', value: {}, expire: exp * 1000 };
    return out[key].value;
  };
  const zset = (key, exp) => {
    out[key] ??= { type: 'zset', value: {}, expire: exp };
    return out[key].value;
  };
  const bump = (o, f, v) => { o[f] = String(Number(o[f] ?? 0) + v); };
  for (const c of counted) {
    const live = dead.has(c.id) ? 0 : 1;
    const b = bucketsOf(c);
    for (const topic of c.topics) {
      for (const sr of b.series) {
        if (sr.exp <= now) continue;
        const h = hash(`${PRE}ts:${topic}:${sr.res}:${sr.bucket}`, sr.exp);
        bump(h, `${sr.field}:n`, live);
        bump(h, `${sr.field}:${LF[c.label]}`, live);
        bump(h, `${sr.field}:cs`, live * c.cs);
      }
      if (b.sov.exp > now) bump(hash(b.sov.key, b.sov.exp), topic, live);
      if (live && b.termsExp > now) {
        const z = zset(`${PRE}terms:${topic}:${b.hour}`, b.termsExp * 1000);
        for (const term of c.terms) z[term] = (z[term] ?? 0) + 1;
      }
      if (live && b.s >= now - ret) {
        zset(`${PRE}recent:${topic}`, 'ret')[c.id] = c.created;
        zset(`${PRE}recent:${topic}:${c.label}`, 'ret')[c.id] = c.created;
      }
    }
  }
  for (const [k, v] of Object.entries(out)) {
    if (v.type === 'zset' && Object.keys(v.value).length === 0) delete out[k];
  }
  return out;
}

const AGG = /^es:\{t:acme\}:(ts|sov|terms|recent):/;

// The tenant's aggregate keys as Redis holds them, in expectedAggregates'
// shape; recent sets' expiry checked to be "retention after the write"
// (between t0 and t1, Redis's clock around the call).
async function actualAggregates({ t0, t1, ret = RET } = {}) {
  const snap = await snapshot(redis);
  const out = {};
  for (const [key, v] of Object.entries(snap)) {
    if (!AGG.test(key)) continue;
    if (v.type === 'hash') {
      out[key] = { type: 'hash', value: v.value, expire: v.expire };
    } else {
      let expire = v.expire;
      if (key.startsWith(`${PRE}recent:`) && t0 !== undefined) {
        assert.ok(expire >= (t0 + ret) * 1000 && expire < (t1 + 1 + ret) * 1000,
          `${key} expires a retention after the write`);
        expire = 'ret';
      }
      out[key] = { type: 'zset', value: await zscores(redis, key), expire };
    }
  }
  return out;
}

// Writes, and checks the reply and that the aggregates are exactly those
// of counted minus deleted.
async function writeExpect(items, reply, counted, deleted = [], opts = {}) {
  const t0 = await redisNow(redis);
  assert.deepEqual(await write(items, opts), reply);
  const t1 = await redisNow(redis);
  assert.deepEqual(await actualAggregates({ t0, t1, ret: opts.ret }),
    expectedAggregates(counted, deleted, opts));
}

// A record key's value and its expiry: a retention after (t0..t1).
async function assertRecord(c, value, t0, t1, ret = RET) {
  const key = `${PRE}c:${c.id}`;
  assert.equal(await redis.cmd('GET', key), value, key);
  const exp = await redis.cmd('PEXPIRETIME', key);
  assert.ok(exp >= (t0 + ret) * 1000 && exp < (t1 + 1 + ret) * 1000,
    `${key} expires a retention after its write`);
}

const liveIds = async () => (await xrange(redis, LIVE)).map((e) => e.list);
const dv = async () => redis.cmd('GET', `${PRE}dv`);

test('the suite covers every function the library registers', () => {
  assert.deepEqual(registeredFunctions('enrich.lua'),
    ['es_enrich_dlq', 'es_enrich_write']);
});

// --- es_enrich_write ---

test('es_enrich_write creates records and adds exactly what the new comments add',
  async () => {
    const c1 = comment('k2x9q1', { topics: ['rust', 'perf'], label: 'positive',
      cs: 6369, ago: 600, terms: ['borrow', 'checker'] });
    const c2 = comment('k2x9q2', { topics: ['rust'], label: 'negative',
      cs: -4404, ago: 600, terms: ['borrow', 'crash'] });
    const c3 = comment('k2x9q3', { topics: ['rust'], label: 'neutral', cs: 12,
      ago: 2 * H + 5 });
    const c4 = comment('k2x9q4', { topics: ['perf'], label: 'mixed', cs: 1,
      ago: 3 * D });
    const t0 = await redisNow(redis);
    await writeExpect([c1, c2, c3, c4], [4, 0, 0], [c1, c2, c3, c4], [],
      { units: 9, usd: 2700 });
    const t1 = await redisNow(redis);
    // one field checked by hand, so the expectation above is not only
    // agreeing with itself: c1 and c2 share the minute of topic rust
    const m = `${PRE}ts:rust:m:${c1.t.slice(0, 10)}`;
    const mm = c1.t.slice(10, 12);
    const h = await hgetall(redis, m);
    assert.equal(h[`${mm}:n`], '2');
    assert.equal(h[`${mm}:pos`], '1');
    assert.equal(h[`${mm}:neg`], '1');
    assert.equal(h[`${mm}:cs`], String(6369 - 4404));
    for (const c of [c1, c2, c3, c4]) await assertRecord(c, recordJson(c), t0, t1);
    // usage of the month: comments, Comprehend units and dollars, 400 days
    const uk = `${PRE}usage:${usageMonth()}`;
    assert.deepEqual(await hgetall(redis, uk),
      { comments: '4', comprehend_units: '9', comprehend_usd_micros: '2700' });
    const ttl = await redis.cmd('TTL', uk);
    assert.ok(ttl === ES.TTL_USAGE || ttl === ES.TTL_USAGE - 1, `usage TTL ${ttl}`);
    // one live entry, the new ids in the order written; the data version
    assert.deepEqual(await liveIds(), [['ids', 'k2x9q1,k2x9q2,k2x9q3,k2x9q4']]);
    assert.equal(await dv(), '1');
    // a comment 3 days old is past its minute bucket: no minute key, and
    // no terms (they live as long as the minute buckets)
    assert.equal(await redis.cmd('EXISTS',
      `${PRE}ts:perf:m:${c4.t.slice(0, 10)}`), 0);
    // nothing outside the tenant's prefix, and KEYS[1] itself untouched
    const keys = Object.keys(await snapshot(redis));
    assert.ok(keys.every((k) => k.startsWith(PRE)), keys.join(' '));
    assert.ok(!keys.includes(META));
  });

test('es_enrich_write is replay-safe: the same call again changes no count',
  async () => {
    const cs = [
      comment('a1', { topics: ['rust', 'perf'], terms: ['fast'] }),
      comment('a2', { topics: ['rust'], label: 'negative', cs: -300, terms: ['fast', 'slow'] }),
      comment('a3', { topics: ['perf'], label: 'mixed', cs: 20, ago: 5 * H }),
    ];
    await writeExpect(cs, [3, 0, 0], cs, [], { units: 3, usd: 900 });
    const snap1 = await snapshot(redis);
    await writeExpect(cs, [0, 3, 0], cs, [], { units: 3, usd: 900 });
    await writeExpect(cs, [0, 3, 0], cs, []);
    const snap2 = await snapshot(redis);
    // Comprehend's answers were paid again (units and dollars add up), the
    // comments are counted once; no live entry, no data version change
    const uk = `${PRE}usage:${usageMonth()}`;
    assert.deepEqual(snap2[uk].value,
      { comments: '3', comprehend_units: '6', comprehend_usd_micros: '1800' });
    delete snap1[uk];
    delete snap2[uk];
    // records are SET NX: the replay leaves them and their expiry alone
    assert.deepEqual(snap2, snap1);
    assert.equal((await liveIds()).length, 1);
    assert.equal(await dv(), '1');
  });

test('es_enrich_write counts only the new comments of a partly replayed batch',
  async () => {
    const a = comment('b1', { topics: ['rust'], terms: ['docs'] });
    const b = comment('b2', { topics: ['rust', 'perf'], label: 'negative', cs: -10,
      terms: ['docs', 'team'] });
    const c = comment('b3', { topics: ['rust'], label: 'neutral', cs: 3, terms: ['team'] });
    await writeExpect([a, b], [2, 0, 0], [a, b]);
    // the worker sums all three as new; a and b are taken back out
    await writeExpect([a, b, c], [1, 2, 0], [a, b, c]);
    await writeExpect([c, a], [0, 2, 0], [a, b, c]);
    assert.deepEqual(await liveIds(), [['ids', 'b1,b2'], ['ids', 'b3']]);
    assert.equal(await dv(), '2');
    assert.equal(await redis.cmd('HGET', `${PRE}usage:${usageMonth()}`, 'comments'), '3');
  });

test('es_enrich_write counts an id repeated inside one batch once', async () => {
  const a = comment('c1', { topics: ['rust'], terms: ['fast'] });
  await writeExpect([a, a, a], [1, 2, 0], [a]);
  assert.deepEqual(await liveIds(), [['ids', 'c1']]);
  // the repeated copies travel with the meta "cs||"
  const args = buildWrite([a, a]);
  assert.equal(args.at(-1), `${a.cs}||`);
});

test('es_enrich_write reverses a deleted comment exactly and leaves a tombstone',
  async () => {
    const a = comment('d1', { topics: ['rust', 'perf'], terms: ['borrow', 'fast'] });
    const b = comment('d2', { topics: ['rust'], label: 'negative', cs: -70,
      terms: ['borrow'] });
    const c = comment('d3', { topics: ['perf'], label: 'neutral', cs: 5, ago: 2 * D });
    await writeExpect([a, b, c], [3, 0, 0], [a, b, c], [], { units: 3, usd: 30 });
    const usage = await hgetall(redis, `${PRE}usage:${usageMonth()}`);
    const t0 = await redisNow(redis);
    await writeExpect([{ del: 'd1' }, { del: 'd3' }], [0, 0, 2], [a, b, c], [a, c]);
    const t1 = await redisNow(redis);
    await assertRecord(a, TOMBSTONE, t0, t1);
    await assertRecord(c, TOMBSTONE, t0, t1);
    assert.equal(await redis.cmd('GET', `${PRE}c:d2`), recordJson(b));
    // a field a deletion brought to 0 stays, holding 0 (checked by hand)
    const h = await hgetall(redis, `${PRE}ts:perf:h:${a.t.slice(0, 8)}`);
    assert.equal(h[`${a.t.slice(8, 10)}:n`], '0');
    assert.equal(h[`${a.t.slice(8, 10)}:cs`], '0');
    // usage is not refunded; no live entry; the data version moved
    assert.deepEqual(await hgetall(redis, `${PRE}usage:${usageMonth()}`), usage);
    assert.equal((await liveIds()).length, 1);
    assert.equal(await dv(), '2');
    // a replayed deletion, and a replay of the creation, change nothing
    const snap = await snapshot(redis);
    assert.deepEqual(await write([{ del: 'd1' }, { del: 'd3' }]), [0, 0, 0]);
    assert.deepEqual(await write([a, c]), [0, 2, 0]);
    assert.deepEqual(await snapshot(redis), snap);
  });

test('es_enrich_write keeps a comment deleted before it arrives out', async () => {
  const a = comment('e1', { topics: ['rust'], terms: ['slow'] });
  const t0 = await redisNow(redis);
  assert.deepEqual(await write([{ del: 'e1' }]), [0, 0, 0]);
  const t1 = await redisNow(redis);
  await assertRecord(a, TOMBSTONE, t0, t1);
  // nothing was created or deleted: no data version, no usage
  assert.equal(await dv(), null);
  await writeExpect([a], [0, 1, 0], []);
  assert.equal(await redis.cmd('EXISTS', LIVE), 0);
  assert.equal(await redis.cmd('EXISTS', `${PRE}usage:${usageMonth()}`), 0);
});

test('es_enrich_write ends at zero for a comment created and deleted in one batch',
  async () => {
    const a = comment('f1', { topics: ['rust'], terms: ['memory'] });
    const b = comment('f2', { topics: ['rust'], label: 'negative', cs: -1 });
    await writeExpect([a, b, { del: 'f1' }], [2, 0, 1], [a, b], [a]);
    assert.equal(await redis.cmd('GET', `${PRE}c:f1`), TOMBSTONE);
    // both were created by this call: both ids are in its live entry
    assert.deepEqual(await liveIds(), [['ids', 'f1,f2']]);
    assert.equal(await dv(), '1');
  });

test('es_enrich_write leaves a bucket key that expired alone when deleting',
  async () => {
    const a = comment('g1', { topics: ['rust'], terms: ['bug'] });
    await writeExpect([a], [1, 0, 0], [a]);
    // the hour bucket expired meanwhile (a key only decremented must exist)
    const hk = `${PRE}ts:rust:h:${a.t.slice(0, 8)}`;
    await redis.cmd('DEL', hk);
    assert.deepEqual(await write([{ del: 'g1' }]), [0, 0, 1]);
    assert.equal(await redis.cmd('EXISTS', hk), 0, 'not recreated below zero');
    const m = await hgetall(redis, `${PRE}ts:rust:m:${a.t.slice(0, 10)}`);
    assert.equal(m[`${a.t.slice(10, 12)}:n`], '0');
    assert.equal(await redis.cmd('EXISTS', `${PRE}terms:rust:${a.t.slice(0, 10)}`), 0);
    assert.equal(await redis.cmd('EXISTS', `${PRE}recent:rust`), 0);
  });

test('es_enrich_write keeps recent sets to the retention', async () => {
  const ret = 7 * D;
  // exactly at the retention's edge: still recent
  const edge = comment('h1', { ago: ret });
  // a second older: counted in the series, not a recent comment
  const old = comment('h2', { ago: ret + 1, label: 'negative', cs: -2 });
  const fresh = comment('h3', { ago: 60, label: 'negative', cs: -3 });
  // a member left from before, older than the retention, goes at the write
  const stale = `${PRE}recent:rust:negative`;
  await redis.cmd('ZADD', stale, (NOW - ret) * 1000 - 1, 'zz');
  await writeExpect([edge, old, fresh], [3, 0, 0], [edge, old, fresh], [], { ret });
  assert.equal(edge.created, (NOW - ret) * 1000 + 250);
  assert.deepEqual(await zscores(redis, `${PRE}recent:rust`),
    { h1: edge.created, h3: fresh.created });
  assert.deepEqual(await zscores(redis, stale), { h3: fresh.created });
});

// The function sends at most 1000 arguments per ZADD and 500 members per
// ZREM (Lua's unpack has a limit): a recent set of more members than that
// takes several commands, on every path (all new, partly replayed, all
// deleted).
test('es_enrich_write handles batches larger than one command\'s chunk', async () => {
  const all = Array.from({ length: 1201 }, (_, i) => comment(`n${i.toString(36)}`, {
    topics: ['rust'], label: i % 3 ? 'positive' : 'negative', cs: 100 + (i % 50),
    ago: 60 + (i % 7) * 60, terms: i % 2 ? ['fast'] : ['slow', 'docs'],
  }));
  await writeExpect(all.slice(0, 600), [600, 0, 0], all.slice(0, 600));
  await writeExpect(all, [601, 600, 0], all);
  assert.equal(await redis.cmd('ZCARD', `${PRE}recent:rust`), 1201);
  await writeExpect(all.map((c) => ({ del: c.id })), [0, 0, 1201], all, all);
  assert.equal(await redis.cmd('EXISTS', `${PRE}recent:rust`), 0);
  assert.equal(await dv(), '3');
});

test('es_enrich_write caps the live stream near LIVE_MAXLEN entries', async () => {
  // enough whole stream nodes (100 entries each by default) above the cap
  // that an approximate trim has something to cut
  const n = ES.LIVE_MAXLEN + 300;
  for (let i = 0; i < n; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, n - i) }, () =>
      redis.cmd('XADD', LIVE, '*', 'ids', 'old')));
  }
  await write([comment('i1')]);
  const len = await redis.cmd('XLEN', LIVE);
  assert.ok(len >= ES.LIVE_MAXLEN && len <= ES.LIVE_MAXLEN + 100, `XLEN ${len}`);
  const [last] = await redis.cmd('XREVRANGE', LIVE, '+', '-', 'COUNT', 1);
  assert.deepEqual(last[1], ['ids', 'i1']);
});

test('es_enrich_write charges Comprehend usage without new comments, and nothing else',
  async () => {
    const uk = `${PRE}usage:202401`;
    assert.deepEqual(await write([], { units: 5, usd: 1500, month: '202401' }), [0, 0, 0]);
    assert.deepEqual(await hgetall(redis, uk),
      { comprehend_units: '5', comprehend_usd_micros: '1500' });
    const ttl = await redis.cmd('TTL', uk);
    assert.ok(ttl === ES.TTL_USAGE || ttl === ES.TTL_USAGE - 1);
    // a call with nothing to do writes nothing at all
    await redis.cmd('FLUSHALL');
    assert.deepEqual(await write([]), [0, 0, 0]);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write refuses a truncated record with the argument it stopped at',
  async () => {
    const a = comment('j1');
    const args = buildWrite([a]);
    // the record's meta is missing
    const cut = args.slice(0, -1);
    const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], cut);
    assert.equal(msg, `ERR truncated record at argument ${cut.length - 1}`);
    assert.deepEqual(await snapshot(redis), {});
  });

// The SET NX of a record decides once and for all that the comment counts:
// a record written by a call that then fails never gets its increments
// (every retry sees it as a replay). A call must refuse bad arguments
// before its first write.
test('es_enrich_write refuses a truncated record after complete ones without writing any',
  async () => {
    const a = comment('j1');
    const b = comment('j2');
    const args = buildWrite([a, b]).slice(0, -1);
    const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], args);
    assert.match(msg, /^ERR truncated record at argument \d+$/);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write refuses a garbage increment without writing any record',
  async () => {
    const args = buildWrite([comment('k1')]);
    // the first slot value of the first "h" key
    const i = args.indexOf('h');
    args[i + 5] = 'x';
    await fcallError(redis, 'es_enrich_write', [META, LIVE], args);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write refuses a garbage now without writing any record',
  async () => {
    const args = buildWrite([comment('k1')]);
    args[1] = 'noon';
    await fcallError(redis, 'es_enrich_write', [META, LIVE], args);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write answers an error and writes nothing without its arguments',
  async () => {
    const a = comment('l1');
    const good = buildWrite([a]);
    const cases = [
      { what: 'no ARGV', keys: [META, LIVE], args: [] },
      { what: 'head only', keys: [META, LIVE], args: good.slice(0, 6) },
      { what: 'garbage record index', keys: [META, LIVE],
        args: [...good.slice(0, 6), 'first', ...good.slice(7)] },
      { what: 'garbage retention', keys: [META, LIVE],
        args: [good[0], good[1], 'month', ...good.slice(3)] },
      { what: 'zero retention', keys: [META, LIVE],
        args: [good[0], good[1], '0', ...good.slice(3)] },
      { what: 'a deletion without its id', keys: [META, LIVE],
        args: buildWrite([{ del: 'l1' }]).slice(0, -1) },
    ];
    for (const c of cases) {
      await redis.cmd('FLUSHALL');
      const msg = await fcallError(redis, 'es_enrich_write', c.keys, c.args);
      assert.match(msg, /^ERR /, c.what);
      assert.deepEqual(await snapshot(redis), {}, `${c.what}: nothing written`);
    }
  });

// KEYS[2] names the live stream every call that created records appends
// to; a call without it loses the feed's entry for good (a retry is a
// replay and adds none), and one without KEYS at all writes keys it never
// declared.
test('es_enrich_write refuses a call without its two KEYS, writing nothing',
  async () => {
    const good = buildWrite([comment('m1')]);
    for (const keys of [[], [META]]) {
      await redis.cmd('FLUSHALL');
      await fcallError(redis, 'es_enrich_write', keys, good);
      assert.deepEqual(await snapshot(redis), {}, `${keys.length} keys`);
    }
  });

// --- es_enrich_dlq ---

async function pendingEntries(n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    ids.push(await redis.cmd('XADD', STREAM, '*', 'type', 'comment', 'id', `x${i}`,
                             'subreddit', 'rust', 'body', `b${i}`));
  }
  await redis.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
  await redis.cmd('XREADGROUP', 'GROUP', 'enrich', 'w1', 'COUNT', n,
                  'STREAMS', STREAM, '>');
  return ids;
}

const dlq = (id, { group = 'enrich', error = 'bad created_utc', deliveries = '5',
                   maxLen = '100000' } = {}) =>
  fcall(redis, 'es_enrich_dlq', [STREAM, DLQ], [group, id, error, deliveries, maxLen]);

const pendingIds = async () => (await redis.cmd('XPENDING', STREAM, 'enrich',
  '-', '+', 100)).map((p) => p[0]);

test('es_enrich_dlq copies a pending entry with error, deliveries and stream_id and acknowledges it',
  async () => {
    const ids = await pendingEntries(3);
    assert.equal(await dlq(ids[1]), 1);
    const [e] = await xrange(redis, DLQ);
    assert.deepEqual(e.list, ['type', 'comment', 'id', 'x1', 'subreddit', 'rust',
      'body', 'b1', 'error', 'bad created_utc', 'deliveries', '5',
      'stream_id', ids[1]]);
    assert.deepEqual(await pendingIds(), [ids[0], ids[2]]);
    // the stream entry itself stays (trimming removes it later)
    assert.equal(await redis.cmd('XLEN', STREAM), 3);
    // never dead-lettered twice: the replay finds it no longer pending
    assert.equal(await dlq(ids[1]), 0);
    assert.equal(await redis.cmd('XLEN', DLQ), 1);
  });

test('es_enrich_dlq does nothing for an entry that is not pending', async () => {
  const ids = await pendingEntries(1);
  const undelivered = await redis.cmd('XADD', STREAM, '*', 'type', 'comment');
  await redis.cmd('XACK', STREAM, 'enrich', ids[0]);
  const snap = await snapshot(redis);
  assert.equal(await dlq(ids[0]), 0, 'acknowledged');
  assert.equal(await dlq(undelivered), 0, 'never delivered');
  assert.equal(await dlq('1-1'), 0, 'no such entry');
  assert.deepEqual(await snapshot(redis), snap);
});

test('es_enrich_dlq dead-letters a pending entry whose stream entry was trimmed',
  async () => {
    const ids = await pendingEntries(2);
    await redis.cmd('XDEL', STREAM, ids[0]);
    assert.equal(await dlq(ids[0], { error: 'gone', deliveries: '9' }), 1);
    const [e] = await xrange(redis, DLQ);
    assert.deepEqual(e.list, ['error', 'gone', 'deliveries', '9', 'stream_id', ids[0]]);
    assert.deepEqual(await pendingIds(), [ids[1]]);
  });

test('es_enrich_dlq caps the dead-letter stream near its max length', async () => {
  const ids = await pendingEntries(1);
  await Promise.all(Array.from({ length: 350 }, (_, i) =>
    redis.cmd('XADD', DLQ, '*', 'n', String(i))));
  assert.equal(await dlq(ids[0], { maxLen: '100' }), 1);
  const len = await redis.cmd('XLEN', DLQ);
  assert.ok(len >= 100 && len <= 200, `XLEN ${len}`);
  const [last] = await redis.cmd('XREVRANGE', DLQ, '+', '-', 'COUNT', 1);
  assert.equal(last[1].at(-1), ids[0]);
});

test('es_enrich_dlq answers an error and moves nothing with bad arguments', async () => {
  const ids = await pendingEntries(2);
  const snap = await snapshot(redis);
  const cases = [
    { what: 'unknown group', keys: [STREAM, DLQ],
      args: ['nogroup', ids[0], 'e', '5', '100'], re: /^NOGROUP / },
    { what: 'garbage id', keys: [STREAM, DLQ],
      args: ['enrich', 'first', 'e', '5', '100'], re: /^ERR / },
    { what: 'garbage max length', keys: [STREAM, DLQ],
      args: ['enrich', ids[0], 'e', '5', 'many'], re: /^ERR / },
    { what: 'no dead-letter key', keys: [STREAM],
      args: ['enrich', ids[0], 'e', '5', '100'], re: /^ERR / },
    { what: 'no ARGV', keys: [STREAM, DLQ], args: [], re: /^ERR / },
    { what: 'error text missing', keys: [STREAM, DLQ],
      args: ['enrich', ids[0]], re: /^ERR / },
  ];
  for (const c of cases) {
    const msg = await fcallError(redis, 'es_enrich_dlq', c.keys, c.args);
    assert.match(msg, c.re, c.what);
    assert.deepEqual(await snapshot(redis), snap, `${c.what}: nothing moved`);
  }
});
