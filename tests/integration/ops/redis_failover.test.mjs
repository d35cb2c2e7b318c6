// redis_failover.test.mjs - a Sentinel-managed primary killed under load.
//
// A primary, a replica and one sentinel (quorum 1, down after 1 s) on
// loopback, listed after a sentinel that is down; nginx with the module and all five workers (ingest from the
// Reddit test server, enrich, mirror to the SQS double, summarize and alert
// idle) given the redis+sentinel:// address. While the API and /readyz are
// polled and comments keep arriving, the replica is cut off from the primary for
// 0.7 s (it is stopped and its link closed), so the primary holds writes
// the replica lacks, as under replication lag; then the primary is killed
// with SIGKILL and the sentinel promotes the replica. Checked: the module
// and every worker find the new primary by themselves; the API answers
// only 200 or 503, 503 only around the switch; the writes the failover
// lost come back (ingest polls again from the cursor the new primary holds,
// enrich is handed the entries whose acknowledgement was lost); at the end
// every comment is in the stream once and a tenant's counts equal the
// ground truth exactly; nginx runs the module built with ASan + UBSan and
// leaves no report. What was lost and repeated is printed
// ("# failover: ...", docs/failover.md explains the numbers).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { bin, freePort, httpRequest, RedisClient, sleep, startProc,
         startRedis, tmpDir, waitFor } from '../../lib/harness.mjs';
import { startNginx } from '../../lib/nginx.mjs';
import { mirrorCaughtUp, pipelineEnv, sqsMessageCounts, streamComments }
  from '../../lib/pipeline.mjs';
import { ASAN_MODULE, asanEnv, asanReports } from '../../lib/asan.mjs';
import { apiConf, request, startCognito } from '../../lib/api.mjs';
import { startRedditServer } from '../../reddit/server.mjs';
import { startSqsDouble } from '../../aws/sqs_double.mjs';
import { actual, drained, enrichEnv, prng, setTenant, STREAM, truth,
         vaderScores } from '../../lib/enrich.mjs';
import { STOP, VOCAB } from '../../lib/exact_fixture.mjs';

const MASTER = 'esm';
const SUBS = ['rustlang', 'golang', 'cooking'];
const REGION = 'us-east-1';
const KEY = { accessKeyId: 'AKIAFAILOVERTEST0001',
              secretAccessKey: 'failover/Secret+Key0123456789abcdefXYZ' };
const TOPICS = [
  { id: 'everything', name: 'All', subreddits: ['all'], query: '' },
  { id: 'rust', name: 'Rust', subreddits: ['rustlang'], query: '' },
  { id: 'lovers', name: 'Love', subreddits: ['all'], query: 'love OR great' },
];
const WORKERS = ['ingest', 'enrich', 'mirror', 'summarize', 'alert'];

const rnd = prng(Number(process.env.ES_TEST_SEED || 20261206));
let primary;
let replica;
let sentinel;
let reddit;
let sqs;
let cognito;
let nginx;
const procs = {};
let stopLoad = () => {};

async function startSentinel(monitorPort) {
  const dir = await tmpDir('es-sentinel-');
  const port = await freePort();
  const conf = path.join(dir, 'sentinel.conf');
  writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'daemonize no',
    `logfile ${path.join(dir, 'sentinel.log')}`,
    `sentinel monitor ${MASTER} 127.0.0.1 ${monitorPort} 1`,
    `sentinel down-after-milliseconds ${MASTER} 1000`,
    `sentinel failover-timeout ${MASTER} 3000`,
    `sentinel parallel-syncs ${MASTER} 1`,
  ].join('\n') + '\n');
  const proc = startProc('redis-sentinel', [conf], { name: 'sentinel' });
  const client = new RedisClient(port);
  await waitFor(async () => {
    try { return (await client.cmd('PING')) === 'PONG'; } catch { return false; }
  }, { timeout: 10000, what: 'sentinel' });
  return { port, proc, client, dir };
}

before(async () => {
  primary = await startRedis();
  replica = await startRedis({ conf: [`replicaof 127.0.0.1 ${primary.port}`] });
  sentinel = await startSentinel(primary.port);
  reddit = await startRedditServer({ clientId: 'fo-id',
                                     clientSecret: 'fo-secret' });
  sqs = await startSqsDouble({ ...KEY, region: REGION });
  await sqs.createQueue('failover');
  cognito = await startCognito();
});

after(async () => {
  stopLoad();
  for (const p of Object.values(procs)) p.kill('SIGKILL');
  replica?.proc?.kill('SIGCONT');
  await nginx?.stop();
  sentinel?.client.close();
  sentinel?.proc.kill('SIGKILL');
  await reddit?.close();
  await sqs?.stop();
  await cognito?.stop();
  await primary?.close();
  await replica?.close();
});

