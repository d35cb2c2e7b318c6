// ingest_poll.test.mjs - the Reddit poller of echostream-ingest, black-box:
// the real worker binary against a real Redis and the Reddit test server
// (tests/reddit/server.mjs), which speaks Reddit's API shapes and can
// misbehave on request. Every test checks what reached the stream (ids
// compared as multisets), the server's request log, or the worker's exit
// status and log lines; none depends on timing beyond generous waits.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { startRedis, startProc, bin, waitFor, sleep } from '../../lib/harness.mjs';
import { startRedditServer } from '../../reddit/server.mjs';

const STREAM = 'es:{ingest}:comments';
const SECRET = `sec-${crypto.randomBytes(9).toString('hex')}`;
const CLIENT = `cid-${crypto.randomBytes(4).toString('hex')}`;

let redis;
let srv;
const outputs = []; // every worker's log, checked for secrets at the end

before(async () => {
  redis = await startRedis();
  srv = await startRedditServer({ clientId: CLIENT, clientSecret: SECRET });
});

after(async () => {
  // a failed test may leave its worker running: it would keep node alive
  for (const p of outputs) p.kill('SIGKILL');
  await srv?.close();
  await redis?.close();
});

function env(extra = {}) {
  return {
    ECHOSTREAM_REDIS: redis.url,
    ECHOSTREAM_REDDIT_API_URL: srv.url,
    ECHOSTREAM_REDDIT_TOKEN_URL: srv.tokenUrl,
    ECHOSTREAM_REDDIT_CLIENT_ID: CLIENT,
    ECHOSTREAM_REDDIT_CLIENT_SECRET: SECRET,
    ECHOSTREAM_REDDIT_QPM: '100000',
    ECHOSTREAM_REDDIT_TIMEOUT: '3',
    ECHOSTREAM_REDDIT_MAX_BODY: '1048576',
    ECHOSTREAM_INGEST_MIN_INTERVAL: '0.1',
    ECHOSTREAM_INGEST_MAX_INTERVAL: '0.4',
    ECHOSTREAM_INGEST_WATCH_REFRESH: '0.2',
    ECHOSTREAM_INGEST_PROBE_EVERY: '10',
    // a killed worker's polling lease runs out soon (docs/ingest.md)
    ECHOSTREAM_INGEST_LEASE: '0.5',
    ECHOSTREAM_WORKER_HEARTBEAT: '0.2',
    ECHOSTREAM_LOG_LEVEL: 'info',
    ...extra,
  };
}

function worker(extra = {}, args = []) {
  const p = startProc(bin('ingest'), args, { env: env(extra), name: 'ingest' });
  outputs.push(p);
  return p;
}

async function stop(p) {
  p.kill('SIGTERM');
  const r = await p.exited;
  assert.deepEqual(r, { code: 0, signal: null }, p.output());
}

async function watch(subs) {
  await redis.cmd('DEL', 'es:{watch}:subs');
  for (const [s, n] of Object.entries(subs)) {
    await redis.cmd('HSET', 'es:{watch}:subs', s, String(n));
  }
  await redis.cmd('INCR', 'es:{watch}:version');
}

async function entries(sub) {
  const all = await redis.cmd('XRANGE', STREAM, '-', '+');
  const out = [];
  for (const [, kv] of all) {
    const o = {};
    for (let i = 0; i < kv.length; i += 2) o[kv[i]] = kv[i + 1];
    if (o.subreddit === sub) out.push(o);
  }
  return out;
}

async function commentIds(sub) {
  return (await entries(sub)).filter((e) => e.type === 'comment')
    .map((e) => e.id);
}

// Waits until every id is in the stream, then checks each exactly once.
async function expectExactlyOnce(sub, ids, what, timeout = 15000) {
  const want = new Set(ids);
  await waitFor(async () => {
    const got = new Set(await commentIds(sub));
    return [...want].every((id) => got.has(id));
  }, { timeout, what });
  const got = await commentIds(sub);
  const counts = new Map();
  for (const id of got) counts.set(id, (counts.get(id) || 0) + 1);
  const dup = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(dup, [], `duplicates in ${sub}`);
  assert.deepEqual([...got].sort(), [...new Set([...got, ...ids])].sort());
  return got;
}

