// mail_smtp.test.mjs - e-mail as the alert worker sends it: a message
// built by es_mime_build and sent by es_smtp_send (through the C driver
// tests/drivers/mail_send.c) into a real SMTP server (npm smtp-server)
// on this machine, then parsed by a real mail parser (mailparser).
//
// The TLS policy is checked from the server's side: on loopback a mail
// catcher without STARTTLS is fine; when STARTTLS is offered the session
// upgrades (certificate made here with openssl, passed as the private CA)
// or fails when the certificate is not trusted; to a host that is not
// loopback (this machine's own non-127 address) with require_tls the
// session stops before MAIL FROM. AUTH PLAIN and LOGIN must deliver the
// credentials; refused recipients, 4xx replies, dropped and silent
// connections must come back as give-up or retry.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { runDriver, selfSignedCert, nonLoopbackIPv4 } from '../../lib/mail.mjs';

const FROM = 'EchoStream Alerts <alerts@echostream.example>';
const SUBJECT = 'Alerte: sentiment négatif ↑ 東京 🚨';
const UNSUB = 'https://es.example/api/v1/unsubscribe?t=acme&s=u1&l=alerts&sig=' +
  'ab'.repeat(32);

let cert;
const servers = [];

before(async () => {
  const ip = nonLoopbackIPv4();
  cert = await selfSignedCert({ ips: ['127.0.0.1', '::1', ...(ip ? [ip] : [])] });
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

// an SMTP server recording sessions, AUTH, recipients and messages
async function startSmtp({ tls = false, authMethods = ['PLAIN', 'LOGIN'],
                           host = '127.0.0.1', refuse = {} } = {}) {
  const rec = { connections: 0, auths: [], rcpts: [], mailFroms: [], mails: [] };
  const server = new SMTPServer({
    logger: false,
    secure: false,
    authOptional: true,
    allowInsecureAuth: true,
    authMethods,
    disabledCommands: tls ? [] : ['STARTTLS'],
    ...(tls ? { key: cert.keyPem, cert: cert.certPem } : {}),
    onConnect(session, cb) { rec.connections++; cb(); },
    onAuth(auth, session, cb) {
      rec.auths.push({ method: auth.method, username: auth.username,
                       password: auth.password, secure: session.secure });
      cb(null, { user: auth.username });
    },
    onMailFrom(addr, session, cb) { rec.mailFroms.push(addr.address); cb(); },
    onRcptTo(addr, session, cb) {
      rec.rcpts.push(addr.address);
      const code = refuse[addr.address];
      if (code) {
        const e = new Error(`mailbox ${addr.address} refused`);
        e.responseCode = code;
        return cb(e);
      }
      return cb();
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        rec.mails.push({ raw: Buffer.concat(chunks), secure: session.secure,
                         from: session.envelope.mailFrom.address,
                         to: session.envelope.rcptTo.map((r) => r.address) });
        cb(null, 'queued');
      });
    },
  });
  server.on('error', () => {});
  await new Promise((res, rej) => {
    server.server.once('error', rej);
    server.listen(0, host, res);
  });
  const s = { rec, port: server.server.address().port, host,
              close: () => new Promise((r) => server.close(r)) };
  servers.push(s);
  return s;
}

function smtpArgs(url, { to = ['Ops <ops@example.com>'], subject = SUBJECT,
                         text = 'Negative share 62%\nbaseline 21%', html,
                         extra = [] } = {}) {
  const args = ['--url', url, '--from', FROM, '--subject', subject,
                '--text', text, '--date', '1709647380', ...extra];
  for (const t of to) args.push('--to', t);
  if (html !== undefined) args.push('--html', html);
  return args;
}

