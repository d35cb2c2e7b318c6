// enrich.mjs - helpers for the enrich worker's tests: tenants and topics in
// Redis as the API writes them, stream entries as ingest writes them, the
// worker's environment, the ground truth of per-tenant aggregates (a small
// re-implementation of matching for simple queries, and VADER scores from
// the real echostream-sentiment binary), and a reader of everything the
// worker wrote for a tenant.

import { spawn } from 'node:child_process';
import { bin, startProc, waitFor } from './harness.mjs';
import { recentCounts } from './records.mjs';

export const STREAM = 'es:{ingest}:comments';
export const DLQ = 'es:{ingest}:dlq';
export const GROUP = 'enrich';
export const LABEL_FIELD = { positive: 'pos', negative: 'neg', neutral: 'neu', mixed: 'mix' };

export async function setTenant(redis, tenant, topics, meta = {}) {
  await redis.cmd('SADD', 'es:{tenants}:all', tenant);
  await redis.cmd('DEL', `es:{t:${tenant}}:topics`);
  for (const t of topics) {
    await redis.cmd('HSET', `es:{t:${tenant}}:topics`, t.id, JSON.stringify(t));
  }
  const kv = Object.entries(meta).flat();
  if (kv.length) await redis.cmd('HSET', `es:{t:${tenant}}:meta`, ...kv);
  await redis.cmd('INCR', 'es:{topics}:version');
}

// appends comments ({id, subreddit, author, body, created (s)}) in order
export async function addComments(redis, comments, chunk = 200) {
  for (let i = 0; i < comments.length; i += chunk) {
    await Promise.all(comments.slice(i, i + chunk).map((c) => redis.cmd(
      'XADD', STREAM, '*', 'type', 'comment', 'id', c.id, 'subreddit', c.subreddit,
      'author', c.author, 'body', c.body, 'created_utc', c.created.toFixed(3),
      'permalink', `/r/${c.subreddit}/comments/p/x/${c.id}/`, 'link_id', 't3_p',
      'link_title', 'A post', 'score', '1', 'source', 'synthetic')));
  }
}

// appends deletions of comments; those of even ids carry the comment's
// created_utc, as ingest writes them when the source gives it, the rest
// (or all, with withCreated = () => false) without, as a source may
export async function addDeletions(redis, comments,
                                   { withCreated = (c) => parseInt(c.id, 36) % 2 === 0 } = {}) {
  for (const c of comments) {
    await redis.cmd('XADD', STREAM, '*', 'type', 'delete', 'id', c.id,
                    'subreddit', c.subreddit, 'source', 'reddit',
                    ...(withCreated(c) ? ['created_utc', c.created.toFixed(3)] : []));
  }
}

export function enrichEnv(redis, lakeDir, extra = {}) {
  return {
    AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ECHOSTREAM_AWS_IMDS: 'false',
    ECHOSTREAM_REDIS: redis.url,
    ECHOSTREAM_LAKE_DIR: lakeDir,
    ECHOSTREAM_ENRICH_BLOCK_MS: '100',
    ECHOSTREAM_ENRICH_CLAIM_IDLE_MS: '300',
    ECHOSTREAM_ENRICH_TOPICS_REFRESH_MS: '100',
    ECHOSTREAM_WORKER_HEARTBEAT: '0.5',
    ...extra,
  };
}

export function startEnrich(env) {
  return startProc(bin('enrich'), [], { env, name: 'enrich' });
}

// waits for the worker's first heartbeat (its signal handlers are set)
export async function waitStarted(redis, p, timeout = 10000) {
  return waitFor(async () => {
    const keys = await redis.cmd('HKEYS', 'es:workers');
    return keys.find((k) => k.startsWith('enrich:') && k.endsWith(`-${p.pid}`));
  }, { timeout, what: `enrich ${p.pid} heartbeat` });
}

// the group has read every entry and acknowledged all of them
export async function drained(redis) {
  const groups = await redis.cmd('XINFO', 'GROUPS', STREAM);
  const g = groups.find((x) => x[1] === GROUP);
  if (!g) return false;
  const last = await redis.cmd('XREVRANGE', STREAM, '+', '-', 'COUNT', '1');
  const delivered = g[g.indexOf('last-delivered-id') + 1];
  const pending = g[g.indexOf('pending') + 1];
  return last.length > 0 && delivered === last[0][0] && Number(pending) === 0;
}

export async function waitDrained(redis, what = 'enrich group drained', timeout = 30000) {
  await waitFor(() => drained(redis), { timeout, interval: 50, what });
}

// VADER scores of texts, from the real binary (one text per line)
export function vaderScores(texts) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin('sentiment'), [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`sentiment exit ${code}: ${err}`));
      const lines = out.trim().split('\n').map((l) => JSON.parse(l));
      if (lines.length !== texts.length) return reject(new Error('line count'));
      resolve(lines);
    });
    p.stdin.end(texts.map((t) => t.replace(/\n/g, ' ')).join('\n') + '\n');
  });
}

// words of ASCII text as the query language sees them
export const words = (s) => s.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);