const requests = (sub) => srv.log.filter((e) => e.kind === 'comments' &&
                                                 e.sub === sub);

test('--help exits 0 and lists the configuration keys', async () => {
  const p = startProc(bin('ingest'), ['--help'], { env: env() });
  const r = await p.exited;
  assert.equal(r.code, 0);
  for (const k of ['reddit.client_id', 'reddit.qpm', 'reddit.user_agent',
                   'ingest.min_interval', 'ingest.max_interval',
                   'ingest.probe_every', 'ECHOSTREAM_REDDIT_CLIENT_SECRET',
                   '--backfill', '--synthetic', '--once']) {
    assert.ok(p.stdout().includes(k), `--help lacks ${k}`);
  }
  assert.ok(!p.output().includes(SECRET), 'secret printed by --help');
});

test('bad configuration exits 2 with a message', async () => {
  for (const bad of [{ ECHOSTREAM_INGEST_MIN_INTERVAL: 'soon' },
                     { ECHOSTREAM_INGEST_MIN_INTERVAL: '5',
                       ECHOSTREAM_INGEST_MAX_INTERVAL: '1' },
                     { ECHOSTREAM_REDDIT_API_URL: 'ftp://x' },
                     { ECHOSTREAM_REDIS: 'nonsense://' }]) {
    const p = worker(bad);
    const r = await p.exited;
    assert.equal(r.code, 2, JSON.stringify(bad));
    assert.match(p.stderr(), /\S/);
  }
});

test('--once polls each distinct subreddit once, however many watch it',
     async () => {
  srv.addComments('OnceA', 30);
  srv.addComments('onceb', 5);
  await watch({ oncea: 2, onceb: 1 }); // oncea: two tenants' topics
  srv.clearLog();
  const p = worker({}, ['--once']);
  const r = await p.exited;
  assert.equal(r.code, 0, p.output());
  assert.equal(requests('oncea').length, 1);
  assert.equal(requests('onceb').length, 1);
  const first = requests('oncea')[0];
  assert.equal(first.query.limit, '100');
  assert.equal(first.query.raw_json, '1');
  assert.equal(first.query.before, undefined, 'first poll has no cursor');
  assert.equal(first.authScheme, 'bearer');
  assert.match(first.ua, /^[^:\s]+:[^:\s]+:[^:\s]+ \(by \/u\/[\w-]+\)$/);
  await expectExactlyOnce('oncea', srv.ids('oncea'), 'oncea comments');
  await expectExactlyOnce('onceb', srv.ids('onceb'), 'onceb comments');
  const cur = await redis.cmd('HGET', 'es:{ingest}:cursor:oncea', 'before');
  assert.equal(cur, `t1_${srv.ids('oncea').at(-1)}`);
});

test('pages through bursts and survives kill -9 mid-poll exactly once',
     async () => {
  const sub = 'pagesub';
  srv.addComments(sub, 40);
  await watch({ [sub]: 2 });
  let p = worker();
  await expectExactlyOnce(sub, srv.ids(sub), 'initial page');
  srv.addComments(sub, 350); // more than three pages between two polls
  await expectExactlyOnce(sub, srv.ids(sub), '350 comments through paging');
  const paged = requests(sub).filter((e) => e.query.before);
  assert.ok(paged.length >= 4, 'followed the pages with before=');
  for (let round = 0; round < 3; round++) {
    srv.addComments(sub, 130);
    srv.fault('slow', 1, { ms: 300 });
    await sleep(50 + round * 120);
    p.kill('SIGKILL');
    await p.exited;
    srv.addComments(sub, 20);
    // the next worker polls once the killed one's lease ran out, so each
    // round kills a poller, not one standing by
    await waitFor(async () => await redis.cmd('EXISTS', 'es:{ingest}:poller') === 0,
      { timeout: 5000, what: 'the killed poller\'s lease gone' });
    p = worker();
    await p.waitForOutput(/poller lease taken/);
  }
  await expectExactlyOnce(sub, srv.ids(sub), 'everything after kill -9s');
  await stop(p);
});

