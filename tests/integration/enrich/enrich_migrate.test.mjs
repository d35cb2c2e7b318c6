// enrich_migrate.test.mjs - the migration of stored comments from schema 1
// (one JSON string es:{t:<T>}:c:<id> per comment and tenant, sorted sets
// es:{t:<T>}:recent:<topic>[:<label>]) to schema 2 (hour buckets, shared
// public parts, recent entries per topic and hour), which
// echostream-enrich runs at start and alone with --migrate
// (docs/enrich.md, "Migration").
//
// Schema-1 data is seeded here as the schema-1 worker wrote it (members in
// the record table's order, numbers with 4 decimals, VADER's scores from
// the real echostream-sentiment binary). After the migration every record
// must read back through es_records (lib/redis/read.lua) as the same JSON
// members (but "terms", which schema 2 derives from the body) and every
// recent page through es_recent as the same ids in the same order.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bin, startProc, startRedis, tmpDir, waitFor, sleep } from '../../lib/harness.mjs';
import {
  enrichEnv, scan, setTenant, startEnrich, vaderScores, waitStarted,
} from '../../lib/enrich.mjs';

let redis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

const VERSION = 'es:{schema}:version';
const LOCK = 'es:{schema}:migrating';
const HOUR = 3600000;
const DAY = 24 * HOUR;
const LABELS = ['positive', 'negative', 'neutral', 'mixed'];
const pad = (n, w = 2) => String(n).padStart(w, '0');
const fix4 = (x) => x.toFixed(4);

// UTC YYYYMMDDHH / YYYYMMDDHHMM of a time in ms, and its month's first second
function hourOf(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
    `${pad(d.getUTCHours())}`;
}
const minuteOf = (ms) => `${hourOf(ms)}${pad(new Date(ms).getUTCMinutes())}`;
function monthOf(ms) {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
}

// A schema-1 record as the worker wrote it (lib/es_record.h's members in
// order; compound, neg, neu, pos printed with 4 decimals).
function legacyJson(c) {
  const s = c.sentiment;
  return '{' + [
    `"id":${JSON.stringify(c.id)}`,
    `"topics":${JSON.stringify(c.topics)}`,
    `"label":${JSON.stringify(s.label)}`,
    `"compound":${fix4(s.compound)}`, `"neg":${fix4(s.neg)}`,
    `"neu":${fix4(s.neu)}`, `"pos":${fix4(s.pos)}`,
    `"cs":${s.cs ?? Math.round(s.compound * 1e4)}`,
    `"engine":${JSON.stringify(c.engine)}`,
    `"created":${c.created}`, `"t":"${minuteOf(c.created)}"`,
    `"month":${monthOf(c.created)}`,
    `"terms":${JSON.stringify(c.body.toLowerCase().split(/\W+/).filter((w) => w.length > 2)
      .slice(0, 8))}`,
    `"subreddit":${JSON.stringify(c.subreddit)}`, `"author":${JSON.stringify(c.author)}`,
    `"body":${JSON.stringify(c.body)}`, `"permalink":${JSON.stringify(c.permalink)}`,
    `"link_title":${JSON.stringify(c.title)}`, `"score":${JSON.stringify(c.score)}`,
  ].join(',') + '}';
}

const rkey = (tenant, id) => `es:{t:${tenant}}:c:${id}`;

// Stores comments [{tenant, id, ...}] as schema-1 records (TTL in s) and
// their ids in the recent sets of their topics (label sets too), as the
// schema-1 worker did for the comments within the tenant's retention.
async function seedLegacy(comments, { recent = true } = {}) {
  const ops = [];
  for (const c of comments) {
    ops.push(redis.cmd('SET', rkey(c.tenant, c.id), c.text ?? legacyJson(c), 'EX', c.ttl ?? 86400));
    if (!recent || !c.topics) continue;
    for (const t of c.topics) {
      ops.push(redis.cmd('ZADD', `es:{t:${c.tenant}}:recent:${t}`, c.created, c.id));
      ops.push(redis.cmd('ZADD', `es:{t:${c.tenant}}:recent:${t}:${c.sentiment.label}`,
                         c.created, c.id));
    }
  }
  await Promise.all(ops);
}

