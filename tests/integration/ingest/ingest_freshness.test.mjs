// ingest_freshness.test.mjs - the freshness guarantee, end to end: with 60
// watched subreddits (two busy, two lively, 56 quiet), a new comment is in
// the API within 30 s at the 95th percentile, and Reddit's budget of 100
// requests a minute is never exceeded.
//
// Everything is real and runs in real time at the real budget: the Reddit
// test server (tests/reddit/server.mjs) with Reddit's rate window (1,000
// requests per 600 s), echostream-ingest polling it with reddit.qpm 100 and
// the default intervals, echostream-enrich, and nginx with the module
// serving the API. The tenant's topics are created through the API (which
// is what puts the 60 subreddits on the watch list) with a query that
// matches only the comments the test injects, so the API's newest comments
// of a topic are exactly those. Busy subreddits get a steady stream of
// other comments all along (20 a second: more than a page between two
// polls at the start-up, so they are paged, and their pages alone take a
// quarter of the budget).
//
// Once every subreddit has been polled a first time (the start-up of 60
// new subreddits, each read alone once), comments are injected at random
// times into random subreddits, most of them quiet ones, for about 90 s.
// Each one's delay runs from its creation on the test server to the first
// moment GET /api/v1/topics/{id}/comments lists it (polled every 200 ms).
// The server's log has every request, token requests included; the most any
// 60 s span held is the figure checked against the budget, over the whole
// run, start-up burst included. Every comment of the busy subreddits since
// their first poll must be in the stream exactly once.
//
// A functional guarantee with the numbers, not a benchmark: the
// figures are printed as diagnostics. ES_FRESHNESS_WAIT_MS (default 45000)
// is how long the test waits after the last injection for stragglers; a
// larger value lets an older build finish, for a before/after figure.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { signToken, startApiStack } from '../../lib/api.mjs';
import { bin, sleep, startProc, tmpDir, waitFor } from '../../lib/harness.mjs';
import { enrichEnv, startEnrich } from '../../lib/enrich.mjs';
import { startRedditServer } from '../../reddit/server.mjs';

const BUDGET = 100; // reddit.qpm, and Reddit's 1,000 per 600 s
const INJECT_MS = 90000;
const WAIT_MS = Number(process.env.ES_FRESHNESS_WAIT_MS || 45000);
const P95_LIMIT_S = 30;
const MARK = 'freshprobe';

let s;
let srv;
const procs = [];
const timers = [];

before(async () => {
  s = await startApiStack();
  srv = await startRedditServer({ rateLimit: 1000, rateWindow: 600 });
});

after(async () => {
  for (const t of timers) clearInterval(t);
  for (const p of procs) p.kill('SIGKILL');
  await srv?.close();
  await s?.stop();
});

// a deterministic PRNG, so a failing run can be repeated (ES_TEST_SEED)
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quantile = (sorted, q) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