test('error storms are logged and skipped; nothing lost, no crash',
     async () => {
  const sub = 'stormsub';
  srv.addComments(sub, 10);
  await watch({ [sub]: 1 });
  const p = worker({ ECHOSTREAM_REDDIT_TIMEOUT: '1' });
  await expectExactlyOnce(sub, srv.ids(sub), 'storm baseline');
  const kinds = ['429', '429-bare', '500', '503', 'truncated', 'malformed',
                 'huge', 'badutf8', 'wrongkind', 'hang', '500', '429-bare'];
  for (const k of kinds) {
    srv.addComments(sub, 7);
    srv.fault(k, 1, { retryAfter: 1, bytes: 2 * 1024 * 1024 });
    await waitFor(() => srv.pendingFaults() === 0, { timeout: 15000,
      what: `fault ${k} consumed` });
  }
  srv.addComments(sub, 5);
  const got = await expectExactlyOnce(sub, srv.ids(sub), 'after the storm',
                                      30000);
  assert.equal(got.length, srv.ids(sub).length);
  const out = p.output();
  assert.match(out, /bad listing skipped/);
  assert.match(out, /HTTP 429/);
  assert.match(out, /HTTP 50[03]/);
  assert.match(out, /larger than/);
  assert.match(out, /invalid UTF-8 in listing replaced/);
  assert.match(out, /transport: Timeout/i);
  // the comment with broken bytes arrived, repaired
  const bodies = (await entries(sub)).map((e) => e.body).join('\n');
  assert.ok(bodies.includes('\ufffd'));
  await stop(p);
});

test('tokens are renewed before expiry and after a 401', async () => {
  const sub = 'tokensub';
  srv.configure({ expiresIn: 2 });
  srv.clearLog();
  srv.addComments(sub, 3);
  await watch({ [sub]: 1 });
  const p = worker();
  await expectExactlyOnce(sub, srv.ids(sub), 'token baseline');
  await waitFor(() => srv.issuedTokens().length >= 3, { timeout: 10000,
    what: 'token renewals' });
  srv.revokeTokens();
  srv.addComments(sub, 4);
  await expectExactlyOnce(sub, srv.ids(sub), 'after revocation');
  assert.ok(srv.log.some((e) => e.status === 401), 'a 401 was served');
  const tokenReqs = srv.log.filter((e) => e.kind === 'token');
  assert.ok(tokenReqs.every((e) => e.basic), 'token requests use Basic');
  srv.configure({ expiresIn: 86400 });
  await stop(p);
});

test('watchlist changes apply without restart; gone subs are skipped',
     async () => {
  await watch({ watcha: 1 });
  srv.addComments('watcha', 3);
  srv.configure({ forbidden: 'secretsub' });
  const p = worker();
  await expectExactlyOnce('watcha', srv.ids('watcha'), 'watcha');
  srv.addComments('watchb', 6);
  await watch({ watcha: 1, watchb: 3, secretsub: 1 });
  await expectExactlyOnce('watchb', srv.ids('watchb'), 'watchb after change');
  await p.waitForOutput(/subreddit private, banned or missing.*secretsub/);
  await watch({ watchb: 1 });
  await p.waitForOutput(/subreddit no longer watched.*watcha/);
  const n = requests('watcha').length;
  await sleep(800);
  assert.equal(requests('watcha').length, n, 'unwatched sub still polled');
  await stop(p);
});

