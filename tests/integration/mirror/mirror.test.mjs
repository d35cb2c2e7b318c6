// mirror.test.mjs - echostream-mirror against real Redis and the SQS double.
//
// The stream is filled the way ingest writes it, the real mirror binary
// copies it into the double (which verifies every SigV4 signature with
// AWS's own signer), and the real @aws-sdk/client-sqs reads the queue back:
// every comment must arrive, no request may carry a bad signature, and the
// mirror's consumer group must end with an empty pending list. Crashes
// (kill -9 while SQS hangs), per-entry failures, 5xx/throttling storms, a
// wrong secret and the credential sources (environment, session token,
// shared file + profile, IMDSv2) are each exercised.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SQSClient, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { bin, startProc, startRedis, tmpDir, waitFor, sleep } from '../../lib/harness.mjs';
import { startSqsDouble } from '../../aws/sqs_double.mjs';

const STREAM = 'es:{ingest}:comments';
const GROUP = 'mirror';
const QUEUE = 'echostream';
const REGION = 'us-east-1';
const KEY = { accessKeyId: 'AKIAMIRRORTEST0001', secretAccessKey: 'mIrRoR/Secret+Key0123456789abcdefGHIJ' };

let redis;
let seq = 0;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

// env for a mirror run: nothing inherited can leak credentials in
function mirrorEnv(sqs, extra = {}) {
  return {
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ECHOSTREAM_REDIS: redis.url,
    ECHOSTREAM_MIRROR_QUEUE_URL: sqs ? sqs.queueUrl(QUEUE) : '',
    ECHOSTREAM_AWS_REGION: REGION,
    ECHOSTREAM_MIRROR_BATCH_WAIT_MS: '200',
    ECHOSTREAM_MIRROR_CLAIM_IDLE_MS: '1000',
    ECHOSTREAM_MIRROR_BACKOFF_CAP_MS: '300',
    ECHOSTREAM_MIRROR_TIMEOUT: '5',
    ECHOSTREAM_WORKER_HEARTBEAT: '1',
    ...extra,
  };
}

function startMirror(env) {
  return startProc(bin('mirror'), [], { env, name: 'mirror' });
}

async function addComments(n, { bodyOf } = {}) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const id = `c${(++seq).toString(36)}`;
    const body = bodyOf ? bodyOf(i) : `comment ${id} about rust — naïve café ✓ "quoted" \\ back\nline`;
    await redis.cmd('XADD', STREAM, '*', 'type', 'comment', 'id', id, 'subreddit', 'rust',
      'author', `user${i}`, 'body', body, 'created_utc', String(1732540000 + i),
      'permalink', `/r/rust/comments/abc/x/${id}/`, 'link_id', 't3_abc',
      'link_title', 'A thread', 'score', String(i), 'source', 'synthetic');
    ids.push(id);
  }
  return ids;
}

async function pendingCount() {
  const r = await redis.cmd('XPENDING', STREAM, GROUP);
  return Number(r[0]);
}

async function groupLag() {
  // entries not yet delivered to the group: compare last-delivered id
  const groups = await redis.cmd('XINFO', 'GROUPS', STREAM);
  const g = groups.find((x) => x[1] === GROUP);
  const last = await redis.cmd('XREVRANGE', STREAM, '+', '-', 'COUNT', '1');
  return { delivered: g ? g[g.indexOf('last-delivered-id') + 1] : null,
           last: last.length ? last[0][0] : null };
}

// every message in the queue, read with the real AWS SDK
async function drainQueue(sqs, credentials = KEY) {
  const client = new SQSClient({ endpoint: sqs.endpoint, region: REGION, credentials });
  const bodies = [];
  try {
    for (;;) {
      const out = await client.send(new ReceiveMessageCommand({
        QueueUrl: sqs.queueUrl(QUEUE), MaxNumberOfMessages: 10, VisibilityTimeout: 600,
        WaitTimeSeconds: 0,
      }));
      if (!out.Messages || out.Messages.length === 0) break;
      for (const m of out.Messages) bodies.push(JSON.parse(m.Body));
    }
  } finally {
    client.destroy();
  }
  return bodies;
}

