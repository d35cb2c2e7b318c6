// enrich_write.mjs - shared code of the black-box tests of es_enrich_write
// (lib/redis/enrich.lua, protocol 5), called against a real redis-server
// with the KEYS/ARGV protocol of the file's header.
//
// The calls are built here the way workers/enrich/ builds them: the
// increments summed over the batch as if every comment were new (keys in
// first-use order), then what the deletions take out, summed as if every
// one applied (kinds "H", "Z", "A", after every comment's key), slots
// numbered from 1 in the order they are sent; then each comment's
// creation hour, id, tenant part (lib/es_record.h, as records.mjs writes
// it) and meta "cs|count slots|cs slots" ("cs||" for an id repeated in
// the batch), or a deletion's "D", hour, id, the tenant part it was
// computed from and meta "-cs|-1 slots|-cs slots" ("" when that part holds
// nothing to take out). The expected state is not derived from a call but
// from the comments themselves, as docs/redis-keys.md describes every key
// (series fields, recent entries per topic and hour, trending terms,
// share of voice, usage, the live feed, the data version, expiry times
// fixed by the bucket), so a test checks that the function adds exactly
// what the new comments add and takes out exactly what the deleted ones
// added. Lifetimes, the split target and the tombstone come from the
// prelude of the built library (lib/es_schema.h, lib/es_record.h), never
// repeated by hand.
//
// A suite's Redis connection and clock reading are kit.redis and kit.now
// (Redis's clock at the start of each test, whole seconds), set by the
// hooks enrichSuite registers.

import { after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { startRedis } from './harness.mjs';
import {
  fcall, libraryText, redisNow, resetRedis, snapshot, xrange, zscores,
} from './redis_fn.mjs';
import { recentEntry, tenantPart } from './records.mjs';

export const kit = { redis: null, now: 0 };

// Registers a suite's hooks: one Redis for the suite (handed to use),
// emptied before every test with nothing but enrich.lua loaded, and
// kit.now read from its clock, so tests do not depend on each other.
export function enrichSuite(use) {
  before(async () => {
    kit.redis = await startRedis();
    use(kit.redis);
  });
  after(async () => {
    await kit.redis?.close();
  });
  beforeEach(async () => {
    await resetRedis(kit.redis, 'enrich.lua');
    kit.now = await redisNow(kit.redis);
  });
}

export const TENANT = 'acme';
export const PRE = `es:{t:${TENANT}}:`;
export const META = `${PRE}meta`;
export const LIVE = `${PRE}live`;
export const RET = 30 * 86400; // the default tenant retention, 30 days
export const H = 3600;
export const D = 86400;
const LF = { positive: 'pos', negative: 'neg', neutral: 'neu', mixed: 'mix' };

// the schema constants, the record's tombstone and the stored form's
// deleted part exactly as the built library's prelude holds them
export const ES = (() => {
  const text = libraryText('enrich.lua');
  const out = {};
  for (const m of text.matchAll(/^ {2}([A-Z_]+) = (\d+),/gm)) {
    out[m[1]] = Number(m[2]);
  }
  for (const k of ['TTL_MINUTE', 'TTL_HOUR', 'TTL_DAY', 'TTL_USAGE', 'LIVE_MAXLEN',
    'ENRICH_PROTOCOL', 'BUCKET_TARGET', 'BUCKET_SPLIT_MAX', 'PUBLIC_INLINE_MAX']) {
    assert.ok(Number.isInteger(out[k]), `prelude holds ${k}`);
  }
  const t = /^ {2}TOMBSTONE = '([^']+)',/m.exec(text);
  assert.ok(t, 'prelude holds TOMBSTONE');
  out.TOMBSTONE = t[1];
  const g = /\bGONE = '([^']+)',/.exec(text);
  assert.ok(g, 'prelude holds GONE');
  out.GONE = g[1];
  return out;
})();
export const TOMBSTONE = ES.TOMBSTONE;
// what a deleted comment's stored part becomes
export const GONE = ES.GONE;

const pad = (n) => String(n).padStart(2, '0');

// A comment as enrich scores it: created `ago` seconds before now (plus
// 250 ms, so milliseconds matter), matched by topics, with its label,
// compound in 1e-4 units and trending terms (of its body, which the
// function never sees).
export function comment(id, { topics = ['rust'], label = 'positive', cs = 5000,
                              ago = 600, terms = [] } = {}) {
  const created = (kit.now - ago) * 1000 + 250;
  const d = new Date(created);
  const t = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}` +
    `${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
  const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
  return { id, topics, label, cs, created, t, month, terms, hour: t.slice(0, 10) };
}

