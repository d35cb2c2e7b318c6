// scale_out.test.mjs - two of everything on one machine, sharing one Redis
// (docs/scaling.md): two nginx with the module, two echostream-ingest, two
// echostream-enrich and two echostream-alert, fed by the Reddit test server
// (tests/reddit/server.mjs) and mailing an SMTP sink.
//
// Known comments (the bodies and creation times are chosen here) reach the
// Reddit server in waves while everything runs; some of them, in a
// subreddit of their own, are a burst of complaints that a tenant's rule
// must see as a negative spike. Midway one process of each kind goes: the
// polling ingest (the lease holder) and one enrich with SIGKILL, one alert
// with SIGTERM. What must hold:
//   * the ingest processes never poll at once: one holds the lease, the
//     other stands by with no request made, and takes over when the holder
//     dies;
//   * every comment is in the stream exactly once;
//   * every tenant's aggregates (series at every resolution, recent
//     indexes, share of voice, trending terms, usage) equal the ground
//     truth computed here (tests/lib/enrich.mjs, as enrich_exact does), so
//     the killed enrich's pending entries were claimed and none was
//     counted twice;
//   * the API answers the same through both nginx, and what it answers is
//     the truth;
//   * the spike is recorded once and each of its e-mails received once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { bin, startProc, startRedis, tmpDir, waitFor, sleep }
  from '../../lib/harness.mjs';
import {
  STREAM, actual, enrichEnv, matches, prng, setTenant as setTopics,
  startEnrich, truth, vaderScores, waitDrained, words,
} from '../../lib/enrich.mjs';
import { STOP, SUBS, TENANTS, VOCAB } from '../../lib/exact_fixture.mjs';
import { ingestEnv, streamComments } from '../../lib/pipeline.mjs';
import {
  HOUR, QUEUE, alertEnv, deliveries, history, setTenant, smtpSink,
  startAlert, writeHours,
} from '../../lib/alert.mjs';
import { startApiStack, startCognito } from '../../lib/api.mjs';
import { startRedditServer } from '../../reddit/server.mjs';

const SEED = Number(process.env.ES_TEST_SEED || 20261206);
const rnd = prng(SEED);
const pick = (a) => a[Math.floor(rnd() * a.length)];


// the alerting tenant: one topic on a subreddit of its own, a negative
// share rule over a quiet baseline (18% negative), mail to the rule's
// address and to the member who opted in
const SPIKE_SUB = 'outages';
const DELTA_TOPIC = { id: 'ops', name: 'Outages', subreddits: [SPIKE_SUB], query: '' };
const RULE = {
  id: 'negspike', topic: 'ops', enabled: true, metric: 'negative_share',
  window_minutes: 60, min_volume: 20, sensitivity: 3, cooldown_minutes: 60,
  email: ['oncall@delta.example'], webhook: null,
};
const MEMBERS = [
  { sub: 'd-lead', email: 'lead@delta.example', alert_email: true },
  { sub: 'd-quiet', email: 'quiet@delta.example', alert_email: false },
];
const RECIPIENTS = ['lead@delta.example', 'oncall@delta.example'];
// short, and without English stop words (enrich's list is longer than
// STOP), so the ground truth's trending terms are simple to compute
const COMPLAINTS = ['Terrible outage, broken login, hate it.',
  'Awful crash, horrible disaster.',
  'Painful frustrating downtime. Worst week ever.',
  'Angry customers, terrible support.'];

// A wave every 300 ms of PER_WAVE comments per subreddit: while the
// killed poller's lease runs out nobody polls, and what piles up must stay
// far within Reddit's 1,000-item listing (docs/ingest.md), even on a
// loaded machine
const WAVES = 12;
const PER_WAVE = 15; // per subreddit of SUBS
const SPIKES = 40;

let redis;
let cognito;
let apis = [];
let reddit;
let sink;
const procs = [];

before(async () => {
  redis = await startRedis();
  reddit = await startRedditServer();
  sink = await smtpSink({ delayMs: 30 });
  cognito = await startCognito();
  // two nginx, each with the module, on their own ports, one Redis
  for (let i = 0; i < 2; i++) {
    apis.push(await startApiStack({ redis, cognito, tenantClaim: true }));
  }
});