// what es_records reads back for a legacy record: its members but terms
function expected(c) {
  const o = JSON.parse(c.text ?? legacyJson(c));
  delete o.terms;
  return o;
}

async function records(tenant, comments) {
  const args = comments.flatMap((c) => [c.id, hourOf(c.created)]);
  const out = await redis.cmd('FCALL_RO', 'es_records', 1, `es:{t:${tenant}}:meta`,
                              `es:{t:${tenant}}:`, ...args);
  return out.map((v) => (v === null ? null : JSON.parse(v)));
}

async function recentPage(tenant, topic, label, order, offset = 0, count = 1000) {
  const rows = await redis.cmd('FCALL_RO', 'es_recent', 1, `es:{t:${tenant}}:meta`,
                               `es:{t:${tenant}}:`, topic, label, '-inf', '+inf',
                               offset, count, order);
  const ids = [];
  for (let i = 0; i < rows.length; i += 2) ids.push(rows[i]);
  return ids;
}

// The pages the schema-1 sets gave (members within the retention, ties
// by member bytes as ZRANGE orders them), less the members whose record
// is not migrated (none, a tombstone, malformed): they could not be shown.
async function legacyPages(tenant, topics, retentionDays, keep) {
  const min = Date.now() - retentionDays * DAY;
  const pages = {};
  for (const t of topics) {
    for (const label of ['', ...LABELS]) {
      const key = `es:{t:${tenant}}:recent:${t}${label ? `:${label}` : ''}`;
      const asc = await redis.cmd('ZRANGE', key, min, '+inf', 'BYSCORE');
      const ids = asc.filter((id) => keep.has(id));
      pages[`${t}|${label}`] = { asc: ids, desc: [...ids].reverse() };
    }
  }
  return pages;
}

const scanAll = (pattern) => scan(redis, pattern);

function runMigrate(env) {
  const p = startProc(bin('enrich'), ['--migrate'], { env, name: 'enrich-migrate' });
  return p.exited.then((r) => ({ ...r, out: p.stdout(), log: p.stderr() }));
}

const count = (s, re) => (s.match(new RegExp(re, 'g')) || []).length;

