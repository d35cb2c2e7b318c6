// redis_tls.test.mjs - a Redis that only speaks TLS, reached through the
// shipped tunnel (deploy/nginx/redis-tls-tunnel.conf: nginx's stream
// module with proxy_ssl), by the module and the workers, whose hiredis has
// no TLS.
//
// A test CA and a server certificate for "redis.test" are made with
// openssl; redis-server listens with TLS only (port 0, tls-port) and one
// ACL user with a password, the default user off. The tunnel file is used
// as docs/install.md says, only its marked values changed (listen port,
// endpoint, certificate name, CA file, resolver): the nginx that serves
// the module loads the stream module and includes it, and a small DNS
// server (tests/lib/dns_server.mjs) answers for redis.test, so the
// tunnel's per-connection name lookup is the real one. Then a user signs
// in and creates a topic through the API, ingest and enrich carry comments
// to it through the tunnel, and the API serves them back.
//
// A second nginx whose tunnel trusts an unrelated CA must refuse the
// server (verification really on): its module answers 503, both logs say
// why, and nothing crashes. The stunnel4 alternative
// (deploy/stunnel/redis-tls-stunnel.conf) is held to the same two checks
// with a Redis client. Last, the password appears in no log.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import {
  ROOT, RedisClient, bin, freePort, startProc, tmpDir, waitFor,
} from '../../lib/harness.mjs';
import { startCognito, startApiStack } from '../../lib/api.mjs';
import { startDnsServer } from '../../lib/dns_server.mjs';
import { makeCerts } from '../../lib/jwks_server.mjs';
import { startRedditServer } from '../../reddit/server.mjs';

const STREAM_MODULE = process.env.ES_NGINX_STREAM_MODULE
  || '/usr/lib/nginx/modules/ngx_stream_module.so';
const TUNNEL = path.join(ROOT, 'deploy/nginx/redis-tls-tunnel.conf');
const STUNNEL = path.join(ROOT, 'deploy/stunnel/redis-tls-stunnel.conf');
const HOST = 'redis.test';
const USER = 'es-tls';
const PASSWORD = randomBytes(18).toString('hex');
const SUB = 'tlstest';
const N = 40;

let dir;
let certs;
let dns;
let tlsPort;
let redisProc;
let reddit;
let cognito;
let stack;
let tunnelPort;
let admin;
const procs = {};

// The shipped tunnel with its marked values set for this test; each must
// be found exactly once, so the file cannot drift away from the test.
function tunnelFile(name, { listen, ca }) {
  let text = readFileSync(TUNNEL, 'utf8');
  const swap = (from, to) => {
    assert.equal(text.split(from).length, 2, `${TUNNEL}: one "${from}"`);
    text = text.replace(from, to);
  };
  swap('resolver 127.0.0.53 valid=10s', `resolver ${dns.address} valid=1s`);
  swap('listen 127.0.0.1:6380;', `listen 127.0.0.1:${listen};`);
  swap('master.CHANGE-ME.cache.amazonaws.com:6379;', `${HOST}:${tlsPort};`);
  swap('proxy_ssl_name master.CHANGE-ME.cache.amazonaws.com;',
       `proxy_ssl_name ${HOST};`);
  swap('/etc/ssl/certs/ca-certificates.crt;', `${ca};`);
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return `load_module ${STREAM_MODULE};\ninclude ${file};`;
}

