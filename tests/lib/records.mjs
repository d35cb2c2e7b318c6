// records.mjs - the per-comment storage of schema 2 (docs/redis-keys.md,
// lib/es_record.h) for tests that seed comments or read them back without
// running the enrich worker.
//
// writeRecord stores a comment the way workers/enrich writes it: the
// tenant part into its hour's (split) bucket es:{t:<T>}:cr:<H>[:<k>], the
// public part into es:{c}:<H>[:<k>] (the long-part marker and :l when it
// is too long), the post title into the hour's title table, an entry per
// topic in es:{t:<T>}:rc:<topic>:<H>, the split and count fields of the
// day hashes, and the expiry times the worker gives each key. The texts
// follow record.c byte for byte (field order from the tables of
// es_record.h, JSON escaping as jsonw.c does it, numbers in 1e-4 units,
// the "~<post>/<slug>" link form, the FNV-1a title reference), so what a
// reader makes of them is what it makes of the worker's. Like the worker,
// a tenant part already stored is left alone (HSETNX) and then adds no
// recent entry, and a comment older than the retention gets no recent
// entry. An hour's split is taken as found; one not chosen yet is chosen
// here: `split` (default 1).
//
// readRecords/readRecord read as the API and the workers read: FCALL_RO
// es_records of the library echostream_read (lib/redis/read.lua), loaded
// here from the build (FUNCTION LOAD REPLACE) when no program has loaded
// it. recentEntries/recentCounts read the recent indexes back.
//
// Constants (inline limit, lifetimes, separators, tombstone) come from
// the built library's prelude, never repeated by hand.

import { libraryText } from './redis_fn.mjs';

const PRELUDE = libraryText('read.lua');

function constant(name) {
  const m = new RegExp(`\\b${name} = (\\d+),`).exec(PRELUDE);
  if (!m) throw new Error(`build/gen/redis/read.lua has no ${name}`);
  return Number(m[1]);
}

// the stored form's separators, the deleted part, the long-part marker
export const SEP = '\x1f';
export const GONE = '-';
export const LONG = '\x1d';
if (!PRELUDE.includes("SEP = '\\31', GONE = '-', LONG = '\\29'")) {
  throw new Error('read.lua\'s prelude changed its separators: update records.mjs');
}
// the record es_records answers for a deleted comment
export const TOMBSTONE = /TOMBSTONE = '([^']+)'/.exec(PRELUDE)[1];
export const PUBLIC_INLINE_MAX = constant('PUBLIC_INLINE_MAX');
export const TTL_MINUTE = constant('TTL_MINUTE');
export const RETENTION = 30 * 86400; // the default tenant retention

export const LETTER = { positive: 'p', negative: 'n', neutral: 'u', mixed: 'm' };
export const LABEL = { p: 'positive', n: 'negative', u: 'neutral', m: 'mixed' };

const HOUR_MS = 3600000;
const pad = (n) => String(n).padStart(2, '0');

