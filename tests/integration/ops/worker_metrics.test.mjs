// worker_metrics.test.mjs - the workers' metrics in /metrics, end to end.
//
// Real Redis, nginx with the module, and the real ingest (synthetic
// source), enrich and mirror (against the SQS double) binaries. The
// workers publish their counters in their heartbeats; the module's
// /metrics reads them and the streams' figures from Redis. Checked: every
// family is printed (HELP, TYPE) before any worker ran, with the stream
// gauges at 0; after a run the stream length and each group's lag and
// pending equal XINFO's, enrich's comment counter equals the comments
// ingest wrote, the mirror's sent counter equals the messages SQS took and
// its send histogram counts exactly the SendMessageBatch calls; with Redis
// down the scrape still answers, saying so. Every scrape must parse with
// the strict reader of tests/lib/prom.mjs. The Grafana dashboard may only
// query families a real scrape has.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, bin, startProc, tmpDir, waitFor } from '../../lib/harness.mjs';
import { request, startApiStack } from '../../lib/api.mjs';
import { enrichEnv, startEnrich, waitDrained } from '../../lib/enrich.mjs';
import { parseProm, value, WORKER_FAMILIES } from '../../lib/prom.mjs';
import { startSqsDouble } from '../../aws/sqs_double.mjs';

const STREAM = 'es:{ingest}:comments';
const QUEUE = 'echostream';
const KEY = { accessKeyId: 'AKIAMETRICSTEST00001', secretAccessKey: 'mEtRiCs/Secret+Key0123456789abcdefGHIJ' };

let s;
let redis;

before(async () => {
  s = await startApiStack();
  redis = s.redis;
});

after(async () => {
  if (s) await s.stop();
});