test('a schema-1 store reads back the same after the migration, once, however many workers start', async () => {
  await redis.cmd('FLUSHALL');
  const now = Date.now();
  const hourStart = Math.floor(now / HOUR) * HOUR;
  // alpha scores with Comprehend and keeps 7 days; beta and the tenant no
  // longer in es:{tenants}:all ("zeta", found by its keys) use VADER
  await setTenant(redis, 'alpha', [{ id: 'rust', subreddits: ['rust'], query: '' },
                                   { id: 'perf', subreddits: ['all'], query: 'fast' }],
  { engine: 'comprehend', retention_days: '7' });
  await setTenant(redis, 'beta', [{ id: 'rust', subreddits: ['rust'], query: '' },
                                  { id: 'go', subreddits: ['golang'], query: '' }]);
  const bodies = [
    'This is great and fast, I love it!',
    'Terrible. Slow and broken; "never" again.',
    'It compiles.',
    'Mixed feelings: fast but awful docs \u2014 caf\u00e9 \ud83d\ude00',
    'line one\nline two\ttabbed, not bad at all',
    `${'Long and good text. '.repeat(40)}the end`,
    'ok',
    'fast fast fast, wonderful',
  ];
  const vader = await vaderScores(bodies);
  let seq = 0;
  const mk = (tenant, i, ageMs, extra = {}) => {
    seq++;
    const id = extra.id ?? (36 ** 5 + seq * 7919).toString(36);
    const created = hourStart - ageMs + (seq * 61013) % HOUR;
    return {
      tenant, id, created, engine: 'vader', subreddit: extra.subreddit ?? 'rust',
      author: `user_${seq}`, body: bodies[i], score: String(seq - 3),
      permalink: `/r/${extra.subreddit ?? 'rust'}/comments/p${seq % 3}/a_post/${id}/`,
      title: seq % 4 === 0 ? '' : `Post "${seq % 3}" \u00e9`,
      topics: ['rust'], sentiment: vader[i], ...extra,
    };
  };
  const beta = [];
  for (let i = 0; i < 16; i++) {
    beta.push(mk('beta', i % bodies.length, (i % 5) * DAY + (i % 3) * HOUR,
                 { topics: i % 3 === 0 ? ['rust', 'go'] : ['rust'] }));
  }
  // ties: two comments of one millisecond
  beta.push({ ...mk('beta', 2, 0), created: beta[0].created });
  beta.push(mk('beta', 6, 2 * HOUR, {
    permalink: '/r/other/comments/x/y/z/', topics: ['go'], subreddit: 'golang',
  }));
  const longOne = beta[5];
  // shared with alpha, which scored it with Comprehend: the public part
  // (body, VADER's sentiment) is stored once; beta's VADER record holds
  // the scores its series counted, here those of an older VADER, and they
  // stay, though alpha (first in order) has only the body scored now
  const shared = [beta[1], beta[3], beta[7]];
  for (const c of shared) {
    const d = c.sentiment.compound > 0 ? -0.0001 : 0.0001;
    c.sentiment = { ...c.sentiment, compound: c.sentiment.compound + d };
  }
  const alpha = shared.map((c) => ({
    ...c, tenant: 'alpha', engine: 'comprehend', topics: ['rust', 'perf'],
    sentiment: { label: 'mixed', compound: 0.1234, cs: 1235, neg: 0.3101, neu: 0.0455,
                 pos: 0.6444 },
  }));
  alpha.push({
    ...mk('alpha', 0, DAY), engine: 'comprehend', topics: ['perf'],
    sentiment: { label: 'positive', compound: 0.9512, neg: 0.0011, neu: 0.0466, pos: 0.9523 },
  });
  // beyond alpha's 7 days, its record still alive: read back, not in a page
  const old = { ...mk('alpha', 3, 10 * DAY), ttl: 4 * 86400 };
  alpha.push(old);
  const zeta = [mk('zeta', 4, 3 * HOUR, { topics: ['misc'] })];
  const tomb = { tenant: 'beta', id: 'tomb1', text: '{"deleted":true}', created: now };
  const bad = [
    { tenant: 'beta', id: 'bad1', text: 'not json at all', created: now - HOUR,
      topics: ['rust'], sentiment: { label: 'neutral' } },
    { ...mk('beta', 2, HOUR), id: 'bad2', topics: ['no spaces'] },
    { ...mk('beta', 2, HOUR), id: 'bad3', engine: 'svm' },
  ];
  bad[1].text = legacyJson(bad[1]);
  bad[2].text = legacyJson(bad[2]);
  await seedLegacy([...beta, ...alpha, ...zeta]);
  await seedLegacy([tomb], { recent: false });
  await seedLegacy([bad[0]]);
  await seedLegacy([bad[1], bad[2]], { recent: false });
  // a member whose record expired
  await redis.cmd('ZADD', 'es:{t:beta}:recent:rust', now - HOUR, 'gone1');
  await redis.cmd('ZADD', 'es:{t:beta}:recent:rust:neutral', now - HOUR, 'gone1');
  const migrated = [...beta, ...alpha, ...zeta];
  const keepIds = (list) => new Set(list.map((c) => c.id));
  const wantPages = {
    alpha: await legacyPages('alpha', ['rust', 'perf'], 7, keepIds(alpha)),
    beta: await legacyPages('beta', ['rust', 'go'], 30, keepIds(beta)),
    zeta: await legacyPages('zeta', ['misc'], 30, keepIds(zeta)),
  };
  assert.ok(wantPages.beta['rust|'].desc.length >= 12, 'the pages have rows to compare');
  assert.ok(!wantPages.alpha['rust|'].desc.includes(old.id), 'old is beyond the retention');

  // two workers at once: one migrates, the other waits; neither consumes
  // before the version says 2
  const lake = await tmpDir('es-lake-');
  const env = enrichEnv(redis, lake);
  const p1 = startEnrich(env);
  const p2 = startEnrich(env);
  await waitFor(async () => (await redis.cmd('GET', VERSION)) === '2',
                { timeout: 30000, what: 'the schema version marker' });
  await waitStarted(redis, p1, 30000);
  await waitStarted(redis, p2, 30000);
  p1.kill('SIGTERM');
  p2.kill('SIGTERM');
  assert.equal((await p1.exited).code, 0, p1.output());
  assert.equal((await p2.exited).code, 0, p2.output());
  const logs = p1.stderr() + p2.stderr();
  assert.equal(count(logs, 'schema migration done'), 1, `one worker migrated:\n${logs}`);
  const done = logs.split('\n').find((l) => l.includes('schema migration done'));
  const field = (name) => Number(done.match(new RegExp(`${name}=(\\d+)`))[1]);
  assert.equal(field('converted'), migrated.length, done);
  assert.equal(field('tombstones_dropped'), 1, done);
  assert.equal(field('malformed'), 3, done);
  assert.equal(field('beyond_retention'), 1, done);
  assert.equal(field('comprehend_rescored'),
               alpha.filter((c) => c.engine === 'comprehend').length, done);
  assert.equal(field('public_differing'), 0, done);
  assert.equal(field('tenants'), 3, 'zeta is found by its keys');
  assert.equal(count(logs, 'malformed record left in place'), 3);

  // every record reads back as before (but terms)
  for (const [tenant, list] of [['alpha', alpha], ['beta', beta], ['zeta', zeta]]) {
    const got = await records(tenant, list);
    list.forEach((c, i) => assert.deepEqual(got[i], expected(c), `${tenant} ${c.id}`));
  }
  assert.equal(longOne.body.length > 512, true, 'a public part kept apart (:l)');
  // the tombstone and the malformed: the first gone, the others left to
  // expire with their TTL; no recent set is left
  assert.equal(await redis.cmd('EXISTS', rkey('beta', 'tomb1')), 0);
  assert.deepEqual(await scanAll('es:{t:*}:c:*'),
                   bad.map((b) => rkey('beta', b.id)).sort());
  assert.equal(await redis.cmd('GET', rkey('beta', 'bad1')), 'not json at all');
  assert.deepEqual(await scanAll('es:{t:*}:recent:*'), []);
  assert.equal(await redis.cmd('EXISTS', LOCK), 0, 'the lock is released');

  // the recent pages: same ids, same order, both ways, and paged
  for (const [tenant, pages] of Object.entries(wantPages)) {
    for (const [k, want] of Object.entries(pages)) {
      const [topic, label] = k.split('|');
      assert.deepEqual(await recentPage(tenant, topic, label, 'desc'), want.desc,
                       `${tenant} ${k} desc`);
      assert.deepEqual(await recentPage(tenant, topic, label, 'asc'), want.asc,
                       `${tenant} ${k} asc`);
    }
  }
  assert.deepEqual(await recentPage('beta', 'rust', '', 'desc', 3, 5),
                   wantPages.beta['rust|'].desc.slice(3, 8));

  // --migrate on a migrated store does nothing
  const before = {
    keys: (await scanAll('*')).filter((k) => k !== 'es:workers'),
    dv: await redis.cmd('GET', 'es:{t:beta}:dv'),
    rec: await redis.cmd('FCALL_RO', 'es_records', 1, 'es:{t:beta}:meta', 'es:{t:beta}:',
                         beta[0].id, hourOf(beta[0].created)),
  };
  const r = await runMigrate(env);
  assert.equal(r.code, 0, r.log);
  assert.match(r.out, /nothing to migrate/);
  assert.doesNotMatch(r.log, /schema migration/);
  assert.deepEqual((await scanAll('*')).filter((k) => k !== 'es:workers'), before.keys);
  assert.equal(await redis.cmd('GET', 'es:{t:beta}:dv'), before.dv);
  assert.deepEqual(await redis.cmd('FCALL_RO', 'es_records', 1, 'es:{t:beta}:meta',
                                   'es:{t:beta}:', beta[0].id, hourOf(beta[0].created)),
                   before.rec);
});

