// redis_dns.test.mjs - the Redis host is looked up again on every
// reconnect, by the module (through nginx's "resolver") and by a worker
// (getaddrinfo, so /etc/hosts), the way an ElastiCache failover moves its
// DNS name to the promoted replica without anyone reloading anything.
//
// Two Redis servers on the same port, A on 127.0.0.1 and B on 127.0.0.2,
// B a replica of A (so it holds the function libraries, as a promoted
// replica does). A name, redis.es.test, points at A: for nginx through a
// tiny DNS server in this process, for the worker through an /etc/hosts of
// its own (a mount namespace: needs root and unshare). Then B is promoted,
// the name moved to B and A killed: the module's next requests and the
// worker's heartbeats must reach B.
//
// Where no private /etc/hosts can be had (not root, or a chroot whose "/"
// is no mount point, so unshare cannot make its mounts private), the
// module's half still runs: the name is "localhost", which nginx resolves
// at configuration time from the system (127.0.0.1) and its resolver asks
// the test's DNS server for afterwards; the worker's half is skipped.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { bin, startProc, startRedis, tmpDir, waitFor, httpRequest }
  from '../../lib/harness.mjs';
import { canFakeHosts, startNginx, withHosts } from '../../lib/nginx.mjs';
import { startDnsServer } from '../../lib/dns_server.mjs';
import { enrichEnv } from '../../lib/enrich.mjs';
import { apiConf, request, startCognito } from '../../lib/api.mjs';

const HOSTS_OK = canFakeHosts();
const NAME = HOSTS_OK ? 'redis.es.test' : 'localhost';
const NAME_RE = NAME.replace(/\./g, '\\.');
const HOSTS = (ip) => `127.0.0.1 localhost\n${ip} ${NAME}\n`;

let a;
let b;
let dns;
let nginx;
let stale;
let worker;
let cognito;
let hostsFile;

before(async () => {
  // "localhost" may be ::1 to nginx at configuration time (a root without
  // /etc/hosts asks DNS): A listens there too when the address exists
  a = await startRedis({ host: '127.0.0.1', conf: ['bind 127.0.0.1 -::1'] });
  b = await startRedis({ host: '127.0.0.2', port: a.port,
                         conf: [`replicaof 127.0.0.1 ${a.port}`] });
  dns = await startDnsServer({ records: { [NAME]: ['127.0.0.1'] } });
  cognito = await startCognito();
});

after(async () => {
  worker?.kill('SIGKILL');
  await nginx?.stop();
  await stale?.stop();
  await dns?.close();
  await cognito?.stop();
  await a?.close();
  await b?.close();
});

// Connections other than the test's own (the one asking).
async function others(r) {
  const list = await r.cmd('CLIENT', 'LIST');
  return list.split('\n').filter((l) => l && !/ cmd=client\|list /.test(l) &&
    !/ flags=[^ ]*[SM]/.test(l)).length;
}

async function readyAll(url) {
  // several requests, so each nginx worker process answers
  for (let i = 0; i < 6; i++) {
    const r = await httpRequest({ url: `${url}/readyz` });
    if (r.status !== 200) return false;
  }
  return true;
}

