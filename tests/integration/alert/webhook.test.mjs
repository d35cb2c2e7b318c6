// webhook.test.mjs - webhook deliveries as the alert worker makes them:
// es_webhook_post (through the C driver tests/drivers/mail_send.c) against
// real HTTPS receivers (node:https, certificate made here with openssl and
// passed as the private CA).
//
// The receiver checks what a customer's endpoint would: the JSON body
// (Slack-compatible, built by es_webhook_slack_body) and its signature,
// recomputed with node:crypto. Redirects must not be followed (the
// redirect target records any connection), slow receivers time out,
// oversized responses are cut off. Destinations on loopback, private,
// link-local (metadata) addresses, in IPv4-mapped or numeric disguise,
// must be refused without a single connection reaching the listener that
// waits on loopback for one. Since every receiver here is on loopback, the
// deliveries that must succeed run with allow_insecure; the refusals run
// without it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import { connectionRecorder, runDriver, selfSignedCert } from '../../lib/mail.mjs';
import { sleep, waitFor } from '../../lib/harness.mjs';

const SECRET = crypto.randomBytes(32).toString('hex');
const NOW = 1709647380;

let cert;
let receiver;
let recorder;
const requests = [];
const servers = [];

// an HTTPS receiver; the path picks the answer
function handler(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const r = { method: req.method, url: req.url, headers: req.headers, body,
                closedEarly: false };
    requests.push(r);
    const url = new URL(req.url, 'https://x');
    if (url.pathname === '/redirect') {
      res.writeHead(302, { Location: `https://127.0.0.1:${recorder.port}/stolen` });
      res.end();
    } else if (url.pathname.startsWith('/status/')) {
      res.writeHead(Number(url.pathname.slice(8)), { 'Content-Type': 'text/plain' });
      res.end('receiver says\r\nno');
    } else if (url.pathname === '/slow') {
      const t = setTimeout(() => res.end('late'), 15000);
      res.on('close', () => clearTimeout(t));
    } else if (url.pathname === '/big') {
      // 64 MiB, written as fast as the client reads
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      const chunk = Buffer.alloc(65536, 'x');
      let left = 1024;
      r.written = 0;
      res.on('close', () => { r.closedEarly = left > 0; });
      const pump = () => {
        while (left > 0) {
          left--;
          r.written += chunk.length;
          if (!res.write(chunk)) { res.once('drain', pump); return; }
        }
        res.end();
      };
      pump();
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    }
  });
}

async function listen(server, host = '127.0.0.1') {
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(0, host, res);
  });
  servers.push(server);
  return server.address().port;
}

before(async () => {
  cert = await selfSignedCert();
  const srv = https.createServer({ key: cert.keyPem, cert: cert.certPem }, handler);
  receiver = { port: await listen(srv) };
  recorder = await connectionRecorder();
});

after(async () => {
  for (const s of servers) s.closeAllConnections?.();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await recorder?.close();
});

function post(url, extra = [], env = {}) {
  return runDriver('webhook', ['--url', url, '--now', String(NOW), ...extra],
                   { ES_WEBHOOK_SECRET: SECRET, ...env });
}

const secure = () => ['--insecure', '--ca-file', cert.cert];

// the receiver's side of the signature check, in a few lines
function verify(headers, rawBody, secret) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(headers['x-echostream-signature'] || '');
  if (!m) return false;
  const want = crypto.createHmac('sha256', secret).update(`${m[1]}.`).update(rawBody)
    .digest();
  return crypto.timingSafeEqual(want, Buffer.from(m[2], 'hex')) && Number(m[1]);
}