test('plain SMTP on loopback (no STARTTLS offered) delivers a message that parses exactly', async () => {
  const srv = await startSmtp();
  const r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${srv.port}`, {
    to: ['Zoë Ünïcode <zoe@example.com>', '"Doe, Jane" <jane@example.com>',
         'ops@example.com'],
    html: '<p>Negative share <b>62%</b></p>',
    extra: ['--unsub', UNSUB, '--require-tls', '1'],
  }));
  assert.equal(r.json?.outcome, 0, r.stdout + r.stderr);
  assert.equal(srv.rec.mails.length, 1);
  const m = srv.rec.mails[0];
  assert.equal(m.secure, false);
  assert.equal(m.from, 'alerts@echostream.example');
  assert.deepEqual(m.to, ['zoe@example.com', 'jane@example.com', 'ops@example.com']);

  const p = await simpleParser(m.raw);
  assert.deepEqual(p.from.value, [{ address: 'alerts@echostream.example',
                                    name: 'EchoStream Alerts' }]);
  assert.deepEqual(p.to.value, [
    { address: 'zoe@example.com', name: 'Zoë Ünïcode' },
    { address: 'jane@example.com', name: 'Doe, Jane' },
    { address: 'ops@example.com', name: '' },
  ]);
  assert.equal(p.subject, SUBJECT);
  assert.equal(p.date.toISOString(), '2024-03-05T14:03:00.000Z');
  assert.match(p.messageId, /^<1709647380\.[0-9a-f]{32}@echostream\.example>$/);
  assert.deepEqual(p.headers.get('list'), {
    unsubscribe: { url: UNSUB },
    'unsubscribe-post': { name: 'List-Unsubscribe=One-Click' },
  });
  const raw = m.raw.toString('latin1');
  assert.match(raw, /\r\nList-Unsubscribe: <https:\/\/es\.example\/[^>]+>\r\n/);
  assert.match(raw, /\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n/);
  assert.equal(p.headers.get('content-type').value, 'multipart/alternative');
  assert.equal(p.text, 'Negative share 62%\nbaseline 21%');
  assert.equal(p.html, '<p>Negative share <b>62%</b></p>');
  // 7-bit, CRLF only, short lines: no relay needs to touch it
  assert.ok(/^[\x00-\x7f]*$/.test(raw));
  assert.ok(!/[^\r]\n/.test(raw));
  // (a URL cannot be folded: RFC 2369 forbids white space inside <>)
  for (const line of raw.split('\r\n')) {
    assert.ok(line.length <= (line.startsWith('List-Unsubscribe:') ? 998 : 78), line);
  }
});

test('without html the message is one text/plain part', async () => {
  const srv = await startSmtp();
  const text = 'Line one\nA long line with ünïcode that must be wrapped by ' +
    'quoted-printable since it goes past seventy-six columns.\n.starts with a dot';
  const r = await runDriver('smtp', smtpArgs(`smtp://localhost:${srv.port}`,
                                             { text, subject: 'Daily digest' }));
  assert.equal(r.json?.outcome, 0, r.stdout + r.stderr);
  const p = await simpleParser(srv.rec.mails[0].raw);
  assert.equal(p.headers.get('content-type').value, 'text/plain');
  assert.equal(p.headers.get('content-type').params.charset, 'utf-8');
  assert.equal(p.html, false);
  assert.equal(p.text.replace(/\n$/, ''), text);
  assert.equal(p.subject, 'Daily digest');
});

test('subjects and display names in any script decode exactly', async () => {
  const srv = await startSmtp();
  const cases = [
    ['Zoë', 'Alerte: sentiment négatif ↑ 東京 🚨'],
    ['東京 チーム', '東京'.repeat(40)],
    ['🚨 On call 🚨', '🚨'.repeat(30)],
    ['Ops "Night" Team', 'ASCII that looks like =?UTF-8?B?QQ==?= an encoded word'],
    ['Ωμέγα, Άλφα', 'a_single_very_long_word_that_cannot_be_folded_anywhere_in_the_header_line_at_all'],
    ['Straße', 'Many words '.repeat(20).trim()],
  ];
  for (const [name, subject] of cases) {
    const q = `"${name.replace(/["\\]/g, '\\$&')}" <n@example.com>`;
    const r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${srv.port}`,
                                               { to: [q], subject }));
    assert.equal(r.json?.outcome, 0, r.stdout + r.stderr);
    const p = await simpleParser(srv.rec.mails.at(-1).raw);
    assert.equal(p.subject, subject);
    assert.deepEqual(p.to.value, [{ address: 'n@example.com', name }]);
  }
});

test('STARTTLS offered: the session upgrades, verified against the private CA', async () => {
  const srv = await startSmtp({ tls: true });
  const r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${srv.port}`, {
    extra: ['--ca-file', cert.cert],
  }));
  assert.equal(r.json?.outcome, 0, r.stdout + r.stderr);
  assert.equal(srv.rec.mails.length, 1);
  assert.equal(srv.rec.mails[0].secure, true);
  const p = await simpleParser(srv.rec.mails[0].raw);
  assert.equal(p.subject, SUBJECT);
});

test('STARTTLS with a certificate nobody vouches for fails for good, nothing sent', async () => {
  const srv = await startSmtp({ tls: true });
  const r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${srv.port}`));
  assert.equal(r.json?.outcome, -1, r.stdout + r.stderr);
  assert.equal(srv.rec.mailFroms.length, 0);
  assert.equal(srv.rec.mails.length, 0);
});

for (const method of ['PLAIN', 'LOGIN']) {
  test(`AUTH ${method} hands over the credentials (over STARTTLS), never printed`, async () => {
    const srv = await startSmtp({ tls: true, authMethods: [method] });
    const password = `pa:ss wörd-${method}-${Date.now()}`;
    const r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${srv.port}`, {
      extra: ['--ca-file', cert.cert, '--user', 'AKIASMTPUSER'],
    }), { ES_SMTP_PASSWORD: password });
    assert.equal(r.json?.outcome, 0, r.stdout + r.stderr);
    assert.deepEqual(srv.rec.auths, [{ method, username: 'AKIASMTPUSER', password,
                                       secure: true }]);
    assert.equal(srv.rec.mails.length, 1);
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password));
  });
}

