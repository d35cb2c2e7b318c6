// run_smoke.test.mjs - `make run` end to end: deploy/local/run.sh starts
// Redis, cognito-local, the workers and nginx with the module, and stops
// them all again.
//
// The script runs exactly as a developer runs it (only ports and the state
// directory are chosen by the test), and everything is checked from outside:
// HTTP against nginx, a real AWS SDK sign-in against cognito-local, RESP
// against Redis, and the process table after the stop. A second run on the
// same state directory must find the same data and the same user pool.
// The build must exist (the test runner builds first); when it does not,
// the test fails at once naming what is missing.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import {
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  InitiateAuthCommand,
  UpdateUserAttributesCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  ROOT, RedisClient, freePort, httpRequest, sleep, startProc, tmpDir, waitFor,
} from '../../lib/harness.mjs';

const RUN_SH = path.join(ROOT, 'deploy', 'local', 'run.sh');
const START_MS = 45000; // first start includes creating the user pool
const STOP_MS = 30000;

const started = []; // {proc, varDir} of every run.sh, for the cleanup

// What run.sh needs from the build; missing files fail the test at once.
function missingBuild() {
  return [
    'build/bin/echostream-ingest', 'build/bin/echostream-mirror',
    'build/bin/echostream-summarize', 'build/bin/echostream-alert',
    'build/ngx_http_echostream_module.so', 'conf/nginx.conf.in',
  ].filter((f) => !existsSync(path.join(ROOT, f)));
}

// Pids run.sh recorded in var/run/pids ({name: pid}).
function readPids(varDir) {
  const file = path.join(varDir, 'run', 'pids');
  if (!existsSync(file)) return {};
  const pids = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [name, pid] = line.trim().split(/\s+/);
    if (name && pid) pids[name] = Number(pid);
  }
  return pids;
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// True when something accepts connections on 127.0.0.1:port.
function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// Starts run.sh and waits for its banner; fails early if it exits first.
async function startRun(env, varDir) {
  const proc = startProc(RUN_SH, [], {
    name: 'run.sh',
    env: { ECHOSTREAM_SKIP_DEPS: '1', ECHOSTREAM_VAR: varDir, ...env },
  });
  started.push({ proc, varDir });
  const exited = proc.exited.then(({ code, signal }) => {
    throw new Error(`run.sh exited (code ${code}, signal ${signal}) ` +
                    `before its banner:\n${proc.output()}`);
  });
  await Promise.race([proc.waitForOutput(/Ctrl-C to stop/, START_MS),
                      exited]);
  exited.catch(() => {}); // a later exit is the test's own business
  return proc;
}

// Sends SIGTERM and waits (bounded) for run.sh to exit.
async function stopRun(proc) {
  proc.kill('SIGTERM');
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(
      `run.sh did not exit within ${STOP_MS} ms of SIGTERM:\n` +
      proc.output())), STOP_MS);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// /healthz reports Redis up (a string, boolean or object saying so).
function redisUp(h) {
  const r = h.redis;
  if (r === true) return true;
  if (typeof r === 'string') return /^(up|ok)$/i.test(r);
  if (r && typeof r === 'object') {
    return r.ok === true || r.up === true ||
      /^(up|ok)$/i.test(String(r.status ?? r.state ?? ''));
  }
  return false;
}

// Names of the workers /healthz reports alive (map or list of instances).
function aliveWorkers(h) {
  const names = new Set();
  const visit = (name, e) => {
    if (Array.isArray(e)) return e.forEach((i) => visit(name, i));
    if (e && typeof e === 'object' && Array.isArray(e.instances)) {
      return e.instances.forEach((i) => visit(name, i));
    }
    const alive = e === true || e?.alive === true ||
      /^(alive|up|ok)$/i.test(String(e?.state ?? ''));
    if (alive) names.add(e?.worker ?? name.split(':')[0]);
  };
  const w = h.workers;
  if (Array.isArray(w)) w.forEach((e) => visit(e.worker, e));
  else if (w) for (const [k, v] of Object.entries(w)) visit(k, v);
  return names;
}

function demoUser(varDir) {
  const text = readFileSync(path.join(varDir, 'cognito', 'demo-user.txt'),
                            'utf8');
  return {
    email: /^email: (\S+)$/m.exec(text)[1],
    password: /^password: (\S+)$/m.exec(text)[1],
  };
}

