// redis_acl.test.mjs - the production Redis configuration and its ACL
// users (deploy/redis/) carry the real pipeline, and hold each program to
// its own commands.
//
// redis-server runs the shipped redis-production.conf.example (only the
// port, directories, log file and supervision overridden, and maxmemory
// lowered for a test box) with users.acl.example installed as the file
// says: comment lines removed, each CHANGE-ME password replaced. Then every
// program connects as its own user, with the user in its URL
// (redis://es-enrich:PASSWORD@host:port/0): nginx with the module signs a
// user in and creates a topic through the API, ingest polls the Reddit
// double for it, enrich stores and counts the comments, mirror sends them
// to the SQS double, summarize and alert run their schedules, and the API
// serves the stored comments back. Redis's ACL LOG must stay empty: no
// program was refused a command or key, its own or one run by its Redis
// functions (Redis 7 checks a function's redis.call()s against the user
// who called FCALL). Last, each user is refused what it has no business
// doing (FLUSHALL, CONFIG, FUNCTION FLUSH, another program's keys), and a
// client naming no user gets nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  ROOT, RedisClient, bin, freePort, startProc, tmpDir, waitFor,
} from '../../lib/harness.mjs';
import { startCognito, startApiStack } from '../../lib/api.mjs';
import { startRedditServer } from '../../reddit/server.mjs';
import { startSqsDouble } from '../../aws/sqs_double.mjs';

const STREAM = 'es:{ingest}:comments';
const REGION = 'us-east-1';
const KEY = { accessKeyId: 'AKIAACLTEST000000001',
              secretAccessKey: 'acl/Secret+Key0123456789abcdefghijXYZ' };
const SUB = 'acltest';
const N = 60;
const WORKERS = ['ingest', 'enrich', 'mirror', 'summarize', 'alert'];
const USERS = ['admin', ...WORKERS, 'nginx'];

let dir;
let port;
let redisProc;
let admin;
let reddit;
let sqs;
let cognito;
let stack;
const pw = Object.fromEntries(USERS.map((u) => [u,
  randomBytes(16).toString('hex')]));
const procs = {};

const url = (user) =>
  `redis://es-${user}:${pw[user]}@127.0.0.1:${port}/0`;

// a client signed in as es-<user>
async function client(user) {
  const c = new RedisClient(port);
  assert.equal(await c.cmd('AUTH', `es-${user}`, pw[user]), 'OK');
  return c;
}

before(async () => {
  dir = await tmpDir('es-acl-');
  port = await freePort();
  // the ACL file as users.acl.example says to install it
  let acl = readFileSync(path.join(ROOT, 'deploy/redis/users.acl.example'),
    'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'))
    .join('\n') + '\n';
  for (const u of USERS) acl = acl.replace(`>CHANGE-ME-${u} `, `>${pw[u]} `);
  assert.doesNotMatch(acl, /CHANGE-ME/, 'every password replaced');
  writeFileSync(path.join(dir, 'users.acl'), acl);
  redisProc = startProc('redis-server', [
    path.join(ROOT, 'deploy/redis/redis-production.conf.example'),
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--logfile', path.join(dir, 'redis.log'), '--supervised', 'no',
    '--aclfile', path.join(dir, 'users.acl'), '--maxmemory', '256mb',
  ], { name: 'redis' });
  await waitFor(async () => {
    const c = new RedisClient(port);
    try {
      await c.cmd('AUTH', 'es-admin', pw.admin);
      return (await c.cmd('PING')) === 'PONG';
    } catch { return false; } finally { c.close(); }
  }, { timeout: 10000, what: 'redis with the production configuration' });
  admin = await client('admin');

  reddit = await startRedditServer({ clientId: 'acl-id',
                                     clientSecret: 'acl-secret' });
  sqs = await startSqsDouble({ ...KEY, region: REGION });
  await sqs.createQueue('acl');
  cognito = await startCognito();
  stack = await startApiStack({ redis: { url: url('nginx') }, cognito });
});

after(async () => {
  for (const p of Object.values(procs)) p.kill('SIGKILL');
  await stack?.stop();
  await cognito?.stop();
  await sqs?.stop();
  await reddit?.close();
  admin?.close();
  if (redisProc) {
    redisProc.kill('SIGKILL');
    await redisProc.exited;
  }
});