test('deleted comments become one delete event each', async () => {
  const sub = 'delsub';
  const ids = srv.addComments(sub, 12);
  await watch({ [sub]: 1 });
  const p = worker({ ECHOSTREAM_INGEST_PROBE_EVERY: '2' });
  await expectExactlyOnce(sub, ids, 'delsub comments');
  srv.deleteComment(ids[3], 'deleted');
  srv.deleteComment(ids[7], 'removed');
  const dels = async () =>
    (await entries(sub)).filter((e) => e.type === 'delete');
  await waitFor(async () => (await dels()).length >= 2, { timeout: 10000,
    what: 'delete events' });
  // later probes re-read the same deleted comments: no new events
  const n = requests(sub).length;
  await waitFor(() => requests(sub).length >= n + 6, { timeout: 10000,
    what: 'more polls' });
  const d = await dels();
  assert.deepEqual(d.map((e) => e.id).sort(), [ids[3], ids[7]].sort());
  // a deletion keeps the comment's creation time (enrich finds the record
  // by its hour), the same text as the comment's own entry
  const created = new Map((await entries(sub))
    .filter((e) => e.type === 'comment').map((e) => [e.id, e.created_utc]));
  for (const e of d) {
    assert.match(e.created_utc ?? '', /^[1-9][0-9]*\.[0-9]{3}$/, e.id);
    assert.equal(e.created_utc, created.get(e.id), e.id);
    assert.deepEqual(Object.keys(e).sort(),
      ['created_utc', 'id', 'source', 'subreddit', 'type']);
  }
  await stop(p);
});

test('a vanished cursor comment is recovered by a probe', async () => {
  const sub = 'vanishsub';
  srv.addComments(sub, 5);
  await watch({ [sub]: 1 });
  const p = worker({ ECHOSTREAM_INGEST_PROBE_EVERY: '0' });
  // a steady trickle gives the worker a real rate estimate
  let running = true;
  const feeder = (async () => {
    while (running) { srv.addComments(sub, 3); await sleep(100); }
  })();
  await waitFor(async () => (await commentIds(sub)).length >= 40,
                { timeout: 10000, what: 'trickle streamed' });
  const cur = await redis.cmd('HGET', `es:{ingest}:cursor:${sub}`, 'before');
  srv.vanishComment(cur);
  await sleep(300);
  running = false;
  await feeder;
  const want = srv.ids(sub);
  await expectExactlyOnce(sub, want, 'comments after the cursor vanished');
  await stop(p);
});

test('pacing stays within reddit.qpm and the X-Ratelimit window', async () => {
  const sub = 'pacesub';
  srv.addComments(sub, 3);
  await watch({ [sub]: 1 });
  srv.configure({ rateLimit: 6, rateWindow: 2 });
  srv.clearLog();
  const t0 = Date.now();
  const p = worker({ ECHOSTREAM_REDDIT_QPM: '120',
                     ECHOSTREAM_INGEST_MIN_INTERVAL: '0.05' });
  await sleep(3000);
  await stop(p);
  const secs = (Date.now() - t0) / 1000;
  const reqs = requests(sub);
  // burst (qpm/10) + the steady refill: never more
  assert.ok(reqs.length <= 12 + secs * 2 + 1, `${reqs.length} requests`);
  // remaining <= 1 made it wait for the reset instead of overrunning
  assert.ok(!reqs.some((e) => e.status === 429), 'overran the rate window');
  assert.ok(reqs.length >= 2);
  srv.configure({ rateLimit: 100000, rateWindow: 600 });
});

test('token requests count against reddit.qpm', async () => {
  const sub = 'tokenpace';
  srv.addComments(sub, 3);
  await watch({ [sub]: 1 });
  srv.configure({ expiresIn: 1 }); // a renewal about every 0.8 s
  srv.clearLog();
  const t0 = Date.now();
  const p = worker({ ECHOSTREAM_REDDIT_QPM: '60',
                     ECHOSTREAM_INGEST_MIN_INTERVAL: '0.05' });
  await sleep(4000);
  await stop(p);
  srv.configure({ expiresIn: 86400 });
  const secs = (Date.now() - t0) / 1000;
  const tokens = srv.log.filter((e) => e.kind === 'token').length;
  assert.ok(tokens >= 2, `renewed: ${tokens} token requests`);
  // the burst (qpm/10) and one a second, token requests included
  assert.ok(srv.log.length <= 6 + secs + 1,
            `${srv.log.length} requests (${tokens} for tokens) in ${secs} s`);
});

