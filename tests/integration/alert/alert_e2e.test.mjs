// alert_e2e.test.mjs - the alert path end to end, with nothing but the
// real programs: a 7-day history of one subreddit loaded with
// `echostream-ingest --backfill`, a burst of negative comments that reaches
// EchoStream the way live comments do (the ingest poller polling the Reddit
// test server, tests/reddit/server.mjs), echostream-enrich turning both
// into the topic's series, and echostream-alert on its production interval
// (60 s) mailing an SMTP sink (npm smtp-server; messages read with
// mailparser).
//
// What docs/alerts.md promises and this suite holds it to:
//   * the baseline alone fires nothing (two ticks on it, the rule judged
//     out of learning: 168 hours of history);
//   * the burst gives exactly one history entry with the documented
//     members, and exactly one e-mail per recipient (the rule's address
//     and the member who opted in), with the figures, the window and the
//     sample links;
//   * latency: the e-mail arrives less than 2 minutes after the burst's
//     comments were enriched. The burst is posted right after a tick, the
//     worst phase: the spike waits a whole interval for the next tick;
//   * nothing more while the rule cools down (a few more ticks).
//
// The window is the default 60 minutes, so the history ends at the start
// of the hour one window before now: the baseline the worker reads is 168
// hours of it, or 167 when the window's first minute crosses an hour
// during the run (the hour after the history is empty and skipped). The
// expected mean and deviation are computed here from the dump, with the
// labels the real VADER binary gives its bodies.
//
// The message received for the member is kept as
// $ES_TEST_LOGS/alert_e2e_sample.eml (default build/test-logs/), to be
// quoted where the mail is documented.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';

import { ROOT, bin, startProc, startRedis, tmpDir, waitFor, sleep }
  from '../../lib/harness.mjs';
import {
  setTenant as setTopics, enrichEnv, startEnrich, waitStarted, waitDrained,
  vaderScores, prng,
} from '../../lib/enrich.mjs';
import {
  MIN, HOUR, QUEUE, tkey, setTenant, alertEnv, startAlert, waitTicks,
  runTicks, history, deliveries, ruleState, smtpSink,
} from '../../lib/alert.mjs';
import { mailSecret, unsubSig } from '../../lib/unsub.mjs';
import { startRedditServer } from '../../reddit/server.mjs';

const TENANT = 'acme';
const SUB = 'rust';
const TOPIC = { id: 'rustlang01', name: 'Rust language', subreddits: [SUB],
                query: '' };
const RULE = {
  id: 'negspike01', topic: TOPIC.id, enabled: true, metric: 'negative_share',
  window_minutes: 60, min_volume: 20, sensitivity: 3.0, cooldown_minutes: 60,
  email: ['alerts@acme.example'], webhook: null,
};
const MEMBERS = [
  { sub: 'u-ops', email: 'Ops.Lead@acme.example', alert_email: true },
  { sub: 'u-dev', email: 'dev@acme.example', alert_email: false },
];
const RECIPIENTS = ['alerts@acme.example', 'ops.lead@acme.example'];
const FROM = 'EchoStream Alerts <alerts@echostream.example>';
const BASE_URL = 'https://echostream.example/';
const INTERVAL_S = 60; // alert.interval's default
const LATENCY_MS = 2 * MIN; // the spec's bound, enriched to e-mail

