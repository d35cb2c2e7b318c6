// s3.test.mjs - es_s3 PutObject against the S3 double, read back with the
// real @aws-sdk/client-s3.
//
// The uploads are made by EchoStream's own client (es_s3 through the s3put
// driver, tests/bench/s3put.c) and checked from the other side: the double
// verifies each SigV4 signature with AWS's own signer and that
// x-amz-content-sha256 is signed and equals the body's hash, and the real
// AWS SDK's GetObject returns the very bytes uploaded. Both addressing
// styles, a session token, retries on 503 SlowDown / 500 / timeouts, and a
// wrong secret are exercised; the double itself is shown to refuse a body
// that does not match its hash.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  S3Client, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
} from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { tmpDir } from '../../lib/harness.mjs';
import { awsEnv, driver, feed } from '../../lib/aws_drivers.mjs';
import { startS3Double } from '../../aws/s3_double.mjs';

const KEY = { accessKeyId: 'AKIAS3UPLOADTEST0001', secretAccessKey: 's3/Upload+Secret0123456789abcdefGHIJ' };
const REGION = 'us-east-1';
const BUCKET = 'echostream-lake';

let s3put;
let dir;
const doubles = [];

before(async () => {
  s3put = await driver('s3put');
  dir = await tmpDir('es-s3-');
});

after(async () => {
  for (const d of doubles) await d.stop();
});

async function double(opts = {}) {
  const d = await startS3Double({ ...KEY, region: REGION, buckets: [BUCKET], ...opts });
  doubles.push(d);
  return d;
}

let fileSeq = 0;
function file(bytes) {
  const p = path.join(dir, `f${++fileSeq}`);
  writeFileSync(p, bytes);
  return p;
}

// uploads with es_s3; resolves {code, out, stderr}
async function put(d, key, bytes, { pathStyle = true, endpoint = d.endpoint, creds = KEY,
                                    extra = [] } = {}) {
  const args = ['--bucket', BUCKET, '--key', key, '--file', file(bytes), '--endpoint', endpoint,
                '--region', REGION, '--timeout-ms', '1000', '--backoff-cap-ms', '50',
                ...(pathStyle ? ['--path-style'] : []), ...extra];
  const r = await feed(s3put, args, '', awsEnv(creds), 's3put');
  return { code: r.code, out: r.lines.join('\n'), stderr: r.stderr };
}

function sdk(d, credentials = KEY) {
  return new S3Client({ endpoint: d.endpoint, region: REGION, credentials, forcePathStyle: true,
                        maxAttempts: 1 });
}

async function getBytes(client, Key) {
  const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return Buffer.from(await out.Body.transformToByteArray());
}

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

test('an upload is read back byte for byte by the real AWS SDK', async () => {
  const d = await double();
  const key = 'source=reddit/dt=2026-11-25/hour=14/part 0+ü~(1).jsonl.zst';
  const bytes = crypto.randomBytes(300 * 1024);
  const r = await put(d, key, bytes, { extra: ['--content-type', 'application/zstd'] });
  assert.equal(r.code, 0, r.out + r.stderr);
  assert.equal(r.out, 'ok');
  const client = sdk(d);
  try {
    assert.ok((await getBytes(client, key)).equals(bytes), 'bytes identical');
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(head.ContentLength, bytes.length);
    assert.equal(head.ContentType, 'application/zstd');
    const list = await client.send(new ListObjectsV2Command({ Bucket: BUCKET,
                                                              Prefix: 'source=reddit/' }));
    assert.deepEqual(list.Contents.map((c) => c.Key), [key]);
    assert.equal(list.Contents[0].Size, bytes.length);
  } finally {
    client.destroy();
  }
  const putReq = d.requests.find((q) => q.method === 'PUT');
  assert.equal(putReq.signature, 'ok');
  assert.equal(putReq.sha256, sha256(bytes), 'x-amz-content-sha256 is the body hash');
  assert.equal(putReq.virtualHost, false);
  assert.equal(d.badSignatures, 0);
  assert.equal(d.badHashes, 0);
  assert.doesNotMatch(r.stderr, /Upload\+Secret/, 'the secret never reaches a log line');
});

test('virtual-hosted addressing, an empty object and a prefix', async () => {
  const d = await double();
  const r = await put(d, 'a/empty.txt', Buffer.alloc(0), { pathStyle: false,
    endpoint: `http://localhost:${d.port}`, extra: ['--prefix', 'tenant-x/'] });
  assert.equal(r.code, 0, r.out + r.stderr);
  const req = d.requests[0];
  assert.equal(req.virtualHost, true, 'the bucket was in the host name');
  assert.equal(req.key, 'tenant-x/a/empty.txt');
  assert.equal(req.signature, 'ok');
  const client = sdk(d);
  try {
    assert.equal((await getBytes(client, 'tenant-x/a/empty.txt')).length, 0);
  } finally {
    client.destroy();
  }
});

