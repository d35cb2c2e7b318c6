// api_framework.test.mjs - the request path every API route shares:
// routing (404/405), request bodies (413/415/400), CORS, roles (403), the
// per-tenant rate limit (429), tenancy on first sign-in (race-safe), Redis
// failures (503 and recovery), clients that go away, and /metrics.
//
// Real nginx with the module, real Redis, real cognito-local tokens.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { acceptInvite, startApiStack, request } from '../../lib/api.mjs';
import { sleep, waitFor } from '../../lib/harness.mjs';

const ORIGIN = 'https://app.example.test';
let s;
let owner;

before(async () => {
  s = await startApiStack({
    extraConf: [
      '    echostream_rate_limit 4r/s burst=4;',
      '    echostream_redis_timeout 700;',
      '    echostream_membership_ttl 0;',
      `    echostream_cors_origins ${ORIGIN};`,
      '    echostream_api_max_body 2k;',
      '    echostream_comprehend_budget_max 50;',
    ].join('\n'),
  });
  owner = await s.cognito.user('owner@framework.test');
});

after(async () => {
  await s?.stop();
});

// Each test that counts requests against the limit uses its own user, so
// one test's burst never spills into another.
async function freshUser(name, opts) {
  return s.cognito.user(`${name}-${Date.now()}@framework.test`, opts);
}

function crashed() {
  return /exited on signal|\[alert\]/.test(s.nginx.errorLog());
}

test('unknown paths are 404 and other methods 405 with Allow', async () => {
  const u = await freshUser('routes');
  let r = await s.api('GET', '/api/v1/nothing-here', { token: u.idToken });
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, 'not_found');

  r = await s.api('GET', '/api/v1/topics/bad!id/series',
    { token: u.idToken, validate: false });
  assert.equal(r.status, 404);

  r = await s.api('PUT', '/api/v1/topics', { token: u.idToken, body: {} });
  assert.equal(r.status, 405);
  assert.equal(r.json.error.code, 'method_not_allowed');
  assert.match(r.headers.allow, /GET/);
  assert.match(r.headers.allow, /POST/);

  // routing happens before authentication: no token needed to learn 404
  r = await s.api('GET', '/api/v1/nothing-here');
  assert.equal(r.status, 404);
});