test('module and worker follow the Redis name to a new address',
  async (t) => {
    if (!HOSTS_OK) {
      t.diagnostic('no private /etc/hosts here (needs root and a mount ' +
                   'namespace): the module is checked, the worker is not');
    }
    await waitFor(async () => /master_link_status:up/.test(
      await b.cmd('INFO', 'replication')), { timeout: 10000,
      what: 'replica in sync' });

    const api = apiConf(cognito, { tenantClaim: true });
    nginx = await startNginx({
      redisUrl: `redis://${NAME}:${a.port}/0`,
      hosts: HOSTS_OK ? HOSTS('127.0.0.1') : undefined,
      serverConf: api.serverConf,
      extraConf: `    resolver ${dns.address} valid=1s ipv6=off;\n` +
                 `    resolver_timeout 2s;\n${api.extraConf}`,
    });

    stale = await startNginx({ redisUrl: `redis://${NAME}:${a.port}/0`,
                               hosts: HOSTS_OK ? HOSTS('127.0.0.1')
                                 : undefined });

    if (HOSTS_OK) {
      const dir = await tmpDir('es-dns-worker-');
      hostsFile = path.join(dir, 'hosts');
      writeFileSync(hostsFile, HOSTS('127.0.0.1'));
      const env = enrichEnv({ url: `redis://${NAME}:${a.port}/0` }, dir);
      worker = startProc(...withHosts(hostsFile, bin('enrich')),
                         { env, name: 'enrich' });
    }

    await waitFor(() => readyAll(nginx.url), { timeout: 15000,
      what: 'nginx ready on A' });
    await waitFor(() => readyAll(stale.url), { timeout: 15000,
      what: 'nginx without a resolver ready on A' });
    if (worker) {
      await waitFor(async () => (await a.cmd('HKEYS', 'es:workers'))
        .some((k) => k.startsWith('enrich:')), { timeout: 15000,
        what: 'worker heartbeat on A' });
    }
    assert.ok(await others(a) >= (worker ? 5 : 4),
              'four nginx workers (and enrich) on A');
    assert.ok(dns.asked(NAME) > 0, 'nginx asked the resolver');
    assert.equal(await others(b), 0, 'nobody on B yet');

    // the failover: B promoted, the name moved, A gone
    await b.cmd('REPLICAOF', 'NO', 'ONE');
    dns.set(NAME, ['127.0.0.2']);
    if (worker) writeFileSync(hostsFile, HOSTS('127.0.0.2'));
    const switched = Date.now();
    await a.kill9();

    await waitFor(() => readyAll(nginx.url), { timeout: 20000,
      what: 'nginx ready again, on B' });
    await waitFor(async () => await others(b) >= 2, { timeout: 20000,
      what: 'both nginx workers connected to B' });
    assert.match(nginx.errorLog(), new RegExp(`${NAME_RE} is 127\\.0\\.0\\.2`));

    if (worker) await waitFor(async () => {
      const beats = await b.cmd('HGETALL', 'es:workers');
      for (let i = 0; i < beats.length; i += 2) {
        if (beats[i].startsWith('enrich:') &&
            JSON.parse(beats[i + 1]).beat_ms > switched) return true;
      }
      return false;
    }, { timeout: 20000, what: 'worker heartbeat on B' }).catch((e) => {
      throw new Error(`${e.message}\n${worker.output().slice(-3000)}`);
    });
    if (worker) assert.match(worker.output(), /redis connection restored/);

    // without a resolver: still the address of configuration time
    const r = await httpRequest({ url: `${stale.url}/readyz` });
    assert.equal(r.status, 503, r.body);
    assert.doesNotMatch(stale.errorLog(), /127\.0\.0\.2/);
    await waitFor(() => /connect failed/.test(stale.errorLog()),
      { timeout: 10000, what: 'nginx without a resolver retrying A' });
    if (worker) assert.equal(worker.child.exitCode, null, worker.output());
  });

// Redis keeps a demoted primary's clients connected and answers their
// writes with -READONLY: that, not a dropped connection, is what tells the
// module and the workers to look the name up again.
test('a demoted primary (-READONLY) sends the module and a worker to the ' +
     'new one', async () => {
  assert.ok(nginx, 'the first test ran');
  // A comes back as a replica of B, catches up, and the roles swap while
  // the module and the worker stay connected to B
  await a.start();
  await a.cmd('REPLICAOF', '127.0.0.2', String(b.port));
  await waitFor(async () => /master_link_status:up/.test(
    await a.cmd('INFO', 'replication')), { timeout: 10000,
    what: 'A in sync with B' });
  await a.cmd('REPLICAOF', 'NO', 'ONE');
  await b.cmd('REPLICAOF', '127.0.0.1', String(a.port));
  dns.set(NAME, ['127.0.0.1']);
  if (worker) writeFileSync(hostsFile, HOSTS('127.0.0.1'));
  const demoted = Date.now();

  // writes through the API: 503 while a worker process still sits on B
  // (its write got READONLY), then accepted on A
  const user = await cognito.user('owner@dns.test', { tenant: 'dns' });
  const statuses = [];
  await waitFor(async () => {
    const ok = [];
    for (let i = 0; i < 6; i++) {
      const r = await request(nginx.url, 'POST', '/api/v1/topics', {
        token: user.idToken,
        body: { name: `t${statuses.length}`, subreddits: ['rust'] } });
      statuses.push(r.status);
      ok.push(r.status === 201 || r.status === 200);
    }
    return ok.every(Boolean);
  }, { timeout: 20000, what: 'API writes accepted on A' });
  assert.deepEqual(statuses.filter((x) => ![200, 201, 503].includes(x)), []);
  assert.match(nginx.errorLog(), /became a replica \(READONLY\)/);
  assert.ok(await a.cmd('EXISTS', 'es:{t:dns}:topics') === 1 ||
            (await a.cmd('KEYS', 'es:{t:dns}:*')).length > 0,
            'the topics are on A');

  if (!worker) return;
  await waitFor(async () => {
    const beats = await a.cmd('HGETALL', 'es:workers');
    for (let i = 0; i < beats.length; i += 2) {
      if (beats[i].startsWith('enrich:') &&
          JSON.parse(beats[i + 1]).beat_ms > demoted) return true;
    }
    return false;
  }, { timeout: 20000, what: 'worker heartbeat on A' }).catch((e) => {
    throw new Error(`${e.message}\n${worker.output().slice(-3000)}`);
  });
  assert.match(worker.output(), /became a replica \(READONLY\)/);
  assert.equal(worker.child.exitCode, null, worker.output());
});
