// summarize_digest.test.mjs - the daily digest e-mail, end to end through
// real programs: enrich writes a day of data, the summarizer writes the
// day's summaries at the tenant's hour and then queues one digest per
// member who opted in, and the alert worker's delivery loop sends them
// over SMTP. Each mail is multipart text and HTML with the summaries, the
// numbers and the alerts of the day, a dashboard link and a signed
// one-click unsubscribe link (RFC 8058 headers); the HTML escapes what
// comments wrote; a restart sends nothing twice.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { sleep, startRedis, waitFor } from '../../lib/harness.mjs';
import { alertEnv, smtpSink, startAlert } from '../../lib/alert.mjs';
import { mailSecret, unsubSig } from '../../lib/unsub.mjs';
import {
  DAY, T, loadTenant, makeComments, startSummarize, summarizeEnv, utcDay,
} from '../../lib/summarize.mjs';

let redis;
let sink;
let secret;
const now = Math.floor(Date.now() / 1000);
const day = utcDay(now) - DAY;
const date = new Date(day * 1000).toISOString().slice(0, 10);
const MEMBERS = [
  { sub: 'alice-1', email: 'alice@example.com', role: 'owner', digest: true },
  { sub: 'bob-2', email: 'bob@example.com', role: 'member', digest: false },
  { sub: 'zoe-3', email: 'zoe@example.com', role: 'member', digest: true },
];

before(async () => {
  redis = await startRedis();
  sink = await smtpSink();
  secret = await mailSecret();
  await loadTenant(redis, 'acme', [
    { id: 'rust', name: 'Rüst & <async> ✓', subreddits: ['rust'], query: '' },
    { id: 'go', name: 'Go', subreddits: ['golang'], query: '' },
  ], makeComments({ now, extra: [{ subreddit: 'rust', created: day + 3600,
    body: 'awful horrible terrible hate disgusting </p><script>alert(1)</script> worst' }] }),
  { summary_hour: '0', time_zone: 'UTC' });
  for (const m of MEMBERS) {
    await redis.cmd('HSET', T('acme', 'members'), m.sub, JSON.stringify({
      ...m, joined_ms: 1 }));
  }
  // an alert that fired during the day, and one of the day after
  const event = (fired) => JSON.stringify({ rule: 'r1', topic: 'rust', metric: 'negative_share',
    fired, window_minutes: 60, observed: 0.62, baseline: { mean: 0.18, stddev: 0.05, hours: 168 },
    threshold: 0.33, volume: 41, samples: [] });
  await redis.cmd('XADD', T('acme', 'alerts:history'), `${(day + 50000) * 1000}-0`, 'event',
                  event(new Date((day + 50000) * 1000).toISOString().replace('.000', '')));
  await redis.cmd('XADD', T('acme', 'alerts:history'), `${(day + DAY + 60) * 1000}-0`, 'event',
                  event('later'));
});

after(async () => {
  await sink?.close();
  await redis?.close();
});

test('one digest per opted-in member, once, with summaries, numbers, alerts and a signed unsubscribe',
  async () => {
    const env = summarizeEnv(redis, { ECHOSTREAM_MAIL_SECRET_FILE: secret.file,
                                      ECHOSTREAM_MAIL_BASE_URL: 'https://echo.example/' });
    const sum = startSummarize(env);
    const alert = startAlert(alertEnv(redis, {
      ECHOSTREAM_MAIL_TRANSPORT: 'smtp', ECHOSTREAM_SMTP_URL: sink.url,
      ECHOSTREAM_MAIL_SECRET_FILE: secret.file, ECHOSTREAM_MAIL_BASE_URL: 'https://echo.example/',
      ECHOSTREAM_MAIL_FROM: 'EchoStream <digest@echo.example>' }));
    await waitFor(() => sink.rec.mails.length >= 2, { timeout: 60000, what: 'two digests' });
    await sleep(1500);
    assert.equal(sink.rec.mails.length, 2, 'alice and zoe, not bob');
    assert.deepEqual(sink.rec.mails.flatMap((m) => m.to).sort(),
                     ['alice@example.com', 'zoe@example.com']);
    assert.equal(await redis.cmd('GET', T('acme', 'digest_sched')), date);

    for (const raw of sink.rec.mails) {
      const mail = await simpleParser(raw.raw);
      const to = mail.to.value[0].address;
      const sub = MEMBERS.find((m) => m.email === to).sub;
      assert.match(mail.subject, new RegExp(`^EchoStream digest, \\w+day \\d+ \\w+ \\d{4} \\(UTC\\): ` +
                                            '\\d+ comments, \\d+% negative, 1 alert$'));
      assert.ok(mail.html && mail.text, 'multipart text and HTML');
      // the summaries, whole tenant first, then topics by name
      const all = mail.text.indexOf('== All topics ==');
      const go = mail.text.indexOf('== Go ==');
      const rust = mail.text.indexOf('== Rüst & <async> ✓ ==');
      assert.ok(all >= 0 && go > all && rust > go, mail.text);
      assert.match(mail.text, /\d+ comments \([+-]\d+% on the day before\), \d+% positive/);
      assert.match(mail.text, /Representative comments:/);
      // the day's alert only
      assert.match(mail.text, /== Alerts ==\n- \d\d:\d\d UTC, rust: negative share 62% \(usual 18%\), 41 comments/);
      assert.doesNotMatch(mail.text, /later/);
      assert.match(mail.text, /Open the dashboard: https:\/\/echo\.example\//);
      // what comments wrote is text in the HTML, never markup
      assert.doesNotMatch(mail.html, /<script>/);
      assert.match(mail.html, /&lt;\/p&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assert.match(mail.html, /Rüst &amp; &lt;async&gt; ✓/);
      // one-click unsubscribe, signed for this member and list
      assert.ok(raw.unsubscribe, raw.raw.slice(0, 600));
      const url = new URL(raw.unsubscribe.replace(/^<|>$/g, ''));
      assert.equal(url.origin + url.pathname, 'https://echo.example/api/v1/unsubscribe');
      assert.equal(url.searchParams.get('t'), 'acme');
      assert.equal(url.searchParams.get('s'), sub);
      assert.equal(url.searchParams.get('l'), 'digest');
      assert.equal(url.searchParams.get('sig'), unsubSig(secret.key, 'acme', sub, 'digest'));
      assert.match(raw.raw, /\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n/);
      assert.ok(mail.text.includes(url.toString()) || mail.text.includes(decodeURI(url.toString())),
                'the link is in the text too');
    }

    // a restart of both queues and sends nothing more
    sum.kill('SIGTERM');
    await sum.exited;
    const again = startSummarize(env);
    await sleep(3000);
    assert.equal(sink.rec.mails.length, 2);
    again.kill('SIGTERM');
    alert.kill('SIGTERM');
    await Promise.all([again.exited, alert.exited]);
  });