after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const a of apis) await a.stop();
  await cognito?.stop();
  await sink?.close();
  await reddit?.close();
  await redis?.close();
});

function spawnTracked(p) {
  procs.push(p);
  return p;
}

function scaleIngestEnv() {
  return {
    ECHOSTREAM_REDIS: redis.url,
    ...ingestEnv(reddit),
    ECHOSTREAM_INGEST_MAX_INTERVAL: '0.5',
    // a killed holder's lease runs out soon (a clean stop hands over at once)
    ECHOSTREAM_INGEST_LEASE: '1',
    ECHOSTREAM_STREAM_GROUPS: 'enrich',
    ECHOSTREAM_WORKER_HEARTBEAT: '0.2',
    ECHOSTREAM_LOG_LEVEL: 'info',
  };
}

// the heartbeat statuses of a worker kind: {pid: status}
async function beats(kind) {
  const all = await redis.cmd('HGETALL', 'es:workers');
  const out = {};
  for (let i = 0; i < all.length; i += 2) {
    if (!all[i].startsWith(`${kind}:`)) continue;
    const b = JSON.parse(all[i + 1]);
    out[b.pid] = b.status || {};
  }
  return out;
}

function comment(sub, created, body) {
  return { subreddit: sub, created, body, author: `user${Math.floor(rnd() * 50)}` };
}

function makeWave(now) {
  const out = [];
  for (const sub of SUBS) {
    for (let i = 0; i < PER_WAVE; i++) {
      const n = 3 + Math.floor(rnd() * 10);
      const body = Array.from({ length: n }, () => pick(VOCAB)).join(' ') +
        (rnd() < 0.3 ? '!' : '.');
      // within the last 3 hours: every resolution's bucket is alive
      out.push(comment(sub, now - Math.floor(rnd() * 3 * 3600) + 0.25, body));
    }
  }
  return out;
}

// hands comments to the Reddit server, each under its own id
function post(list) {
  for (const c of list) {
    const [id] = reddit.addComments(c.subreddit, 1,
      { body: c.body, created: c.created, author: c.author });
    c.id = id;
  }
}

// entries pending for an enrich process's consumer (host-pid)
async function pendingOf(p) {
  const cs = await redis.cmd('XINFO', 'CONSUMERS', STREAM, 'enrich');
  const c = cs.find((x) => x[1].endsWith(`-${p.pid}`));
  return c ? Number(c[c.indexOf('pending') + 1]) : 0;
}