// waits until the group has read every entry and acknowledged all of them
async function waitAllAcked(what, timeout = 20000) {
  await waitFor(async () => {
    const { delivered, last } = await groupLag();
    return delivered === last && (await pendingCount()) === 0;
  }, { timeout, interval: 100, what });
}

async function stopMirror(p) {
  p.kill('SIGTERM');
  const ex = await p.exited;
  assert.equal(ex.code, 0, `mirror exit: ${JSON.stringify(ex)}\n${p.output()}`);
}

function assertDelivered(bodies, ids) {
  const got = new Set(bodies.map((b) => b.id));
  const missing = ids.filter((id) => !got.has(id));
  assert.deepEqual(missing, [], `missing comments: ${missing.join(',')}`);
}

async function freshStream() {
  await redis.cmd('DEL', STREAM);
}

test('mirrors every comment with env credentials, signed, acked, JSON shape', async () => {
  await freshStream();
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  try {
    const ids = await addComments(23);
    // an entry over 256 KB is cut at a character boundary and marked
    const [bigId] = await addComments(1, { bodyOf: () => 'é'.repeat(150000) });
    ids.push(bigId);
    const p = startMirror(mirrorEnv(sqs, { AWS_ACCESS_KEY_ID: KEY.accessKeyId,
                                           AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }));
    await waitAllAcked('all entries acked');
    const more = await addComments(5);
    await waitAllAcked('later entries acked');
    const hb = await waitFor(async () => {
      const v = await redis.cmd('HGET', 'es:workers', `mirror:${(await redis.cmd('HKEYS', 'es:workers'))
        .find((k) => k.endsWith(`-${p.pid}`)).slice(7)}`);
      const o = v && JSON.parse(v);
      return o && o.status.sent === ids.length + more.length ? o : null;
    }, { what: 'heartbeat with the sent count' });
    assert.equal(hb.status.queue, 'configured');
    assert.equal(hb.status.failed_retrying, 0);
    await stopMirror(p);

    const bodies = await drainQueue(sqs);
    assertDelivered(bodies, [...ids, ...more]);
    assert.equal(sqs.badSignatures, 0);
    const one = bodies.find((b) => b.id === ids[0]);
    assert.equal(one.type, 'comment');
    assert.equal(one.subreddit, 'rust');
    assert.equal(one.body, `comment ${ids[0]} about rust — naïve café ✓ "quoted" \\ back\nline`);
    assert.match(one.stream_id, /^\d+-\d+$/);
    for (const v of Object.values(one)) assert.equal(typeof v, 'string');
    const big = bodies.find((b) => b.id === bigId);
    assert.equal(big.truncated, true);
    assert.ok(big.body.length > 100000 && big.body.length < 150000);
    assert.ok(/^é+$/.test(big.body), 'cut on a character boundary');
    assert.ok(sqs.requests.every((r) => r.op === 'SendMessageBatch' || r.op === 'ReceiveMessage'));
    assert.ok(sqs.requests.filter((r) => r.op === 'SendMessageBatch').every((r) => r.entries <= 10));
    assert.ok(!p.output().includes(KEY.secretAccessKey), 'secret in logs');
  } finally {
    await sqs.stop();
  }
});

