// alert_ses.test.mjs - the alert worker delivering through Amazon SES v2
// (SendEmail with the raw MIME message) instead of SMTP, against the SES
// double that verifies every SigV4 signature with AWS's own signer: one
// known spike gives one SendEmail per recipient, each the complete
// message (non-ASCII subject encoded, one-click unsubscribe for a member),
// and nothing is sent twice.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';

import { startRedis, sleep, waitFor } from '../../lib/harness.mjs';
import { startSesDouble } from '../../aws/ses_double.mjs';
import { mailSecret } from '../../lib/unsub.mjs';
import {
  MIN, HOUR, setTenant, writeHours, writeMinutes, addComments, alertEnv,
  startAlert, history,
} from '../../lib/alert.mjs';

const KEY = 'AKIDALERTSES00000001';
const SECRET = 'alert/ses/secret/0123456789abcdefghijklm';

let redis;
let ses;

before(async () => {
  redis = await startRedis();
  ses = await startSesDouble({ accessKeyId: KEY, secretAccessKey: SECRET });
});

after(async () => {
  await ses?.stop();
  await redis?.close();
});

test('a spike mailed through SES v2: signed, complete, once per recipient', async () => {
  const T = 'acme';
  const now = Date.now();
  const M = Math.floor(now / MIN);
  const H = Math.floor(now / HOUR);
  await setTenant(redis, T, {
    topics: [{ id: 'rust', name: 'Rüst — Tōkyō team' }],
    members: [{ sub: 'u1', email: 'ops@example.com', alert_email: true }],
    rules: [{ id: 'r1', topic: 'rust', enabled: true, metric: 'negative_share',
              window_minutes: 60, min_volume: 20, sensitivity: 3.0, cooldown_minutes: 60,
              email: ['lead@example.com'], webhook: null }],
  });
  await writeHours(redis, T, 'rust', H - 200, H + 3, { n: 600, neg: 108, cs: 600 * 1000 });
  await writeMinutes(redis, T, 'rust', M - 70, M + 4, { n: 10, neg: 6, cs: -30000 });
  await addComments(redis, T, 'rust', [
    { id: 'k1', ms: now - 5 * MIN, label: 'negative', compound: -0.8, body: 'awful release' },
  ]);
  const secret = await mailSecret();
  const p = startAlert(alertEnv(redis, {
    ECHOSTREAM_MAIL_TRANSPORT: 'auto', ECHOSTREAM_SES_ENDPOINT: ses.endpoint,
    ECHOSTREAM_AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET,
    ECHOSTREAM_MAIL_FROM: 'EchoStream <alerts@echo.example>',
    ECHOSTREAM_MAIL_SECRET_FILE: secret.file,
  }));
  await waitFor(() => ses.messages.length >= 2, { timeout: 20000, what: 'two SendEmail calls' });
  await sleep(1500);
  assert.equal(ses.messages.length, 2);
  assert.equal(ses.badSignatures, 0, 'every call verified with the AWS signer');
  assert.equal((await history(redis, T)).length, 1);
  const byTo = Object.fromEntries(await Promise.all(ses.messages.map(async (m) =>
    [m.to[0].toLowerCase(), await simpleParser(m.raw)])));
  assert.deepEqual(Object.keys(byTo).sort(), ['lead@example.com', 'ops@example.com']);
  for (const mail of Object.values(byTo)) {
    assert.match(mail.subject, /Rüst — Tōkyō team: 60% negative/);
    assert.equal(mail.from.value[0].address, 'alerts@echo.example');
    assert.match(mail.text, /awful release/);
    assert.ok(mail.html);
  }
  // the member gets a one-click unsubscribe link; the rule's address not
  assert.match(ses.messages.find((m) => m.to[0] === 'ops@example.com').raw,
               /\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n/);
  assert.match(ses.messages.find((m) => m.to[0] === 'ops@example.com').raw,
               /\r\nSubject: =\?UTF-8\?/i, 'the non-ASCII subject is an encoded word');
  p.kill('SIGTERM');
  assert.equal((await p.exited).code, 0);
});
