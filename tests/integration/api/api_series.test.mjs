// api_series.test.mjs - the analytics routes answer exactly what the enrich
// worker counted: /topics/{id}/series, /comments, /terms, /share-of-voice
// and /usage.
//
// Two tenants sign in through cognito-local (custom:tenant_id), get topics
// the way the API stores them, and a known set of comments goes through
// the real echostream-enrich binary (VADER scores from the real
// echostream-sentiment binary). The ground truth is computed here from the
// comments themselves (matching re-implemented for the test's simple
// queries, tests/lib/enrich.mjs): every bucket of every series at every
// step, every comment page by page through the cursor (each exactly once,
// newest first, ties on the same millisecond included), the sentiment
// filter, term counts against the day before, shares of voice and usage
// must equal it exactly. Every JSON answer is validated against
// docs/openapi.yaml, and one tenant never sees the other's data.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startApiStack } from '../../lib/api.mjs';
import { tmpDir } from '../../lib/harness.mjs';
import {
  GONE, SEP, dropRecent, tenantBucket, writeRecord,
} from '../../lib/records.mjs';
import {
  addComments, enrichEnv, matches, prng, setTenant, startEnrich, truth,
  vaderScores, waitDrained, waitStarted,
} from '../../lib/enrich.mjs';

const SEED = Number(process.env.ES_TEST_SEED || 20261125);
const rnd = prng(SEED);
const pick = (a) => a[Math.floor(rnd() * a.length)];

const TOPICS = {
  acme: [
    { id: 'rust', name: 'Rust', subreddits: ['rust'], query: '' },
    { id: 'fast', name: 'Fast things', subreddits: ['rust', 'golang'],
      query: 'fast' },
    { id: 'love-all', name: 'Love', subreddits: ['all'],
      query: 'love OR great' },
    { id: 'nothing', name: 'Nothing yet', subreddits: ['rust'],
      query: 'zzqqxx' },
  ],
  beta: [
    { id: 'go', name: 'Go', subreddits: ['golang'], query: '' },
  ],
};
// words of the bodies; "the", "and", "really", "not", "very" are stop
// words and "go"/"ok" too short: none of them may trend
const VOCAB = ['love', 'great', 'hate', 'terrible', 'fast', 'slow', 'borrow',
  'checker', 'compiler', 'release', 'async', 'memory', 'safe', 'crash', 'bug',
  'team', 'docs', 'awesome', 'broken', 'fine', 'the', 'and', 'really', 'go',
  'ok', 'not', 'very'];
const STOP = new Set(['the', 'and', 'really', 'not', 'very']);
const SUBS = ['rust', 'golang', 'python'];
const LABELS = ['positive', 'negative', 'neutral', 'mixed'];
const HOUR = 3600000;
const DAY = 24 * HOUR;

let s;
let users;
let comments;
let lake;

// comments of the last 3 hours and of the same hours a day earlier; every
// tenth shares its millisecond with the one before (ties in the cursor)
function makeComments(now) {
  const out = [];
  for (let i = 0; i < 1000; i++) {
    const back = i < 700 ? 0 : DAY;
    let ms = now - back - Math.floor(rnd() * 3 * HOUR);
    if (i % 10 === 9) ms = out[i - 1].ms;
    const n = 3 + Math.floor(rnd() * 10);
    out.push({
      id: (1000000 + i).toString(36),
      subreddit: pick(SUBS),
      author: `user${Math.floor(rnd() * 50)}`,
      body: Array.from({ length: n }, () => pick(VOCAB)).join(' ') +
        (rnd() < 0.3 ? '!' : '.'),
      ms,
      created: ms / 1000,
    });
  }
  return out;
}