test('two of each worker and two nginx on one Redis: exact, once, and surviving a kill of each',
  async () => {
    const t0 = Date.now();
    const now = Math.floor(t0 / 1000);
    for (const [t, topics] of Object.entries(TENANTS)) await setTopics(redis, t, topics);
    await setTopics(redis, 'delta', [DELTA_TOPIC]);
    await setTenant(redis, 'delta', { members: MEMBERS, rules: [RULE] });
    const H = Math.floor(t0 / HOUR);
    await writeHours(redis, 'delta', 'ops', H - 200, H - 1, { n: 600, neg: 108, cs: 0 });
    for (const s of [...SUBS, SPIKE_SUB]) await redis.cmd('HSET', 'es:{watch}:subs', s, 1);
    await redis.cmd('INCR', 'es:{watch}:version');
    const user = await cognito.user('owner@acme.test', { tenant: 'acme' });

    // the comments, scored by the real VADER binary for the ground truth
    const waves = Array.from({ length: WAVES }, () => makeWave(now));
    const spikes = Array.from({ length: SPIKES }, (_, i) =>
      comment(SPIKE_SUB, now - 60 + i, `${pick(COMPLAINTS)} (${i})`));
    const all = [...waves.flat(), ...spikes];
    const scores = await vaderScores(all.map((c) => c.body));
    all.forEach((c, i) => { c.score = scores[i]; });
    assert.ok(spikes.every((c) => c.score.label === 'negative'), 'complaints are negative');
    assert.ok(spikes.every((c) => !words(c.body).some((w) => ['love', 'great', 'async']
      .includes(w))), 'complaints match only the topics meant to');

    // the first wave is on the server before the pollers start: the first
    // poll of a subreddit reads its newest page, which holds it all
    post(waves[0]);

    const lake = await tmpDir('es-scale-lake-');
    const ingest = [0, 1].map((i) => spawnTracked(startProc(bin('ingest'), [],
      { env: scaleIngestEnv(), name: `ingest${i}` })));
    const enrichCfg = enrichEnv(redis, lake, { ECHOSTREAM_ENRICH_BATCH: '50',
      ECHOSTREAM_LOG_LEVEL: 'warn' });
    const enrich = [0, 1].map(() => spawnTracked(startEnrich(enrichCfg)));
    const alertCfg = alertEnv(redis, {
      ECHOSTREAM_MAIL_TRANSPORT: 'auto', ECHOSTREAM_SMTP_URL: sink.url,
      ECHOSTREAM_MAIL_FROM: 'EchoStream Alerts <alerts@echostream.example>',
      ECHOSTREAM_LOG_LEVEL: 'info',
    });
    const alerts = [0, 1].map((i) => spawnTracked(startAlert(alertCfg, [], `alert${i}`)));

    // one poller polls, the other stands by having asked Reddit nothing
    const roles = await waitFor(async () => {
      const b = await beats('ingest');
      const st = ingest.map((p) => b[p.pid]?.poller);
      return st.includes('active') && st.includes('standby') ? b : null;
    }, { timeout: 15000, what: 'one ingest active, one standby' });
    const holder = ingest.find((p) => roles[p.pid].poller === 'active');
    const standby = ingest.find((p) => p !== holder);
    assert.equal(await redis.cmd('GET', 'es:{ingest}:poller'),
      `${(await redis.cmd('HKEYS', 'es:workers')).find((k) =>
        k.startsWith('ingest:') && k.endsWith(`-${holder.pid}`)).slice(7)}`);

    let killedPending = 0;
    // the waves, a burst of complaints in the middle, and a kill of one
    // of each kind of worker while it all flows
    for (let w = 1; w < WAVES; w++) {
      await sleep(300);
      post(waves[w]);
      if (w === 4) post(spikes);
      if (w === 6) {
        const b = await beats('ingest');
        assert.equal(b[standby.pid].poller, 'standby');
        assert.equal(b[standby.pid].requests, 0, 'the standby made no request');
        assert.ok(b[holder.pid].requests > 0);
        holder.kill('SIGKILL');
        // the enrich dies holding entries it read and has not acknowledged
        // (a batch in hand), when it can be caught with one
        const end = Date.now() + 3000;
        while (Date.now() < end && await pendingOf(enrich[0]) === 0) await sleep(2);
        enrich[0].kill('SIGKILL');
        await enrich[0].exited;
        killedPending = await pendingOf(enrich[0]);
      }
      if (w === 8) alerts[0].kill('SIGTERM');
    }

    // every comment in the stream exactly once
    const want = new Set(all.map((c) => c.id));
    let missing = [];
    const counts = await waitFor(async () => {
      const c = await streamComments(redis);
      missing = all.filter((x) => !c.has(x.id));
      return missing.length === 0 ? c : null;
    }, { timeout: 30000, interval: 200, what: 'every comment in the stream' })
      .catch((e) => {
        const by = {};
        for (const x of missing) by[x.subreddit] = (by[x.subreddit] || 0) + 1;
        throw new Error(`${e.message}: ${missing.length} missing (${JSON.stringify(by)}, ` +
          `e.g. ${missing.slice(0, 5).map((x) => x.id)})\n${standby.output().slice(-6000)}`);
      });
    assert.deepEqual([...counts].filter(([, e]) => e.n !== 1).map(([id, e]) => [id, e.n]), [],
                     'duplicates');
    assert.equal(counts.size, want.size, 'nothing else in the stream');
    const later = await beats('ingest');
    assert.equal(later[standby.pid].poller, 'active', 'the standby took over');
    assert.ok(later[standby.pid].requests > 0);
    assert.match(standby.output(), /poller lease taken/);

    await waitDrained(redis, 'the enrich group drained', 30000).catch(async (e) => {
      throw new Error(`${e.message}: ${JSON.stringify(await redis.cmd('XINFO', 'GROUPS', STREAM))
      } ${JSON.stringify(await redis.cmd('XINFO', 'CONSUMERS', STREAM, 'enrich'))
      } ${JSON.stringify(await redis.cmd('XREVRANGE', STREAM, '+', '-', 'COUNT', 1))
      }\n${enrich[1].output().slice(-4000)}`);
    });
    // what the killed enrich held was claimed by the other
    assert.equal(await pendingOf(enrich[0]), 0);
    assert.equal((await alerts[0].exited).code, 0, alerts[0].output());

    // exact aggregates for every tenant
    for (const [tenant, topics] of Object.entries(TENANTS)) {
      const w = truth(topics, all, STOP);
      const got = await actual(redis, tenant);
      assert.ok(w.usage > 0);
      assert.deepEqual(got.series, w.series, `${tenant} series`);
      assert.deepEqual(got.recent, w.recent, `${tenant} recent`);
      assert.deepEqual(got.sov, w.sov, `${tenant} share of voice`);
      assert.deepEqual(got.terms, w.terms, `${tenant} terms`);
      assert.equal(got.usage, w.usage, `${tenant} usage`);
    }
    const dUsage = (await actual(redis, 'delta')).usage;
    assert.equal(dUsage, SPIKES, 'delta counted each complaint once');

    // the API through both nginx: the same answers, and the truth
    const from = now - 4 * 3600;
    for (const topic of TENANTS.acme) {
      const q = `/api/v1/topics/${topic.id}/series?from=${from}&to=${now + 60}&step=hour`;
      const got = [];
      for (const a of apis) {
        const r = await a.api('GET', q, { token: user.idToken });
        assert.equal(r.status, 200, r.text);
        got.push(r.json);
      }
      assert.deepEqual(got[0], got[1], `${topic.id}: both nginx agree`);
      const n = got[0].points.reduce((s, p) => s + p.n, 0);
      assert.equal(n, all.filter((c) => matches(topic, c)).length, `${topic.id} total`);
    }

    // the spike: one event, one delivery closed as sent, one e-mail per
    // recipient at the SMTP sink
    await waitFor(async () => {
      const d = Object.values(await deliveries(redis, 'delta'));
      return d.length > 0 && d.every((x) => x.status !== 'pending') &&
        Number(await redis.cmd('XLEN', QUEUE)) === 0;
    }, { timeout: 20000, interval: 100, what: 'the spike delivered' });
    await sleep(1000); // room for a second copy, were one coming
    const events = await history(redis, 'delta');
    assert.equal(events.length, 1, JSON.stringify(events));
    const d = Object.values(await deliveries(redis, 'delta'));
    assert.deepEqual(d.map((x) => x.status), ['sent']);
    const to = sink.rec.mails.flatMap((m) => m.to.map((a) => a.toLowerCase())).sort();
    assert.deepEqual(to, RECIPIENTS, 'each recipient mailed once');
    assert.equal(new Set(sink.rec.mails.map((m) => m.messageId)).size, RECIPIENTS.length);
    for (const a of ['alert', 'enrich']) {
      const b = await beats(a);
      assert.ok(Object.keys(b).length >= 1, `${a} survivor beats`);
    }

    // the survivors stop cleanly
    for (const p of [standby, enrich[1], alerts[1]]) {
      p.kill('SIGTERM');
      const ex = await p.exited;
      assert.equal(ex.code, 0, `${p.name}: ${p.output().slice(-2000)}`);
    }
    assert.doesNotMatch(enrich[1].output(), /level=error/);
    process.stderr.write(`scale_out: ${all.length} comments, ${
      reddit.log.length} Reddit requests, ${killedPending} entries pending ` +
      `at the killed enrich, ${Date.now() - t0} ms\n`);
  });