function workerEnv(user) {
  return {
    ECHOSTREAM_REDIS: url(user),
    ECHOSTREAM_WORKER_HEARTBEAT: '0.5',
    ECHOSTREAM_REDDIT_API_URL: reddit.url,
    ECHOSTREAM_REDDIT_TOKEN_URL: reddit.tokenUrl,
    ECHOSTREAM_REDDIT_CLIENT_ID: 'acl-id',
    ECHOSTREAM_REDDIT_CLIENT_SECRET: 'acl-secret',
    ECHOSTREAM_REDDIT_QPM: '100000',
    ECHOSTREAM_INGEST_MIN_INTERVAL: '0.1',
    ECHOSTREAM_INGEST_MAX_INTERVAL: '0.3',
    ECHOSTREAM_INGEST_WATCH_REFRESH: '0.2',
    ECHOSTREAM_STREAM_GROUPS: 'enrich,mirror',
    ECHOSTREAM_STREAM_TRIM_INTERVAL: '1',
    ECHOSTREAM_ENRICH_BLOCK_MS: '100',
    ECHOSTREAM_ENRICH_TOPICS_REFRESH_MS: '100',
    ECHOSTREAM_LAKE_DIR: path.join(dir, 'lake'),
    ECHOSTREAM_MIRROR_QUEUE_URL: sqs.queueUrl('acl'),
    ECHOSTREAM_MIRROR_BATCH_WAIT_MS: '200',
    ECHOSTREAM_SUMMARIZE_INTERVAL: '1',
    ECHOSTREAM_ALERT_INTERVAL: '0.5',
    ECHOSTREAM_MAIL_TRANSPORT: 'none',
    ECHOSTREAM_AWS_REGION: REGION,
    ECHOSTREAM_AWS_IMDS: 'false',
    AWS_ACCESS_KEY_ID: KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

async function aclLog() {
  const log = await admin.cmd('ACL', 'LOG');
  return log.map((e) => {
    const o = {};
    for (let i = 0; i < e.length; i += 2) o[e[i]] = e[i + 1];
    return `${o.username}: ${o.reason} ${o.object} (${o.context})`;
  });
}

test('every program does its work as its own ACL user, refused nothing',
  async () => {
    const u = await cognito.user('acl@example.com');
    const token = u.idToken;
    const me = await stack.api('GET', '/api/v1/me', { token });
    assert.equal(me.status, 200, me.text);
    const created = await stack.api('POST', '/api/v1/topics', { token,
      body: { name: 'ACL topic', subreddits: [SUB], query: '' } });
    assert.ok([200, 201].includes(created.status), created.text);
    const topic = created.json.id;

    reddit.addComments(SUB, N);
    for (const w of WORKERS) {
      procs[w] = startProc(bin(w), [], { name: w, env: workerEnv(w) });
    }

    // enrich stored every comment: the API (as es-nginx) serves them
    await waitFor(async () => {
      const r = await stack.api('GET',
        `/api/v1/topics/${topic}/comments?limit=100`, { token });
      return r.status === 200 && r.json.comments?.length === N;
    }, { timeout: 40000, interval: 300, what: 'the comments through the API' })
      .catch(async (e) => {
        throw new Error(`${e.message}\nACL LOG: ${(await aclLog()).join('; ')}` +
          `\n${WORKERS.map((w) => `${w}: ${procs[w].output().slice(-1500)}`)
            .join('\n')}`);
      });
    // the mirror sent them all and holds nothing pending
    await waitFor(async () => {
      const p = await admin.cmd('XPENDING', STREAM, 'mirror');
      return Number(p[0]) === 0 && sqs.messages('acl').length >= N;
    }, { timeout: 30000, interval: 250, what: 'mirror caught up' });
    // every worker reports itself alive
    await waitFor(async () => {
      const keys = await admin.cmd('HKEYS', 'es:workers');
      return WORKERS.every((w) => keys.some((k) => k.startsWith(`${w}:`)));
    }, { timeout: 15000, what: 'five heartbeats' });
    const health = await stack.api('GET', '/healthz');
    assert.equal(health.status, 200, health.text);

    // summarize and alert run a few rounds of their schedules
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(await aclLog(), [], 'commands or keys refused');
    for (const w of WORKERS) {
      assert.equal(procs[w].child.exitCode, null, procs[w].output());
      assert.doesNotMatch(procs[w].output(), /NOPERM|authentication failed/,
        w);
    }
    for (const w of WORKERS) procs[w].kill('SIGTERM');
    for (const w of WORKERS) {
      assert.equal((await procs[w].exited).code, 0, procs[w].output());
      delete procs[w];
    }
  });

test('each user is refused what its program never does', async () => {
  for (const user of [...WORKERS, 'nginx']) {
    const c = await client(user);
    try {
      for (const cmd of [['FLUSHALL'], ['CONFIG', 'GET', 'maxmemory'],
        ['FUNCTION', 'FLUSH'], ['KEYS', '*'], ['SHUTDOWN'],
        ['ACL', 'LIST'], ['SCRIPT', 'FLUSH']]) {
        await assert.rejects(c.cmd(...cmd), /NOPERM/,
          `es-${user}: ${cmd.join(' ')}`);
      }
    } finally {
      c.close();
    }
  }
  // ingest and mirror stay within the stream's slot and the heartbeats
  for (const user of ['ingest', 'mirror']) {
    const c = await client(user);
    try {
      await assert.rejects(c.cmd('HGETALL', 'es:{users}:someone'), /NOPERM/,
        `es-${user} reads a user`);
    } finally {
      c.close();
    }
  }
  const m = await client('mirror');
  try {
    await assert.rejects(m.cmd('XADD', STREAM, '*', 'x', '1'), /NOPERM/,
      'the mirror never writes the stream');
  } finally {
    m.close();
  }
  // no user named: the default user is off
  const anon = new RedisClient(port);
  try {
    await assert.rejects(anon.cmd('GET', 'es:workers'), /NOAUTH/);
    await assert.rejects(anon.cmd('AUTH', pw.admin), /WRONGPASS/);
  } finally {
    anon.close();
  }
  // a worker with a wrong password says so and does not start work
  const bad = startProc(bin('mirror'), [], { name: 'mirror-bad', env: {
    ECHOSTREAM_REDIS: `redis://es-mirror:wrong@127.0.0.1:${port}/0` } });
  procs.bad = bad;
  await bad.waitForOutput(/authentication failed/, 10000);
  assert.doesNotMatch(bad.output(), /wrong/, 'the password is not logged');
});
