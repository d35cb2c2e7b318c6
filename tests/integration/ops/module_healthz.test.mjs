// module_healthz.test.mjs - the nginx module's configuration checks and its
// /healthz route, against a real nginx (two worker processes) and a real
// Redis.
//
// Heartbeats are written into es:workers the way the workers write them.
// Redis is killed, restarted, paused (CLIENT PAUSE) and stopped (SIGSTOP)
// under the module to check that every request gets an answer, that clients
// giving up mid-request never crash a worker, and that the module recovers
// without a reload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import {
  startRedis, startProc, httpRequest, waitFor, sleep, tmpDir, freePort,
  RedisClient,
} from '../../lib/harness.mjs';
import { startNginx, nginxConfTest } from '../../lib/nginx.mjs';

const TIMEOUT_MS = 400; // echostream_redis_timeout of the nginx under test
const INTERVAL_MS = 2000;

let redis;
let nginx;

before(async () => {
  redis = await startRedis();
  nginx = await startNginx({
    redisUrl: redis.url,
    extraConf: `    echostream_redis_timeout ${TIMEOUT_MS};`,
  });
});

after(async () => {
  if (nginx) await nginx.stop();
  if (redis) await redis.close();
});

function heartbeat(worker, instance, { ageMs = 0, pid = 4242,
                                       status = { polled: 7 } } = {}) {
  const now = Date.now();
  return JSON.stringify({
    worker, instance, pid, started_ms: now - 60000, beat_ms: now - ageMs,
    interval_ms: INTERVAL_MS, status,
  });
}

async function beat(worker, instance, opts) {
  await redis.cmd('HSET', 'es:workers', `${worker}:${instance}`,
                  heartbeat(worker, instance, opts));
}

async function healthz() {
  const res = await httpRequest({ url: `${nginx.url}/healthz` });
  let body;
  try {
    body = JSON.parse(res.body);
  } catch {
    assert.fail(`healthz answered non-JSON (${res.status}): ${res.body}`);
  }
  return { ...res, json: body };
}

// A GET that the client abandons after abortMs; resolves either way.
function abandonedRequest(url, abortMs) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve('answered'));
      res.on('error', () => resolve('aborted'));
    });
    req.on('error', () => resolve('aborted'));
    setTimeout(() => { req.destroy(); resolve('aborted'); }, abortMs);
  });
}

function assertNoCrash() {
  const log = nginx.errorLog();
  assert.doesNotMatch(log, /exited on signal/);
  assert.doesNotMatch(log, /\[alert\]/);
}

test('nginx -t rejects a bad echostream_redis URL, naming the directive',
  async () => {
    for (const url of ['http://127.0.0.1:6379', 'redis://h:99999/0',
                       'unix://relative.sock']) {
      const r = await nginxConfTest({ redisUrl: url });
      assert.equal(r.ok, false, `${url} accepted: ${r.output}`);
      assert.match(r.output, /"echostream_redis" has an invalid URL/);
    }
    // a password in the URL never reaches the message
    const r = await nginxConfTest({ redisUrl: 'redis://:s3cr3tpw@h:0/0' });
    assert.equal(r.ok, false);
    assert.doesNotMatch(r.output, /s3cr3tpw/);
  });

test('nginx -t rejects bad timeouts and worker names, naming the directive',
  async () => {
    for (const v of ['abc', '-5', '0']) {
      const r = await nginxConfTest({
        serverConf: `        echostream_redis_timeout ${v};` });
      assert.equal(r.ok, false, `timeout ${v} accepted: ${r.output}`);
      assert.match(r.output, /echostream_redis_timeout/);
    }
    const r = await nginxConfTest({
      serverConf: '        echostream_expect_workers ingest "bad name";' });
    assert.equal(r.ok, false);
    assert.match(r.output, /echostream_expect_workers/);
  });

test('nginx -t accepts a valid configuration', async () => {
  for (const redisUrl of ['unix:///tmp/es-redis.sock?db=2',
                          'redis://localhost:6390/1']) {
    const r = await nginxConfTest({
      redisUrl,
      serverConf: '        echostream_redis_timeout 2s;\n' +
                  '        echostream_expect_workers ingest mirror enrich;' });
    assert.equal(r.ok, true, r.output);
  }
});

