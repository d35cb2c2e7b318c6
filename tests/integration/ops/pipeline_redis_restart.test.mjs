// pipeline_redis_restart.test.mjs - the whole ingestion path with Redis
// restarted under the running workers.
//
// Reddit test server -> echostream-ingest -> Redis stream -> echostream-mirror
// -> SQS double, all real processes. While comments keep arriving, Redis is
// stopped and started again (twice: once gracefully, once after being frozen
// with SIGSTOP so connections hang rather than close). The workers must
// reconnect by themselves and go on; at the end every comment the server
// holds is in the stream exactly once and in the queue (read back with the
// real AWS SDK) at least once, nothing pending, both workers alive until a
// SIGTERM ends them with exit 0.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { bin, startProc, startRedis, waitFor, sleep } from '../../lib/harness.mjs';
import { startRedditServer } from '../../reddit/server.mjs';
import { startSqsDouble } from '../../aws/sqs_double.mjs';
import { mirrorCaughtUp, pipelineEnv, sqsMessageCounts, streamComments }
  from '../../lib/pipeline.mjs';

const STREAM = 'es:{ingest}:comments';
const REGION = 'us-east-1';
const KEY = { accessKeyId: 'AKIAPIPELINETEST001',
              secretAccessKey: 'pipeline/Secret+Key0123456789abcdefXYZ' };
const SUBS = ['rustlang', 'golang', 'cooking'];

let redis;
let reddit;
let sqs;
const procs = [];

before(async () => {
  redis = await startRedis();
  reddit = await startRedditServer({ clientId: 'pipe-id',
                                     clientSecret: 'pipe-secret' });
  sqs = await startSqsDouble({ ...KEY, region: REGION });
  await sqs.createQueue('pipeline');
});

after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await reddit?.close();
  await sqs?.stop();
  await redis?.close();
});

function env() {
  return {
    ECHOSTREAM_REDIS: redis.url,
    ...pipelineEnv({ reddit, sqs, queue: 'pipeline', region: REGION, key: KEY }),
    ECHOSTREAM_STREAM_GROUPS: 'mirror',
    ECHOSTREAM_WORKER_HEARTBEAT: '0.5',
    AWS_SESSION_TOKEN: '',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

// comment id -> entries in the stream
async function streamIds() {
  return new Map([...await streamComments(redis)].map(([id, e]) => [id, e.n]));
}

function allServerIds() {
  return SUBS.flatMap((s) => reddit.ids(s));
}

async function ingestedAll() {
  const want = allServerIds();
  const have = await streamIds();
  return want.every((id) => have.has(id));
}

test('comments flow end to end through two Redis restarts', async () => {
  for (const s of SUBS) {
    await redis.cmd('HSET', 'es:{watch}:subs', s, 1);
    reddit.addComments(s, 40);
  }
  await redis.cmd('INCR', 'es:{watch}:version');

  const ingest = startProc(bin('ingest'), [], { env: env(), name: 'ingest' });
  const mirror = startProc(bin('mirror'), [], { env: env(), name: 'mirror' });
  procs.push(ingest, mirror);

  await waitFor(ingestedAll, { timeout: 30000, interval: 200,
                               what: 'first comments in the stream' });

  // 1: graceful restart while new comments keep arriving
  for (const s of SUBS) reddit.addComments(s, 30);
  await redis.stop();
  for (const s of SUBS) reddit.addComments(s, 30);
  await sleep(1500); // the workers now run against a dead Redis
  await redis.start();
  await ingest.waitForOutput(/redis connection restored/, 30000);

  // 2: Redis frozen (connections hang, nothing closes), then restarted
  for (const s of SUBS) reddit.addComments(s, 25);
  await waitFor(ingestedAll, { timeout: 30000, interval: 200,
                               what: 'comments after the first restart' });
  redis.proc.kill('SIGSTOP');
  await sleep(1500);
  redis.proc.kill('SIGCONT');
  await redis.restart();
  for (const s of SUBS) reddit.addComments(s, 25);

  await waitFor(ingestedAll, { timeout: 40000, interval: 250,
                               what: 'every comment in the stream' });
  const want = allServerIds();
  const counts = await streamIds();
  const dup = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(dup, [], `comments streamed twice: ${dup.join(',')}`);
  assert.equal(want.length, SUBS.length * 150);

  // the mirror delivers everything and leaves nothing pending
  const state = async () => JSON.stringify({
    pending: await redis.cmd('XPENDING', STREAM, 'mirror'),
    groups: await redis.cmd('XINFO', 'GROUPS', STREAM),
    last: await redis.cmd('XREVRANGE', STREAM, '+', '-', 'COUNT', 1),
  }).slice(0, 2000);
  await waitFor(() => mirrorCaughtUp(redis),
    { timeout: 40000, interval: 250, what: 'mirror caught up' })
    .catch(async (e) => {
      throw new Error(`${e.message}\n${await state()}\n` +
                      `mirror log:\n${mirror.output().slice(-4000)}`);
    });
  const inQueue = await sqsMessageCounts(sqs, 'pipeline',
    { region: REGION, credentials: KEY });
  const missing = want.filter((id) => !inQueue.has(id));
  assert.deepEqual(missing, [], `not in SQS: ${missing.join(',')}`);
  assert.equal(sqs.badSignatures, 0, 'every SQS request was correctly signed');

  // both processes survived; SIGTERM ends them cleanly
  assert.equal(ingest.child.exitCode, null, ingest.output());
  assert.equal(mirror.child.exitCode, null, mirror.output());
  ingest.kill('SIGTERM');
  mirror.kill('SIGTERM');
  assert.equal((await ingest.exited).code, 0, ingest.output());
  assert.equal((await mirror.exited).code, 0, mirror.output());
  assert.match(ingest.output(), /redis connection lost/);
  assert.match(mirror.output(), /redis connection (lost|restored)/);
});