function workerEnv(url, lake) {
  return {
    ...enrichEnv({ url }, lake),
    ...pipelineEnv({ reddit, sqs, queue: 'failover', region: REGION, key: KEY }),
    ECHOSTREAM_STREAM_GROUPS: 'enrich,mirror',
  };
}

const allIds = () => SUBS.flatMap((s) => reddit.ids(s));

function feed(n) {
  for (const s of SUBS) {
    for (let i = 0; i < n; i++) {
      const len = 3 + Math.floor(rnd() * 10);
      const body = Array.from({ length: len },
        () => VOCAB[Math.floor(rnd() * VOCAB.length)]).join(' ');
      reddit.addComments(s, 1, { body });
    }
  }
}

const offset = (info, key) => Number((info.match(
  new RegExp(`${key}:(\\d+)`)) || [])[1]);

test('module and workers follow a Sentinel failover; the pipeline resumes ' +
     'and the counts stay exact', async () => {
  await waitFor(async () => /master_link_status:up/.test(
    await replica.cmd('INFO', 'replication')), { timeout: 10000,
    what: 'replica in sync' });
  // the first sentinel listed is down: each connection asks the next
  const dead = await freePort();
  const url = `redis+sentinel://127.0.0.1:${dead},127.0.0.1:${sentinel.port}` +
    `/${MASTER}/0`;

  await setTenant(primary, 'fo', TOPICS);
  for (const s of SUBS) await primary.cmd('HSET', 'es:{watch}:subs', s, 1);
  await primary.cmd('INCR', 'es:{watch}:version');
  feed(30);

  // the module built with AddressSanitizer + UBSan: the sentinel and
  // reconnect paths run here more than anywhere
  const asanDir = await tmpDir('es-fo-asan-');
  nginx = await startNginx({ redisUrl: url, module: ASAN_MODULE,
                             env: asanEnv(asanDir),
                             ...apiConf(cognito, { tenantClaim: true }) });
  const user = await cognito.user('owner@fo.test', { tenant: 'fo' });
  const me = await request(nginx.url, 'GET', '/api/v1/me',
                           { token: user.idToken });
  assert.equal(me.status, 200, me.text);
  const env = workerEnv(url, await tmpDir('es-fo-lake-'));
  for (const w of WORKERS) {
    procs[w] = startProc(bin(w), [], { env, name: w });
  }
  const logs = () => WORKERS.map((w) =>
    `--- ${w}:\n${procs[w].output().slice(w === 'ingest' ? -6000 : -1500)}`)
    .join('\n');

  const ingested = async (r) => {
    const have = await streamComments(r);
    return allIds().every((id) => have.has(id));
  };
  await waitFor(() => ingested(primary), { timeout: 30000, interval: 200,
    what: 'first comments in the stream' });
  await waitFor(() => drained(primary), { timeout: 30000,
    what: 'first comments enriched' });

  // load: the API (a tenant's topics, the user's profile) and /readyz
  // polled, comments keep arriving
  const statuses = [];
  let polling = true;
  let feeding = true;
  stopLoad = () => { polling = false; feeding = false; };
  const paths = ['/api/v1/topics', '/readyz', '/api/v1/me'];
  const poller = (async () => {
    for (let i = 0; polling; i++) {
      const t = Date.now();
      const p = paths[i % paths.length];
      try {
        const r = await request(nginx.url, 'GET', p,
          { token: user.idToken, timeout: 5000 });
        statuses.push({ t, p, s: r.status, text: r.text.slice(0, 200) });
      } catch (e) {
        statuses.push({ t, p, s: `error ${e.message}` });
      }
      await sleep(10);
    }
  })();
  const feeder = (async () => {
    while (feeding) {
      feed(1);
      await sleep(100);
    }
  })();
  await sleep(1000);

  // the replica falls behind: stopped, its link closed by the primary
  replica.proc.kill('SIGSTOP');
  await primary.cmd('CLIENT', 'KILL', 'TYPE', 'replica');
  await sleep(700);
  const atKill = await streamComments(primary);
  const primaryOffset = offset(await primary.cmd('INFO', 'replication'),
                               'master_repl_offset');
  const killed = Date.now();
  await primary.kill9();
  replica.proc.kill('SIGCONT');
  await sleep(200);
  const replicaOffset = offset(await replica.cmd('INFO', 'replication'),
                               'master_repl_offset');
  const survived = await streamComments(replica);
  const lostEntries = [...atKill.keys()].filter((id) => !survived.has(id));

  await waitFor(async () => {
    const a = await sentinel.client.cmd('SENTINEL',
      'get-master-addr-by-name', MASTER);
    return Number(a[1]) === replica.port;
  }, { timeout: 20000, interval: 100, what: 'replica promoted' });
  const promoted = Date.now();

  // every nginx worker process and every worker reach the new primary
  await waitFor(async () => {
    for (let i = 0; i < 6; i++) {
      const r = await httpRequest({ url: `${nginx.url}/readyz` });
      if (r.status !== 200) return false;
    }
    return true;
  }, { timeout: 20000, what: 'nginx ready on the new primary' });
  const recovered = Date.now();
  assert.match(nginx.errorLog(), new RegExp(
    `primary "${MASTER}" is 127\\.0\\.0\\.1:${replica.port}`));
  const wp = new RegExp(`redis primary from sentinel.*port=${replica.port}`);
  await waitFor(() => WORKERS.every((w) => wp.test(procs[w].output())),
    { timeout: 20000, what: 'every worker on the new primary' })
    .catch((e) => { throw new Error(`${e.message}\n${logs()}`); });

  // the pipeline resumes: new comments are ingested, enriched, mirrored
  await sleep(500);
  feeding = false;
  await feeder;
  feed(10);
  await waitFor(() => ingested(replica), { timeout: 30000, interval: 200,
    what: 'every comment in the new primary\'s stream' })
    .catch((e) => { throw new Error(`${e.message}\n${logs()}`); });
  await waitFor(() => drained(replica), { timeout: 30000,
    what: 'enrich drained on the new primary' });
  await waitFor(() => mirrorCaughtUp(replica),
    { timeout: 30000, interval: 250, what: 'mirror caught up' });
  polling = false;
  await poller;

  // the API answered only 200 or 503, 503 only around the switch
  const bad = statuses.filter((x) => x.s !== 200 && x.s !== 503);
  assert.deepEqual(bad.slice(0, 5), [], 'only 200 or 503');
  assert.ok(statuses.some((x) => x.p === '/api/v1/topics' && x.s === 200 &&
                                 x.t > recovered), 'the API answers again');
  const unready = statuses.filter((x) => x.s === 503);
  for (const x of unready) {
    assert.ok(x.t >= killed - 100 && x.t <= recovered,
      `503 outside the switch (${x.t - killed} ms after the kill)`);
  }
  assert.equal(statuses[statuses.length - 1].s, 200);

  // every comment in the stream once; the tenant's counts exact
  const final = await streamComments(replica);
  const want = allIds();
  const missing = want.filter((id) => !final.has(id));
  const twice = [...final].filter(([, e]) => e.n > 1).map(([id]) => id);
  const comments = [...final.values()].map(({ f }) => ({
    id: f.id, subreddit: f.subreddit, body: f.body,
    created: Number(f.created_utc) }));
  const scores = await vaderScores(comments.map((c) => c.body));
  comments.forEach((c, i) => {
    c.score = { label: scores[i].label, compound: scores[i].compound };
  });
  const truthNow = truth(TOPICS, comments, STOP);
  const got = await actual(replica, 'fo');
  const inSqs = await sqsMessageCounts(sqs, 'failover',
    { region: REGION, credentials: KEY });
  const m = {
    comments: want.length,
    promoted_after_kill_ms: promoted - killed,
    api_503_window_ms: unready.length
      ? unready[unready.length - 1].t - unready[0].t : 0,
    api_requests: statuses.length, api_503: unready.length,
    api_503_by_path: Object.fromEntries(paths.map((p) => [p,
      unready.filter((x) => x.p === p).length])),
    unreplicated_bytes_at_kill: primaryOffset - replicaOffset,
    stream_entries_lost: lostEntries.length,
    missing_at_end: missing.length,
    streamed_twice: twice.length,
    usage_want: truthNow.usage, usage_got: got.usage,
    sqs_messages: [...inSqs.values()].reduce((a, b) => a + b, 0),
    sqs_duplicates: [...inSqs.values()].filter((n) => n > 1).length,
    sqs_missing: want.filter((id) => !inSqs.has(id)).length,
  };
  console.log(`# failover: ${JSON.stringify(m)}`);

  assert.ok(primaryOffset > replicaOffset,
    'the replica lacked writes of the primary when it died');
  if (lostEntries.length > 0) {
    // what brought them back: the cursors read back from the new primary
    assert.match(procs.ingest.output(), /cursor rewound to the saved one/);
  }
  assert.deepEqual(missing, [], 'comments missing from the stream');
  assert.deepEqual(twice, [], 'comments streamed twice');
  assert.deepEqual(got.series, truthNow.series, 'series');
  assert.deepEqual(got.recent, truthNow.recent, 'recent');
  assert.deepEqual(got.sov, truthNow.sov, 'share of voice');
  assert.deepEqual(got.terms, truthNow.terms, 'terms');
  assert.equal(got.usage, truthNow.usage, 'usage');
  assert.equal(m.sqs_missing, 0, 'every comment reached SQS');

  for (const w of WORKERS) {
    const p = procs[w];
    assert.equal(p.child.exitCode, null, p.output());
    p.kill('SIGTERM');
    assert.equal((await p.exited).code, 0, `${w}: ${p.output().slice(-2000)}`);
  }
  // a graceful stop runs LeakSanitizer in each worker: no report at all
  await nginx.stop();
  assert.deepEqual(asanReports(asanDir), [], 'sanitizer reports');
});