test('healthz is 200 "ok" when Redis is up and every worker beats',
  async () => {
    await redis.cmd('DEL', 'es:workers');
    await beat('ingest', 'host-1', { pid: 101 });
    await beat('mirror', 'host-1', { pid: 102, status: { sent: 3 } });
    const res = await healthz();
    assert.equal(res.status, 200, res.body);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.json.status, 'ok');
    assert.equal(res.json.redis.state, 'up');
    assert.equal(typeof res.json.redis.latency_ms, 'number');
    assert.equal(res.json.redis.error, undefined);
    assert.equal(res.json.workers.ingest.alive, true);
    const [inst] = res.json.workers.ingest.instances;
    assert.equal(inst.instance, 'host-1');
    assert.equal(inst.pid, 101);
    assert.equal(typeof inst.beat_age_ms, 'number');
    assert.deepEqual(inst.status, { polled: 7 });
    assert.deepEqual(res.json.workers.mirror.instances[0].status, { sent: 3 });
  });

test('healthz is 503 "degraded" when an expected worker is stale or missing',
  async () => {
    await redis.cmd('DEL', 'es:workers');
    await beat('ingest', 'host-1');
    await beat('mirror', 'host-1', { ageMs: 4 * INTERVAL_MS });
    let res = await healthz();
    assert.equal(res.status, 503, res.body);
    assert.equal(res.json.status, 'degraded');
    assert.equal(res.json.redis.state, 'up');
    assert.equal(res.json.workers.ingest.alive, true);
    assert.equal(res.json.workers.mirror.alive, false);
    assert.equal(res.json.workers.mirror.instances.length, 1);

    // one live instance among stale ones is enough
    await beat('mirror', 'host-2');
    res = await healthz();
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.workers.mirror.instances.length, 2);

    await redis.cmd('DEL', 'es:workers');
    await beat('ingest', 'host-1');
    res = await healthz();
    assert.equal(res.status, 503);
    assert.equal(res.json.status, 'degraded');
    assert.deepEqual(res.json.workers.mirror,
                     { alive: false, instances: [] });
  });

test('healthz lists unexpected workers and skips malformed heartbeats',
  async () => {
    await redis.cmd('DEL', 'es:workers');
    await beat('ingest', 'host-1');
    await beat('mirror', 'host-1');
    await beat('enrich', 'host-9');
    await redis.cmd('HSET', 'es:workers', 'broken:x', '{"worker":');
    await redis.cmd('HSET', 'es:workers', 'array:y', '[1,2,3]');
    await redis.cmd('HSET', 'es:workers', 'nobeat:z',
                    '{"worker":"nobeat","interval_ms":1000}');
    const res = await healthz();
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.workers.enrich.alive, true);
    assert.equal(res.json.workers.broken, undefined);
    assert.equal(res.json.workers.nobeat, undefined);
    const log = await waitFor(() => {
      const l = nginx.errorLog();
      return /malformed heartbeat "broken:x"/.test(l) &&
        /malformed heartbeat "array:y"/.test(l) &&
        /malformed heartbeat "nobeat:z"/.test(l) && l;
    }, { what: 'malformed heartbeat log lines' });
    assert.ok(log);
    await redis.cmd('HDEL', 'es:workers', 'broken:x', 'array:y', 'nobeat:z');
  });

test('replies far beyond one 16 KB read arrive whole', async () => {
  await redis.cmd('DEL', 'es:workers');
  await beat('mirror', 'host-1');
  // about 1 MB of heartbeats: many reads of one reply, with nothing else
  // on the connection to wake a read that stopped early
  const pad = 'x'.repeat(1000);
  const args = [];
  for (let i = 0; i < 1000; i++) {
    args.push(`ingest:bulk-${i}`,
              heartbeat('ingest', `bulk-${i}`, { status: { pad } }));
  }
  await redis.cmd('HSET', 'es:workers', ...args);
  for (let i = 0; i < 4; i++) {
    const res = await healthz();
    assert.equal(res.status, 200, res.body.slice(0, 200));
    assert.equal(res.json.workers.ingest.instances.length, 1000);
  }
  await redis.cmd('DEL', 'es:workers');
});

