// alert_detect.test.mjs - spike detection by the real echostream-alert
// against a real Redis: series written in the documented key format
// (per-minute and per-hour buckets, comment records, recent sets) with a
// known spike, then the history, the rule's state, the delivery records
// and the mail that reaches an SMTP sink (npm smtp-server).
//
// The worker ticks every 0.2 s. Cool-down and hysteresis, which take
// minutes and hours of real time, run on a shifted clock: the worker is
// restarted with --clock-offset-ms and the series are written for the
// minutes its clock then reads.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';

import { startRedis, waitFor } from '../../lib/harness.mjs';
import {
  MIN, HOUR, tkey, setTenant, writeHours, writeMinutes, addComments,
  alertEnv, runTicks, startAlert, waitTicks, history, deliveries, ruleState,
  smtpSink, QUEUE,
} from '../../lib/alert.mjs';

let redis;
let sink;

before(async () => {
  redis = await startRedis();
  sink = await smtpSink();
});

after(async () => {
  await sink?.close();
  await redis?.close();
});

const NORMAL = { n: 600, neg: 108, cs: 600 * 1000 }; // share 0.18 an hour

// a body of 400 characters, many of them two bytes long
const LONG = 'é'.repeat(150) + 'x'.repeat(250);

test('a negative spike records one event with its figures and samples, and ' +
     'mails each recipient once', async () => {
  const T = 'acme';
  const now = Date.now();
  const M = Math.floor(now / MIN);
  const H = Math.floor(now / HOUR);
  await setTenant(redis, T, {
    topics: [{ id: 'rust', name: 'Rust async' }],
    members: [
      { sub: 'u1', email: 'Ops@Example.com', alert_email: true },
      { sub: 'u2', email: 'dev@example.com', alert_email: false },
      { sub: 'u3', email: 'lead@example.com' },
    ],
    // stored before metric and window_minutes existed
    rules: [{ id: 'r1', topic: 'rust', enabled: true, min_volume: 20,
              sensitivity: 3.0, cooldown_minutes: 60,
              email: ['Lead@Example.com'], webhook: null }],
  });
  await writeHours(redis, T, 'rust', H - 200, H + 3, NORMAL);
  // the last hour and a few minutes ahead: 10 a minute, 6 negative
  await writeMinutes(redis, T, 'rust', M - 70, M + 4, { n: 10, neg: 6,
                                                         cs: -30000 });
  await addComments(redis, T, 'rust', [
    { id: 'k1', ms: now - 5 * MIN, label: 'negative', compound: -0.2,
      body: 'meh' },
    { id: 'k2', ms: now - 6 * MIN, label: 'negative', compound: -0.8,
      body: LONG, author: 'carol' },
    { id: 'k3', ms: now - 7 * MIN, label: 'negative', compound: -0.5,
      body: 'bad' },
    { id: 'k4', ms: now - 8 * MIN, label: 'negative', compound: -0.7,
      body: 'worse' },
    { id: 'k5', ms: now - 9 * MIN, label: 'negative', deleted: true },
    { id: 'k6', ms: now - 10 * MIN, label: 'negative', compound: -0.6,
      body: 'awful' },
    { id: 'k7', ms: now - 11 * MIN, label: 'negative', compound: -0.1,
      body: 'hmm' },
    // outside the window: never a sample however negative
    { id: 'k8', ms: now - 3 * HOUR, label: 'negative', compound: -0.99,
      body: 'old news' },
    // not negative: not in the negative set
    { id: 'k9', ms: now - 2 * MIN, label: 'positive', compound: 0.9,
      body: 'great' },
  ]);

  const env = alertEnv(redis, { ECHOSTREAM_SMTP_URL: sink.url,
                                ECHOSTREAM_MAIL_TRANSPORT: 'auto' });
  const p = startAlert(env);
  try {
    await waitFor(async () => (await history(redis, T)).length > 0,
      { timeout: 10000, what: 'an alert' });
    await waitFor(async () => sink.rec.mails.length >= 2,
      { timeout: 10000, what: 'two mails' });
    // many more ticks with the spike still there: the cool-down holds
    const st0 = await waitTicks(redis, p, 1);
    await waitTicks(redis, p, st0.ticks + 10);
  } finally {
    p.kill('SIGTERM');
  }
  assert.equal((await p.exited).code, 0, p.output());

  const h = await history(redis, T);
  assert.equal(h.length, 1, 'exactly one history entry');
  const ev = h[0].event;
  assert.equal(ev.rule, 'r1');
  assert.equal(ev.topic, 'rust');
  assert.equal(ev.metric, 'negative_share');
  assert.equal(ev.window_minutes, 60);
  assert.equal(ev.observed, 0.6);
  assert.equal(ev.volume, 600);
  assert.deepEqual(ev.baseline, { mean: 0.18, stddev: 0.05, hours: 168 });
  assert.equal(ev.threshold, 0.33);
  assert.match(ev.fired, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const fired = Date.parse(ev.fired);
  assert.ok(Math.abs(fired - now) < 20000, ev.fired);
  assert.equal(Date.parse(ev.window.from),
    (Math.floor(Date.parse(ev.window.to) / MIN) - 59) * MIN);

  // the five most negative comments of the window, newest first on ties
  assert.deepEqual(ev.samples.map((s) => s.id), ['k2', 'k4', 'k6', 'k3', 'k1']);
  const k2 = ev.samples[0];
  assert.equal(k2.author, 'carol');
  assert.equal(k2.subreddit, 'rust');
  assert.equal(k2.label, 'negative');
  assert.equal(k2.compound, -0.8);
  assert.equal(k2.link, 'https://www.reddit.com/r/rust/comments/p1/post/k2/');
  assert.equal([...k2.body].length, 280);
  assert.equal(k2.body, LONG.slice(0, 279) + '…');

  const state = await ruleState(redis, T, 'r1');
  assert.equal(state.armed, false);
  assert.equal(state.event, h[0].id);
  assert.equal(state.quiet_until_ms - state.fired_ms, 60 * MIN);

  // one e-mail delivery, to the rule's address and the opted-in member
  const d = await deliveries(redis, T);
  assert.deepEqual(Object.keys(d), [`${h[0].id}:email`]);
  const rec = d[`${h[0].id}:email`];
  assert.equal(rec.kind, 'alert');
  assert.equal(rec.channel, 'email');
  assert.equal(rec.ref, h[0].id);
  assert.deepEqual(rec.to, ['lead@example.com', 'ops@example.com']);
  assert.equal(rec.status, 'sent');
  assert.equal(rec.attempts, 1);
  assert.ok(rec.sent_ms >= rec.created_ms);
  assert.equal(await redis.cmd('XLEN', QUEUE), 0, 'sent entries leave');

  // one message per recipient, each naming only its own address
  assert.equal(sink.rec.mails.length, 2);
  const byTo = Object.fromEntries(sink.rec.mails.map((m) => [m.to[0], m]));
  assert.deepEqual(Object.keys(byTo).sort(),
    ['lead@example.com', 'ops@example.com']);
  for (const m of sink.rec.mails) {
    assert.equal(m.to.length, 1);
    assert.equal(m.from, 'echostream@localhost');
    const parsed = await simpleParser(m.raw);
    assert.equal(parsed.subject,
      '[EchoStream] Negative spike on Rust async: 60% negative (usual 18%)');
    assert.deepEqual(parsed.to.value.map((a) => a.address), m.to);
    assert.match(parsed.text, /Observed: 60% over the last 60 minutes \(600 comments\)/);
    assert.match(parsed.text, /Usual: 18%/);
    assert.match(parsed.text, /Alert threshold: 33%/);
    assert.ok(parsed.text.includes(
      'https://www.reddit.com/r/rust/comments/p1/post/k4/'));
    assert.ok(parsed.text.includes('https://echostream.example/'));
    assert.match(parsed.html, /<a href="https:\/\/www\.reddit\.com\/r\/rust\/comments\/p1\/post\/k2\/">/);
    assert.ok(parsed.messageId.includes(h[0].id), parsed.messageId);
  }
  assert.notEqual(sink.rec.mails[0].messageId, sink.rec.mails[1].messageId);
});

test('cool-down and hysteresis, on a shifted clock', async () => {
  const T = 'beta';
  const now = Date.now();
  const M = Math.floor(now / MIN);
  const H = Math.floor(now / HOUR);
  const rule = (id, topic, cooldown) => ({
    id, topic, enabled: true, min_volume: 20, sensitivity: 3,
    cooldown_minutes: cooldown, email: [], webhook: null,
    metric: 'negative_share', window_minutes: 5 });
  await setTenant(redis, T, {
    topics: [{ id: 'cool' }, { id: 'hyst' }],
    rules: [rule('c1', 'cool', 60), rule('h1', 'hyst', 1)],
  });
  for (const topic of ['cool', 'hyst']) {
    await writeHours(redis, T, topic, H - 200, H + 4, NORMAL);
  }
  const SPIKE = { n: 10, neg: 8, cs: -50000 };
  const CALM = { n: 10, neg: 1, cs: 10000 };
  // the minutes the worker reads at an offset of o minutes (with slack
  // for the minutes this test takes)
  const at = (topic, o, b) => writeMinutes(redis, T, topic, M + o - 6,
                                           M + o + 4, b);
  await at('cool', 0, SPIKE);
  await at('cool', 10, CALM);
  await at('cool', 20, SPIKE);
  await at('cool', 65, SPIKE);
  await at('hyst', 0, SPIKE);
  await at('hyst', 10, SPIKE);
  await at('hyst', 20, CALM);
  await at('hyst', 30, SPIKE);

  const counts = async () => {
    const h = await history(redis, T);
    return { cool: h.filter((e) => e.event.rule === 'c1').length,
             hyst: h.filter((e) => e.event.rule === 'h1').length };
  };
  const phase = (o) => runTicks(redis, alertEnv(redis),
                                ['--clock-offset-ms', String(o * MIN)], 4);

  let r = await phase(0);
  assert.equal(r.exit.code, 0, r.output);
  assert.deepEqual(await counts(), { cool: 1, hyst: 1 });
  assert.equal((await ruleState(redis, T, 'c1')).armed, false);

  // +10: cool is calm again and re-arms; hyst is still high: past its
  // one-minute cool-down but not re-armed, so it stays quiet
  r = await phase(10);
  assert.deepEqual(await counts(), { cool: 1, hyst: 1 }, r.output);
  assert.equal((await ruleState(redis, T, 'c1')).armed, true);
  assert.equal((await ruleState(redis, T, 'h1')).armed, false);

  // +20: cool spikes inside its hour of cool-down: quiet; hyst re-arms
  r = await phase(20);
  assert.deepEqual(await counts(), { cool: 1, hyst: 1 }, r.output);
  assert.equal((await ruleState(redis, T, 'h1')).armed, true);

  // +30: hyst spikes again, re-armed and past its cool-down: fires
  r = await phase(30);
  assert.deepEqual(await counts(), { cool: 1, hyst: 2 }, r.output);

  // +65: cool's hour is over and it was re-armed: fires
  r = await phase(65);
  assert.deepEqual(await counts(), { cool: 2, hyst: 2 }, r.output);
  const cool = (await history(redis, T)).filter((e) => e.event.rule === 'c1');
  assert.ok(Date.parse(cool[1].event.fired) - Date.parse(cool[0].event.fired) >=
            60 * MIN);
  assert.equal(cool[1].event.window_minutes, 5);
  assert.equal(cool[1].event.observed, 0.8);
});

test('silent below min_volume, while learning and when disabled; other ' +
     'metrics fire; a malformed rule is skipped and logged once; old ' +
     'delivery records are pruned',
async () => {
  const T = 'gamma';
  const now = Date.now();
  const M = Math.floor(now / MIN);
  const H = Math.floor(now / HOUR);
  const base = { enabled: true, sensitivity: 3, cooldown_minutes: 60,
                 email: [], webhook: null };
  await setTenant(redis, T, {
    topics: [{ id: 'big' }, { id: 'young' }, { id: 'loud' }, { id: 'sour' }],
    rules: [
      // the window holds 600 comments
      { ...base, id: 'm1', topic: 'big', min_volume: 601 },
      { ...base, id: 'm2', topic: 'big', min_volume: 20, enabled: false },
      { ...base, id: 'l1', topic: 'young', min_volume: 20 },
      { ...base, id: 'v1', topic: 'loud', min_volume: 20, metric: 'volume',
        window_minutes: 15 },
      { ...base, id: 'c1', topic: 'sour', min_volume: 20,
        metric: 'mean_compound', window_minutes: 30 },
      { id: 'bad1', text: '{"topic":"big","metric":"happiness"}' },
      { id: 'bad2', text: 'not json' },
    ],
  });
  await writeHours(redis, T, 'big', H - 200, H + 3, NORMAL);
  await writeMinutes(redis, T, 'big', M - 70, M + 4, { n: 10, neg: 9 });
  // 20 hours of history only
  await writeHours(redis, T, 'young', H - 21, H + 3, NORMAL);
  await writeMinutes(redis, T, 'young', M - 70, M + 4, { n: 10, neg: 9 });
  // 120 comments an hour, then 12 a minute (720 an hour)
  await writeHours(redis, T, 'loud', H - 200, H + 3, { n: 120, neg: 20 });
  await writeMinutes(redis, T, 'loud', M - 20, M + 4, { n: 12, neg: 2 });
  // mean compound 0.3, then -0.4
  await writeHours(redis, T, 'sour', H - 200, H + 3,
                   { n: 100, neg: 10, cs: 100 * 3000 });
  await writeMinutes(redis, T, 'sour', M - 40, M + 4,
                     { n: 5, neg: 4, cs: 5 * -4000 });

  // delivery records: closed ones older than 30 days go, the rest stay
  const old = now - 31 * 24 * HOUR;
  for (const [id, status, created] of [['old-sent', 'sent', old],
    ['old-failed', 'failed', old], ['old-pending', 'pending', old],
    ['new-sent', 'sent', now - HOUR]]) {
    await redis.cmd('HSET', tkey(T, 'deliveries'), id, JSON.stringify({
      id, kind: 'alert', channel: 'email', to: ['x@example.com'], ref: '1-0',
      status, attempts: 1, created_ms: created }));
  }

  const r = await runTicks(redis, alertEnv(redis), [], 6);
  assert.equal(r.exit.code, 0, r.output);
  const kept = Object.keys(await deliveries(redis, T));
  assert.ok(!kept.includes('old-sent') && !kept.includes('old-failed'));
  assert.ok(kept.includes('old-pending') && kept.includes('new-sent'));
  const h = await history(redis, T);
  assert.deepEqual(h.map((e) => e.event.rule).sort(), ['c1', 'v1']);
  const v1 = h.find((e) => e.event.rule === 'v1').event;
  assert.equal(v1.metric, 'volume');
  assert.equal(v1.window_minutes, 15);
  assert.equal(v1.observed, 720);
  assert.equal(v1.volume, 180);
  assert.equal(v1.baseline.mean, 120);
  // sigma 0, floored at sqrt(120)
  assert.equal(v1.baseline.stddev, Math.round(Math.sqrt(120) * 1e4) / 1e4);
  const c1 = h.find((e) => e.event.rule === 'c1').event;
  assert.equal(c1.metric, 'mean_compound');
  assert.equal(c1.observed, -0.4);
  assert.equal(c1.baseline.mean, 0.3);
  assert.equal(c1.threshold, 0.15);

  // learning, below min_volume and disabled: no state was ever written
  for (const id of ['m1', 'm2', 'l1', 'bad1', 'bad2']) {
    assert.equal(await ruleState(redis, T, id), null, id);
  }
  assert.equal(r.status.rules_malformed, 2);
  assert.ok(r.status.rules_learning >= 1);
  // each malformed rule logged once, however many ticks saw it
  const lines = r.output.split('\n').filter((l) =>
    l.includes('alert rule ignored: malformed'));
  assert.equal(lines.length, 2, r.output);
  assert.ok(lines.some((l) => /rule=bad1 .*metric must be/.test(l)));

  // the state of a rule deleted since goes with it
  await redis.cmd('HDEL', tkey(T, 'alerts:rules'), 'v1');
  await runTicks(redis, alertEnv(redis), [], 2);
  assert.equal(await ruleState(redis, T, 'v1'), null);
  assert.notEqual(await ruleState(redis, T, 'c1'), null);
});