const BODIES = {
  positive: [
    'Great work on the new release, the async story is amazing!',
    'Thanks, this is a really helpful explanation.',
    'The borrow checker finally makes sense to me, love it.',
    'Excellent write-up, clear and useful. Thank you!',
  ],
  neutral: [
    'I moved the function into a separate module.',
    'Version 1.75 ships on Thursday.',
    'Does anyone know which crate handles TOML parsing?',
    'The build uses cargo workspaces with three members.',
  ],
  negative: [
    'This release is terrible. Everything broke and the upgrade was a ' +
      'miserable waste of time.',
    'Awful regression, builds are broken again and nobody cares. Horrible.',
    'I hate this change, it is a disaster and made our service crash.',
    'Really disappointed, the new compiler is painfully slow and buggy.',
    'Worst update ever. Angry and frustrated, rolling back.',
    'This is bad, the docs are wrong and confusing.',
  ],
};
// What the burst says: 32 complaints, each its own (samples quote five).
const COMPLAINTS = [
  'The 1.80 upgrade broke our CI and the error messages are useless. ' +
    'Terrible release.',
  'Compile times doubled after the update. This is awful and painful.',
  'Another regression in the async runtime, our service crashed twice ' +
    'today. Frustrating.',
  'The new lint is wrong half the time and blocks every merge. Hate it.',
  'Docs for the new API are confusing and outdated, wasted a whole day. ' +
    'Disappointed.',
  'Cargo now fails on our private registry. What a mess, so annoying.',
  'The borrow checker change rejects code that worked for years. Painful ' +
    'and stupid.',
  'Rust-analyzer keeps crashing since the release, totally unusable. Awful.',
  'Binary size exploded with the new toolchain, this is a bad joke.',
  'Our benchmarks are 30% slower after upgrading, really disappointing ' +
    'and sad.',
  'The migration guide is wrong and the tooling is broken. Horrible ' +
    'experience.',
  'Nightly broke again and stable is buggy too. I am fed up and angry.',
  'Our platform was dropped overnight. Horrible and sad.',
  'Every crate in our tree fails to build now. What a disaster.',
  'Panic in the standard library on a simple parse. Unacceptable and ' +
    'embarrassing.',
  'The release notes hide a breaking change. Misleading and infuriating.',
  'Linker errors everywhere after the update, worst week ever.',
  'Memory usage tripled in production, we had to roll back. Awful ' +
    'regression.',
  'Error messages got worse, not better. Confusing and frustrating.',
  'Edition migration corrupted our formatting, what a terrible tool.',
  'Async traits still broken in the ways that matter, disappointed again.',
  'The compiler hangs forever on our generic code. This is ridiculous ' +
    'and sad.',
  'Clippy now spams false positives, annoying and useless.',
  'The new resolver pulls in broken versions, nightmare to debug.',
  'We lost a day to a miscompilation bug. Scary and unacceptable.',
  'Build scripts fail randomly on Windows now, so frustrating and bad.',
  'Test runner output is a mess after the change, I hate it.',
  'Incremental builds are broken, everything recompiles. Painfully slow.',
  'Upgrading killed our embedded target, terrible support.',
  'The new default feature set bloats everything, bad and annoying.',
  'Rustup failed and left a broken toolchain behind, awful experience.',
  'Security fix shipped with a crash bug, terrible quality control.',
];
const OTHER_SUBS = ['golang', 'AskReddit']; // in the dump, not watched

// Reddit ids grow with time: the history's ids lie below the Reddit test
// server's first id (k3v0000), where the live comments start.
const FIRST_ID = parseInt('k3v0000', 36) - 20000;

let redis;
let sink;
let reddit;
let secret;
const procs = [];

before(async () => {
  redis = await startRedis();
  sink = await smtpSink();
  reddit = await startRedditServer();
  secret = await mailSecret();
});

after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await reddit?.close();
  await sink?.close();
  await redis?.close();
});

const round4 = (x) => Math.round(x * 1e4) / 1e4;

// mean and population deviation of the shares of hours [from, to) of the
// dump's per-hour counts, as docs/alerts.md defines the baseline
function baselineOf(hours, from, to) {
  const shares = hours.slice(from, to).filter((h) => h.n > 0)
    .map((h) => h.neg / h.n);
  const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
  const sd = Math.sqrt(shares.reduce((a, v) => a + (v - mean) ** 2, 0) /
                       shares.length);
  return { mean, stddev: Math.max(sd, 0.05), hours: shares.length };
}

// One dump line as Pushshift / Arctic Shift write comments: keys in
// alphabetical order, created_utc in whole seconds.
function dumpLine(c) {
  return JSON.stringify({
    author: c.author, body: c.body, created_utc: c.created, id: c.id,
    link_id: `t3_${c.link}`, parent_id: `t3_${c.link}`,
    permalink: `/r/${c.sub}/comments/${c.link}/thread/${c.id}/`,
    score: c.score, subreddit: c.sub, subreddit_id: 't5_2s7lj',
  });
}