test('60 subreddits: p95 of a new comment in the API <= 30 s, budget kept',
     { timeout: 200000 + WAIT_MS }, async (t) => {
  const rnd = prng(Number(process.env.ES_TEST_SEED || 13));
  const tag = randomBytes(3).toString('hex');
  const busy = [0, 1].map((i) => `busy${i}${tag}`);
  const lively = [0, 1].map((i) => `lively${i}${tag}`);
  const quiet = Array.from({ length: 56 }, (_, i) => `quiet${i}${tag}`);
  const all = [...busy, ...lively, ...quiet];
  const rates = Object.fromEntries([...busy.map((x) => [x, 20]),
                                    ...lively.map((x) => [x, 2])]);

  // history: quiet ones had a comment an hour and half an hour ago, the
  // others a minute of their usual traffic
  const now = Date.now() / 1000;
  for (const q of quiet) {
    srv.addComments(q, 1, { created: now - 3600 });
    srv.addComments(q, 1, { created: now - 1800 });
  }
  for (const [sub, r] of Object.entries(rates)) {
    for (let i = 0; i < 60 * r; i++) {
      srv.addComments(sub, 1, { created: now - 60 + i / r });
    }
  }

  // the tenant watches them all through three topics of 20
  const token = signToken(s.cognito.idClaims({ sub: `fresh-${tag}` }));
  const me = await s.api('GET', '/api/v1/me', { token });
  assert.equal(me.status, 200, me.text);
  const topics = [];
  for (let k = 0; k < 3; k++) {
    const r = await s.api('POST', '/api/v1/topics', { token, body: {
      name: `Fresh ${k}`, subreddits: all.slice(k * 20, k * 20 + 20),
      query: MARK } });
    assert.equal(r.status, 201, r.text);
    topics.push(r.json.id);
  }

  // steady traffic on the busy and lively ones from now on
  timers.push(setInterval(() => {
    for (const [sub, r] of Object.entries(rates)) {
      const n = Math.floor(r / 10 + rnd());
      if (n > 0) srv.addComments(sub, n);
    }
  }, 100));

  const lake = await tmpDir('es-lake-');
  procs.push(startEnrich(enrichEnv(s.redis, lake, {
    ECHOSTREAM_LOG_LEVEL: 'warn' })));
  const ingest = startProc(bin('ingest'), [], { name: 'ingest', env: {
    ECHOSTREAM_REDIS: s.redis.url,
    ECHOSTREAM_REDDIT_API_URL: srv.url,
    ECHOSTREAM_REDDIT_TOKEN_URL: srv.tokenUrl,
    ECHOSTREAM_REDDIT_CLIENT_ID: srv.clientId,
    ECHOSTREAM_REDDIT_CLIENT_SECRET: srv.clientSecret,
    ECHOSTREAM_REDDIT_QPM: String(BUDGET),
    // the stream is read back at the end: nothing trimmed meanwhile
    ECHOSTREAM_STREAM_TRIM_INTERVAL: '86400',
    ECHOSTREAM_LOG_LEVEL: 'info',
  } });
  procs.push(ingest);
  const t0 = Date.now();

  // start-up: every subreddit polled once (a cursor in Redis)
  await waitFor(async () => {
    let n = 0;
    for (const sub of all) {
      n += await s.redis.cmd('EXISTS', `es:{ingest}:cursor:${sub}`);
    }
    return n === all.length;
  }, { timeout: 90000, interval: 500, what: 'every subreddit polled once' });
  const warm = Date.now() - t0;

  // arrivals: the topics' newest comments, every 200 ms
  const seen = new Map(); // id -> first time listed (ms)
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const id of topics) {
        const r = await s.api('GET', `/api/v1/topics/${id}/comments?limit=100`,
                              { token, validate: false });
        if (r.status !== 200) continue;
        const at = Date.now();
        for (const c of r.json.comments) if (!seen.has(c.id)) seen.set(c.id, at);
      }
      await sleep(200);
    }
  })();

  // injections: about one a second, 80 % into quiet subreddits
  const plan = [];
  for (let at = 500; at < INJECT_MS; at += 400 + Math.floor(rnd() * 1200)) {
    const x = rnd();
    const sub = x < 0.8 ? quiet[Math.floor(rnd() * quiet.length)]
      : x < 0.9 ? lively[Math.floor(rnd() * lively.length)]
        : busy[Math.floor(rnd() * busy.length)];
    plan.push({ at, sub, fields: { body: `${MARK} ${plan.length} in ${sub}` } });
  }
  const injected = await srv.schedule(plan);
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline && !injected.every((c) => seen.has(c.id))) {
    await sleep(250);
  }
  watching = false;
  await watcher;

  const delays = injected.map((c) => (seen.has(c.id)
    ? (seen.get(c.id) - c.created) / 1000 : Infinity)).sort((a, b) => a - b);
  const quietDelays = injected.filter((c) => quiet.includes(c.sub))
    .map((c) => (seen.has(c.id) ? (seen.get(c.id) - c.created) / 1000 : Infinity))
    .sort((a, b) => a - b);
  const win = srv.maxInWindow(60000);
  const tokens = srv.log.filter((e) => e.kind === 'token').length;
  const statusCounts = {};
  for (const e of srv.log) statusCounts[e.status] = (statusCounts[e.status] || 0) + 1;
  const runMin = (Date.now() - t0) / 60000;
  const budget = await s.redis.cmd('HGETALL', 'es:{ingest}:budget');
  t.diagnostic(`start-up (every subreddit polled once): ${(warm / 1000).toFixed(1)} s`);
  t.diagnostic(`${injected.length} comments: median ${quantile(delays, 0.5).toFixed(1)} s, ` +
               `p95 ${quantile(delays, 0.95).toFixed(1)} s, max ${delays.at(-1).toFixed(1)} s; ` +
               `quiet subreddits p95 ${quantile(quietDelays, 0.95).toFixed(1)} s`);
  t.diagnostic(`requests: ${srv.log.length} (${tokens} token) in ${runMin.toFixed(1)} min, ` +
               `at most ${win.max} in any 60 s; statuses ${JSON.stringify(statusCounts)}`);
  t.diagnostic(`ingest budget: ${JSON.stringify(budget)}`);

  const missing = injected.filter((c) => !seen.has(c.id));
  assert.ok(missing.length <= injected.length * 0.05,
            `${missing.length} of ${injected.length} never arrived`);
  assert.ok(quantile(delays, 0.95) <= P95_LIMIT_S,
            `p95 ${quantile(delays, 0.95)} s > ${P95_LIMIT_S} s`);
  assert.ok(win.max <= BUDGET, `${win.max} requests in one minute`);
  assert.equal(statusCounts['429'] ?? 0, 0, 'Reddit said 429');
  // busy subreddits gathered more than a page between polls (so they were
  // paged) and still every comment went into the stream once
  assert.ok(srv.log.some((e) => e.kind === 'comments' && e.items === 100 &&
                                e.sub.split('+').some((x) => busy.includes(x))),
            'a busy subreddit never filled a page');
  const entries = await s.redis.cmd('XRANGE', 'es:{ingest}:comments', '-', '+');
  for (const sub of busy) {
    // every comment of a busy subreddit since its first poll (which takes
    // the newest page only: no history) went into the stream, none twice
    const got = new Set();
    for (const [, kv] of entries) {
      const o = {};
      for (let i = 0; i < kv.length; i += 2) o[kv[i]] = kv[i + 1];
      if (o.subreddit === sub && o.type === 'comment') {
        assert.ok(!got.has(o.id), `${o.id} streamed twice`);
        got.add(o.id);
      }
    }
    const first = Math.min(...[...got].map((id) => parseInt(id, 36)));
    const want = srv.ids(sub).filter((id) => parseInt(id, 36) >= first);
    // all but those posted since its last poll
    const lagging = want.filter((id) => !got.has(id));
    assert.ok(want.length > 2000, `${sub}: ${want.length} comments`);
    assert.ok(lagging.length <= rates[sub] * 20,
              `${sub}: ${lagging.length} of ${want.length} comments never streamed`);
  }
  for (const p of procs) p.kill('SIGTERM');
  for (const p of procs) {
    const r = await p.exited;
    assert.equal(r.code, 0, p.output().slice(-3000));
  }
});
