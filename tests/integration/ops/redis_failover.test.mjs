// redis_failover.test.mjs - a Sentinel-managed primary killed under load.
//
// A primary, a replica and one sentinel (quorum 1, down after 1 s) on
// loopback; nginx with the module, and the ingest and enrich workers,
// all given the redis+sentinel:// address. While /readyz is polled and the
// Reddit test server keeps adding comments, the primary is killed with
// SIGKILL; the sentinel promotes the replica. The module and both workers
// must find the new primary by themselves, the API must answer only 200 or
// 503 (503 only around the switch), and new comments must flow through
// ingest and enrich again. What the failover lost or doubled is measured
// and printed (docs/failover.md explains the numbers).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { bin, freePort, httpRequest, RedisClient, sleep, startProc,
         startRedis, tmpDir, waitFor } from '../../lib/harness.mjs';
import { startNginx } from '../../lib/nginx.mjs';
import { startRedditServer } from '../../reddit/server.mjs';
import { drained, enrichEnv, STREAM } from '../../lib/enrich.mjs';

const MASTER = 'esm';
const SUBS = ['rustlang', 'golang', 'cooking'];

let primary;
let replica;
let sentinel;
let reddit;
let nginx;
const procs = [];

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
});

after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await nginx?.stop();
  sentinel?.client.close();
  sentinel?.proc.kill('SIGKILL');
  await reddit?.close();
  await primary?.close();
  await replica?.close();
});

function workerEnv(url) {
  return {
    ...enrichEnv({ url }, '/nonexistent'),
    ECHOSTREAM_REDDIT_API_URL: reddit.url,
    ECHOSTREAM_REDDIT_TOKEN_URL: reddit.tokenUrl,
    ECHOSTREAM_REDDIT_CLIENT_ID: 'fo-id',
    ECHOSTREAM_REDDIT_CLIENT_SECRET: 'fo-secret',
    ECHOSTREAM_REDDIT_QPM: '100000',
    ECHOSTREAM_REDDIT_TIMEOUT: '3',
    ECHOSTREAM_INGEST_MIN_INTERVAL: '0.1',
    ECHOSTREAM_INGEST_MAX_INTERVAL: '0.3',
    ECHOSTREAM_INGEST_WATCH_REFRESH: '0.2',
    ECHOSTREAM_STREAM_GROUPS: 'enrich',
    ECHOSTREAM_STREAM_TRIM_INTERVAL: '3600',
  };
}

async function streamIds(r) {
  const ids = new Map();
  let start = '-';
  for (;;) {
    const page = await r.cmd('XRANGE', STREAM, start, '+', 'COUNT', 1000);
    for (const [, fields] of page) {
      const f = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
      if (f.type === 'comment') ids.set(f.id, (ids.get(f.id) || 0) + 1);
    }
    if (page.length < 1000) break;
    start = `(${page[page.length - 1][0]}`;
  }
  return ids;
}

const allIds = () => SUBS.flatMap((s) => reddit.ids(s));