test('session token from the environment is sent and signed', async () => {
  await freshStream();
  const creds = { accessKeyId: 'ASIAMIRRORTEMP0001', secretAccessKey: 'tempSecret/abc+def0123456789',
                  sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDTEST+token/with=chars' };
  const sqs = await startSqsDouble({ ...creds, queues: [QUEUE] });
  try {
    const ids = await addComments(12);
    const p = startMirror(mirrorEnv(sqs, { AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SESSION_TOKEN: creds.sessionToken }));
    await waitAllAcked('entries acked with a session token');
    await stopMirror(p);
    assertDelivered(await drainQueue(sqs, creds), ids);
    assert.equal(sqs.badSignatures, 0);
    assert.ok(!p.output().includes(creds.secretAccessKey));
    assert.ok(!p.output().includes(creds.sessionToken));
  } finally {
    await sqs.stop();
  }
});

test('shared credentials file with a profile', async () => {
  await freshStream();
  const dir = await tmpDir('es-mirror-creds-');
  const file = path.join(dir, 'credentials');
  writeFileSync(file, [
    '[default]', 'aws_access_key_id = AKIAWRONGDEFAULT', 'aws_secret_access_key = wrong', '',
    '# the one the mirror must use', '[echostream]',
    `aws_access_key_id = ${KEY.accessKeyId}`, `aws_secret_access_key=${KEY.secretAccessKey}`, '',
  ].join('\n'));
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  try {
    const ids = await addComments(7);
    const p = startMirror(mirrorEnv(sqs, { AWS_SHARED_CREDENTIALS_FILE: file,
                                           AWS_PROFILE: 'echostream' }));
    await waitAllAcked('entries acked with file credentials');
    await stopMirror(p);
    assertDelivered(await drainQueue(sqs), ids);
    assert.equal(sqs.badSignatures, 0);
    assert.match(p.output(), /file:echostream/);
  } finally {
    await sqs.stop();
  }
});

test('IMDSv2 credentials: token first, then role, then keys', async () => {
  await freshStream();
  const creds = { accessKeyId: 'ASIAIMDSROLE00001', secretAccessKey: 'imds/Secret+0123456789',
                  sessionToken: 'IQoJb3JpZ2luX2VjEIMDS//token==' };
  const imdsLog = [];
  const TOKEN = 'imds-session-token-abc';
  const imds = http.createServer((req, res) => {
    imdsLog.push(`${req.method} ${req.url}`);
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (req.headers['x-aws-ec2-metadata-token-ttl-seconds'] !== '21600') {
        res.writeHead(400); return res.end();
      }
      res.writeHead(200); return res.end(TOKEN);
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== TOKEN) {
      res.writeHead(401); return res.end();
    }
    if (req.url === '/latest/meta-data/iam/security-credentials/') {
      res.writeHead(200); return res.end('echostream-role');
    }
    if (req.url === '/latest/meta-data/iam/security-credentials/echostream-role') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(JSON.stringify({
        Code: 'Success', LastUpdated: new Date().toISOString(), Type: 'AWS-HMAC',
        AccessKeyId: creds.accessKeyId, SecretAccessKey: creds.secretAccessKey,
        Token: creds.sessionToken,
        Expiration: new Date(Date.now() + 6 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
      }));
    }
    res.writeHead(404); return res.end();
  });
  await new Promise((r) => imds.listen(0, '127.0.0.1', r));
  const sqs = await startSqsDouble({ ...creds, queues: [QUEUE] });
  try {
    const ids = await addComments(6);
    const p = startMirror(mirrorEnv(sqs, {
      AWS_EC2_METADATA_DISABLED: '',
      ECHOSTREAM_AWS_IMDS_ENDPOINT: `http://127.0.0.1:${imds.address().port}`,
    }));
    await waitAllAcked('entries acked with IMDS credentials');
    await stopMirror(p);
    assertDelivered(await drainQueue(sqs, creds), ids);
    assert.equal(sqs.badSignatures, 0);
    assert.deepEqual(imdsLog.slice(0, 3), [
      'PUT /latest/api/token',
      'GET /latest/meta-data/iam/security-credentials/',
      'GET /latest/meta-data/iam/security-credentials/echostream-role',
    ]);
    assert.ok(!p.output().includes(creds.secretAccessKey));
    assert.ok(!p.output().includes(creds.sessionToken));
  } finally {
    await sqs.stop();
    await new Promise((r) => imds.close(r));
  }
});