test('the receiver gets a signed Slack-compatible POST and the signature verifies', async () => {
  requests.length = 0;
  const r = await post(`https://127.0.0.1:${receiver.port}/hooks/T0/B0?x=1`, [
    ...secure(), '--title', 'Negative share up: Acme <launch>',
    '--line', 'Negative share 62% (baseline 21% ± 8%) over 60 min',
    '--line', '<!channel> "this is a disaster" — u/someone in r/acme',
    '--link', 'https://es.example/topics/t1',
  ]);
  assert.deepEqual(r.json && [r.json.outcome, r.json.status, r.json.error],
                   [0, 200, ''], r.stdout + r.stderr);
  assert.equal(requests.length, 1);
  const q = requests[0];
  assert.equal(q.method, 'POST');
  assert.equal(q.url, '/hooks/T0/B0?x=1');
  assert.equal(q.headers['content-type'], 'application/json');
  assert.match(q.headers['user-agent'], /^EchoStream-Webhook\//);
  assert.equal(q.headers.expect, undefined);
  assert.equal(verify(q.headers, q.body, SECRET), NOW);
  // a different secret, a different timestamp or a changed body fail
  assert.equal(verify(q.headers, q.body, `${SECRET}0`), false);
  assert.equal(verify({ 'x-echostream-signature': q.headers['x-echostream-signature']
    .replace(`t=${NOW}`, `t=${NOW + 1}`) }, q.body, SECRET), false);
  assert.equal(verify(q.headers, Buffer.concat([q.body, Buffer.from(' ')]), SECRET), false);

  const body = JSON.parse(q.body.toString('utf8'));
  assert.equal(body.text, 'Negative share up: Acme &lt;launch&gt;\n' +
    'Negative share 62% (baseline 21% ± 8%) over 60 min\n' +
    '&lt;!channel&gt; "this is a disaster" — u/someone in r/acme');
  assert.deepEqual(body.blocks.map((b) => b.type), ['header', 'section', 'actions']);
  assert.equal(body.blocks[0].text.text, 'Negative share up: Acme <launch>');
  assert.equal(body.blocks[2].elements[0].url, 'https://es.example/topics/t1');
  assert.deepEqual(body.echostream, { driver: 'mail_send' });
});

test('5xx and 429 are retryable, other 4xx permanent', async () => {
  for (const [code, outcome] of [[500, 1], [503, 1], [429, 1], [400, -1],
                                 [404, -1], [410, -1], [201, 0], [204, 0]]) {
    const r = await post(`https://127.0.0.1:${receiver.port}/status/${code}`,
                         [...secure(), '--body', '{"a":1}']);
    assert.deepEqual([r.json?.outcome, r.json?.status], [outcome, code], r.stdout);
    if (outcome !== 0) {
      // the receiver's words, made printable
      assert.match(r.json.error, new RegExp(`^webhook: HTTP ${code}: receiver says  no$`));
    }
  }
});

test('a redirect is not followed: the target is never contacted', async () => {
  const before = recorder.hits.length;
  const r = await post(`https://127.0.0.1:${receiver.port}/redirect`, secure());
  assert.deepEqual([r.json?.outcome, r.json?.status], [-1, 302], r.stdout + r.stderr);
  await sleep(200);
  assert.equal(recorder.hits.length, before);
});

test('a receiver that does not answer in time: retryable, within the limit', async () => {
  const r = await post(`https://127.0.0.1:${receiver.port}/slow`,
                       [...secure(), '--timeout-ms', '1000']);
  assert.equal(r.json?.outcome, 1, r.stdout + r.stderr);
  assert.equal(r.json.status, 0);
  assert.match(r.json.error, /timeout|timed out/i);
  assert.ok(r.ms < 6000, `took ${r.ms} ms`);
});

test('an oversized response is cut off; the status still counts', async () => {
  requests.length = 0;
  const r = await post(`https://127.0.0.1:${receiver.port}/big`,
                       [...secure(), '--max-response', '65536']);
  assert.deepEqual([r.json?.outcome, r.json?.status], [0, 200], r.stdout + r.stderr);
  assert.match(r.json.error, /cut at 65536 bytes/);
  await sleep(300);
  const q = requests.find((x) => x.url === '/big');
  assert.ok(q.closedEarly, 'the client hung up before the end');
  assert.ok(q.written < 64 << 20, `${q.written} bytes written`);
});

test('an untrusted certificate gets nothing posted to it', async () => {
  requests.length = 0;
  const r = await post(`https://127.0.0.1:${receiver.port}/`, ['--insecure']);
  assert.notEqual(r.json?.outcome, 0, r.stdout);
  assert.equal(requests.length, 0);
});

test('loopback, private, metadata and disguised destinations are refused, never contacted', async () => {
  const p = recorder.port;
  const urls = [
    `https://127.0.0.1:${p}/`, `https://localhost:${p}/`, `https://[::1]:${p}/`,
    'https://10.0.0.1/', 'https://169.254.169.254/latest/meta-data/',
    `https://[::ffff:127.0.0.1]:${p}/`, `https://2130706433:${p}/`,
    `https://0x7f.1:${p}/`, `https://017700000001:${p}/`, `https://127.1:${p}/`,
    `https://[::ffff:7f00:1]:${p}/`, `https://[64:ff9b::7f00:1]:${p}/`,
    `https://0.0.0.0:${p}/`, 'https://192.168.1.1/', 'https://172.16.0.1/',
    'https://100.64.0.1/', 'https://[fd00:ec2::254]/', 'https://[fe80::1]/',
  ];
  for (const url of urls) {
    const r = await post(url, ['--timeout-ms', '3000']);
    assert.equal(r.json?.outcome, -1, `${url}: ${r.stdout}`);
    assert.match(r.json.error, /destination refused/, url);
    assert.equal(r.json.status, 0);
  }
  // plain http is refused without allow_insecure, also to a public name
  for (const url of [`http://127.0.0.1:${p}/`, 'http://example.com/']) {
    const r = await post(url);
    assert.equal(r.json?.outcome, -1, `${url}: ${r.stdout}`);
    assert.match(r.json.error, /https/);
  }
  await sleep(200);
  assert.deepEqual(recorder.hits, []);

  // the recorder does see a connection when one is allowed to happen
  const r = await post(`https://127.0.0.1:${p}/`, ['--insecure', '--timeout-ms', '3000']);
  assert.equal(r.json?.outcome, 1, r.stdout);
  await waitFor(() => recorder.hits.length === 1, { what: 'the control connection' });
});

test('with allow_insecure, http:// to loopback is delivered (development)', async () => {
  const got = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.end('ok');
    });
  });
  const port = await listen(srv);
  const r = await post(`http://127.0.0.1:${port}/dev`, ['--insecure', '--body', '{"k":"v"}']);
  assert.deepEqual([r.json?.outcome, r.json?.status], [0, 200], r.stdout + r.stderr);
  assert.equal(got.length, 1);
  assert.equal(got[0].body.toString(), '{"k":"v"}');
  assert.equal(verify(got[0].headers, got[0].body, SECRET), NOW);
});