test('AUTH on a loopback catcher without TLS works too', async () => {
  const srv = await startSmtp({ authMethods: ['PLAIN'] });
  const r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${srv.port}`, {
    extra: ['--user', 'dev'],
  }), { ES_SMTP_PASSWORD: 'devpass' });
  assert.equal(r.json?.outcome, 0, r.stdout + r.stderr);
  assert.deepEqual(srv.rec.auths.map((a) => [a.username, a.password, a.secure]),
                   [['dev', 'devpass', false]]);
});

test('a refused recipient (5xx) is permanent, a 4xx reply retryable; nothing delivered', async () => {
  const srv = await startSmtp({ refuse: { 'gone@example.com': 550,
                                          'later@example.com': 451 } });
  let r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${srv.port}`, {
    to: ['ok@example.com', 'gone@example.com'],
  }));
  assert.equal(r.json?.outcome, -1, r.stdout + r.stderr);
  assert.match(r.json.error, /550/);
  r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${srv.port}`, {
    to: ['later@example.com'],
  }));
  assert.equal(r.json?.outcome, 1, r.stdout + r.stderr);
  assert.match(r.json.error, /451/);
  assert.equal(srv.rec.mails.length, 0);
});

test('a dropped connection, a silent server and a closed port are retryable', async () => {
  // greets, then hangs up at the first command
  const drop = net.createServer((sock) => {
    sock.write('220 drop.example ESMTP\r\n');
    sock.once('data', () => sock.destroy());
  });
  // accepts and never says a word
  const silent = net.createServer(() => {});
  const held = [];
  silent.on('connection', (s) => held.push(s));
  await new Promise((r) => drop.listen(0, '127.0.0.1', r));
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  const closedPort = await new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
  try {
    let r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${drop.address().port}`));
    assert.equal(r.json?.outcome, 1, r.stdout + r.stderr);
    r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${silent.address().port}`, {
      extra: ['--timeout-ms', '1500'],
    }));
    assert.equal(r.json?.outcome, 1, r.stdout + r.stderr);
    assert.ok(r.ms < 10000, `timed out after ${r.ms} ms`);
    r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${closedPort}`));
    assert.equal(r.json?.outcome, 1, r.stdout + r.stderr);
  } finally {
    for (const s of held) s.destroy();
    await new Promise((r) => drop.close(r));
    await new Promise((r) => silent.close(r));
  }
});

test('off loopback, require_tls refuses a server without STARTTLS before MAIL FROM', async (t) => {
  const ip = nonLoopbackIPv4();
  if (!ip) {
    // the decision itself is unit-tested (es_smtp_test.c)
    t.skip('this machine has no address outside 127.0.0.0/8');
    return;
  }
  const plain = await startSmtp({ host: ip });
  let r = await runDriver('smtp', smtpArgs(`smtp://${ip}:${plain.port}`, {
    extra: ['--require-tls', '1', '--user', 'u'],
  }), { ES_SMTP_PASSWORD: 'must-not-travel-in-clear' });
  assert.equal(r.json?.outcome, -1, r.stdout + r.stderr);
  assert.equal(plain.rec.connections, 1);
  assert.deepEqual(plain.rec.auths, []);
  assert.deepEqual(plain.rec.mailFroms, []);
  assert.equal(plain.rec.mails.length, 0);

  // the same server is fine when TLS is not required (policy, not plumbing)
  r = await runDriver('smtp', smtpArgs(`smtp://${ip}:${plain.port}`, {
    extra: ['--require-tls', '0'],
  }));
  assert.equal(r.json?.outcome, 0, r.stdout + r.stderr);
  assert.equal(plain.rec.mails.length, 1);

  // and a server there that offers STARTTLS gets an encrypted session
  const tls = await startSmtp({ host: ip, tls: true });
  r = await runDriver('smtp', smtpArgs(`smtp://${ip}:${tls.port}`, {
    extra: ['--require-tls', '1', '--ca-file', cert.cert],
  }));
  assert.equal(r.json?.outcome, 0, r.stdout + r.stderr);
  assert.equal(tls.rec.mails[0].secure, true);
});

test('a header value carrying CR/LF is refused before anything is sent', async () => {
  const srv = await startSmtp();
  const r = await runDriver('smtp', smtpArgs(`smtp://127.0.0.1:${srv.port}`, {
    subject: 'hi\r\nBcc: victim@example.com',
  }));
  assert.equal(r.code, 3);
  assert.deepEqual(r.json, { refused: true });
  assert.equal(srv.rec.connections, 0);
});