// The shipped stunnel configuration, likewise, in the foreground as the
// test's user; returns the running stunnel4.
async function startStunnel(name, { listen, ca }) {
  let text = readFileSync(STUNNEL, 'utf8');
  const swap = (from, to) => {
    assert.equal(text.split(from).length, 2, `${STUNNEL}: one "${from}"`);
    text = text.replace(from, to);
  };
  swap('setuid = stunnel4\n', '');
  swap('setgid = stunnel4\n', '');
  swap('pid = /run/stunnel4/echostream-redis.pid',
       'pid =\nforeground = yes');
  swap('accept = 127.0.0.1:6380', `accept = 127.0.0.1:${listen}`);
  swap('connect = master.CHANGE-ME.cache.amazonaws.com:6379',
       `connect = 127.0.0.1:${tlsPort}`);
  swap('CAfile = /etc/ssl/certs/ca-certificates.crt', `CAfile = ${ca}`);
  swap('checkHost = master.CHANGE-ME.cache.amazonaws.com',
       `checkHost = ${HOST}`);
  swap('sni = master.CHANGE-ME.cache.amazonaws.com', `sni = ${HOST}`);
  const file = path.join(dir, name);
  writeFileSync(file, text);
  const p = startProc('stunnel4', [file], { name });
  procs[name] = p;
  await waitFor(() => new Promise((resolve) => {
    const s = net.createConnection(listen, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  }), { timeout: 10000, what: `${name} on ${listen}` }).catch((e) => {
    throw new Error(`${e.message}\n${p.output()}`);
  });
  return p;
}

const url = (port) => `redis://${USER}:${PASSWORD}@127.0.0.1:${port}/0`;

before(async () => {
  assert.ok(existsSync(STREAM_MODULE),
    `${STREAM_MODULE} is missing: install libnginx-mod-stream`);
  dir = await tmpDir('es-redis-tls-');
  certs = await makeCerts({ names: [HOST] });
  dns = await startDnsServer({ records: { [HOST]: ['127.0.0.1'] } });

  tlsPort = await freePort();
  writeFileSync(path.join(dir, 'redis.conf'), [
    'port 0', 'bind 127.0.0.1', `tls-port ${tlsPort}`,
    `tls-cert-file ${certs.cert}`, `tls-key-file ${certs.key}`,
    `tls-ca-cert-file ${certs.ca}`, 'tls-auth-clients no',
    `dir ${dir}`, `logfile ${path.join(dir, 'redis.log')}`, 'save ""',
    'daemonize no', 'user default off',
    `user ${USER} on >${PASSWORD} ~* &* +@all`,
  ].join('\n') + '\n');
  redisProc = startProc('redis-server', [path.join(dir, 'redis.conf')],
    { name: 'redis' });
  await waitFor(() => existsSync(path.join(dir, 'redis.log')) &&
    /Ready to accept connections/.test(readFileSync(path.join(dir,
      'redis.log'), 'utf8')), { timeout: 10000, what: 'redis with TLS' });

  reddit = await startRedditServer({ clientId: 'tls-id',
                                     clientSecret: 'tls-secret' });
  cognito = await startCognito();
  tunnelPort = await freePort();
  stack = await startApiStack({ redis: { url: url(tunnelPort) }, cognito,
    mainConf: tunnelFile('tunnel.conf', { listen: tunnelPort,
                                          ca: certs.ca }) });
  admin = new RedisClient(tunnelPort);
  assert.equal(await admin.cmd('AUTH', USER, PASSWORD), 'OK');
});

after(async () => {
  for (const p of Object.values(procs)) p.kill('SIGKILL');
  admin?.close();
  await stack?.stop();
  await cognito?.stop();
  await reddit?.close();
  await dns?.close();
  if (redisProc) {
    redisProc.kill('SIGKILL');
    await redisProc.exited;
  }
});

function workerEnv() {
  return {
    ECHOSTREAM_REDIS: url(tunnelPort),
    ECHOSTREAM_WORKER_HEARTBEAT: '0.5',
    ECHOSTREAM_REDDIT_API_URL: reddit.url,
    ECHOSTREAM_REDDIT_TOKEN_URL: reddit.tokenUrl,
    ECHOSTREAM_REDDIT_CLIENT_ID: 'tls-id',
    ECHOSTREAM_REDDIT_CLIENT_SECRET: 'tls-secret',
    ECHOSTREAM_REDDIT_QPM: '100000',
    ECHOSTREAM_INGEST_MIN_INTERVAL: '0.1',
    ECHOSTREAM_INGEST_MAX_INTERVAL: '0.3',
    ECHOSTREAM_INGEST_WATCH_REFRESH: '0.2',
    ECHOSTREAM_STREAM_GROUPS: 'enrich',
    ECHOSTREAM_ENRICH_BLOCK_MS: '100',
    ECHOSTREAM_ENRICH_TOPICS_REFRESH_MS: '100',
    ECHOSTREAM_LAKE_DIR: path.join(dir, 'lake'),
    ECHOSTREAM_AWS_IMDS: 'false',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

test('the API and the pipeline run through the TLS tunnel', async () => {
  // the only way in is TLS: a plain client on the TLS port gets nothing
  const plain = new RedisClient(tlsPort);
  await assert.rejects(plain.cmd('PING'), 'plain RESP on the TLS port');
  plain.close();
  assert.ok(dns.asked(HOST) > 0, 'the tunnel resolved the endpoint');

  const ready = await stack.api('GET', '/readyz');
  assert.equal(ready.status, 200, ready.text);
  const u = await cognito.user('tls@example.com');
  const token = u.idToken;
  const created = await stack.api('POST', '/api/v1/topics', { token,
    body: { name: 'TLS topic', subreddits: [SUB], query: '' } });
  assert.ok([200, 201].includes(created.status), created.text);
  const topic = created.json.id;

  reddit.addComments(SUB, N);
  for (const w of ['ingest', 'enrich']) {
    procs[w] = startProc(bin(w), [], { name: w, env: workerEnv() });
  }
  await waitFor(async () => {
    const r = await stack.api('GET',
      `/api/v1/topics/${topic}/comments?limit=100`, { token });
    return r.status === 200 && r.json.comments?.length === N;
  }, { timeout: 30000, interval: 300, what: 'the comments through the API' })
    .catch((e) => {
      throw new Error(`${e.message}\n${['ingest', 'enrich'].map((w) =>
        `${w}: ${procs[w].output().slice(-1500)}`).join('\n')}\n${
        stack.nginx.errorLog().slice(-2000)}`);
    });
  // every writer went through the tunnel, as the ACL user
  const clients = await admin.cmd('CLIENT', 'LIST');
  assert.ok(clients.split('\n').filter((l) => l.includes(`user=${USER}`))
    .length >= 3, clients);
  assert.equal(await admin.cmd('XLEN', 'es:{ingest}:comments') >= N, true);

  for (const w of ['ingest', 'enrich']) procs[w].kill('SIGTERM');
  for (const w of ['ingest', 'enrich']) {
    assert.equal((await procs[w].exited).code, 0, procs[w].output());
  }
});

test('a tunnel that does not trust the server refuses it: 503, no crash',
  async () => {
    const port = await freePort();
    const wrong = await startApiStack({ redis: { url: url(port) }, cognito,
      mainConf: tunnelFile('tunnel-wrong-ca.conf', { listen: port,
                                                     ca: certs.otherCa }) });
    try {
      await waitFor(() => /upstream SSL certificate verify error/
        .test(wrong.nginx.errorLog()), { timeout: 10000,
        what: 'the tunnel refusing the certificate' });
      const lost = /echostream redis: (connection lost|connect failed)/;
      await waitFor(() => lost.test(wrong.nginx.errorLog()), { timeout: 10000,
        what: 'the module logging the lost connection' });
      const ready = await wrong.api('GET', '/readyz');
      assert.equal(ready.status, 503, ready.text);
      const u = await cognito.user('tls-wrong@example.com');
      const me = await wrong.api('GET', '/api/v1/me', { token: u.idToken });
      assert.equal(me.status, 503, me.text);
      // a client of the refusing tunnel is closed without an answer
      const c = new RedisClient(port);
      await assert.rejects(c.cmd('AUTH', USER, PASSWORD));
      c.close();
      const log = wrong.nginx.errorLog();
      assert.doesNotMatch(log, /exited on signal|\[alert\]|\[emerg\]/, log);
      assert.equal(wrong.nginx.proc.child.exitCode, null);
      assert.ok(!log.includes(PASSWORD), 'the password in its error log');
      // the trusted tunnel still serves
      assert.equal((await stack.api('GET', '/readyz')).status, 200);
    } finally {
      await wrong.stop();
    }
  });

test('stunnel4, the alternative tunnel, verifies the server as well',
  async () => {
    const good = await freePort();
    await startStunnel('stunnel', { listen: good, ca: certs.ca });
    const c = new RedisClient(good);
    try {
      assert.equal(await c.cmd('AUTH', USER, PASSWORD), 'OK');
      assert.equal(await c.cmd('SET', 'es:tls:probe', 'over stunnel'), 'OK');
      assert.equal(await admin.cmd('GET', 'es:tls:probe'), 'over stunnel');
    } finally {
      c.close();
    }

    const bad = await freePort();
    const p = await startStunnel('stunnel-wrong-ca',
      { listen: bad, ca: certs.otherCa });
    const w = new RedisClient(bad);
    await assert.rejects(w.cmd('AUTH', USER, PASSWORD));
    w.close();
    await p.waitForOutput(/certificate verify failed|CERT: Verification error/);
  });

test('the password is in no log', async () => {
  const logs = {
    'nginx error.log': stack.nginx.errorLog(),
    'nginx access.log': readFileSync(path.join(stack.nginx.prefix, 'logs',
      'access.log'), 'utf8'),
    'nginx output': stack.nginx.proc.output(),
    'redis.log': readFileSync(path.join(dir, 'redis.log'), 'utf8'),
    ...Object.fromEntries(Object.entries(procs).map(([w, p]) =>
      [w, p.output()])),
  };
  assert.ok(Object.keys(logs).length >= 6);
  for (const [name, text] of Object.entries(logs)) {
    assert.ok(!text.includes(PASSWORD), `${name} holds the password`);
  }
});