test('many concurrent requests share the pipelined connection', async () => {
  await redis.cmd('DEL', 'es:workers');
  await beat('ingest', 'host-1');
  await beat('mirror', 'host-1');
  const results = await Promise.all(
    Array.from({ length: 100 }, () => healthz()));
  for (const res of results) {
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.status, 'ok');
  }
});

test('healthz answers HEAD and refuses POST', async () => {
  const head = await httpRequest({ method: 'HEAD', url: `${nginx.url}/healthz` });
  assert.ok(head.status === 200 || head.status === 503);
  assert.equal(head.body, '');
  const post = await httpRequest({ method: 'POST', url: `${nginx.url}/healthz`,
                                   body: 'x' });
  assert.equal(post.status, 405);
});

test('healthz is 503 "down" while Redis is dead and recovers without reload',
  async () => {
    await redis.kill9();
    // both workers must notice: ask several times
    for (let i = 0; i < 4; i++) {
      const res = await healthz();
      assert.equal(res.status, 503, res.body);
      assert.equal(res.json.status, 'down');
      assert.equal(res.json.redis.state, 'down');
      assert.equal(typeof res.json.redis.error, 'string');
      assert.ok(res.json.redis.error.length > 0);
      assert.deepEqual(res.json.workers.ingest,
                       { alive: false, instances: [] });
    }
    await redis.start();
    await beat('ingest', 'host-1');
    await beat('mirror', 'host-1');
    // every worker process reconnects: several answers in a row are "ok"
    await waitFor(async () => {
      for (let i = 0; i < 4; i++) {
        if ((await healthz()).status !== 200) return false;
      }
      return true;
    }, { timeout: 20000, interval: 200, what: 'healthz ok after restart' });
    assertNoCrash();
  });

test('a paused Redis gives 503 "down" and aborted clients crash nothing',
  async () => {
    await beat('ingest', 'host-1');
    await beat('mirror', 'host-1');
    await redis.cmd('CLIENT', 'PAUSE', '3000', 'ALL');
    const url = `${nginx.url}/healthz`;
    const aborted = [];
    for (let i = 0; i < 30; i++) {
      aborted.push(abandonedRequest(url, 20 + (i % 10) * 30));
    }
    const waiting = [];
    for (let i = 0; i < 10; i++) waiting.push(healthz());
    const results = await Promise.all(waiting);
    await Promise.all(aborted);
    for (const res of results) {
      assert.equal(res.status, 503, res.body);
      assert.equal(res.json.status, 'down');
      assert.equal(res.json.redis.state, 'down');
    }
    // the command timeout fired: answers queued behind it name it, and
    // answers that come after it (on a loaded machine, all of them: the
    // abandoned requests reached the timeout first) name the reconnect it
    // caused
    assert.ok(results.every((r) =>
      /no reply within|no reply from redis, reconnecting/.test(r.json.redis.error)),
              JSON.stringify(results.map((r) => r.json.redis.error)));
    await waitFor(async () => (await healthz()).status === 200,
                  { timeout: 20000, interval: 200,
                    what: 'healthz ok after the pause' });
    assertNoCrash();
  });

test('a stopped Redis process (SIGSTOP) is survived the same way',
  async () => {
    await beat('ingest', 'host-1');
    await beat('mirror', 'host-1');
    const pid = redis.proc.child.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      const url = `${nginx.url}/healthz`;
      const aborted = [];
      for (let i = 0; i < 20; i++) {
        aborted.push(abandonedRequest(url, 10 + i * 25));
      }
      const waiting = [];
      for (let i = 0; i < 6; i++) waiting.push(healthz());
      const results = await Promise.all(waiting);
      await Promise.all(aborted);
      for (const res of results) {
        assert.equal(res.status, 503, res.body);
        assert.equal(res.json.redis.state, 'down');
      }
      // while stopped, later requests still get answers
      await sleep(TIMEOUT_MS);
      assert.equal((await healthz()).status, 503);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await healthz()).status === 200,
                  { timeout: 20000, interval: 200,
                    what: 'healthz ok after SIGCONT' });
    assertNoCrash();
  });