// 'YYYYMMDDHH', the UTC hour of a time in ms (or an hour name, as given)
export function hourOf(t) {
  if (typeof t === 'string') return t;
  const d = new Date(Math.floor(t / HOUR_MS) * HOUR_MS);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}` +
    `${pad(d.getUTCDate())}${pad(d.getUTCHours())}`;
}

// ms into its UTC hour, base 36
const offset36 = (ms) => (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS).toString(36);

// s JSON-escaped without quotes, as jsonw.c writes it (\" \\ \n \r \t,
// other control characters as \u00xx)
export function esc(s) {
  return String(s).replace(/["\\\x00-\x1f]/g, (c) => {
    if (c === '"' || c === '\\') return `\\${c}`;
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u00${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

// a score as an integer in 1e-4 units (es_record_units4)
const units4 = (x) => Math.sign(x) * Math.round(Math.abs(x) * 1e4) || 0;

// label, cs, compound (empty when equal to cs), neg, neu, pos
function sentiment(s) {
  const cs = s.cs ?? units4(s.compound ?? 0);
  const compound = units4(s.compound ?? cs / 1e4);
  return [LETTER[s.label ?? 'neutral'], cs, compound === cs ? '' : compound,
    units4(s.neg ?? 0), units4(s.neu ?? 0), units4(s.pos ?? 0)];
}

// The tenant part of record-like r ({id, topics, label, compound, neg,
// neu, pos, cs, engine, created (ms), ...}).
export function tenantPart(r) {
  const f = [(r.topics ?? []).join(','), r.engine === 'comprehend' ? 'c' : 'v',
    offset36(r.created)];
  if (r.engine === 'comprehend') f.push(...sentiment(r));
  return f.join(SEP);
}

// the reference of a post title in its hour's table: FNV-1a of its
// UTF-8 bytes, low 48 bits, 12 hex digits
export function titleRef(title) {
  let h = 14695981039346656037n;
  for (const b of Buffer.from(title, 'utf8')) {
    h = ((h ^ BigInt(b)) * 1099511628211n) & 0xffffffffffffffffn;
  }
  return (h & 0xffffffffffffn).toString(16).padStart(12, '0');
}

const PLAIN = /^[A-Za-z0-9_-]+$/;

// the stored link: "~<post>/<slug>" for this comment's own
// /r/<sub>/comments/<post>/<slug>/<id>/, else the link escaped
function link(r) {
  const p = r.permalink ?? '';
  const head = `/r/${r.subreddit}/comments/`;
  const tail = `/${r.id}/`;
  if (p.startsWith(head) && p.endsWith(tail) &&
      p.length >= head.length + 3 + tail.length) {
    const mid = p.slice(head.length, p.length - tail.length);
    const i = mid.indexOf('/');
    if (i > 0 && PLAIN.test(mid.slice(0, i)) && PLAIN.test(mid.slice(i + 1))) {
      return `~${mid}`;
    }
  }
  if (p.startsWith('~')) return `\\u007e${esc(p.slice(1))}`;
  return esc(p);
}

// The public part of r (VADER's sentiment: r.vader when the record's own
// is Comprehend's, else the record's).
export function publicPart(r) {
  const title = r.link_title ?? '';
  return [r.subreddit, esc(r.author ?? ''), esc(r.score ?? ''),
    title === '' ? '' : `#${titleRef(title)}`, link(r),
    ...sentiment(r.engine === 'comprehend' && r.vader ? r.vader : r),
    esc(r.body ?? '')].join(SEP);
}

// A comment's entry in a topic's recent index of its hour.
export const recentEntry = (r) =>
  `${r.id}:${LETTER[r.label ?? 'neutral']}${offset36(r.created)};`;

const sub = (base, split, id) =>
  (split <= 1 ? base : `${base}:${parseInt(id.slice(-3), 36) % split}`);

// The split of hour h in the day hash key dayfmt(YYYYMMDD), choosing
// `want` when none was chosen (and giving the day hash exp, or later).
async function splitOf(redis, dayKey, h, want, exp) {
  if (await redis.cmd('HSETNX', dayKey, h.slice(8, 10), want) === 1) {
    await redis.cmd('EXPIREAT', dayKey, exp, 'NX');
    await redis.cmd('EXPIREAT', dayKey, exp, 'GT');
  }
  return Number(await redis.cmd('HGET', dayKey, h.slice(8, 10)));
}

const tpre = (tenant) => `es:{t:${tenant}}:`;

// The key of the record bucket holding tenant's part of comment id of
// hour h (YYYYMMDDHH or a time in ms), as the hour's split places it.
export async function tenantBucket(redis, tenant, id, h) {
  const hour = hourOf(h);
  const s = Number(await redis.cmd('HGET', `${tpre(tenant)}crs:${hour.slice(0, 8)}`,
    hour.slice(8, 10)) ?? 1);
  return sub(`${tpre(tenant)}cr:${hour}`, s, id);
}