// The tenant part the worker stores for comment c (scored by VADER); a
// deletion is computed from its topics and created, and the public
// part's label, cs and body.
export const recordPart = (c) => tenantPart({ ...c, engine: 'vader' });

// The key of the record bucket holding c's tenant part: the hour's bucket,
// or its sub-bucket when the hour is split (crs:<YYYYMMDD>, field HH).
export async function recordKey(c) {
  const split = Number(await kit.redis.cmd('HGET', `${PRE}crs:${c.hour.slice(0, 8)}`,
    c.hour.slice(8, 10)) ?? 1);
  const base = `${PRE}cr:${c.hour}`;
  return split <= 1 ? base : `${base}:${parseInt(c.id.slice(-3), 36) % split}`;
}

// when c's record bucket expires: a retention after its hour ends, or
// after now when that is later (s)
export const recordExpiry = (c, { now = kit.now, ret = RET } = {}) =>
  Math.max(bucketsOf(c).hour0 + H, now) + ret;

// The buckets a comment adds to, with their lifetimes and fields.
export function bucketsOf(c) {
  const s = Math.floor(c.created / 1000);
  const hour0 = s - (s % H);
  const day0 = s - (s % D);
  return {
    s,
    hour0,
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
    // a topic's recent entries of the hour live a retention after it, or
    // after now when that is later
    recentExp: (now, ret) => Math.max(hour0 + H, now) + ret,
  };
}

// The slots comment c adds to (sign 1, kinds h/z/a) or a deletion of it
// takes out (sign -1, kinds H/Z/A; the recent entries whatever its age),
// through slot(kind, key, exp, name, v): {count, sums} (the slots of
// `sign`, then those of sign * cs).
function contribution(c, sign, slot, { now, ret }) {
  const [h, z, a] = sign > 0 ? ['h', 'z', 'a'] : ['H', 'Z', 'A'];
  const b = bucketsOf(c);
  const count = [];
  const sums = [];
  for (const topic of c.topics) {
    for (const sr of b.series) {
      if (sr.exp <= now) continue;
      const k = `${PRE}ts:${topic}:${sr.res}:${sr.bucket}`;
      count.push(slot(h, k, sr.exp, `${sr.field}:n`, sign));
      count.push(slot(h, k, sr.exp, `${sr.field}:${LF[c.label]}`, sign));
    }
    if (b.sov.exp > now) count.push(slot(h, b.sov.key, b.sov.exp, topic, sign));
    if (b.termsExp > now) {
      for (const term of c.terms) {
        count.push(slot(z, `${PRE}terms:${topic}:${b.hour}`, b.termsExp, term, sign));
      }
    }
    if (sign < 0 || b.s >= now - ret) {
      count.push(slot(a, `${PRE}rc:${topic}:${b.hour}`, b.recentExp(now, ret),
        recentEntry(c), sign));
    }
  }
  for (const topic of c.topics) {
    for (const sr of b.series) {
      if (sr.exp <= now) continue;
      const k = `${PRE}ts:${topic}:${sr.res}:${sr.bucket}`;
      sums.push(slot(h, k, sr.exp, `${sr.field}:cs`, sign * c.cs));
    }
  }
  return { count, sums };
}

// The ARGV of one es_enrich_write call over items, as the worker builds
// it: comments, or deletions {del: c, stored} of comment c, where stored
// is the tenant part the worker read (default: c's; '' for none, or the
// tombstone GONE); a deletion is computed from c unless stored is '' or
// GONE, or unreadable is set (stored is then not a part of c's); hourless
// sends it as a worker that found no record and no creation time does
// (hour, part and meta all "").
export function buildWrite(items, { now = kit.now, ret = RET, units = 0, usd = 0,
                                    month = null } = {}) {
  const plans = [new Map(), new Map()]; // comments', deletions' keys
  const slotIn = (plan) => (kind, key, exp, name, v) => {
    let k = plan.get(key);
    if (!k) { k = { kind, exp, slots: new Map() }; plan.set(key, k); }
    let sl = k.slots.get(name);
    if (!sl) { sl = { v: 0 }; k.slots.set(name, sl); }
    sl.v += v;
    return sl;
  };
  const seen = new Set();
  const recs = [];
  for (const it of items) {
    if (it.del) {
      const c = it.del;
      const stored = it.stored ?? recordPart(c);
      const rev = stored !== '' && stored !== GONE && !it.unreadable;
      recs.push({ del: c, stored, rev, hourless: it.hourless,
        ...(rev ? contribution(c, -1, slotIn(plans[1]), { now, ret }) : {}) });
      continue;
    }
    if (seen.has(it.id)) { recs.push({ c: it, count: [], sums: [] }); continue; }
    seen.add(it.id);
    recs.push({ c: it, ...contribution(it, 1, slotIn(plans[0]), { now, ret }) });
  }
  const ops = [];
  let pos = 0;
  for (const plan of plans) {
    for (const [key, k] of plan) {
      ops.push(k.kind, key, String(k.exp), String(k.slots.size));
      for (const [name, sl] of k.slots) {
        sl.pos = ++pos;
        ops.push(name, String(sl.v));
      }
    }
  }
  const meta = (v, r) => `${v}|${r.count.map((s) => s.pos).join(' ')}|` +
    `${r.sums.map((s) => s.pos).join(' ')}`;
  const records = recs.flatMap((r) => (r.del
    ? ['D', r.hourless ? '' : r.del.hour, r.del.id, r.stored,
      r.rev ? meta(-r.del.cs, r) : '']
    : [r.c.hour, r.c.id, recordPart(r.c), meta(r.c.cs, r)]));
  const head = [PRE, String(now), String(ret), month ?? usageMonth(), String(units),
                String(usd)];
  return [...head, String(head.length + 2 + ops.length), ...ops, ...records];
}