test('the static site and config.json are served next to the module',
  async () => {
    const cfg = await httpRequest({ url: `${nginx.url}/config.json` });
    assert.equal(cfg.status, 200);
    assert.equal(cfg.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(cfg.body), { test: true });
    const index = await httpRequest({ url: `${nginx.url}/` });
    assert.equal(index.status, 200);
    assert.match(index.headers['content-type'], /^text\/html/);
  });

test('a reload keeps healthz working and leaves no socket behind',
  async () => {
    await beat('ingest', 'host-1');
    await beat('mirror', 'host-1');
    await nginx.reload();
    await waitFor(async () => (await healthz()).status === 200,
                  { what: 'healthz ok after reload' });
    // the old workers exit cleanly, closing their Redis connection
    await waitFor(() => /worker process \d+ exited with code 0/
      .test(nginx.errorLog()), { what: 'old workers exiting' });
    assert.doesNotMatch(nginx.errorLog(), /open socket/);
    assertNoCrash();
  });

// A Redis of its own, started with extra command-line options.
async function startCustomRedis(args) {
  const dir = await tmpDir('es-redis-custom-');
  const proc = startProc('redis-server', ['--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--appendonly', 'no', ...args], { name: 'redis-custom' });
  return { dir, proc };
}

test('a password and a database number in the URL are used', async () => {
  const port = await freePort();
  const { proc } = await startCustomRedis(['--port', String(port),
                                           '--requirepass', 'pw-9f3a']);
  const client = new RedisClient(port);
  await waitFor(async () => {
    try {
      return (await client.cmd('AUTH', 'pw-9f3a')) === 'OK';
    } catch {
      client.close();
      return false;
    }
  }, { what: 'password redis' });
  await client.cmd('SELECT', '3');
  const now = Date.now();
  for (const w of ['ingest', 'mirror']) {
    await client.cmd('HSET', 'es:workers', `${w}:db3`, JSON.stringify({
      worker: w, instance: 'db3', pid: 1, started_ms: now, beat_ms: now,
      interval_ms: 60000, status: {} }));
  }
  const good = await startNginx({
    redisUrl: `redis://:pw-9f3a@127.0.0.1:${port}/3` });
  const bad = await startNginx({
    redisUrl: `redis://:wrong-pw-77@127.0.0.1:${port}/3` });
  try {
    const res = await httpRequest({ url: `${good.url}/healthz` });
    assert.equal(res.status, 200, res.body);
    assert.equal(JSON.parse(res.body).workers.ingest.instances[0].instance,
                 'db3');
    const down = await httpRequest({ url: `${bad.url}/healthz` });
    assert.equal(down.status, 503, down.body);
    assert.equal(JSON.parse(down.body).status, 'down');
    await waitFor(() => /setup refused/.test(bad.errorLog()),
                  { what: 'refused AUTH in the log' });
    assert.doesNotMatch(bad.errorLog(), /wrong-pw-77/);
    assert.doesNotMatch(good.errorLog(), /pw-9f3a/);
  } finally {
    client.close();
    await good.stop();
    await bad.stop();
    proc.kill('SIGKILL');
  }
});

test('a unix socket URL works', async () => {
  const dir = await tmpDir('es-sock-');
  const sock = path.join(dir, 'redis.sock');
  const { proc } = await startCustomRedis(['--port', '0', '--unixsocket',
                                           sock, '--unixsocketperm', '777']);
  await waitFor(() => existsSync(sock), { what: 'redis socket' });
  const n = await startNginx({ redisUrl: `unix://${sock}` });
  try {
    const res = await httpRequest({ url: `${n.url}/healthz` });
    // no heartbeats in this Redis: up, but degraded
    assert.equal(res.status, 503, res.body);
    const body = JSON.parse(res.body);
    assert.equal(body.redis.state, 'up');
    assert.equal(body.status, 'degraded');
  } finally {
    await n.stop();
    proc.kill('SIGKILL');
  }
});
