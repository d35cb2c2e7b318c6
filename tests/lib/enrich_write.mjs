// enrich_write.mjs - shared code of the black-box tests of es_enrich_write
// (lib/redis/enrich.lua), called against a real redis-server with the
// KEYS/ARGV protocol of the file's header.
//
// The calls are built here the way workers/enrich/ builds them: the
// increments summed over the batch as if every comment were new (keys in
// first-use order), then what the deletions take out, summed as if every
// one applied (kinds "H", "Z", "R", after every comment's key), slots
// numbered from 1 in the order they are sent; then each comment's record
// key, record JSON and meta "cs|count slots|cs slots" ("cs||" for an id
// repeated in the batch), or a deletion's "D", record key, the stored
// record it was computed from and meta "-cs|-1 slots|-cs slots" ("" when
// that record holds nothing to take out). The expected state is not
// derived from a call but from the comments themselves, as
// docs/redis-keys.md describes every key (series fields, recent sets,
// trending terms, share of voice, usage, the live feed, the data version,
// expiry times fixed by the bucket), so a test checks that the function
// adds exactly what the new comments add and takes out exactly what the
// deleted ones added. Lifetimes and the tombstone come from the prelude of
// the built library (lib/es_schema.h, lib/es_record.h), never repeated by
// hand.
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

// the schema constants and the tombstone exactly as the built library's
// prelude holds them
export const ES = (() => {
  const text = libraryText('enrich.lua');
  const out = {};
  for (const m of text.matchAll(/^ {2}([A-Z_]+) = (\d+),/gm)) {
    out[m[1]] = Number(m[2]);
  }
  for (const k of ['TTL_MINUTE', 'TTL_HOUR', 'TTL_DAY', 'TTL_USAGE', 'LIVE_MAXLEN']) {
    assert.ok(Number.isInteger(out[k]), `prelude holds ${k}`);
  }
  const t = /^ {2}TOMBSTONE = '([^']+)',/m.exec(text);
  assert.ok(t, 'prelude holds TOMBSTONE');
  out.TOMBSTONE = t[1];
  return out;
})();
export const TOMBSTONE = ES.TOMBSTONE;

const pad = (n) => String(n).padStart(2, '0');

// A comment as enrich scores it: created `ago` seconds before now (plus
// 250 ms, so milliseconds matter), matched by topics, with its label,
// compound in 1e-4 units and trending terms.
export function comment(id, { topics = ['rust'], label = 'positive', cs = 5000,
                              ago = 600, terms = [] } = {}) {
  const created = (kit.now - ago) * 1000 + 250;
  const d = new Date(created);
  const t = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}` +
    `${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
  const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
  return { id, topics, label, cs, created, t, month, terms };
}

// The per-comment record (docs/redis-keys.md); a deletion is computed from
// its topics, label, cs, created, t, month and terms.
export function recordJson(c) {
  return JSON.stringify({
    id: c.id, topics: c.topics, label: c.label, compound: c.cs / 1e4,
    neg: 0, neu: 0.4, pos: 0.6, cs: c.cs, engine: 'vader',
    created: c.created, t: c.t, month: c.month, terms: c.terms,
    subreddit: 'rust', author: 'alice', body: `text of ${c.id}`,
    permalink: `/r/rust/comments/p1/x/${c.id}/`, link_title: 'A post',
    score: '7',
  });
}

// The buckets a comment adds to, with their lifetimes and fields.
export function bucketsOf(c) {
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

// The slots comment c adds to (sign 1, kinds h/z/r) or a deletion of it
// takes out (sign -1, kinds H/Z/R; the recent members whatever its age),
// through slot(kind, key, exp, name, v): {count, sums} (the slots of
// `sign`, then those of sign * cs).
function contribution(c, sign, slot, { now, ret }) {
  const [h, z, r] = sign > 0 ? ['h', 'z', 'r'] : ['H', 'Z', 'R'];
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
      const v = sign > 0 ? c.created : -1;
      count.push(slot(r, `${PRE}recent:${topic}`, 0, c.id, v));
      count.push(slot(r, `${PRE}recent:${topic}:${c.label}`, 0, c.id, v));
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
// is the record the worker read (default: c's record; '' for none, or
// the tombstone); a deletion is computed from c unless stored is '' or
// the tombstone, or unreadable is set (stored is then not c's record).
export function buildWrite(items, { now = kit.now, ret = RET, units = 0, usd = 0,
                                    month = null } = {}) {
  const plans = [new Map(), new Map()]; // comments', deletions' keys
  const slotIn = (plan) => (kind, key, exp, name, v) => {
    let k = plan.get(key);
    if (!k) { k = { kind, exp, slots: new Map() }; plan.set(key, k); }
    let sl = k.slots.get(name);
    if (!sl) { sl = { v: 0 }; k.slots.set(name, sl); }
    if (kind === 'r') sl.v = v; else sl.v += v;
    return sl;
  };
  const seen = new Set();
  const recs = [];
  for (const it of items) {
    if (it.del) {
      const c = it.del;
      const stored = it.stored ?? recordJson(c);
      const rev = stored !== '' && stored !== TOMBSTONE && !it.unreadable;
      recs.push({ del: c, stored, rev,
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
        if (k.kind === 'r') ops.push(String(sl.v), name);
        else ops.push(name, String(sl.v));
      }
    }
  }
  const meta = (v, r) => `${v}|${r.count.map((s) => s.pos).join(' ')}|` +
    `${r.sums.map((s) => s.pos).join(' ')}`;
  const records = recs.flatMap((r) => (r.del
    ? ['D', `${PRE}c:${r.del.id}`, r.stored, r.rev ? meta(-r.del.cs, r) : '']
    : [`${PRE}c:${r.c.id}`, recordJson(r.c), meta(r.c.cs, r)]));
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
// brought to 0 stays, holding 0), trending terms and recent members of the
// comments still alive (a member at 0 goes). {key: {type, value, expire}};
// recent sets' expiry is relative and checked apart (expire: 'ret').
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
export async function actualAggregates({ t0, t1, ret = RET } = {}) {
  const snap = await snapshot(kit.redis);
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
      out[key] = { type: 'zset', value: await zscores(kit.redis, key), expire };
    }
  }
  return out;
}

// Writes, and checks the reply and that the aggregates are exactly those
// of counted minus deleted.
export async function writeExpect(items, reply, counted, deleted = [], opts = {}) {
  const t0 = await redisNow(kit.redis);
  assert.deepEqual(await write(items, opts), reply);
  const t1 = await redisNow(kit.redis);
  assert.deepEqual(await actualAggregates({ t0, t1, ret: opts.ret }),
    expectedAggregates(counted, deleted, opts));
}

// A record key's value and its expiry: a retention after (t0..t1).
export async function assertRecord(c, value, t0, t1, ret = RET) {
  const key = `${PRE}c:${c.id}`;
  assert.equal(await kit.redis.cmd('GET', key), value, key);
  const exp = await kit.redis.cmd('PEXPIRETIME', key);
  assert.ok(exp >= (t0 + ret) * 1000 && exp < (t1 + 1 + ret) * 1000,
    `${key} expires a retention after its write`);
}

export const liveIds = async () => (await xrange(kit.redis, LIVE)).map((e) => e.list);
export const dv = async () => kit.redis.cmd('GET', `${PRE}dv`);