// The same for the public part (es:{c}:<H>[:<k>]).
export async function publicBucket(redis, id, h) {
  const hour = hourOf(h);
  const s = Number(await redis.cmd('HGET', `es:{c}:s:${hour.slice(0, 8)}`,
    hour.slice(8, 10)) ?? 1);
  return sub(`es:{c}:${hour}`, s, id);
}

// Stores record-like r for tenant as enrich does. Options: now (ms,
// default the clock), ret (the tenant's retention in s), split (of an
// hour not split yet, for both bucket kinds), recent: false (no recent
// entries: a record only the live feed names). Resolves to true when the
// tenant part is new.
export async function writeRecord(redis, tenant, r, { now = Date.now(), ret = RETENTION,
                                                      split = 1, recent = true } = {}) {
  const h = hourOf(r.created);
  const day = h.slice(0, 8);
  const nowS = Math.floor(now / 1000);
  const end = (Math.floor(r.created / HOUR_MS) + 1) * 3600;
  const exp = Math.max(end, nowS) + ret;
  const pexp = Math.max(end, nowS) + Math.max(ret, TTL_MINUTE);
  // the public part (es_enrich_public: "P", then "T" for the title)
  const ps = await splitOf(redis, `es:{c}:s:${day}`, h, split, pexp);
  const pk = sub(`es:{c}:${h}`, ps, r.id);
  const part = publicPart(r);
  const long = Buffer.byteLength(part) > PUBLIC_INLINE_MAX;
  if (await redis.cmd('HSETNX', pk, r.id, long ? LONG : part) === 1) {
    await redis.cmd('HINCRBY', `es:{c}:s:${day}`, `${h.slice(8, 10)}:n`, 1);
    if (long) {
      await redis.cmd('HSET', `es:{c}:${h}:l`, r.id, part);
      await redis.cmd('EXPIREAT', `es:{c}:${h}:l`, pexp, 'NX');
      await redis.cmd('EXPIREAT', `es:{c}:${h}:l`, pexp, 'GT');
    }
  }
  const keys = [pk];
  if (r.link_title) {
    await redis.cmd('HSETNX', `es:{c}:${h}:t`, titleRef(r.link_title), esc(r.link_title));
    keys.push(`es:{c}:${h}:t`);
  }
  for (const k of keys) {
    await redis.cmd('EXPIREAT', k, pexp, 'NX');
    await redis.cmd('EXPIREAT', k, pexp, 'GT');
  }
  // the tenant part (es_enrich_write)
  const pre = tpre(tenant);
  const ts = await splitOf(redis, `${pre}crs:${day}`, h, split, exp);
  const tk = sub(`${pre}cr:${h}`, ts, r.id);
  if (await redis.cmd('HSETNX', tk, r.id, tenantPart(r)) !== 1) return false;
  await redis.cmd('EXPIREAT', tk, exp);
  await redis.cmd('HINCRBY', `${pre}crs:${day}`, `${h.slice(8, 10)}:n`, 1);
  // the recent entries, of a comment within the retention only
  if (recent && Math.floor(r.created / 1000) >= nowS - ret) {
    for (const topic of r.topics ?? []) {
      const k = `${pre}rc:${topic}:${h}`;
      await redis.cmd('APPEND', k, recentEntry(r));
      await redis.cmd('EXPIREAT', k, Math.max(end, nowS) + ret);
    }
  }
  return true;
}

// Stores many records (concurrently, a chunk at a time).
export async function writeRecords(redis, tenant, list, opts = {}, chunk = 500) {
  for (let i = 0; i < list.length; i += chunk) {
    await Promise.all(list.slice(i, i + chunk).map((r) => writeRecord(redis, tenant, r, opts)));
  }
}