test('module and workers follow a Sentinel failover; the pipeline resumes',
  async () => {
    await waitFor(async () => /master_link_status:up/.test(
      await replica.cmd('INFO', 'replication')), { timeout: 10000,
      what: 'replica in sync' });
    const url = `redis+sentinel://127.0.0.1:${sentinel.port}/${MASTER}/0`;

    for (const s of SUBS) {
      await primary.cmd('HSET', 'es:{watch}:subs', s, 1);
      reddit.addComments(s, 40);
    }
    await primary.cmd('INCR', 'es:{watch}:version');

    nginx = await startNginx({ redisUrl: url });
    const env = workerEnv(url);
    const ingest = startProc(bin('ingest'), [], { env, name: 'ingest' });
    const enrich = startProc(bin('enrich'), [], { env, name: 'enrich' });
    procs.push(ingest, enrich);

    const ingested = async (r) => {
      const have = await streamIds(r);
      return allIds().every((id) => have.has(id));
    };
    await waitFor(() => ingested(primary), { timeout: 30000, interval: 200,
      what: 'first comments in the stream' });
    await waitFor(() => drained(primary), { timeout: 30000,
      what: 'first comments enriched' });

    // load: /readyz polled without pause, comments keep arriving
    const statuses = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = Date.now();
        try {
          const r = await httpRequest({ url: `${nginx.url}/readyz`,
                                        timeout: 5000 });
          statuses.push({ t, s: r.status });
        } catch (e) {
          statuses.push({ t, s: `error ${e.message}` });
        }
        await sleep(10);
      }
    })();
    let feeding = true;
    const feeder = (async () => {
      while (feeding) {
        for (const s of SUBS) reddit.addComments(s, 2);
        await sleep(100);
      }
    })();

    await sleep(1000);
    const beforeKill = await streamIds(primary);
    const offset = (info, key) => Number((info.match(
      new RegExp(`${key}:(\\d+)`)) || [])[1]);
    const unreplicated =
      offset(await primary.cmd('INFO', 'replication'), 'master_repl_offset') -
      offset(await replica.cmd('INFO', 'replication'), 'slave_repl_offset');
    const killed = Date.now();
    await primary.kill9();

    await waitFor(async () => {
      const a = await sentinel.client.cmd('SENTINEL',
        'get-master-addr-by-name', MASTER);
      return Number(a[1]) === replica.port;
    }, { timeout: 20000, interval: 100, what: 'replica promoted' });
    const promoted = Date.now();

    // every nginx worker and both workers reach the new primary
    await waitFor(async () => {
      for (let i = 0; i < 6; i++) {
        const r = await httpRequest({ url: `${nginx.url}/readyz` });
        if (r.status !== 200) return false;
      }
      return true;
    }, { timeout: 20000, what: 'nginx ready on the new primary' });
    const recovered = Date.now();
    const np = new RegExp(`primary "${MASTER}" is 127\\.0\\.0\\.1:` +
                          `${replica.port}`);
    assert.match(nginx.errorLog(), np);
    const wp = new RegExp(`redis primary from sentinel.*port=${replica.port}`);
    await waitFor(() => wp.test(ingest.output()) && wp.test(enrich.output()),
      { timeout: 20000, what: 'workers on the new primary' }).catch((e) => {
      throw new Error(`${e.message}\ningest:\n${ingest.output().slice(-2000)}` +
                      `\nenrich:\n${enrich.output().slice(-2000)}`);
    });

    // the pipeline resumes: new comments are ingested and enriched
    await sleep(1000);
    feeding = false;
    await feeder;
    for (const s of SUBS) reddit.addComments(s, 10);
    await waitFor(() => ingested(replica), { timeout: 30000, interval: 200,
      what: 'every comment in the new primary\'s stream' });
    await waitFor(() => drained(replica), { timeout: 30000,
      what: 'enrich drained on the new primary' });
    polling = false;
    await poller;

    // the API answered only 200 or 503, 503 only around the switch
    const bad = statuses.filter((x) => x.s !== 200 && x.s !== 503);
    assert.deepEqual(bad, [], 'only 200 or 503');
    const unready = statuses.filter((x) => x.s === 503);
    for (const x of unready) {
      assert.ok(x.t >= killed - 100 && x.t <= recovered,
        `503 outside the switch (${x.t - killed} ms after the kill)`);
    }
    const lastBad = unready.length ? unready[unready.length - 1].t : killed;
    assert.equal(statuses[statuses.length - 1].s, 200);

    // what the failover cost, measured
    const after = await streamIds(replica);
    const lost = [...beforeKill.keys()].filter((id) => !after.has(id));
    const doubled = [...after].filter(([, n]) => n > 1).length;
    const m = {
      promoted_after_kill_ms: promoted - killed,
      unreplicated_bytes_at_kill: unreplicated,
      api_503_window_ms: unready.length ? lastBad - unready[0].t : 0,
      api_requests: statuses.length, api_503: unready.length,
      stream_entries_lost_then_reingested: lost.length,
      comments_streamed_twice: doubled,
      comments: allIds().length,
    };
    console.log(`# failover: ${JSON.stringify(m)}`);
    // ingest's dedup state was lost with the same writes: it re-adds what
    // the lost entries held, so nothing is missing at the end
    assert.ok(allIds().every((id) => after.has(id)));

    for (const p of [ingest, enrich]) {
      assert.equal(p.child.exitCode, null, p.output());
      p.kill('SIGTERM');
      assert.equal((await p.exited).code, 0, p.output());
    }
  });
