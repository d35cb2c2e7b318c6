// aws_sigv4.test.mjs - the shared SigV4 verifier of the AWS test doubles
// (tests/aws/sigv4.mjs) must accept what libcurl signs (a second signer,
// which agrees with AWS's wherever the path holds nothing to escape; the
// workers' own es_sigv4 is checked in tests/integration/aws) and what the
// AWS SDK signs, and refuse anything altered.
// Requests are signed by the curl command line tool, which is libcurl's own
// signer, and captured by a loopback server; tampering is applied to the
// captured request before it is verified again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { verifySigV4 } from '../../aws/sigv4.mjs';
import { startSqsDouble } from '../../aws/sqs_double.mjs';

const KEY = { accessKeyId: 'AKIASIGV4TEST0001', secretAccessKey: 'sig/V4+secret0123456789abcdefXYZ' };
const TEMP = { accessKeyId: 'ASIASIGV4TEMP0001', secretAccessKey: 'temp/secret+42',
               sessionToken: 'IQoJb3JpZ2luX2VjE+token/==' };

let server;
let port;
let captured = [];

before(async () => {
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      captured.push({ method: req.method, url: req.url, rawHeaders: [...req.rawHeaders],
                      body: Buffer.concat(chunks) });
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
});

after(() => new Promise((r) => server.close(r)));

function curl(args) {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-o', '/dev/null', ...args], (err) => (err ? reject(err) : resolve()));
  });
}

// signs and sends one request with curl, returns what the server received
async function signed({ service = 'sqs', region = 'us-east-1', key = KEY, headers = [],
                        body = '{"QueueUrl":"x"}', path = '/', method = 'POST' }) {
  captured = [];
  const args = ['--aws-sigv4', `aws:amz:${region}:${service}`, '--user',
                `${key.accessKeyId}:${key.secretAccessKey}`, '-X', method];
  for (const h of headers) args.push('-H', h);
  if (body !== null) args.push('--data-binary', body);
  await curl([...args, `http://127.0.0.1:${port}${path}`]);
  assert.equal(captured.length, 1);
  return captured[0];
}

// a request object as node's http server gives it, optionally altered
function asReq(c, { setHeader, dropHeader } = {}) {
  const raw = [];
  for (let i = 0; i < c.rawHeaders.length; i += 2) {
    const name = c.rawHeaders[i];
    if (dropHeader && name.toLowerCase() === dropHeader) continue;
    let value = c.rawHeaders[i + 1];
    if (setHeader && name.toLowerCase() === setHeader[0]) value = setHeader[1];
    raw.push(name, value);
  }
  const headers = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i].toLowerCase()] = raw[i + 1];
  return { method: c.method, url: c.url, rawHeaders: raw, headers };
}

const SQS_HEADERS = ['Content-Type: application/x-amz-json-1.0',
                     'X-Amz-Target: AmazonSQS.SendMessageBatch', 'x-amzn-query-mode: true'];

test('a curl-signed SQS request verifies', async () => {
  const c = await signed({ headers: SQS_HEADERS });
  const v = await verifySigV4(asReq(c), c.body, KEY, { service: 'sqs', region: 'us-east-1' });
  assert.equal(v.ok, true, v.reason);
  assert.ok(v.signedHeaders.includes('x-amz-target'));
});

test('a tampered body fails', async () => {
  const c = await signed({ headers: SQS_HEADERS });
  const v = await verifySigV4(asReq(c), Buffer.from('{"QueueUrl":"y"}'), KEY);
  assert.equal(v.ok, false);
  assert.equal(v.code, 'InvalidSignatureException');
});

test('a tampered signed header fails, a dropped one too', async () => {
  const c = await signed({ headers: SQS_HEADERS });
  let v = await verifySigV4(asReq(c, { setHeader: ['x-amz-target', 'AmazonSQS.PurgeQueue'] }), c.body, KEY);
  assert.equal(v.ok, false);
  v = await verifySigV4(asReq(c, { dropHeader: 'x-amzn-query-mode' }), c.body, KEY);
  assert.equal(v.ok, false);
  assert.match(v.reason, /missing/);
});