test('kill -9 while SQS hangs loses nothing after a restart', async () => {
  await freshStream();
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  try {
    const env = mirrorEnv(sqs, { AWS_ACCESS_KEY_ID: KEY.accessKeyId,
                                 AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey });
    const first = await addComments(4);
    const p1 = startMirror(env);
    await waitAllAcked('first entries acked');
    sqs.failNext(1, 'hang');
    const ids = await addComments(8);
    await waitFor(() => sqs.requests.some((r) => r.error === 'fault:hang'),
      { timeout: 10000, what: 'a hanging SendMessageBatch' });
    p1.kill('SIGKILL');
    await p1.exited;
    sqs.releaseHangs();
    assert.ok((await pendingCount()) > 0, 'the batch in flight is pending');
    const more = await addComments(3);
    const p2 = startMirror(env);
    await waitAllAcked('pending entries claimed and acked after restart');
    await stopMirror(p2);
    const bodies = await drainQueue(sqs);
    assertDelivered(bodies, [...first, ...ids, ...more]);
    assert.equal(sqs.badSignatures, 0);
  } finally {
    await sqs.stop();
  }
});

test('entries SQS lists as Failed are retried until delivered', async () => {
  await freshStream();
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  try {
    sqs.failEntries(2); // every other entry, SenderFault false
    sqs.failEntries(1, { pick: (e, i) => i === 0, senderFault: true, code: 'InvalidParameterValue',
                         message: 'transient sender fault' });
    const ids = await addComments(10);
    const p = startMirror(mirrorEnv(sqs, { AWS_ACCESS_KEY_ID: KEY.accessKeyId,
                                           AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }));
    await waitAllAcked('failed entries retried and acked');
    await stopMirror(p);
    assert.equal(sqs.pendingFaults(), 0);
    const bodies = await drainQueue(sqs);
    assertDelivered(bodies, ids);
    assert.equal(bodies.length, ids.length, 'a failed entry is not stored twice');
    assert.match(p.output(), /sqs entry failed; will retry/);
    assert.match(p.output(), /InvalidParameterValue/);
  } finally {
    await sqs.stop();
  }
});

test('an entry SQS keeps refusing is left pending, logged, then delivered', async () => {
  await freshStream();
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  try {
    const ids = await addComments(6);
    const victim = ids[2];
    sqs.failEntries(4, { pick: (e) => JSON.parse(e.MessageBody).id === victim, senderFault: true,
                         code: 'InvalidMessageContents', message: 'refused for the test' });
    const p = startMirror(mirrorEnv(sqs, { AWS_ACCESS_KEY_ID: KEY.accessKeyId,
                                           AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
                                           ECHOSTREAM_MIRROR_SENDER_FAULT_RETRIES: '2' }));
    await p.waitForOutput(/keeps refusing entry; left pending.*InvalidMessageContents/, 15000);
    assert.ok((await pendingCount()) >= 1, 'the refused entry stays pending');
    // the claim sweep offers it again; once SQS stops refusing it, it goes
    await waitAllAcked('refused entry finally acked', 20000);
    await stopMirror(p);
    assert.equal(sqs.pendingFaults(), 0);
    assertDelivered(await drainQueue(sqs), ids);
  } finally {
    await sqs.stop();
  }
});

test('SIGTERM sends and acknowledges the batch in hand before exiting', async () => {
  await freshStream();
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  try {
    const p = startMirror(mirrorEnv(sqs, { AWS_ACCESS_KEY_ID: KEY.accessKeyId,
                                           AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
                                           ECHOSTREAM_MIRROR_BATCH_WAIT_MS: '60000' }));
    await p.waitForOutput(/mirror started/);
    const ids = await addComments(3);
    // read (pending) but not sent: the batch waits for more entries
    await waitFor(async () => (await pendingCount()) === 3, { what: 'entries in hand' });
    assert.equal(sqs.requests.length, 0);
    await stopMirror(p);
    assert.equal(await pendingCount(), 0);
    assertDelivered(await drainQueue(sqs), ids);
    assert.match(p.output(), /sending the batch in hand/);
  } finally {
    await sqs.stop();
  }
});