test('a session token is sent and signed', async () => {
  const tok = { accessKeyId: 'ASIAS3TEMPORARY0001', secretAccessKey: 'temp/S3+secret',
                sessionToken: `IQoJb3JpZ2luX2Vj${'y'.repeat(400)}==` };
  const d = await double({ keys: [tok] });
  const bytes = Buffer.from('{"id":"abc"}\n'.repeat(1000));
  const r = await put(d, 'tok/one.jsonl', bytes, { creds: tok });
  assert.equal(r.code, 0, r.out + r.stderr);
  assert.equal(d.requests[0].token, 'yes');
  assert.equal(d.badSignatures, 0);
  assert.doesNotMatch(r.stderr, /IQoJb3JpZ2luX2Vj/, 'the token never reaches a log line');
  const client = sdk(d, tok);
  try {
    assert.ok((await getBytes(client, 'tok/one.jsonl')).equals(bytes));
  } finally {
    client.destroy();
  }
});

test('503 SlowDown, 500 and timeouts are retried; a storm gives up', async () => {
  const d = await double();
  const bytes = crypto.randomBytes(4096);
  d.failNext(2, 'slowdown');
  let r = await put(d, 'retry/slowdown.bin', bytes);
  assert.equal(r.code, 0, r.out + r.stderr);
  assert.deepEqual(d.requests.map((q) => q.status), [503, 503, 200]);
  assert.match(r.stderr, /SlowDown/);

  d.failNext(1, '500');
  d.failNext(1, 'hang');
  r = await put(d, 'retry/500-hang.bin', bytes);
  assert.equal(r.code, 0, r.out + r.stderr);
  assert.deepEqual(d.requests.slice(3).map((q) => q.error), ['InternalError', 'fault:hang', null]);

  d.failNext(3, 'slowdown');
  r = await put(d, 'retry/gives-up.bin', bytes);
  assert.equal(r.code, 1);
  assert.match(r.out, /^error: SlowDown/);
  assert.equal(d.requests.length, 6 + 3, 'three attempts, no more');

  const client = sdk(d);
  try {
    assert.ok((await getBytes(client, 'retry/slowdown.bin')).equals(bytes));
    assert.ok((await getBytes(client, 'retry/500-hang.bin')).equals(bytes));
    await assert.rejects(getBytes(client, 'retry/gives-up.bin'), (e) => e.name === 'NoSuchKey');
  } finally {
    client.destroy();
  }
  assert.ok(d.requests.every((q) => q.signature === 'ok'));
});

test('a wrong secret is refused once, not retried', async () => {
  const d = await double();
  const r = await put(d, 'x/y.bin', Buffer.from('data'),
    { creds: { ...KEY, secretAccessKey: 'wrong/secret' } });
  assert.equal(r.code, 1);
  assert.match(r.out, /^error: SignatureDoesNotMatch/);
  assert.equal(d.requests.length, 1);
  assert.equal(d.badSignatures, 1);
  assert.deepEqual(d.keys(BUCKET), []);
  assert.doesNotMatch(r.stderr + r.out, /wrong\/secret/);
});

// a request signed by AWS's own signer, sent with a body of our choosing
async function signedPut(d, key, signedBody, sentBody, { hashHeader = true } = {}) {
  const signer = new SignatureV4({ credentials: KEY, region: REGION, service: 's3',
                                   sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const headers = { host: `127.0.0.1:${d.port}`, 'content-type': 'text/plain' };
  if (hashHeader) headers['x-amz-content-sha256'] = sha256(signedBody);
  const req = await signer.sign({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1',
                                  port: d.port, path: `/${BUCKET}/${key}`, query: {}, headers,
                                  body: signedBody });
  return new Promise((resolve, reject) => {
    const c = http.request({ host: '127.0.0.1', port: d.port, method: 'PUT', path: req.path,
                             headers: { ...req.headers, 'content-length': sentBody.length } },
    (res) => {
      let text = '';
      res.on('data', (x) => { text += x; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    c.on('error', reject);
    c.end(sentBody);
  });
}

test('the double refuses a body that does not match its signed hash', async () => {
  const d = await double();
  const good = await signedPut(d, 'h/ok.txt', Buffer.from('hello'), Buffer.from('hello'));
  assert.equal(good.status, 200, good.body);
  const swapped = await signedPut(d, 'h/bad.txt', Buffer.from('hello'), Buffer.from('HELLO'));
  assert.equal(swapped.status, 400);
  assert.match(swapped.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  const missing = await signedPut(d, 'h/none.txt', Buffer.from('x'), Buffer.from('x'),
    { hashHeader: false });
  assert.equal(missing.status, 400);
  assert.match(missing.body, /Missing required header for this request: x-amz-content-sha256/);
  assert.deepEqual(d.keys(BUCKET), ['h/ok.txt']);

  // and the real SDK's own PutObject is accepted
  const client = sdk(d);
  try {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/put.txt',
                                             Body: Buffer.from('from the sdk') }));
    assert.equal((await getBytes(client, 'sdk/put.txt')).toString(), 'from the sdk');
  } finally {
    client.destroy();
  }
});