test('a wrong secret, unknown key, region or service fails', async () => {
  const c = await signed({ headers: SQS_HEADERS });
  let v = await verifySigV4(asReq(c), c.body, { ...KEY, secretAccessKey: 'other' });
  assert.equal(v.ok, false);
  v = await verifySigV4(asReq(c), c.body, { ...KEY, accessKeyId: 'AKIAOTHER' });
  assert.equal(v.code, 'UnrecognizedClientException');
  v = await verifySigV4(asReq(c), c.body, KEY, { region: 'eu-west-1' });
  assert.equal(v.ok, false);
  assert.match(v.reason, /region/);
  v = await verifySigV4(asReq(c), c.body, KEY, { service: 'comprehend' });
  assert.equal(v.ok, false);
  assert.match(v.reason, /service/);
});

test('missing or malformed Authorization and stale dates fail', async () => {
  const c = await signed({ headers: SQS_HEADERS });
  let v = await verifySigV4(asReq(c, { dropHeader: 'authorization' }), c.body, KEY);
  assert.equal(v.code, 'MissingAuthenticationToken');
  v = await verifySigV4(asReq(c, { setHeader: ['authorization', 'AWS4-HMAC-SHA256 garbage'] }), c.body, KEY);
  assert.equal(v.code, 'IncompleteSignature');
  v = await verifySigV4(asReq(c), c.body, KEY, { now: Date.now() + 3600 * 1000 });
  assert.equal(v.ok, false);
  assert.match(v.reason, /expired/);
});

test('session tokens: signed token passes, missing or wrong token fails', async () => {
  const c = await signed({ key: TEMP, headers: [...SQS_HEADERS, `X-Amz-Security-Token: ${TEMP.sessionToken}`] });
  let v = await verifySigV4(asReq(c), c.body, TEMP);
  assert.equal(v.ok, true, v.reason);
  v = await verifySigV4(asReq(c, { setHeader: ['x-amz-security-token', 'forged'] }), c.body, TEMP);
  assert.equal(v.ok, false);
  const plain = await signed({ key: TEMP, headers: SQS_HEADERS });
  v = await verifySigV4(asReq(plain), plain.body, TEMP);
  assert.equal(v.ok, false);
  assert.match(v.reason, /missing x-amz-security-token/);
  // a long-term key never comes with a token
  v = await verifySigV4(asReq(c), c.body, { ...TEMP, sessionToken: undefined });
  assert.equal(v.ok, false);
});

test('S3-style request with payload hash, encoded path and sorted query', async () => {
  const body = 'object body';
  const sha = (await import('node:crypto')).createHash('sha256').update(body).digest('hex');
  const c = await signed({ service: 's3', method: 'PUT', body, path: '/bucket/a%20b.txt?partNumber=1&uploadId=x',
                           headers: [`x-amz-content-sha256: ${sha}`] });
  let v = await verifySigV4(asReq(c), c.body, KEY, { service: 's3' });
  assert.equal(v.ok, true, v.reason);
  v = await verifySigV4(asReq(c), Buffer.from('other body!'), KEY, { service: 's3' });
  assert.equal(v.code, 'XAmzContentSHA256Mismatch');
});

test('requests signed by the AWS SDK verify in the SQS double', async () => {
  const sqs = await startSqsDouble({ ...KEY, queues: ['q'] });
  try {
    const client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: KEY });
    const out = await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl('q'), MessageBody: 'héllo' }));
    assert.ok(out.MessageId);
    const bad = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', maxAttempts: 1,
                                credentials: { ...KEY, secretAccessKey: 'nope' } });
    await assert.rejects(bad.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl('q'), MessageBody: 'x' })),
      (e) => e.name === 'InvalidSignatureException' && e.$metadata.httpStatusCode === 403);
    assert.equal(sqs.badSignatures, 1);
    assert.deepEqual(sqs.messages('q'), ['héllo']);
    client.destroy();
    bad.destroy();
  } finally {
    await sqs.stop();
  }
});