test('bodies: size limit, media type, malformed JSON', async () => {
  const t = owner.idToken;
  let r = await s.api('POST', '/api/v1/topics', {
    token: t, body: JSON.stringify({ name: 'x'.repeat(4000) }),
    headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 413);
  assert.equal(r.json.error.code, 'payload_too_large');

  r = await s.api('POST', '/api/v1/topics', {
    token: t, body: '{"name":"a"}', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(r.status, 415);
  assert.equal(r.json.error.code, 'unsupported_media_type');

  r = await s.api('POST', '/api/v1/topics', {
    token: t, body: '{"name": "a",', headers: { 'Content-Type':
      'application/json' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'invalid_json');
  assert.equal(typeof r.json.error.position, 'number');

  r = await s.api('POST', '/api/v1/topics', {
    token: t, body: '[1,2]', headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'invalid_json');

  r = await s.api('POST', '/api/v1/topics', {
    token: t, body: '{"a":1,"a":2}',
    headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 400, 'duplicate keys are refused');

  // invalid UTF-8 inside a JSON string
  r = await s.api('POST', '/api/v1/topics', {
    token: t, body: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff,
      0xfe, 0x22, 0x7d]), headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'invalid_json');
  assert.ok(!crashed(), 'no worker crashed');
});

test('a chunked body is read and limited like any other', async () => {
  const { default: http } = await import('node:http');
  const status = await new Promise((resolve, reject) => {
    const req = http.request(`${s.base}/api/v1/topics`, {
      method: 'POST', headers: { Authorization: `Bearer ${owner.idToken}`,
        'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    for (let i = 0; i < 10; i++) req.write(`${' '.repeat(500)}`);
    req.end('{}');
  });
  assert.equal(status, 413);
  assert.ok(!crashed());
});

test('CORS: preflight without a token, allowed origin echoed', async () => {
  let r = await s.api('OPTIONS', '/api/v1/topics', { headers: {
    Origin: ORIGIN, 'Access-Control-Request-Method': 'POST',
    'Access-Control-Request-Headers': 'authorization,content-type' },
  validate: false });
  assert.equal(r.status, 204);
  assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
  assert.match(r.headers['access-control-allow-headers'], /Authorization/);
  assert.match(r.headers['access-control-allow-methods'], /PATCH/);

  r = await s.api('GET', '/api/v1/me', { token: owner.idToken,
    headers: { Origin: ORIGIN } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
  assert.match(r.headers.vary, /Origin/);

  r = await s.api('GET', '/api/v1/me', { token: owner.idToken,
    headers: { Origin: 'https://evil.example' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
});

test('first requests of a new user create exactly one tenant', async () => {
  const u = await freshUser('race');
  const before = new Set(await s.redis.cmd('SMEMBERS', 'es:{tenants}:all'));
  const answers = await Promise.all(Array.from({ length: 16 }, (_, i) =>
    s.api('GET', '/api/v1/me', { token: i % 2 ? u.idToken : u.accessToken })));
  const ok = answers.filter((r) => r.status === 200);
  // the rate limit may refuse part of the burst, never with another tenant
  assert.ok(ok.length >= 4, `${ok.length} answers 200`);
  for (const r of answers) assert.ok([200, 429].includes(r.status));
  const tenants = new Set(ok.map((r) => r.json.tenant));
  assert.equal(tenants.size, 1, 'one tenant for all answers');
  const after = (await s.redis.cmd('SMEMBERS', 'es:{tenants}:all'))
    .filter((t) => !before.has(t));
  assert.deepEqual(after, [...tenants]);
  assert.equal(ok[0].json.role, 'owner');
  assert.equal(ok[0].json.sub, u.sub);
  const members = await s.redis.cmd('HGETALL',
    `es:{t:${ok[0].json.tenant}}:members`);
  assert.equal(members.length, 2, 'one member record');
});

test('members read, owners write: the role check comes before the route',
  async () => {
    const o = await freshUser('roles-owner');
    const email = `roles-member-${Date.now()}@framework.test`;
    let r = await s.api('POST', '/api/v1/members', { token: o.idToken,
      body: { email } });
    assert.equal(r.status, 201, r.text);
    const m = await s.cognito.user(email);
    await acceptInvite(s, m.idToken,
      (await s.api('GET', '/api/v1/me', { token: o.idToken })).json.tenant);

    r = await s.api('POST', '/api/v1/topics', { token: m.idToken,
      body: { name: 'x', subreddits: ['rust'] } });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'forbidden');
    r = await s.api('PATCH', '/api/v1/settings', { token: m.idToken,
      body: { retention_days: 3 } });
    assert.equal(r.status, 403);
  });

test('a sub outside the safe alphabet is refused (it becomes a key)',
  async () => {
    const { signToken } = await import('../../lib/api.mjs');
    for (const sub of ['a}b', 'x y', '{t:victim}']) {
      const token = signToken(s.cognito.idClaims({ sub }));
      const r = await s.api('GET', '/api/v1/me', { token });
      assert.equal(r.status, 401, sub);
    }
  });

test('a tenant claim, even an invalid one, is ignored by default',
  async () => {
    const u = await freshUser('badclaim', { tenant: 'bad tenant!' });
    const r = await s.api('GET', '/api/v1/me', { token: u.idToken });
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.tenant, /^u[0-9a-f]{20}$/);
    assert.equal(r.json.role, 'owner');
  });

test('a tenant\'s Comprehend budget is capped by the operator', async () => {
  const u = await freshUser('budget');
  let r = await s.api('PATCH', '/api/v1/settings', { token: u.idToken,
    body: { comprehend_budget_usd: 50 } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.comprehend_budget_usd, 50);
  r = await s.api('PATCH', '/api/v1/settings', { token: u.idToken,
    body: { comprehend_budget_usd: 50.5 } });
  assert.equal(r.status, 422);
  assert.equal(r.json.error.field, 'comprehend_budget_usd');
  assert.match(r.json.error.message, /from 0 to 50,/);
  r = await s.api('GET', '/api/v1/settings', { token: u.idToken });
  assert.equal(r.json.comprehend_budget_usd, 50, 'the refused value is not kept');
});

test('the per-tenant rate limit answers 429 with Retry-After', async () => {
  const u = await freshUser('limited');
  const other = await freshUser('other');
  const answers = [];
  for (let i = 0; i < 14; i++) {
    answers.push(await s.api('GET', '/api/v1/me', { token: u.idToken }));
  }
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(limited.length > 0, 'some requests were limited');
  for (const r of limited) {
    assert.equal(r.json.error.code, 'rate_limited');
    assert.match(r.headers['retry-after'], /^[1-9][0-9]*$/);
  }
  // another tenant has its own bucket
  const r = await s.api('GET', '/api/v1/me', { token: other.idToken });
  assert.equal(r.status, 200);
  // and the bucket drains
  await sleep(1500);
  assert.equal((await s.api('GET', '/api/v1/me', { token: u.idToken }))
    .status, 200);
});

test('Redis down: 503 within the timeout, then recovery without reload',
  async () => {
    const u = await freshUser('redisdown');
    assert.equal((await s.api('GET', '/api/v1/me', { token: u.idToken }))
      .status, 200);
    await s.redis.stop();
    try {
      const t0 = Date.now();
      const r = await s.api('GET', '/api/v1/me', { token: u.idToken });
      assert.equal(r.status, 503);
      assert.equal(r.json.error.code, 'unavailable');
      assert.ok(Date.now() - t0 < 5000, 'answered promptly');
    } finally {
      await s.redis.restart();
    }
    await waitFor(async () => (await s.api('GET', '/api/v1/me',
      { token: u.idToken })).status === 200,
    { timeout: 15000, interval: 300, what: 'API answering again' });
    assert.ok(!crashed());
  });

test('clients that leave while Redis is slow do no harm', async () => {
  const u = await freshUser('leaver');
  await s.redis.cmd('PING');
  const pid = await s.redis.cmd('INFO', 'server')
    .then((t) => Number(/process_id:(\d+)/.exec(t)[1]));
  process.kill(pid, 'SIGSTOP');
  try {
    const pending = Array.from({ length: 20 }, () =>
      request(s.base, 'GET', '/api/v1/me', { token: u.idToken, timeout: 150 })
        .catch(() => 'aborted'));
    const out = await Promise.all(pending);
    assert.ok(out.some((o) => o === 'aborted'), 'clients gave up');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await waitFor(async () => (await s.api('GET', '/api/v1/me',
    { token: u.idToken })).status === 200,
  { timeout: 15000, interval: 300, what: 'API answering again' });
  assert.ok(!crashed(), 'no worker crashed');
});

test('/metrics counts requests by route and status and token-cache hits',
  async () => {
    await s.api('GET', '/api/v1/me', { token: owner.idToken });
    await s.api('GET', '/api/v1/me', { token: owner.idToken });
    const r = await s.api('GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/plain/);
    assert.match(r.text,
      /echostream_http_requests_total\{route="me",status="200"\} [1-9]/);
    assert.match(r.text, /echostream_http_requests_total\{route="none",status="404"\} [1-9]/);
    assert.match(r.text,
      /echostream_http_request_duration_seconds_bucket\{route="me",le="\+Inf"\} [1-9]/);
    assert.match(r.text,
      /echostream_token_cache_lookups_total\{result="hit"\} [1-9]/);
    assert.match(r.text, /echostream_redis_up 1/);
    assert.match(r.text, /echostream_jwks_keys 1/);
  });