export function usageMonth(s = kit.now) {
  const d = new Date(s * 1000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}`;
}

export const write = (items, opts) =>
  fcall(kit.redis, 'es_enrich_write', [META, LIVE], buildWrite(items, opts));

// The tenant's aggregates as docs/redis-keys.md defines them, from the
// comments counted (created once) and those of them deleted since: series
// and share-of-voice fields of every counted comment (a field a deletion
// brought to 0 stays, holding 0), trending terms and recent entries of
// the comments still alive (a recent index without entries goes).
// {key: {type, value, expire}}; a recent index's value is its entries,
// sorted (the index is unordered).
export function expectedAggregates(counted, deleted = [],
                                   { now = kit.now, ret = RET } = {}) {
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
        const k = `${PRE}rc:${topic}:${b.hour}`;
        out[k] ??= { type: 'string', value: [], expire: b.recentExp(now, ret) * 1000 };
        out[k].value.push(recentEntry(c));
      }
    }
  }
  for (const [k, v] of Object.entries(out)) {
    if (v.type === 'zset' && Object.keys(v.value).length === 0) delete out[k];
    if (v.type === 'string') v.value.sort();
  }
  return out;
}

const AGG = /^es:\{t:acme\}:(ts|sov|terms|rc):/;

// The entries of a recent index's text, sorted; fails on a malformed one.
export function entriesOf(text) {
  assert.match(text, /^([0-9a-z]+:[a-z][0-9a-z]+;)+$/, 'a recent index');
  return text.match(/[^;]+;/g).sort();
}

// The tenant's aggregate keys as Redis holds them, in expectedAggregates'
// shape.
export async function actualAggregates() {
  const snap = await snapshot(kit.redis);
  const out = {};
  for (const [key, v] of Object.entries(snap)) {
    if (!AGG.test(key)) continue;
    if (v.type === 'hash') {
      out[key] = { type: 'hash', value: v.value, expire: v.expire };
    } else if (v.type === 'string') {
      out[key] = { type: 'string', value: entriesOf(v.value), expire: v.expire };
    } else {
      out[key] = { type: 'zset', value: await zscores(kit.redis, key), expire: v.expire };
    }
  }
  return out;
}

// Writes, and checks the reply and that the aggregates are exactly those
// of counted minus deleted.
export async function writeExpect(items, reply, counted, deleted = [], opts = {}) {
  assert.deepEqual(await write(items, opts), reply);
  assert.deepEqual(await actualAggregates(), expectedAggregates(counted, deleted, opts));
}

// A comment's stored tenant part and its bucket's expiry: a retention
// after its hour, or after now when later.
export async function assertRecord(c, value, opts = {}) {
  const key = await recordKey(c);
  assert.equal(await kit.redis.cmd('HGET', key, c.id), value, `${key} ${c.id}`);
  assert.equal(await kit.redis.cmd('PEXPIRETIME', key), recordExpiry(c, opts) * 1000,
    `${key} expires a retention after its hour (or now)`);
}

// The live stream's entries, each as its field list: ids, then hours.
export const liveIds = async () => (await xrange(kit.redis, LIVE)).map((e) => e.list);
// The live entry of a call that created comments cs, in that order: one
// hour for all when they share it, else one per id.
export const liveEntry = (cs) => ['ids', cs.map((c) => c.id).join(','), 'hours',
  cs.every((c) => c.hour === cs[0].hour) ? cs[0].hour : cs.map((c) => c.hour).join(',')];
export const dv = async () => kit.redis.cmd('GET', `${PRE}dv`);