test('a stopped or killed migration resumes where it was, and loses and doubles nothing', async () => {
  await redis.cmd('FLUSHALL');
  await setTenant(redis, 'big', [{ id: 'all', subreddits: ['all'], query: '' }]);
  const now = Date.now();
  const [v] = await vaderScores(['a good day']);
  // 20,000 comments of five hours: twenty calls
  const n = 20000;
  const list = [];
  for (let i = 0; i < n; i++) {
    const id = (36 ** 5 + i * 13).toString(36);
    list.push({
      tenant: 'big', id, created: now - 1000 - (i * 997 * 60) % (4 * HOUR), engine: 'vader',
      subreddit: 'rust', author: `u${i}`, body: 'a good day', score: '1',
      permalink: `/r/rust/comments/p/s/${id}/`, title: 'T', topics: ['all'], sentiment: v,
    });
  }
  for (let i = 0; i < n; i += 2000) await seedLegacy(list.slice(i, i + 2000));
  const pages = await legacyPages('big', ['all'], 30, new Set(list.map((c) => c.id)));
  const lake = await tmpDir('es-lake-');
  const env = enrichEnv(redis, lake);

  const dv = async () => Number(await redis.cmd('GET', 'es:{t:big}:dv'));
  const left = async () => (await scanAll('es:{t:big}:c:*')).length;
  const start = () => startProc(bin('enrich'), ['--migrate'], { env, name: 'enrich-migrate' });

  // stopped in the middle: the calls made are kept, the lock released
  const p1 = start();
  await waitFor(async () => (await dv()) >= 1, { timeout: 30000, interval: 5,
                                                 what: 'a first call' });
  p1.kill('SIGTERM');
  const e1 = await p1.exited;
  assert.equal(e1.code, 1, 'not migrated yet');
  assert.match(p1.stdout(), /migration stopped before its end/);
  assert.match(p1.stderr(), /schema migration stopped; the next start resumes it/);
  const left1 = await left();
  assert.ok(left1 > 0 && left1 < n, `a partial migration: ${left1} of ${n} left`);
  assert.equal(await redis.cmd('EXISTS', LOCK), 0, 'the lock released');
  assert.equal(await redis.cmd('GET', VERSION), null);

  // killed in the middle: the calls made are kept, the lock stays
  const dv1 = await dv();
  const p2 = start();
  await waitFor(async () => (await dv()) > dv1, { timeout: 30000, interval: 5,
                                                  what: 'a call of the resumed run' });
  p2.kill('SIGKILL');
  await p2.exited;
  const left2 = await left();
  assert.ok(left2 > 0 && left2 < left1, `resumed and cut again: ${left2} of ${left1} left`);
  assert.equal(await redis.cmd('GET', VERSION), null);

  // the dead worker's lock: a new worker waits for it to expire, then
  // takes over (the lifetime is shortened here, as if it were ending)
  assert.ok(await redis.cmd('EXISTS', LOCK));
  await redis.cmd('PEXPIRE', LOCK, 1500);
  const r = await runMigrate(env);
  assert.equal(r.code, 0, r.log);
  assert.match(r.log, /waiting for the schema migration of another worker/);
  assert.match(r.out, /migrated to schema 2/);
  assert.equal(Number(r.out.match(/(\d+) converted/)[1]), left2);
  assert.equal(await redis.cmd('GET', VERSION), '2');
  assert.deepEqual(await scanAll('es:{t:big}:c:*'), []);

  const got = [];
  for (let i = 0; i < n; i += 1000) got.push(...await records('big', list.slice(i, i + 1000)));
  list.forEach((c, i) => assert.deepEqual(got[i], expected(c), c.id));
  const all = [];
  for (let off = 0; ; off += 10000) {
    const page = await recentPage('big', 'all', '', 'desc', off, 10000);
    all.push(...page);
    if (page.length < 10000) break;
  }
  assert.equal(all.length, pages['all|'].desc.length, 'each id once');
  assert.deepEqual(all, pages['all|'].desc);
  // the hours were split for what the migration wrote into them: the
  // buckets stay small (listpack-sized)
  const sizes = [];
  for (const k of await scanAll('es:{t:big}:cr:*')) sizes.push(await redis.cmd('HLEN', k));
  assert.ok(Math.max(...sizes) <= 128, `record buckets of at most 128: ${Math.max(...sizes)}`);
});