async function scrape() {
  const r = await request(s.base, 'GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  return { text: r.text, fams: parseProm(r.text) };
}

function assertFamilies(fams) {
  for (const [name, type] of Object.entries(WORKER_FAMILIES)) {
    assert.ok(fams.has(name), `family ${name} missing`);
    assert.equal(fams.get(name).type, type, `type of ${name}`);
  }
  // the module's own families keep their names
  for (const name of ['echostream_build_info', 'echostream_http_requests_total',
    'echostream_redis_up', 'echostream_worker_processes']) {
    assert.ok(fams.has(name), `module family ${name} missing`);
  }
}

// XINFO GROUPS as {group: {lag, pending}}
async function xinfo() {
  const out = {};
  for (const g of await redis.cmd('XINFO', 'GROUPS', STREAM)) {
    const f = {};
    for (let i = 0; i < g.length; i += 2) f[g[i]] = g[i + 1];
    out[f.name] = { lag: f.lag === null ? NaN : Number(f.lag), pending: Number(f.pending) };
  }
  return out;
}

test('every family is there before any worker ran, the stream gauges at 0', async () => {
  const { fams } = await scrape();
  assertFamilies(fams);
  assert.equal(fams.get('echostream_worker_up').samples.length, 0);
  assert.equal(fams.get('echostream_enrich_comments_total').samples.length, 0);
  assert.equal(value(fams, 'echostream_metrics_redis_ok'), 1);
  assert.equal(value(fams, 'echostream_stream_length', { stream: STREAM }), 0);
  assert.equal(value(fams, 'echostream_stream_length', { stream: 'es:{ingest}:dlq' }), 0);
  assert.equal(value(fams, 'echostream_dead_letters'), 0);
  assert.equal(fams.get('echostream_stream_group_lag').samples.length, 0);
});

test('ingest → enrich → mirror: counters, stream and group figures match Redis and SQS', async () => {
  const sqs = await startSqsDouble({ ...KEY, queues: [QUEUE] });
  const lake = await tmpDir('es-wm-lake-');
  const procs = [];
  try {
    await redis.cmd('HSET', 'es:{watch}:subs', 'rust', 1);
    await redis.cmd('INCR', 'es:{watch}:version');
    const enrich = startEnrich(enrichEnv(redis, lake));
    const mirror = startProc(bin('mirror'), [], { name: 'mirror', env: {
      AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
      AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true', ECHOSTREAM_AWS_IMDS: 'false',
      ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_MIRROR_QUEUE_URL: sqs.queueUrl(QUEUE),
      ECHOSTREAM_AWS_REGION: 'us-east-1', ECHOSTREAM_MIRROR_BATCH_WAIT_MS: '200',
      ECHOSTREAM_WORKER_HEARTBEAT: '0.5' } });
    const ingest = startProc(bin('ingest'), ['--synthetic', '200'], { name: 'ingest', env: {
      ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_INGEST_WATCH_REFRESH: '0.2',
      ECHOSTREAM_WORKER_HEARTBEAT: '0.5' } });
    procs.push(enrich, mirror, ingest);

    await waitFor(async () => (await redis.cmd('XLEN', STREAM)) >= 150,
      { timeout: 20000, what: '150 synthetic comments' });
    // while ingest runs: its instance reports, and never more than it wrote
    let live;
    await waitFor(async () => {
      live = await scrape();
      return value(live.fams, 'echostream_ingest_comments_total',
        { worker: 'ingest', instance: `${(await hostOf(ingest))}` }) > 0;
    }, { timeout: 10000, what: 'ingest counter in /metrics' });
    const written = await redis.cmd('XLEN', STREAM);
    const ingested = value(live.fams, 'echostream_ingest_comments_total', { worker: 'ingest' });
    assert.ok(ingested > 0 && ingested <= written, `${ingested} of ${written}`);
    assert.equal(value(live.fams, 'echostream_worker_up', { worker: 'ingest' }), 1);

    ingest.kill('SIGTERM');
    assert.equal((await ingest.exited).code, 0, ingest.output().slice(-2000));
    const total = await redis.cmd('XLEN', STREAM);
    await waitDrained(redis);
    const sqsSent = () => sqs.requests.filter((r) => r.op === 'SendMessageBatch' && r.status === 200)
      .reduce((n, r) => n + r.entries, 0);
    await waitFor(() => sqsSent() === total, { timeout: 20000, what: `${total} messages in SQS` });

    // the next heartbeats carry the final numbers
    let m;
    await waitFor(async () => {
      m = await scrape();
      return value(m.fams, 'echostream_enrich_comments_total', { worker: 'enrich' }) === total &&
        value(m.fams, 'echostream_sqs_messages_sent_total', { worker: 'mirror' }) === total &&
        (await xinfo()).mirror?.pending === 0;
    }, { timeout: 10000, what: 'final counters in /metrics' });
    const fams = m.fams;
    assertFamilies(fams);
    assert.equal(value(fams, 'echostream_worker_up', { worker: 'ingest' }), undefined,
      'a stopped instance leaves');

    assert.equal(value(fams, 'echostream_stream_length', { stream: STREAM }), total);
    const groups = await xinfo();
    assert.deepEqual(Object.keys(groups).sort(), ['enrich', 'mirror']);
    for (const [g, x] of Object.entries(groups)) {
      assert.equal(value(fams, 'echostream_stream_group_lag', { stream: STREAM, group: g }), x.lag, `lag ${g}`);
      assert.equal(value(fams, 'echostream_stream_group_pending', { stream: STREAM, group: g }), x.pending, `pending ${g}`);
    }
    assert.equal(value(fams, 'echostream_sqs_messages_failed_total', { worker: 'mirror' }), 0);
    const batches = sqs.requests.filter((r) => r.op === 'SendMessageBatch').length;
    assert.equal(value(fams, 'echostream_mirror_send_duration_seconds_count', { worker: 'mirror' }), batches);
    assert.equal(value(fams, 'echostream_mirror_send_duration_seconds_bucket',
      { worker: 'mirror', le: '+Inf' }), batches);
    assert.ok(value(fams, 'echostream_enrich_batch_duration_seconds_count', { worker: 'enrich' }) >= 1);
    assert.equal(value(fams, 'echostream_enrich_dead_letters_total', { worker: 'enrich' }), 0);
    assert.equal(value(fams, 'echostream_comprehend_calls_total', { worker: 'enrich' }), 0);
    assert.equal(value(fams, 'echostream_dead_letters'), 0);

    // the dashboard asks only for what a scrape has
    const dash = JSON.parse(readFileSync(path.join(ROOT, 'deploy', 'grafana', 'echostream.json'), 'utf8'));
    const exprs = JSON.stringify(dash).match(/echostream_[a-z0-9_]+/g);
    assert.ok(exprs.length > 10);
    for (const name of new Set(exprs)) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(fams.has(name) || fams.get(base)?.type === 'histogram',
        `dashboard queries ${name}, which /metrics lacks`);
    }
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await sqs.stop();
  }
});

// the instance label of a process: "<hostname>-<pid>", read from its beat
async function hostOf(p) {
  const keys = await redis.cmd('HKEYS', 'es:workers');
  const k = keys.find((x) => x.endsWith(`-${p.pid}`));
  return k ? k.slice(k.indexOf(':') + 1) : '?';
}

test('with Redis down the scrape still answers, saying so', async () => {
  await redis.stop();
  try {
    let m;
    await waitFor(async () => {
      m = await scrape();
      return value(m.fams, 'echostream_redis_up') === 0;
    }, { timeout: 10000, what: 'echostream_redis_up 0' });
    assertFamilies(m.fams);
    assert.equal(value(m.fams, 'echostream_metrics_redis_ok'), 0);
    assert.equal(value(m.fams, 'echostream_stream_length', { stream: STREAM }), 0);
    assert.equal(m.fams.get('echostream_worker_up').samples.length, 0);
  } finally {
    await redis.start();
  }
});