test('quiet subreddits share one listing; a refused member is found alone',
     async () => {
  const tag = crypto.randomBytes(3).toString('hex');
  const subs = ['a', 'b', 'c', 'd', 'e'].map((x) => `quiet${x}${tag}`);
  for (const q of subs) srv.addComments(q, 1);
  await watch(Object.fromEntries(subs.map((q) => [q, 1])));
  srv.clearLog();
  const p = worker({ ECHOSTREAM_INGEST_MIN_INTERVAL: '0.2' });
  const shared = () => srv.log.filter((e) => e.kind === 'comments' &&
    e.sub.includes('+') && subs.every((q) => e.sub.split('+').includes(q)));
  // each is polled alone first, then, its rate known, with the others
  await waitFor(() => shared().length >= 2, { timeout: 15000,
    what: 'one listing for the five quiet subreddits' });
  assert.ok(shared().every((e) => e.query.before === undefined),
            'a shared listing is read newest first');
  // comments one by one into one or another: each arrives exactly once
  for (let i = 0; i < 15; i++) {
    srv.addComments(subs[i % subs.length], 1 + (i % 3));
    await sleep(60);
  }
  for (const q of subs) await expectExactlyOnce(q, srv.ids(q), `${q} shared`);
  // one goes private: Reddit refuses the listing, each is asked alone,
  // the private one is set aside and the others share again
  srv.configure({ forbidden: subs[2] });
  await p.waitForOutput(/shared listing was refused/);
  await p.waitForOutput(new RegExp(`subreddit private, banned or missing.*${
    subs[2]}`));
  const rest = subs.filter((q) => q !== subs[2]);
  const n0 = srv.log.length;
  await waitFor(() => srv.log.slice(n0).some((e) => e.kind === 'comments' &&
    e.status === 200 && rest.every((q) => e.sub.split('+').includes(q))),
  { timeout: 15000, what: 'the four others share a listing again' });
  for (const q of rest) srv.addComments(q, 2);
  for (const q of rest) await expectExactlyOnce(q, srv.ids(q), `${q} after`);
  await stop(p);
});

test('a budget too small to keep up is reported once', async () => {
  const sub = 'busysub';
  srv.addComments(sub, 100); // created within a blink: a very busy sub
  await watch({ [sub]: 1 });
  // 20 a minute: the token request and the first poll go at once (the
  // token request counts against the budget too), the comments' pages alone
  // would need far more
  const p = worker({ ECHOSTREAM_REDDIT_QPM: '20' });
  await p.waitForOutput(/request budget does not keep up/);
  await waitFor(async () => (await redis.cmd('HGET', 'es:{ingest}:budget',
                                             'keeping_up')) === 'false',
                { what: 'budget hash' });
  assert.equal(await redis.cmd('HGET', 'es:{ingest}:budget', 'behind'), sub);
  assert.equal(await redis.cmd('HGET', 'es:{ingest}:budget', 'budget_qpm'),
               '20.00');
  await sleep(500);
  assert.equal(p.output().match(/request budget does not keep up/g).length,
               1);
  await stop(p);
});