// The 168 hours before `end` (a whole hour), each with 20-41 comments in
// the watched subreddit following a daily rhythm, 7-13% of them negative,
// and a few comments of unwatched subreddits. Returns the dump's text, the
// per-hour counts of the watched subreddit and the number of its comments.
function history7d(end) {
  const r = prng(20240305);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const hours = [];
  const all = [];
  for (let i = 0; i < 168; i++) {
    const start = end - (168 - i) * HOUR;
    const hod = new Date(start).getUTCHours();
    const n = 20 + Math.round(16 * (0.5 + 0.5 * Math.sin(
      2 * Math.PI * (hod - 8) / 24))) + Math.floor(r() * 6);
    const neg = Math.round(n * (0.07 + 0.06 * r()));
    hours.push({ start, n, neg });
    const labels = [];
    for (let k = 0; k < n; k++) {
      labels.push(k < neg ? 'negative' : (r() < 0.6 ? 'positive' : 'neutral'));
    }
    const link = (parseInt('18a000', 36) + i * 4 + Math.floor(r() * 4))
      .toString(36);
    for (const label of labels) {
      all.push({ sub: SUB, label, body: pick(BODIES[label]), link,
                 created: Math.floor(start / 1000 + r() * 3600) });
    }
    for (let k = 0, m = 2 + Math.floor(r() * 4); k < m; k++) {
      all.push({ sub: pick(OTHER_SUBS), label: 'neutral',
                 body: pick(BODIES.neutral), link,
                 created: Math.floor(start / 1000 + r() * 3600) });
    }
  }
  all.sort((a, b) => a.created - b.created);
  const lines = all.map((c, k) => dumpLine({
    ...c, id: (FIRST_ID + k).toString(36),
    author: `user_${Math.floor(r() * 400)}`,
    score: Math.floor(r() * 30) - 3,
  }));
  return { text: lines.join('\n') + '\n', hours,
           watched: all.filter((c) => c.sub === SUB).length,
           lines: lines.length };
}