test('500, 503 and throttling storms: retries, nothing lost, process alive', async () => {
  await freshStream();
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  try {
    sqs.failNext(4, '500');
    sqs.failNext(3, 'throttle');
    sqs.failNext(3, '503');
    const ids = await addComments(15);
    const p = startMirror(mirrorEnv(sqs, { AWS_ACCESS_KEY_ID: KEY.accessKeyId,
                                           AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }));
    await waitAllAcked('entries acked after the storm', 30000);
    assert.equal(p.child.exitCode, null, 'mirror still running');
    await stopMirror(p);
    assert.equal(sqs.pendingFaults(), 0);
    assertDelivered(await drainQueue(sqs), ids);
    assert.match(p.output(), /ThrottlingException/);
    assert.match(p.output(), /InternalFailure/);
    const hb = p.output();
    assert.ok(!hb.includes(KEY.secretAccessKey));
  } finally {
    await sqs.stop();
  }
});

test('wrong secret: rejected, logged without the secret, nothing acked', async () => {
  await freshStream();
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  const wrong = 'Wrong/Secret+Key9876543210zyxwvuTSRQ';
  try {
    const ids = await addComments(5);
    const p = startMirror(mirrorEnv(sqs, { AWS_ACCESS_KEY_ID: KEY.accessKeyId,
                                           AWS_SECRET_ACCESS_KEY: wrong }));
    await waitFor(() => sqs.badSignatures >= 3, { timeout: 15000, what: 'repeated rejected requests' });
    assert.equal(p.child.exitCode, null, 'mirror keeps running');
    assert.equal(await pendingCount(), ids.length, 'nothing acked');
    await p.waitForOutput(/InvalidSignatureException/);
    await stopMirror(p);
    assert.ok(!p.output().includes(wrong), 'secret in logs');
    assert.equal(sqs.messages(QUEUE).length, 0);
    assert.equal(await pendingCount(), ids.length, 'still pending after exit');
  } finally {
    await sqs.stop();
  }
});

test('no queue configured: idle, no group, exits 0 on SIGTERM', async () => {
  await freshStream();
  await addComments(2);
  const p = startMirror(mirrorEnv(null));
  await p.waitForOutput(/mirror idle/);
  await waitFor(async () => {
    const h = await redis.cmd('HKEYS', 'es:workers');
    return h.some((k) => k.startsWith('mirror:'));
  }, { what: 'mirror heartbeat' });
  await sleep(300);
  const groups = await redis.cmd('XINFO', 'GROUPS', STREAM);
  assert.deepEqual(groups, []);
  const fields = await redis.cmd('HGETALL', 'es:workers');
  const hb = JSON.parse(fields.find((v) => typeof v === 'string' &&
                                         v.includes(`"pid":${p.pid},`)));
  assert.equal(hb.worker, 'mirror');
  assert.equal(hb.status.queue, 'none');
  await stopMirror(p);
  assert.equal(p.output().trim().split('\n').length <= 3, true, `too chatty:\n${p.output()}`);
});

test('finished consumers are pruned at start; ones holding entries stay', async () => {
  await freshStream();
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  try {
    await redis.cmd('XGROUP', 'CREATE', STREAM, GROUP, '$', 'MKSTREAM');
    await redis.cmd('XGROUP', 'CREATECONSUMER', STREAM, GROUP, 'gone-1');
    await redis.cmd('XGROUP', 'CREATECONSUMER', STREAM, GROUP, 'gone-2');
    // a crashed consumer that still holds an entry must keep it
    await addComments(1);
    await redis.cmd('XREADGROUP', 'GROUP', GROUP, 'crashed-1', 'COUNT', 1,
                    'STREAMS', STREAM, '>');
    await sleep(300);
    const p = startMirror(mirrorEnv(sqs, {
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
      ECHOSTREAM_WORKER_CONSUMER_PRUNE_MS: '200',
      ECHOSTREAM_MIRROR_CLAIM_IDLE_MS: '600000',
    }));
    await p.waitForOutput(/idle consumers pruned/, 10000);
    const names = (await redis.cmd('XINFO', 'CONSUMERS', STREAM, GROUP))
      .map((c) => c[c.indexOf('name') + 1]);
    assert.ok(!names.includes('gone-1') && !names.includes('gone-2'),
              names.join(','));
    assert.ok(names.includes('crashed-1'), 'a consumer with entries stays');
    assert.equal(await pendingCount(), 1);
    await stopMirror(p);
  } finally {
    await sqs.stop();
  }
});