// matching for the simple queries the tests use: "" (everything),
// "w1 w2" (AND), "w1 OR w2", "\"w1 w2\"" (phrase), "-w" (not)
export function matches(topic, c) {
  if (!topic.subreddits.includes('all') && !topic.subreddits.includes(c.subreddit)) {
    return false;
  }
  const q = (topic.query || '').trim();
  if (!q) return true;
  const w = words(c.body);
  if (q.startsWith('"')) {
    const p = words(q);
    for (let i = 0; i + p.length <= w.length; i++) {
      if (p.every((x, j) => w[i + j] === x)) return true;
    }
    return false;
  }
  if (q.includes(' OR ')) return q.split(' OR ').some((x) => w.includes(x.toLowerCase()));
  return q.split(/\s+/).every((x) => (x.startsWith('-') ? !w.includes(x.slice(1))
    : w.includes(x.toLowerCase())));
}

const pad = (n) => String(n).padStart(2, '0');

export function buckets(createdSec) {
  const d = new Date(Math.floor(createdSec) * 1000);
  const Y = d.getUTCFullYear();
  const M = pad(d.getUTCMonth() + 1);
  const D = pad(d.getUTCDate());
  const h = pad(d.getUTCHours());
  const m = pad(d.getUTCMinutes());
  return { m: [`${Y}${M}${D}${h}`, m], h: [`${Y}${M}${D}`, h], d: [`${Y}${M}`, D],
           day: `${Y}${M}${D}`, hour: `${Y}${M}${D}${h}` };
}

// The aggregates a tenant must have: comments [{…, score}] with score =
// {label, compound}; stop = stop-word set; terms counted once per comment
export function truth(tenantTopics, comments, stop) {
  const series = {};
  const recent = {};
  const sov = {};
  const terms = {};
  let usage = 0;
  const bump = (o, k, f, v) => { o[k] ??= {}; o[k][f] = (o[k][f] || 0) + v; };
  for (const c of comments) {
    const topics = tenantTopics.filter((t) => matches(t, c));
    if (topics.length === 0) continue;
    usage++;
    const b = buckets(c.created);
    const cs = Math.round(c.score.compound * 1e4);
    const lf = LABEL_FIELD[c.score.label];
    const ts = [...new Set(words(c.body))].filter((x) => x.length >= 3 && !stop.has(x)
                                                      && !/^\d+$/.test(x))
      .slice(0, 8); // the first 8 distinct terms of a comment count
    for (const t of topics) {
      for (const res of ['m', 'h', 'd']) {
        const key = `ts:${t.id}:${res}:${b[res][0]}`;
        bump(series, key, `${b[res][1]}:n`, 1);
        bump(series, key, `${b[res][1]}:${lf}`, 1);
        bump(series, key, `${b[res][1]}:cs`, cs);
      }
      // entries of the topic's recent index, in all and of the label
      bump(recent, `recent:${t.id}`, 'n', 1);
      bump(recent, `recent:${t.id}:${c.score.label}`, 'n', 1);
      bump(sov, `sov:${b.day}`, t.id, 1);
      for (const w of ts) bump(terms, `terms:${t.id}:${b.hour}`, w, 1);
    }
  }
  const clean = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) =>
    [k, Object.fromEntries(Object.entries(v).filter(([, x]) => x !== 0))])
    .filter(([, v]) => Object.keys(v).length > 0));
  return { series: clean(series), recent: Object.fromEntries(Object.entries(recent)
    .map(([k, v]) => [k, v.n])), sov: clean(sov), terms: clean(terms), usage };
}

// every key matching pattern, sorted (SCAN, so a big store is no one
// blocking command)
export async function scan(redis, pattern) {
  let cursor = '0';
  const keys = [];
  do {
    const [next, batch] = await redis.cmd('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

const pairs = (arr) => {
  const o = {};
  for (let i = 0; i < arr.length; i += 2) o[arr[i]] = Number(arr[i + 1]);
  return o;
};

// What the worker wrote for a tenant, in the shape truth() returns
export async function actual(redis, tenant) {
  const pre = `es:{t:${tenant}}:`;
  const out = { series: {}, recent: {}, sov: {}, terms: {}, usage: 0 };
  for (const k of await scan(redis, `${pre}ts:*`)) {
    out.series[k.slice(pre.length)] = pairs(await redis.cmd('HGETALL', k));
  }
  // the recent indexes' entries (per topic and hour), counted per topic
  // and per topic and label under the names truth() gives them
  out.recent = await recentCounts(redis, tenant);
  for (const k of await scan(redis, `${pre}sov:*`)) {
    out.sov[k.slice(pre.length)] = pairs(await redis.cmd('HGETALL', k));
  }
  for (const k of await scan(redis, `${pre}terms:*`)) {
    out.terms[k.slice(pre.length)] = pairs(await redis.cmd('ZRANGE', k, 0, -1, 'WITHSCORES'));
  }
  for (const k of await scan(redis, `${pre}usage:*`)) {
    out.usage += Number(await redis.cmd('HGET', k, 'comments') || 0);
  }
  const clean = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) =>
    [k, Object.fromEntries(Object.entries(v).filter(([, x]) => x !== 0))])
    .filter(([, v]) => Object.keys(v).length > 0));
  out.series = clean(out.series);
  out.sov = clean(out.sov);
  out.terms = clean(out.terms);
  out.recent = Object.fromEntries(Object.entries(out.recent).filter(([, v]) => v !== 0));
  return out;
}

// a small deterministic PRNG (mulberry32) so a failing run can be repeated
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