// The burst: the 32 complaints and 8 other comments, in a mixed order.
function burstComments() {
  const r = prng(77);
  const out = [];
  for (let k = 0; k < 40; k++) {
    if (k < COMPLAINTS.length) {
      out.push({ label: 'negative', body: COMPLAINTS[k],
                 author: `user_${(k * 37) % 400}` });
    } else {
      const label = k % 2 ? 'positive' : 'neutral';
      const list = BODIES[label];
      out.push({ label, body: list[k % list.length], author: `user_${k * 7}` });
    }
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// the entry time (ms) of the live feed entry that holds each id
async function enrichedAt(ids) {
  const want = new Set(ids);
  const at = new Map();
  for (const [id, f] of await redis.cmd('XRANGE', tkey(TENANT, 'live'), '-',
                                        '+')) {
    for (const c of f[f.indexOf('ids') + 1].split(',')) {
      if (want.has(c)) at.set(c, Number(id.split('-')[0]));
    }
  }
  return at;
}

function start(p) {
  procs.push(p);
  return p;
}

test('a 7-day backfill, then a live burst of negative comments: one alert, ' +
     'one e-mail per recipient within 2 minutes of enrichment, then quiet',
{ timeout: 5 * MIN }, async (t) => {
  const t0 = Date.now();
  // the labels the comments will get are the real VADER's, and none is a
  // close call
  const compound = new Map();
  for (const [label, list] of [...Object.entries(BODIES),
                               ['negative', COMPLAINTS]]) {
    (await vaderScores(list)).forEach((s, i) => {
      assert.equal(s.label, label, list[i]);
      assert.ok(Math.abs(s.compound) >= 0.25 || label === 'neutral', list[i]);
      compound.set(list[i], s.compound);
    });
  }

  // -- the tenant as the API stores it, and the watch union --
  await setTopics(redis, TENANT, [TOPIC]);
  await setTenant(redis, TENANT, { members: MEMBERS, rules: [RULE] });
  await redis.cmd('HSET', 'es:{watch}:subs', SUB, 1);
  await redis.cmd('INCR', 'es:{watch}:version');

  // -- the pipeline's resident workers: enrich, and the ingest poller --
  const lake = await tmpDir('es-e2e-lake-');
  const enrich = start(startEnrich(enrichEnv(redis, lake)));
  await waitStarted(redis, enrich);
  const poller = start(startProc(bin('ingest'), [], { name: 'ingest', env: {
    ECHOSTREAM_REDIS: redis.url,
    ECHOSTREAM_REDDIT_API_URL: reddit.url,
    ECHOSTREAM_REDDIT_TOKEN_URL: reddit.tokenUrl,
    ECHOSTREAM_REDDIT_CLIENT_ID: reddit.clientId,
    ECHOSTREAM_REDDIT_CLIENT_SECRET: reddit.clientSecret,
    ECHOSTREAM_REDDIT_QPM: '600',
    ECHOSTREAM_INGEST_MIN_INTERVAL: '0.5',
    ECHOSTREAM_INGEST_MAX_INTERVAL: '2',
    ECHOSTREAM_INGEST_WATCH_REFRESH: '0.5',
    ECHOSTREAM_STREAM_GROUPS: 'enrich',
    ECHOSTREAM_WORKER_HEARTBEAT: '0.5',
    ECHOSTREAM_LOG_LEVEL: 'info',
  } }));

  // -- 7 days of history through --backfill --
  const end = Math.floor((t0 - 60 * MIN) / HOUR) * HOUR;
  const hist = history7d(end);
  const dir = await tmpDir('es-e2e-dump-');
  const dump = path.join(dir, 'RC_rust_7d.ndjson');
  writeFileSync(dump, hist.text);
  const bf = startProc(bin('ingest'), ['--backfill', dump], { name: 'backfill',
    env: { ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_LOG_LEVEL: 'info' } });
  const bfExit = await bf.exited;
  assert.equal(bfExit.code, 0, bf.output());
  const done = bf.output().split('\n').find((l) => l.includes('backfill done'));
  const num = (k) => Number(new RegExp(`\\b${k}=(\\d+)`).exec(done)?.[1]);
  assert.equal(num('lines'), hist.lines, done);
  assert.equal(num('kept'), hist.watched, 'unwatched subreddits dropped');
  assert.equal(num('added'), hist.watched, done);
  assert.equal(num('malformed'), 0, done);
  await waitDrained(redis, 'the history enriched', 60000);
  const tLoaded = Date.now();

  // the topic's hourly series are the dump's, hour by hour
  const hourly = await Promise.all(hist.hours.map(({ start: s }) => {
    const d = new Date(s);
    const day = d.toISOString().slice(0, 10).replace(/-/g, '');
    const hh = String(d.getUTCHours()).padStart(2, '0');
    return redis.cmd('HMGET', tkey(TENANT, `ts:${TOPIC.id}:h:${day}`),
                     `${hh}:n`, `${hh}:neg`);
  }));
  assert.deepEqual(hourly.map(([n, neg]) => [Number(n), Number(neg)]),
                   hist.hours.map((h) => [h.n, h.neg]));

  // -- the alert worker, on its production interval --
  const alert = start(startAlert(alertEnv(redis, {
    ECHOSTREAM_ALERT_INTERVAL: String(INTERVAL_S),
    ECHOSTREAM_ALERT_CLAIM_IDLE_MS: '60000',
    ECHOSTREAM_MAIL_TRANSPORT: 'auto',
    ECHOSTREAM_SMTP_URL: sink.url,
    ECHOSTREAM_MAIL_FROM: FROM,
    ECHOSTREAM_MAIL_BASE_URL: BASE_URL,
    ECHOSTREAM_MAIL_SECRET_FILE: secret.file,
  })));
  // two ticks on the baseline alone: judged (not learning), quiet
  let st = await waitTicks(redis, alert, 1, 20000);
  assert.equal(st.rules_checked, 1, alert.output());
  assert.equal(st.rules_learning, 0, 'the backfilled week ends learning');
  st = await waitTicks(redis, alert, 2, (INTERVAL_S + 20) * 1000);
  const tTick2 = Date.now();
  assert.equal(st.alerts_fired, 0);
  assert.equal((await history(redis, TENANT)).length, 0);
  assert.equal(await ruleState(redis, TENANT, RULE.id), null);
  assert.equal(sink.rec.mails.length, 0);

  // -- the live burst, posted on "Reddit" right after the tick --
  const burst = burstComments();
  const ids = burst.map((c) => reddit.addComments(SUB, 1, {
    body: c.body, author: c.author })[0]);
  const tPosted = Date.now();
  const byId = new Map(ids.map((id, k) => [id, burst[k]]));
  let at;
  await waitFor(async () => {
    at = await enrichedAt(ids);
    return at.size === ids.length;
  }, { timeout: 30000, what: 'the burst polled and enriched' });
  const tEnriched = Math.max(...at.values());
  assert.ok(reddit.log.some((e) => e.kind === 'comments' && e.sub === SUB &&
                                   e.status === 200),
            'the burst came through the poller');

  // -- one e-mail per recipient, within 2 minutes of the enrichment --
  await waitFor(() => sink.rec.mails.length >= RECIPIENTS.length,
    { timeout: LATENCY_MS + 30000, interval: 100,
      what: `${RECIPIENTS.length} alert e-mails` });
  const latencies = sink.rec.mails.map((m) => m.at - tEnriched);
  t.diagnostic(`backfill + enrich of ${hist.watched} comments: ` +
               `${tLoaded - t0} ms`);
  t.diagnostic(`burst posted ${tPosted - tTick2} ms after tick 2, enriched ` +
               `${tEnriched - tPosted} ms after posting`);
  t.diagnostic(`enriched -> e-mail: ${latencies.join(' ms, ')} ms ` +
               `(alert.interval ${INTERVAL_S} s)`);
  for (const l of latencies) {
    assert.ok(l < LATENCY_MS, `e-mail ${l} ms after enrichment`);
  }

  // -- exactly one history entry, with the documented members --
  const h = await history(redis, TENANT);
  assert.equal(h.length, 1, 'exactly one history entry');
  const ev = h[0].event;
  assert.equal(ev.rule, RULE.id);
  assert.equal(ev.topic, TOPIC.id);
  assert.equal(ev.metric, 'negative_share');
  assert.equal(ev.window_minutes, 60);
  assert.equal(ev.sensitivity, 3);
  assert.equal(ev.volume, 40);
  assert.equal(ev.observed, 0.8);
  const fired = Date.parse(ev.fired);
  assert.ok(fired >= tEnriched - 1000 && fired <= sink.rec.mails[0].at,
            ev.fired);
  assert.equal(ev.window.to, ev.fired);
  assert.equal(Date.parse(ev.window.from),
               (Math.floor(fired / MIN) - 59) * MIN);
  assert.ok([167, 168].includes(ev.baseline.hours), `${ev.baseline.hours}`);
  const want = baselineOf(hist.hours, 168 - ev.baseline.hours, 168);
  assert.equal(ev.baseline.hours, want.hours);
  assert.ok(Math.abs(ev.baseline.mean - round4(want.mean)) <= 1e-4,
            `mean ${ev.baseline.mean} against ${want.mean}`);
  assert.ok(Math.abs(ev.baseline.stddev - round4(want.stddev)) <= 1e-4,
            `stddev ${ev.baseline.stddev} against ${want.stddev}`);
  assert.ok(Math.abs(ev.threshold - round4(want.mean + 3 * want.stddev))
            <= 2e-4, `threshold ${ev.threshold}`);
  assert.ok(ev.observed >= ev.threshold);
  // samples: the five most negative of the window, each with its link
  assert.equal(ev.samples.length, 5);
  const negatives = ids.filter((id) => byId.get(id).label === 'negative');
  const lowest = negatives.map((id) => compound.get(byId.get(id).body))
    .sort((a, b) => a - b).slice(0, 5).map(round4);
  assert.deepEqual(ev.samples.map((s) => s.compound), lowest);
  for (const s of ev.samples) {
    assert.ok(negatives.includes(s.id), s.id);
    assert.equal(s.label, 'negative');
    assert.equal(s.subreddit, SUB);
    assert.equal(s.body, byId.get(s.id).body);
    assert.equal(s.author, byId.get(s.id).author);
    assert.match(s.link, new RegExp(
      `^https://www\\.reddit\\.com/r/${SUB}/comments/\\w+/\\w+/${s.id}/$`));
  }
  const state = await ruleState(redis, TENANT, RULE.id);
  assert.equal(state.armed, false);
  assert.equal(state.event, h[0].id);
  assert.equal(state.quiet_until_ms - state.fired_ms, 60 * MIN);

  // one e-mail delivery, sent to both recipients
  const d = await deliveries(redis, TENANT);
  assert.deepEqual(Object.keys(d), [`${h[0].id}:email`]);
  const rec = d[`${h[0].id}:email`];
  assert.deepEqual(rec.to, RECIPIENTS);
  assert.equal(rec.status, 'sent');
  assert.deepEqual(rec.results, Object.fromEntries(
    RECIPIENTS.map((a) => [a, 'sent'])));

  // -- the messages --
  assert.equal(sink.rec.mails.length, RECIPIENTS.length);
  assert.deepEqual(sink.rec.mails.map((m) => m.to).flat().sort(), RECIPIENTS);
  const usual = Math.round(ev.baseline.mean * 100);
  const ids2 = new Set();
  for (const m of sink.rec.mails) {
    const p = await simpleParser(m.raw);
    const member = m.to[0] === 'ops.lead@acme.example';
    assert.equal(m.from, 'alerts@echostream.example');
    assert.deepEqual(p.from.value, [{ address: 'alerts@echostream.example',
                                      name: 'EchoStream Alerts' }]);
    assert.deepEqual(p.to.value.map((a) => a.address.toLowerCase()), m.to);
    assert.ok(p.date instanceof Date &&
              Math.abs(p.date.getTime() - m.at) < 5000, String(p.date));
    assert.match(p.messageId, /^<[^<>@\s]+@[^<>@\s]+>$/);
    assert.ok(p.messageId.includes(h[0].id), p.messageId);
    ids2.add(p.messageId);
    assert.equal(p.subject, `[EchoStream] Negative spike on ${TOPIC.name}: ` +
                            `80% negative (usual ${usual}%)`);
    assert.equal(p.headers.get('auto-submitted'), 'auto-generated');
    // mailparser gathers the List-* headers under 'list'
    const list = p.headers.get('list');
    if (member) {
      // a member's message carries their own one-click unsubscribe link
      assert.ok(list?.unsubscribe?.url, 'List-Unsubscribe on the member\'s ' +
                'message');
      assert.equal(list['unsubscribe-post']?.name,
                   'List-Unsubscribe=One-Click');
      const url = new URL(list.unsubscribe.url);
      assert.equal(url.origin + '/', BASE_URL);
      assert.equal(url.pathname, '/api/v1/unsubscribe');
      assert.equal(url.searchParams.get('t'), TENANT);
      assert.equal(url.searchParams.get('s'), 'u-ops');
      assert.equal(url.searchParams.get('l'), 'alerts');
      assert.equal(url.searchParams.get('sig'),
                   unsubSig(secret.key, TENANT, 'u-ops', 'alerts'));
      assert.match(p.text, /Stop alert e-mails: https:\/\//);
    } else {
      assert.equal(list, undefined, 'no link for an address of the rule');
    }
    const lines = p.text.split('\n');
    assert.ok(lines.includes(
      'Observed: 80% over the last 60 minutes (40 comments)'), p.text);
    assert.ok(lines.includes(`Usual: ${usual}% (standard deviation ` +
      `${Math.round(ev.baseline.stddev * 100)}%, from ` +
      `${ev.baseline.hours} hours of history)`), p.text);
    assert.ok(lines.includes('Alert threshold: ' +
      `${Math.round(ev.threshold * 100)}% (sensitivity 3)`), p.text);
    assert.ok(lines.includes(
      `Window: ${ev.window.from} to ${ev.window.to} (UTC)`), p.text);
    for (const s of ev.samples) {
      assert.ok(p.text.includes(s.link), s.link);
      assert.ok(p.html.includes(`<a href="${s.link}">`), s.link);
    }
    assert.ok(p.text.includes(BASE_URL));
  }
  assert.equal(ids2.size, RECIPIENTS.length, 'one Message-ID per message');

  const logs = process.env.ES_TEST_LOGS ||
    path.join(ROOT, 'build', 'test-logs');
  mkdirSync(logs, { recursive: true });
  const sample = path.join(logs, 'alert_e2e_sample.eml');
  writeFileSync(sample, sink.rec.mails.find((m) =>
    m.to[0] === 'ops.lead@acme.example').raw);
  t.diagnostic(`sample message: ${sample}`);

  // -- cool-down: more ticks with the spike still in the window, nothing
  // more (a second worker with a short interval stands in for the next
  // minutes of the first) --
  alert.kill('SIGTERM');
  assert.equal((await alert.exited).code, 0, alert.output());
  const r = await runTicks(redis, alertEnv(redis, {
    ECHOSTREAM_ALERT_INTERVAL: '0.5',
    ECHOSTREAM_MAIL_TRANSPORT: 'auto',
    ECHOSTREAM_SMTP_URL: sink.url,
  }), [], 6);
  assert.equal(r.exit.code, 0, r.output);
  assert.equal(r.status.alerts_fired, 0, r.output);
  await sleep(500);
  assert.equal((await history(redis, TENANT)).length, 1);
  assert.equal(sink.rec.mails.length, RECIPIENTS.length);
  assert.equal(await redis.cmd('XLEN', QUEUE), 0);

  for (const p of [poller, enrich]) {
    p.kill('SIGTERM');
    assert.equal((await p.exited).code, 0, p.output().slice(-2000));
  }
  t.diagnostic(`suite body: ${Date.now() - t0} ms`);
});