test('missing credentials: stays up, says so, does not spin', async () => {
  await watch({ credsub: 1 });
  srv.clearLog();
  const p = worker({ ECHOSTREAM_REDDIT_CLIENT_ID: '',
                     ECHOSTREAM_REDDIT_CLIENT_SECRET: '',
                     ECHOSTREAM_REDDIT_USER_AGENT: 'curl/8' });
  await p.waitForOutput(/no Reddit token/);
  await sleep(1500);
  assert.equal(srv.log.length, 0, 'talked to Reddit without credentials');
  assert.equal(p.output().match(/no Reddit token/g).length, 1);
  assert.match(p.output(), /user_agent is not in Reddit's form/);
  const hb = await waitFor(async () => {
    const all = await redis.cmd('HGETALL', 'es:workers');
    for (let i = 0; i < all.length; i += 2) {
      const o = JSON.parse(all[i + 1]);
      if (all[i] === `ingest:${o.instance}` && o.pid === p.pid) return o;
    }
    return null;
  }, { what: 'heartbeat' });
  assert.equal(hb.status.auth, 'missing_credentials');
  assert.equal(hb.status.keeping_up, true);
  assert.equal(await redis.cmd('HGET', 'es:{ingest}:budget', 'auth'),
               'missing_credentials');
  await stop(p);
  // a clean exit removes the heartbeat
  const left = await redis.cmd('HGETALL', 'es:workers');
  assert.ok(!left.some((v) => v.includes(`"pid":${p.pid},`)));
});

// Two ingest processes share one Reddit client, so one polls and the other
// stands by (the lease es:{ingest}:poller): the standby makes no request
// and writes no cursor; a clean stop hands polling over at once.
test('two workers: one polls, the other stands by and takes over on SIGTERM',
     async () => {
  const sub = 'leasesub';
  srv.addComments(sub, 12);
  await watch({ [sub]: 1 });
  const a = worker();
  await expectExactlyOnce(sub, srv.ids(sub), 'first worker polls');
  const b = worker();
  const status = async (p) => {
    const all = await redis.cmd('HGETALL', 'es:workers');
    for (let i = 0; i < all.length; i += 2) {
      if (all[i].startsWith('ingest:') && all[i].endsWith(`-${p.pid}`)) {
        return JSON.parse(all[i + 1]).status;
      }
    }
    return null;
  };
  await waitFor(async () => (await status(b))?.poller === 'standby',
    { what: 'second worker standing by' });
  const holder = await redis.cmd('GET', 'es:{ingest}:poller');
  assert.match(holder, new RegExp(`-${a.pid}$`));
  assert.equal((await status(b)).lease_holder, holder);
  srv.addComments(sub, 8);
  await expectExactlyOnce(sub, srv.ids(sub), 'polled by the holder');
  await sleep(300);
  assert.equal((await status(b)).requests, 0, 'the standby asked Reddit nothing');
  const t = Date.now();
  await stop(a);
  assert.match(a.output(), /poller lease released/);
  srv.addComments(sub, 9);
  await expectExactlyOnce(sub, srv.ids(sub), 'polled by the one that took over');
  assert.ok(Date.now() - t < 5000, 'taken over within a few seconds');
  assert.match(b.output(), /poller lease taken/);
  await waitFor(async () => (await status(b))?.poller === 'active',
    { what: 'the heartbeat saying so' });
  assert.match(await redis.cmd('GET', 'es:{ingest}:poller'), new RegExp(`-${b.pid}$`));
  await stop(b);
  assert.equal(await redis.cmd('EXISTS', 'es:{ingest}:poller'), 0);
});

// A holder whose credentials Reddit refuses must not keep the others from
// polling: it lets the lease go while it waits to try again.
test('a worker without a token lets another poll', async () => {
  const sub = 'leasecreds';
  srv.addComments(sub, 6);
  await watch({ [sub]: 1 });
  const bad = worker({ ECHOSTREAM_REDDIT_CLIENT_SECRET: 'wrong-secret' });
  await bad.waitForOutput(/no Reddit token/);
  const good = worker();
  await expectExactlyOnce(sub, srv.ids(sub), 'polled by the worker with a token');
  assert.match(good.output(), /poller lease taken/);
  assert.match(bad.output(), /poller lease released/);
  await stop(good);
  await stop(bad);
});

test('no log line carries the client secret or a token', () => {
  const tokens = srv.issuedTokens();
  assert.ok(tokens.length > 0);
  for (const p of outputs) {
    const out = p.output();
    assert.ok(!out.includes(SECRET), 'secret in a log');
    for (const t of tokens) assert.ok(!out.includes(t), 'token in a log');
  }
});