before(async () => {
  // tenants named through the claim (echostream_tenant_claim on)
  s = await startApiStack({ tenantClaim: true });
  lake = await tmpDir('es-lake-');
  users = {
    acme: await s.cognito.user('owner@acme.test', { tenant: 'acme' }),
    beta: await s.cognito.user('owner@beta.test', { tenant: 'beta' }),
  };
  for (const [t, u] of Object.entries(users)) {
    const me = await s.api('GET', '/api/v1/me', { token: u.idToken });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.tenant, t);
  }
  for (const [t, topics] of Object.entries(TOPICS)) {
    await setTenant(s.redis, t, topics);
  }

  comments = makeComments(Date.now());
  const scores = await vaderScores(comments.map((c) => c.body));
  comments.forEach((c, i) => { c.score = scores[i]; });
  await addComments(s.redis, comments);

  const p = startEnrich(enrichEnv(s.redis, lake,
    { ECHOSTREAM_LOG_LEVEL: 'warn' }));
  await waitStarted(s.redis, p);
  await waitDrained(s.redis);
  p.kill('SIGTERM');
  const ex = await p.exited;
  assert.equal(ex.code, 0, p.output());
});

after(async () => {
  await s?.stop();
});

const get = (tenant, path) => s.api('GET', path,
  { token: users[tenant].idToken });

async function ok(tenant, path) {
  const r = await get(tenant, path);
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.json;
}

async function bad(tenant, path, status = 400, field) {
  const r = await get(tenant, path);
  assert.equal(r.status, status, `${path}: ${r.text}`);
  if (status === 400) assert.equal(r.json.error.code, 'bad_request', path);
  if (status === 404) assert.equal(r.json.error.code, 'not_found', path);
  if (field) assert.equal(r.json.error.field, field, path);
}

// runs fn until the clock stays within one `unit` (hour, day) around it,
// so answers that depend on "now" meet the expectation of the same now
async function stable(unit, fn) {
  for (;;) {
    const t0 = Date.now();
    const out = await fn(t0);
    if (Math.floor(Date.now() / unit) === Math.floor(t0 / unit)) return out;
  }
}

const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString()
  .replace('.000Z', 'Z');