// Deletes comment id of hour h (YYYYMMDDHH or ms) as a deletion leaves
// it: both parts the tombstone (a long part's text dropped). The recent
// entries are left: dropRecent takes them out.
export async function tombstone(redis, tenant, id, h) {
  await redis.cmd('HSET', await tenantBucket(redis, tenant, id, h), id, GONE);
  const pk = await publicBucket(redis, id, h);
  const v = await redis.cmd('HGET', pk, id);
  if (v !== null && v !== GONE) {
    await redis.cmd('HSET', pk, id, GONE);
    if (v === LONG) await redis.cmd('HDEL', `es:{c}:${hourOf(h)}:l`, id);
  }
}

// Takes comment id's entries (of hour h) out of the topics' recent
// indexes, as es_enrich_write's "A" does (the key goes when empty).
export async function dropRecent(redis, tenant, topics, id, h) {
  for (const topic of topics) {
    const k = `${tpre(tenant)}rc:${topic}:${hourOf(h)}`;
    const s = await redis.cmd('GET', k);
    if (s === null) continue;
    const left = s.split(';').filter((e) => e !== '' && !e.startsWith(`${id}:`))
      .map((e) => `${e};`).join('');
    if (left === '') await redis.cmd('DEL', k);
    else await redis.cmd('SET', k, left, 'KEEPTTL');
  }
}

// FCALL_RO that loads the read library first when Redis has none.
async function fcallRead(redis, ...args) {
  try {
    return await redis.cmd('FCALL_RO', ...args);
  } catch (e) {
    if (!/Function not found/i.test(e.message)) throw e;
    await redis.cmd('FUNCTION', 'LOAD', 'REPLACE', PRELUDE);
    return redis.cmd('FCALL_RO', ...args);
  }
}

// The records of tenant for [[id, hour or created ms], ...] as es_records
// answers them: the JSON text, TOMBSTONE, or null (none stored).
export async function readRecords(redis, tenant, list) {
  if (list.length === 0) return [];
  const pre = tpre(tenant);
  return fcallRead(redis, 'es_records', 1, `${pre}meta`, pre,
    ...list.flatMap(([id, h]) => [id, hourOf(h)]));
}

// One record, parsed ({deleted: true} for a deleted comment), or null.
export async function readRecord(redis, tenant, id, h) {
  const [v] = await readRecords(redis, tenant, [[id, h]]);
  return v === null ? null : JSON.parse(v);
}

// Every entry of tenant's recent indexes: [{topic, hour, id, label, ms}],
// in index order (key by key, sorted by key).
export async function recentEntries(redis, tenant) {
  const pre = `${tpre(tenant)}rc:`;
  const keys = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.cmd('SCAN', cursor, 'MATCH', `${pre}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const out = [];
  for (const k of [...new Set(keys)].sort()) {
    const rest = k.slice(pre.length);
    const topic = rest.slice(0, rest.lastIndexOf(':'));
    const hour = rest.slice(rest.lastIndexOf(':') + 1);
    const h0 = Date.UTC(Number(hour.slice(0, 4)), Number(hour.slice(4, 6)) - 1,
      Number(hour.slice(6, 8)), Number(hour.slice(8, 10)));
    const text = await redis.cmd('GET', k);
    if (!/^([0-9a-z]+:[a-z][0-9a-z]+;)*$/.test(text)) {
      throw new Error(`${k}: malformed recent index ${JSON.stringify(text)}`);
    }
    for (const m of text.matchAll(/([0-9a-z]+):([a-z])([0-9a-z]+);/g)) {
      out.push({ topic, hour, id: m[1], label: LABEL[m[2]] ?? m[2],
                 ms: h0 + parseInt(m[3], 36) });
    }
  }
  return out;
}

// The number of entries per topic ("recent:<topic>") and per topic and
// label ("recent:<topic>:<label>"), the names of the sorted sets of
// schema 1; a repeated entry counts twice.
export async function recentCounts(redis, tenant) {
  const out = {};
  for (const e of await recentEntries(redis, tenant)) {
    for (const k of [`recent:${e.topic}`, `recent:${e.topic}:${e.label}`]) {
      out[k] = (out[k] ?? 0) + 1;
    }
  }
  return out;
}