test('schema-2 parts already stored win; a record changed since its read, or a lock lost, writes nothing; a waiting worker stops on request', async () => {
  await redis.cmd('FLUSHALL');
  await setTenant(redis, 'acme', [{ id: 'rust', subreddits: ['rust'], query: '' }]);
  const now = Date.now();
  const [v] = await vaderScores(['nice']);
  const c = {
    tenant: 'acme', id: 'abc12', created: now - 5 * 60000, engine: 'vader', subreddit: 'rust',
    author: 'a', body: 'nice', score: '2', permalink: '/r/rust/comments/p/s/abc12/',
    title: '', topics: ['rust'], sentiment: v,
  };
  await seedLegacy([c]);
  // the comment already stored in schema 2 for acme (another topic list):
  // the stored part is kept, and brought its own recent entry
  const h = hourOf(c.created);
  const off = (c.created % HOUR).toString(36);
  await redis.cmd('HSET', `es:{t:acme}:cr:${h}`, c.id, `rust,perf\x1fv\x1f${off}`);
  const env = enrichEnv(redis, await tmpDir('es-lake-'));
  const r = await runMigrate(env);
  assert.equal(r.code, 0, r.log);
  assert.match(r.out, /0 converted, 1 already in schema 2/);
  const [rec] = await records('acme', [c]);
  assert.deepEqual(rec, { ...expected(c), topics: ['rust', 'perf'] });
  assert.equal(await redis.cmd('EXISTS', rkey('acme', c.id)), 0);
  assert.deepEqual(await recentPage('acme', 'rust', '', 'desc'), []);

  // es_enrich_migrate converts a record only while its key holds the text
  // the worker read, and only for the lock's holder
  const d = { ...c, id: 'abc13', permalink: '/r/rust/comments/p/s/abc13/' };
  await seedLegacy([d]);
  await redis.cmd('DEL', VERSION);
  await redis.cmd('SET', LOCK, 'tok', 'PX', 60000);
  const call = (token, text) => redis.cmd(
    'FCALL', 'es_enrich_migrate', 0, LOCK, token, 30000, 'records', 'es:{t:acme}:',
    Math.floor(now / 1000), 86400, 0, text, h, d.id, `rust\x1fv\x1f${off}`,
    'rust\x1fa\x1f2\x1f\x1f\x1fp\x1f4404\x1f\x1f0\x1f2560\x1f7440\x1fnice', '', '', '');
  const stored = await redis.cmd('GET', rkey('acme', d.id));
  assert.deepEqual(await call('tok', stored.replace('nice', 'nicer')), [0, 0, 0, 1, 0, 0]);
  await assert.rejects(call('not-the-holder', stored), /migration lock lost/);
  assert.equal(await redis.cmd('GET', rkey('acme', d.id)), stored, 'left as it was');
  assert.deepEqual(await records('acme', [d]), [null]);
  assert.deepEqual(await call('tok', stored), [1, 0, 0, 0, 1, 0]);
  assert.equal(await redis.cmd('EXISTS', rkey('acme', d.id)), 0);
  assert.equal((await records('acme', [d]))[0].body, 'nice');
  await redis.cmd('DEL', LOCK);

  // a worker asked to stop while waiting for another's lock exits at once
  await redis.cmd('DEL', VERSION);
  await redis.cmd('SET', LOCK, 'someone-else', 'PX', 60000);
  const p = startEnrich(env);
  await p.waitForOutput(/waiting for the schema migration/, 10000);
  await sleep(100);
  p.kill('SIGTERM');
  const ex = await p.exited;
  assert.equal(ex.code, 0, p.output());
  assert.equal(await redis.cmd('GET', LOCK), 'someone-else', 'not its lock to take');
  assert.doesNotMatch(p.output(), /enrich started/, 'it never consumed');
});