function decodeJwtPart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// Signs the demo user in with the real SDK; returns the IdToken.
// The dashboard's app client as the local user pool describes it.
async function appClient(cfg) {
  const idp = new CognitoIdentityProviderClient({
    endpoint: cfg.cognito.endpoint,
    region: cfg.cognito.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    return (await idp.send(new DescribeUserPoolClientCommand({
      UserPoolId: cfg.cognito.userPoolId, ClientId: cfg.cognito.clientId,
    }))).UserPoolClient;
  } finally {
    idp.destroy();
  }
}

// The user's tokens ({IdToken, AccessToken, …}); with change, first
// applies change(idp, tokens) and signs in again.
async function signInTokens(cfg, user, change) {
  const idp = new CognitoIdentityProviderClient({
    endpoint: cfg.cognito.endpoint,
    region: cfg.cognito.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const auth = async () => (await idp.send(new InitiateAuthCommand({
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: cfg.cognito.clientId,
    AuthParameters: { USERNAME: user.email, PASSWORD: user.password },
  }))).AuthenticationResult;
  try {
    const tokens = await auth();
    if (!change) return tokens;
    await change(idp, tokens);
    return await auth();
  } finally {
    idp.destroy();
  }
}

async function signIn(cfg, user) {
  return (await signInTokens(cfg, user)).IdToken;
}

after(async () => {
  // whatever failed, leave no server behind
  for (const { proc, varDir } of started) {
    proc.kill('SIGTERM');
    let timer;
    await Promise.race([proc.exited,
                        new Promise((r) => { timer = setTimeout(r, 10000); })]);
    clearTimeout(timer);
    for (const pid of Object.values(readPids(varDir))) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
});

test('make run starts everything, serves it, stops cleanly and keeps ' +
     'its state across runs', { timeout: 120000 }, async () => {
  const missing = missingBuild();
  assert.deepEqual(missing, [], `run make first; missing: ${missing}`);

  const varDir = await tmpDir('es-run-');
  const port = await freePort();
  const redisPort = await freePort();
  const cognitoPort = await freePort();
  const mailPort = await freePort();
  const mailUiPort = await freePort();
  const env = {
    ECHOSTREAM_PORT: String(port),
    ECHOSTREAM_REDIS_PORT: String(redisPort),
    ECHOSTREAM_COGNITO_PORT: String(cognitoPort),
    ECHOSTREAM_MAIL_PORT: String(mailPort),
    ECHOSTREAM_MAIL_UI_PORT: String(mailUiPort),
  };
  const base = `http://127.0.0.1:${port}`;

  // --- first run ---
  const run1 = await startRun(env, varDir);
  assert.match(run1.output(), new RegExp(`${base}/`));
  assert.match(run1.output(), /demo@echostream\.local/);

  const health = await waitFor(async () => {
    const r = await httpRequest({ url: `${base}/healthz` });
    if (r.status !== 200) return false;
    const h = JSON.parse(r.body);
    const alive = aliveWorkers(h);
    return redisUp(h) && alive.has('ingest') && alive.has('mirror') &&
      alive.has('enrich') && alive.has('summarize') && alive.has('alert') && h;
  }, { timeout: 20000,
       what: '/healthz: redis up, every worker alive' });
  // the local mail inbox answers, and the banner names it
  assert.match(run1.output(), new RegExp(`http://127\\.0\\.0\\.1:${mailUiPort}/`));
  assert.equal((await httpRequest({ url: `http://127.0.0.1:${mailUiPort}/email` })).status,
               200);
  // unsubscribe links are checked against make run's secret: a forged
  // one is refused (403), not left unconfigured (503)
  const forged = await httpRequest({ method: 'POST',
    url: `${base}/api/v1/unsubscribe?t=acme&s=someone&l=digest&sig=${'0'.repeat(64)}` });
  assert.equal(forged.status, 403, forged.body);
  assert.ok(redisUp(health));
  assert.equal(health.status, 'ok');

  const cfgRes = await httpRequest({ url: `${base}/config.json` });
  assert.equal(cfgRes.status, 200);
  const cfg = JSON.parse(cfgRes.body);
  assert.deepEqual(Object.keys(cfg).sort(), ['apiBase', 'cognito']);
  assert.deepEqual(Object.keys(cfg.cognito).sort(),
                   ['clientId', 'endpoint', 'region', 'userPoolId']);
  assert.equal(cfg.apiBase, `${base}/api/v1`);
  assert.equal(cfg.cognito.endpoint, `http://127.0.0.1:${cognitoPort}`);
  assert.equal(cfg.cognito.region, 'us-east-1');
  assert.match(cfg.cognito.userPoolId, /^[\w-]+_[0-9A-Za-z]+$/);
  assert.match(cfg.cognito.clientId, /^[0-9a-z]+$/);

  const user = demoUser(varDir);
  const idToken = await signIn(cfg, user);
  const [h64, p64, sig] = idToken.split('.');
  assert.ok(sig, 'IdToken has a signature part');
  assert.equal(decodeJwtPart(h64).alg, 'RS256');
  const claims = decodeJwtPart(p64);
  assert.equal(claims.iss,
               `http://127.0.0.1:${cognitoPort}/${cfg.cognito.userPoolId}`);
  assert.equal(claims.aud, cfg.cognito.clientId);
  assert.equal(claims.token_use, 'id');
  assert.equal(claims.email, user.email);
  assert.equal(claims['custom:tenant_id'], undefined, 'no tenant claim');
  // a user cannot give themself someone else's e-mail (whose invites they
  // would then see) nor a tenant: a new e-mail waits for its verification,
  // the tenant attribute cannot change
  const changed = await signInTokens(cfg, user, async (idp, tokens) => {
    await idp.send(new UpdateUserAttributesCommand({
      AccessToken: tokens.AccessToken,
      UserAttributes: [{ Name: 'email', Value: 'ceo@victim.example' }],
    }));
    await assert.rejects(idp.send(new UpdateUserAttributesCommand({
      AccessToken: tokens.AccessToken,
      UserAttributes: [{ Name: 'custom:tenant_id', Value: 'victim' }],
    })), /cannot be updated|immutable/);
  });
  const after = decodeJwtPart(changed.IdToken.split('.')[1]);
  assert.equal(after.email, user.email);
  assert.equal(after.email_verified, true);
  assert.equal(after['custom:tenant_id'], undefined);
  // the app client neither reads nor writes the tenant attribute
  const client = await appClient(cfg);
  assert.deepEqual(client.WriteAttributes, ['email']);
  assert.ok(client.ReadAttributes.includes('email'));
  assert.ok(!client.ReadAttributes.includes('custom:tenant_id'));

  // the API accepts the demo user's token: a tenant of their own, owner
  const me = await httpRequest({ url: `${base}/api/v1/me`,
    headers: { Authorization: `Bearer ${idToken}` } });
  assert.equal(me.status, 200, me.body);
  assert.match(JSON.parse(me.body).tenant, /^u[0-9a-f]{20}$/);
  assert.equal(JSON.parse(me.body).role, 'owner');
  const anon = await httpRequest({ url: `${base}/api/v1/me` });
  assert.equal(anon.status, 401);
  // the README's way of getting a token by hand
  const tok = startProc('node', [path.join(ROOT, 'deploy', 'local',
    'token.mjs'), '--access'], { name: 'token.mjs',
    env: { ECHOSTREAM_VAR: varDir } });
  assert.equal((await tok.exited).code, 0, tok.output());
  const me2 = await httpRequest({ url: `${base}/api/v1/me`,
    headers: { Authorization: `Bearer ${tok.stdout().trim()}` } });
  assert.equal(me2.status, 200, me2.body);
  assert.equal(JSON.parse(me2.body).token_use, 'access');

  const page = await httpRequest({ url: `${base}/` });
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>EchoStream/);
  assert.match(page.body, /\/healthz/);

  // one address flooding the API is cut off by nginx's limit_req before
  // any token is checked, in the API's error shape; the others get 401
  const flood = [];
  for (let i = 0; i < 6; i++) {
    flood.push(...await Promise.all(Array.from({ length: 100 }, () =>
      httpRequest({ url: `${base}/api/v1/me`,
        headers: { Authorization: 'Bearer not.a.token' } }))));
  }
  const cut = flood.filter((r) => r.status === 429);
  assert.ok(cut.length >= 100, `limited ${cut.length} of ${flood.length}`);
  assert.deepEqual([...new Set(flood.map((r) => r.status))].sort(),
    [401, 429]);
  assert.equal(JSON.parse(cut[0].body).error.code, 'rate_limited');
  assert.equal(cut[0].headers['retry-after'], '1');
  assert.match(cut[0].headers['content-type'], /^application\/json/);
  await sleep(2500); // the address's burst drains (100r/s, burst 200)
  assert.equal((await httpRequest({ url: `${base}/api/v1/me`,
    headers: { Authorization: `Bearer ${idToken}` } })).status, 200);

  // a port already taken is refused, naming the variable to change
  const clash = startProc(RUN_SH, [], {
    name: 'run.sh-clash',
    env: { ECHOSTREAM_SKIP_DEPS: '1',
           ECHOSTREAM_VAR: await tmpDir('es-run-clash-'), ...env },
  });
  const clashExit = await clash.exited;
  assert.equal(clashExit.code, 1);
  assert.match(clash.output(),
               new RegExp(`port 127.0.0.1:${port} is already in use.*` +
                          'ECHOSTREAM_PORT='));

  // Redis wants the generated password, which only this user can read
  const pwFile = path.join(varDir, 'run', 'redis.password');
  const password = readFileSync(pwFile, 'utf8').trim();
  assert.match(password, /^[0-9a-f]{48}$/);
  for (const f of [pwFile, path.join(varDir, 'run', 'redis.conf'),
                   path.join(varDir, 'nginx', 'nginx.conf')]) {
    assert.equal(statSync(f).mode & 0o077, 0, `${f} is private`);
  }
  assert.equal(statSync(varDir).mode & 0o077, 0, 'var/ is private');
  const anonRedis = new RedisClient(redisPort);
  await assert.rejects(anonRedis.cmd('KEYS', '*'), /NOAUTH/);
  await assert.rejects(anonRedis.cmd('AUTH', 'wrong'), /WRONGPASS|invalid/);
  anonRedis.close();
  const logDir = path.join(varDir, 'log');
  for (const f of readdirSync(logDir)) {
    assert.ok(!readFileSync(path.join(logDir, f), 'utf8').includes(password),
      `the password is not in ${f}`);
  }
  assert.ok(!run1.output().includes(password), 'nor in make run\'s output');

  // the dashboard page, under its Content-Security-Policy, which lets it
  // connect to this server and the identity provider and nowhere else
  const page = await httpRequest({ url: `${base}/` });
  assert.equal(page.status, 200);
  assert.match(page.body, /<script type="module" src="\/assets\/app-[\w-]+\.js">/);
  assert.match(page.headers['content-security-policy'],
               new RegExp(`connect-src 'self' http://127\\.0\\.0\\.1:${cognitoPort};`));

  // the demo: the demo user's team has the demo topic, and the synthetic
  // source's comments reach it within a minute
  const auth = { Authorization: `Bearer ${idToken}` };
  const topics = JSON.parse((await httpRequest({ url: `${base}/api/v1/topics`,
                                                  headers: auth })).body);
  const demo = topics.topics.find((t) => t.name === 'Demo: technology talk');
  assert.ok(demo, `demo topic in ${JSON.stringify(topics)}`);
  await waitFor(async () => {
    const r = await httpRequest({ headers: auth,
      url: `${base}/api/v1/topics/${demo.id}/comments?limit=5` });
    return r.status === 200 && JSON.parse(r.body).comments.length > 0;
  }, { timeout: 60000, what: 'synthetic comments in the demo topic' });

  // data written before the stop must survive it
  const redis = new RedisClient(redisPort);
  assert.equal(await redis.cmd('AUTH', password), 'OK');
  assert.equal(await redis.cmd('SET', 'es:test:run-smoke', 'kept'), 'OK');
  redis.close();

  const pids = readPids(varDir);
  assert.deepEqual(Object.keys(pids).sort(),
                   ['alert', 'cognito', 'demo', 'enrich', 'ingest', 'mail', 'mirror',
                    'nginx', 'redis', 'summarize']);
  const stop1 = await stopRun(run1);
  assert.deepEqual(stop1, { code: 0, signal: null }, run1.output());
  for (const [name, pid] of Object.entries(pids)) {
    assert.equal(pidAlive(pid), false, `${name} (pid ${pid}) still runs`);
  }
  for (const p of [port, redisPort, cognitoPort]) {
    assert.equal(await portOpen(p), false, `port ${p} still open`);
  }

  // --- second run on the same state ---
  const run2 = await startRun(env, varDir);
  const redis2 = new RedisClient(redisPort);
  assert.equal(await redis2.cmd('AUTH', password), 'OK', 'same password');
  assert.equal(await redis2.cmd('GET', 'es:test:run-smoke'), 'kept');
  redis2.close();
  const cfg2 = JSON.parse(
    (await httpRequest({ url: `${base}/config.json` })).body);
  assert.equal(cfg2.cognito.userPoolId, cfg.cognito.userPoolId);
  assert.equal(cfg2.cognito.clientId, cfg.cognito.clientId);
  assert.deepEqual(demoUser(varDir), user);
  assert.ok(await signIn(cfg2, user));

  const pids2 = readPids(varDir);
  const stop2 = await stopRun(run2);
  assert.deepEqual(stop2, { code: 0, signal: null }, run2.output());
  for (const [name, pid] of Object.entries(pids2)) {
    assert.equal(pidAlive(pid), false, `${name} (pid ${pid}) still runs`);
  }
});

test('conf/echostream.conf.example documents every config key', () => {
  const table = readFileSync(path.join(ROOT, 'lib', 'es_config_keys.c'),
                             'utf8');
  const example = readFileSync(
    path.join(ROOT, 'conf', 'echostream.conf.example'), 'utf8');
  const keys = [...table.matchAll(/^\s*\{"([a-z0-9_.]+)",/gm)]
    .map((m) => m[1]);
  assert.ok(keys.length > 10, 'keys found in lib/es_config_keys.c');
  const missing = keys.filter(
    (k) => !new RegExp(`^#?${k.replace(/\./g, '\\.')} =`, 'm').test(example));
  assert.deepEqual(missing, [], 'keys missing from the example');
});