const pad = (n) => String(n).padStart(2, '0');
const hourKey = (ms) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${
    pad(d.getUTCDate())}${pad(d.getUTCHours())}`;
};
const dayStr = (day) => new Date(day * DAY).toISOString().slice(0, 10);

// x / 10^4 of the integer ratio num / den rounded half away from zero,
// as the API rounds
function round4(num, den) {
  const q = Math.floor((2 * Math.abs(num) + den) / (2 * den));
  return q === 0 ? 0 : Math.sign(num) * q / 10000;
}

const matching = (tenant, topicId) => {
  const t = TOPICS[tenant].find((x) => x.id === topicId);
  return comments.filter((c) => matches(t, c));
};

function expectSeries(tenant, topicId, fromMs, toMs, step) {
  const list = matching(tenant, topicId);
  const points = [];
  for (let t = fromMs - (fromMs % step); t < toMs; t += step) {
    const p = { t: iso(t), n: 0, positive: 0, negative: 0, neutral: 0,
                mixed: 0, cs: 0 };
    for (const c of list) {
      if (c.ms >= t && c.ms < t + step) {
        p.n++;
        p[c.score.label]++;
        p.cs += Math.round(c.score.compound * 1e4);
      }
    }
    const cs = p.cs;
    delete p.cs;
    points.push({ ...p, compound: p.n ? Math.max(-1, Math.min(1,
      round4(cs, p.n))) : 0 });
  }
  return points;
}

test('series: every bucket at every step equals the ground truth', async () => {
  const now = Date.now();
  const cases = [
    ['minute', 60000, now - 3 * HOUR - 600000, now + 60000],
    ['hour', HOUR, now - 28 * HOUR, now + HOUR],
    ['day', DAY, now - 40 * DAY, now + DAY],
  ];
  for (const topic of TOPICS.acme) {
    for (const [step, ms, from, to] of cases) {
      const f = Math.floor(from / 1000);
      const t = Math.floor(to / 1000);
      const got = await ok('acme', `/api/v1/topics/${topic.id}/series?from=${
        f}&to=${t}&step=${step}`);
      assert.equal(got.topic, topic.id);
      assert.equal(got.step, step);
      assert.equal(got.from, iso(f * 1000 - ((f * 1000) % ms)));
      assert.equal(got.to, iso(t * 1000));
      assert.deepEqual(got.points, expectSeries('acme', topic.id, f * 1000,
        t * 1000, ms), `${topic.id} ${step}`);
    }
  }
  // something was counted at all: the comparison is not of zeros only
  const rust = expectSeries('acme', 'rust', now - 4 * HOUR, now + 1, HOUR);
  assert.ok(rust.reduce((a, p) => a + p.n, 0) > 100);
});

test('series: defaults, RFC 3339 arguments and the "from" floor', async () => {
  await stable(HOUR, async () => {
    const got = await ok('acme', '/api/v1/topics/rust/series');
    assert.equal(got.step, 'hour');
    const to = Date.parse(got.to);
    assert.ok(Math.abs(to - Date.now()) < 60000, 'to defaults to now');
    const from = to - 24 * HOUR;
    assert.equal(got.from, iso(from - (from % HOUR)));
    assert.ok(got.points.length >= 24 && got.points.length <= 25);
    assert.deepEqual(got.points, expectSeries('acme', 'rust', from, to, HOUR));
  });

  const to = Math.floor(Date.now() / 60000) * 60000 + 60000;
  const from = to - 90 * 60000 + 17000; // floored to its minute
  const got = await ok('acme', `/api/v1/topics/fast/series?step=minute&from=${
    new Date(from).toISOString()}&to=${iso(to)}`);
  assert.equal(got.from, iso(from - (from % 60000)));
  assert.equal(got.points.length, 90);
  assert.deepEqual(got.points, expectSeries('acme', 'fast', from, to, 60000));

  const day = await ok('acme', '/api/v1/topics/love-all/series?step=day');
  assert.ok(day.points.length >= 30 && day.points.length <= 31);
  assert.deepEqual(day.points, expectSeries('acme', 'love-all',
    Date.parse(day.to) - 30 * DAY, Date.parse(day.to), DAY));

  // a topic without comments: all zeros, every bucket present
  const none = await ok('acme', '/api/v1/topics/nothing/series?step=minute');
  assert.deepEqual(none.points, expectSeries('acme', 'nothing',
    Date.parse(none.to) - HOUR, Date.parse(none.to), 60000));
  assert.ok(none.points.length >= 60);
  assert.ok(none.points.every((p) => p.n === 0 && p.compound === 0));
});

test('series: bad arguments are 400 naming the argument', async () => {
  const now = Math.floor(Date.now() / 1000);
  const base = '/api/v1/topics/rust/series';
  await bad('acme', `${base}?step=week`, 400, 'step');
  await bad('acme', `${base}?from=yesterday`, 400, 'from');
  await bad('acme', `${base}?to=2026-11-25T14:00:00`, 400, 'to');
  await bad('acme', `${base}?from=${now}&to=${now}`, 400, 'from');
  await bad('acme', `${base}?from=${now}&to=${now - 3600}`, 400, 'from');
  // 1,501 minutes, and a minute range reaching past 48 hours
  await bad('acme', `${base}?step=minute&from=${now - 1501 * 60}&to=${now}`,
    400, 'from');
  await bad('acme', `${base}?step=minute&from=${now - 49 * 3600}&to=${
    now - 48 * 3600}`, 400, 'from');
  await bad('acme', `${base}?step=hour&from=${now - 91 * 86400}&to=${
    now - 89 * 86400}`, 400, 'from');
  await bad('acme', `${base}?step=day&from=${now - 800 * 86400}&to=${
    now - 700 * 86400}`, 400, 'from');
  // exactly the limit is fine
  const ok1500 = await ok('acme', `${base}?step=minute&from=${
    (Math.floor(now / 60) - 1499) * 60}&to=${now}`);
  assert.equal(ok1500.points.length, 1500);
});

// every comment of a page-through, following next_cursor
async function pageThrough(tenant, topicId, { limit, sentiment } = {}) {
  const ids = [];
  const all = [];
  let cursor = null;
  for (let pages = 0; pages < 2000; pages++) {
    const q = new URLSearchParams();
    if (limit) q.set('limit', String(limit));
    if (sentiment) q.set('sentiment', sentiment);
    if (cursor) q.set('cursor', cursor);
    const page = await ok(tenant, `/api/v1/topics/${topicId}/comments?${q}`);
    assert.ok(page.comments.length <= (limit || 25));
    for (const c of page.comments) {
      ids.push(c.id);
      all.push(c);
    }
    cursor = page.next_cursor;
    if (cursor === null) return { ids, all };
    assert.ok(page.comments.length > 0 || cursor, 'a page moves on');
  }
  throw new Error('paging did not end');
}

const newestFirst = (list) => [...list].sort((a, b) => b.ms - a.ms ||
  (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));

test('comments: paging returns every matching comment once, newest first',
  async () => {
    for (const topic of TOPICS.acme) {
      const want = newestFirst(matching('acme', topic.id)).map((c) => c.id);
      const got = await pageThrough('acme', topic.id,
        { limit: topic.id === 'rust' ? 7 : 100 });
      assert.deepEqual(got.ids, want, topic.id);
    }
    // the default page size, and each comment as the record holds it
    const first = await ok('acme', '/api/v1/topics/rust/comments');
    assert.equal(first.comments.length, 25);
    assert.equal(typeof first.next_cursor, 'string');
    const byId = new Map(comments.map((c) => [c.id, c]));
    for (const got of first.comments) {
      const c = byId.get(got.id);
      const topics = TOPICS.acme.filter((t) => matches(t, c)).map((t) => t.id);
      assert.deepEqual({ ...got, topics: [...got.topics].sort() }, {
        id: c.id, created: iso(c.ms), subreddit: c.subreddit,
        author: c.author, body: c.body,
        permalink: `/r/${c.subreddit}/comments/p/x/${c.id}/`,
        link_title: 'A post', score: 1,
        sentiment: { label: c.score.label, compound: c.score.compound,
                     pos: c.score.pos, neg: c.score.neg, neu: c.score.neu },
        engine: 'vader', topics: topics.sort(),
      });
    }
  });

test('comments: the sentiment filter pages through one label', async () => {
  for (const label of LABELS) {
    const want = newestFirst(matching('acme', 'rust')
      .filter((c) => c.score.label === label)).map((c) => c.id);
    const got = await pageThrough('acme', 'rust', { limit: 30,
                                                   sentiment: label });
    assert.deepEqual(got.ids, want, label);
    assert.ok(got.all.every((c) => c.sentiment.label === label));
  }
});

test('comments: tombstones, missing and malformed records are skipped',
  async () => {
    const newest = newestFirst(matching('acme', 'fast')).map((c) => c.id);
    const byId = new Map(comments.map((c) => [c.id, c]));
    // the records' tenant parts, in their hour buckets
    const keys = await Promise.all(newest.slice(0, 3).map((id) =>
      tenantBucket(s.redis, 'acme', id, byId.get(id).ms)));
    const saved = await Promise.all(keys.map((k, i) => s.redis.cmd('HGET', k,
      newest[i])));
    try {
      // the tombstone; a part that makes no JSON (its cs is no number);
      // none
      await s.redis.cmd('HSET', keys[0], newest[0], GONE);
      await s.redis.cmd('HSET', keys[1], newest[1],
        ['fast', 'c', '0', 'p', 'oops, not json', '', '0', '0', '0'].join(SEP));
      await s.redis.cmd('HDEL', keys[2], newest[2]);
      const page = await ok('acme', '/api/v1/topics/fast/comments?limit=5');
      assert.deepEqual(page.comments.map((c) => c.id), newest.slice(3, 5));
      assert.equal(typeof page.next_cursor, 'string');
      const rest = await ok('acme', `/api/v1/topics/fast/comments?limit=5&${
        new URLSearchParams({ cursor: page.next_cursor })}`);
      assert.deepEqual(rest.comments.map((c) => c.id), newest.slice(5, 10));
      assert.match(s.nginx.errorLog(), /skipping comment record/);
    } finally {
      for (let i = 0; i < keys.length; i++) {
        await s.redis.cmd('HSET', keys[i], newest[i], saved[i]);
      }
    }
  });

test('comments: bad arguments and cursors are 400', async () => {
  const base = '/api/v1/topics/rust/comments';
  for (const l of ['0', '101', 'x', '-1', '5.5']) {
    await bad('acme', `${base}?limit=${l}`, 400, 'limit');
  }
  await bad('acme', `${base}?sentiment=happy`, 400, 'sentiment');
  const page = await ok('acme', `${base}?limit=3`);
  const c = page.next_cursor;
  const forged = [
    'not a cursor', '%00', `${c}=`, `${c}*`, `${c}.`, c.slice(1),
    Buffer.from('12:0:abc').toString('base64url') + '!',
    Buffer.from('1732543261000:0:ABC').toString('base64url'),
    Buffer.from('01:0:abc').toString('base64url'),
    Buffer.from('1:0:abc:x').toString('base64url'),
    Buffer.from('-5:0:abc').toString('base64url'),
    'x'.repeat(300),
  ];
  for (const f of forged) {
    await bad('acme', `${base}?${new URLSearchParams({ cursor: f })}`, 400,
      'cursor');
  }
  // the genuine one still works
  const next = await ok('acme', `${base}?limit=3&${
    new URLSearchParams({ cursor: c })}`);
  assert.equal(next.comments.length, 3);
});

function expectTerms(tenant, topicId, hours, limit, now) {
  const t = truth(TOPICS[tenant], comments, STOP).terms;
  const h0 = Math.floor(now / HOUR) * HOUR;
  const cur = {};
  const prev = {};
  for (let i = 0; i < hours; i++) {
    for (const [o, back] of [[cur, 0], [prev, DAY]]) {
      const k = `terms:${topicId}:${hourKey(h0 - i * HOUR - back)}`;
      for (const [term, n] of Object.entries(t[k] || {})) {
        o[term] = (o[term] || 0) + n;
      }
    }
  }
  return Object.entries(cur).filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([term, count]) => {
      const previous = prev[term] || 0;
      return { term, count, previous,
               change: round4((count - previous) * 10000,
                 Math.max(previous, 1)) };
    });
}

test('terms: counts over the window against the day before', async () => {
  for (const topic of ['rust', 'fast', 'love-all']) {
    for (const [hours, limit] of [[24, 100], [3, 5], [1, 20]]) {
      await stable(HOUR, async (now) => {
        const got = await ok('acme', `/api/v1/topics/${topic}/terms?hours=${
          hours}&limit=${limit}`);
        assert.equal(got.topic, topic);
        assert.equal(got.hours, hours);
        assert.deepEqual(got.terms, expectTerms('acme', topic, hours, limit,
          now), `${topic} ${hours}h`);
      });
    }
  }
  const rust = await stable(HOUR, async (now) => {
    const got = await ok('acme', '/api/v1/topics/rust/terms');
    assert.deepEqual(got.terms, expectTerms('acme', 'rust', 24, 20, now));
    return got;
  });
  assert.equal(rust.terms.length, 20, 'the default limit');
  assert.ok(rust.terms.some((t) => t.previous > 0), 'the day before counts');
  for (const stop of STOP) {
    assert.ok(!rust.terms.some((t) => t.term === stop), `${stop} never trends`);
  }
  const none = await ok('acme', '/api/v1/topics/nothing/terms');
  assert.deepEqual(none.terms, []);

  for (const q of ['hours=0', 'hours=25', 'hours=x']) {
    await bad('acme', `/api/v1/topics/rust/terms?${q}`, 400, 'hours');
  }
  for (const q of ['limit=0', 'limit=101']) {
    await bad('acme', `/api/v1/topics/rust/terms?${q}`, 400, 'limit');
  }
});

function expectSov(tenant, fromDay, toDay) {
  const t = truth(TOPICS[tenant], comments, STOP).sov;
  const counts = Object.fromEntries(TOPICS[tenant].map((x) => [x.id, 0]));
  for (let d = fromDay; d <= toDay; d++) {
    const k = `sov:${dayStr(d).replace(/-/g, '')}`;
    for (const [id, n] of Object.entries(t[k] || {})) {
      if (id in counts) counts[id] += n;
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    from: dayStr(fromDay), to: dayStr(toDay), total,
    topics: [...TOPICS[tenant]].sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((x) => ({ id: x.id, name: x.name, count: counts[x.id],
                     share: total ? Math.round(counts[x.id] * 10000 / total)
                       / 10000 : 0 })),
  };
}

test('share of voice: whole days, every topic, shares of the total',
  async () => {
    // a topic deleted since still has counts in the day hash: not shown
    const todayKey = `es:{t:acme}:sov:${dayStr(Math.floor(Date.now() / DAY))
      .replace(/-/g, '')}`;
    await s.redis.cmd('HINCRBY', todayKey, 'ghost', 40);

    await stable(DAY, async (now) => {
      const today = Math.floor(now / DAY);
      const got = await ok('acme', '/api/v1/share-of-voice');
      assert.deepEqual(got, expectSov('acme', today - 6, today));
      assert.ok(got.total > 0);
      assert.equal(got.topics.find((x) => x.id === 'nothing').count, 0);

      const one = await ok('acme', `/api/v1/share-of-voice?from=${
        dayStr(today - 1)}&to=${dayStr(today - 1)}`);
      assert.deepEqual(one, expectSov('acme', today - 1, today - 1));

      const epoch = await ok('acme', `/api/v1/share-of-voice?from=${
        (today - 2) * 86400 + 5000}&to=${new Date(now).toISOString()}`);
      assert.deepEqual(epoch, expectSov('acme', today - 2, today));

      const beta = await ok('beta', '/api/v1/share-of-voice');
      assert.deepEqual(beta, expectSov('beta', today - 6, today));
    });

    const base = '/api/v1/share-of-voice';
    await bad('acme', `${base}?from=2026-11-20&to=2026-11-19`, 400, 'from');
    await bad('acme', `${base}?from=2025-01-01&to=2026-01-02`, 400, 'from');
    await bad('acme', `${base}?from=last-week`, 400, 'from');
    await bad('acme', `${base}?to=tomorrow`, 400, 'to');
    const max = await ok('acme', `${base}?from=2025-01-01&to=2026-01-01`);
    assert.equal(max.from, '2025-01-01');
  });

test('usage: this month\'s comments, Comprehend units, cost and budget',
  async () => {
    const month = new Date().toISOString().slice(0, 7);
    for (const tenant of ['acme', 'beta']) {
      const got = await ok(tenant, '/api/v1/usage');
      assert.deepEqual(got, {
        month, comments: truth(TOPICS[tenant], comments, STOP).usage,
        comprehend_units: 0, comprehend_usd: 0, budget_usd: null,
        engine: 'vader', bedrock_input_tokens: 0, bedrock_output_tokens: 0,
        bedrock_usd: 0, bedrock_budget_usd: 1, summaries: 0,
      });
      assert.ok(got.comments > 0);
    }

    const key = `es:{t:beta}:usage:${month.replace('-', '')}`;
    await s.redis.cmd('HSET', key, 'comprehend_units', '4120',
      'comprehend_usd_micros', '412345');
    await s.redis.cmd('HSET', 'es:{t:beta}:meta', 'engine', 'comprehend',
      'comprehend_budget_usd', '25.5');
    const got = await ok('beta', '/api/v1/usage');
    assert.equal(got.comprehend_units, 4120);
    assert.equal(got.comprehend_usd, 0.412345);
    assert.equal(got.budget_usd, 25.5);
    assert.equal(got.engine, 'comprehend');
    // the other tenant's answer is unchanged
    const acme = await ok('acme', '/api/v1/usage');
    assert.equal(acme.comprehend_units, 0);
    assert.equal(acme.engine, 'vader');
  });

test('tenants see only their own topics and data', async () => {
  for (const path of ['series', 'comments', 'terms']) {
    await bad('beta', `/api/v1/topics/rust/${path}`, 404);
    await bad('acme', `/api/v1/topics/go/${path}`, 404);
    await bad('acme', `/api/v1/topics/no-such-topic/${path}`, 404);
  }
  const go = await pageThrough('beta', 'go', { limit: 100 });
  assert.deepEqual(go.ids, newestFirst(matching('beta', 'go')).map((c) => c.id));
  const now = Date.now();
  const f = Math.floor((now - 28 * HOUR) / 1000);
  const t = Math.floor(now / 1000);
  const series = await ok('beta', `/api/v1/topics/go/series?from=${f}&to=${t}`);
  assert.deepEqual(series.points, expectSeries('beta', 'go', f * 1000,
    t * 1000, HOUR));
  assert.doesNotMatch(s.nginx.errorLog(), /exited on signal|\[alert\]/);
});

test('comments: many comments of one millisecond page exactly, also while '
  + 'the set changes', async () => {
  const S = Date.now() - 1000;
  const rec = (id, ms) => ({
    id, topics: ['ties'], label: 'neutral', compound: 0, neg: 0, neu: 1,
    pos: 0, engine: 'vader', created: ms, subreddit: 'rust', author: 'a',
    body: 'b', permalink: '/r/rust/x', link_title: '', score: '3' });
  const ids = [];
  for (let i = 0; i < 30; i++) ids.push(`t${(100 + i * 2).toString(36)}`);
  const older = ['o1', 'o2', 'o3'];
  await s.redis.cmd('HSET', 'es:{t:acme}:topics', 'ties', JSON.stringify(
    { id: 'ties', name: 'Ties', subreddits: ['rust'], query: '' }));
  try {
    for (const id of ids) await writeRecord(s.redis, 'acme', rec(id, S));
    for (const [i, id] of older.entries()) {
      await writeRecord(s.redis, 'acme', rec(id, S - 10 - i));
    }
    const want = [...ids].sort().reverse().concat(older);
    for (const limit of [1, 4, 29, 30, 31, 100]) {
      const got = await pageThrough('acme', 'ties', { limit });
      assert.deepEqual(got.ids, want, `limit ${limit}`);
    }

    // after the first page, one shown member leaves and two arrive at the
    // same millisecond: one ahead of the cursor (never shown), one behind
    const first = await ok('acme', '/api/v1/topics/ties/comments?limit=4');
    const shown = first.comments.map((c) => c.id);
    assert.deepEqual(shown, want.slice(0, 4));
    const ahead = `${shown[3]}z`;
    const behind = `${want[6]}0`;
    for (const id of [ahead, behind]) await writeRecord(s.redis, 'acme', rec(id, S));
    await dropRecent(s.redis, 'acme', ['ties'], shown[1], S);
    let cursor = first.next_cursor;
    const rest = [];
    while (cursor) {
      const page = await ok('acme', `/api/v1/topics/ties/comments?limit=4&${
        new URLSearchParams({ cursor })}`);
      rest.push(...page.comments.map((c) => c.id));
      cursor = page.next_cursor;
    }
    const after = [...ids, behind].filter((id) => id < shown[3]).sort()
      .reverse().concat(older);
    assert.ok(after.includes(behind) && !after.includes(ahead));
    assert.deepEqual(rest, after);
  } finally {
    await s.redis.cmd('HDEL', 'es:{t:acme}:topics', 'ties');
  }
});
