// api_asan_random.test.mjs - randomized requests on every route of the
// module under AddressSanitizer + UBSan.
//
// Every row of the route table (parsed from ngx_http_echostream_routes.c,
// so a new route is covered without a change here) gets requests whose
// path ids, query arguments and body members are drawn from valid values
// and hostile ones: every member the API knows, each present or absent,
// of every JSON type, too long, invalid UTF-8 escapes, deep nesting,
// control characters, numbers beyond every range; raw bodies that are not
// JSON, not UTF-8 or over the size limit; owner, member, no-tenant and
// hostile tokens. The draws come from a seeded generator: the seed is
// printed, and ES_RANDOM_SEED=<seed> replays a run (ES_RANDOM_REQUESTS
// sets how many, default 1500).
//
// Every answer must be a well-formed HTTP answer other than 500, and after
// a graceful stop (LeakSanitizer runs at each worker's exit) there must be
// no sanitizer report and no crashed worker.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { hostile, request, signToken } from '../../lib/api.mjs';
import { mailSecret, unsubPath } from '../../lib/unsub.mjs';
import { startAsanStack } from '../../lib/asan.mjs';
import { prng } from '../../lib/enrich.mjs';
import { sleep } from '../../lib/harness.mjs';
import { moduleRoutes } from '../../lib/tenants.mjs';

const SEED = Number(process.env.ES_RANDOM_SEED ??
  randomBytes(4).readUInt32LE(0));
const REQUESTS = Number(process.env.ES_RANDOM_REQUESTS ?? 1500);

let stack;
let tokens;
let secret;
let signed; // valid unsubscribe links: the owner's, unknown members'

const rnd = prng(SEED);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const chance = (p) => rnd() < p;

const LONG = 'x'.repeat(5000);
const STRINGS = ['', 'rust', 'Rust Topic', 'a'.repeat(64), 'a'.repeat(65),
  LONG, 'é✓日本🚀', '\u0000', '\ud800', 'a\nb\r\tc', '<script>', '{t:victim}',
  '../../etc', '%00', 'ceo@victim.example', 'x@y', 'borrow OR "async fn"',
  '((((', '-only', 'author:alice', 'owner', 'member', 'vader', 'comprehend',
  'minute', 'hour', 'day', 'positive', 'https://hooks.example/x',
  'http://127.0.0.1:1/', '2026-11-25T00:00:00Z', '1e999', '-1', 'null'];
const NUMBERS = [0, 1, -1, 0.5, 7, 30, 100, 365, 1000, 1e6, 1e300, -1e300,
  2 ** 53, 2 ** 63, 9007199254740993, 3.14159];

function value(depth = 0) {
  switch (Math.floor(rnd() * (depth > 3 ? 5 : 7))) {
  case 0: return pick(STRINGS);
  case 1: return pick(NUMBERS);
  case 2: return chance(0.5);
  case 3: return null;
  case 4: return pick([[], ['rust'], ['rust', 'golang'], [1, 2],
    Array.from({ length: 25 }, (_, i) => `s${i}`)]);
  case 5: return Array.from({ length: Math.floor(rnd() * 4) },
    () => value(depth + 1));
  default: {
    const o = {};
    for (let i = Math.floor(rnd() * 3); i > 0; i--) {
      o[pick(MEMBERS)] = value(depth + 1);
    }
    return o;
  }
  }
}

// every body member any route reads, and some no route knows
const MEMBERS = ['id', 'name', 'subreddits', 'query', 'topic', 'min_volume',
  'sensitivity', 'cooldown_minutes', 'email', 'webhook', 'enabled', 'engine',
  'comprehend_budget_usd', 'retention_days', 'role', 'confirm', 'tenant',
  'owner', 'sub', '__proto__', 'constructor', '', 'summary_hour',
  'time_zone', 'bedrock_budget_usd', 'metric', 'window_minutes', 'digest',
  'alert_email'];
const ARGS = ['from', 'to', 'step', 'limit', 'cursor', 'topic', 'hours',
  'sentiment', 'format', 'id', 'x', 't', 's', 'l', 'sig'];
const ARG_VALUES = ['', '0', '-1', '1', '25', '100', '101', '99999999999999999999',
  'NaN', '1e308', '2026-13-45', '2026-11-25', '2026-11-25T00:00:00Z',
  'minute', 'hour', 'day', 'week', 'positive', 'negative', 'rust', 'kept',
  '%00', '%ff%fe', '%C3%A9', 'A'.repeat(1100), '$(id)', '..%2F..',
  'digest', 'alerts', 'f'.repeat(64), 'F'.repeat(64), 'a%40b.c'];
const IDS = ['kept', 'rust', 'nope', 'r1', '', 'a'.repeat(64), 'a'.repeat(65),
  '%00', '%ff', '..', '%2e%2e', 'é', '%7Bt%3Avictim%7D', 'x'.repeat(300),
  'ceo%40victim.example', 'a%2Fb', 'has%20space', '-', '_'];

function body() {
  if (chance(0.1)) {
    return pick(['{"a":', '[]', '"str"', '1', 'null', '{"a":1,"a":2}',
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      '{"name":"\\ud800"}', `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      `{"name":"${'y'.repeat(70000)}"}`, '', '{}']);
  }
  const o = {};
  for (const m of MEMBERS) if (chance(0.25)) o[m] = value();
  return o;
}

function path(pattern) {
  if (pattern === '/unsubscribe' && chance(0.4)) return pick(signed);
  let p = pattern.replace(/\{[^}]+\}/g, () => pick(IDS));
  if (chance(0.6)) {
    const args = [];
    for (const a of ARGS) {
      if (chance(0.3)) args.push(`${a}=${pick(ARG_VALUES)}`);
    }
    if (args.length) p += `?${args.join('&')}`;
  }
  return `/api/v1${p}`;
}

before(async () => {
  secret = await mailSecret();
  stack = await startAsanStack({
    extraConf: '    echostream_redis_timeout 600;\n' +
      `    echostream_api_max_body 64k;\n${secret.conf}` });
  const { cognito, nginx } = stack;
  const owner = await cognito.user(`random-owner-${SEED}@asan.test`);
  const api = (m, p, token, b) => request(nginx.url, m, `/api/v1${p}`,
    { token, body: b });
  let r = await api('POST', '/topics', owner.idToken, { id: 'kept',
    name: 'Kept', subreddits: ['rust'], query: 'borrow OR "async fn"' });
  assert.equal(r.status, 201, r.text);
  r = await api('POST', '/alerts/rules', owner.idToken, { id: 'r1',
    topic: 'kept' });
  assert.equal(r.status, 201, r.text);
  // a member (invited, accepted) and a user removed again: no tenant
  const member = await cognito.user(`random-member-${SEED}@asan.test`);
  const gone = await cognito.user(`random-gone-${SEED}@asan.test`);
  for (const u of [member, gone]) {
    r = await api('POST', '/members', owner.idToken, { email: u.email });
    assert.equal(r.status, 201, r.text);
    r = await api('GET', '/invites', u.idToken);
    r = await api('POST', `/invites/${r.json.invites[0].id}/accept`,
      u.idToken, { confirm: true });
    assert.equal(r.status, 200, r.text);
  }
  r = await api('DELETE', `/members/${gone.sub}`, owner.idToken);
  assert.equal(r.status, 204, r.text);
  const t = (await api('GET', '/me', owner.idToken)).json.tenant;
  signed = ['digest', 'alerts'].flatMap((l) => [
    unsubPath(secret.key, t, owner.sub, l),
    unsubPath(secret.key, t, member.sub, l),
    unsubPath(secret.key, t, gone.sub, l),
    unsubPath(secret.key, 'ghost', owner.sub, l)]);
  const claims = cognito.idClaims();
  tokens = {
    owner: owner.idToken, access: owner.accessToken, member: member.idToken,
    gone: gone.idToken,
    hostile: [hostile.algNone(claims), hostile.tamperSignature(owner.idToken),
      hostile.oversized(claims, 9000), 'a.b.c', '',
      signToken(cognito.idClaims({ sub: 'x'.repeat(200) })),
      signToken(cognito.idClaims({ email: 'ceo@victim.example',
        'custom:tenant_id': '{t:x}' }))],
  };
});

after(async () => {
  await stack?.stop();
});

test(`randomized requests on every route (seed ${SEED}, ${REQUESTS} ` +
  'requests)', async () => {
  const routes = moduleRoutes().map((r) => r.split(' '));
  assert.ok(routes.length >= 30);
  const seen = new Set();
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const n = next++;
      // every route at least once, then at random
      const [method, pattern] = n < routes.length ? routes[n] : pick(routes);
      const p = path(pattern);
      const token = chance(0.7) ? tokens.owner : pick([tokens.access,
        tokens.member, tokens.gone, pick(tokens.hostile)]);
      const withBody = ['POST', 'PUT', 'PATCH'].includes(method) ||
        chance(0.05);
      const b = withBody ? body() : undefined;
      const headers = chance(0.1) ? { 'Content-Type': pick(['text/plain',
        'application/json; charset=utf-8', 'application/jsonx']) } : {};
      const long = pattern === '/stream' || pattern === '/export.csv';
      let r;
      try {
        r = await request(stack.nginx.url, method, p, { token, body: b,
          headers, timeout: long ? 400 : 10000 });
      } catch (e) {
        // a stream or export that is still sending when we stop reading
        if (long) continue;
        failures.push(`${method} ${p.slice(0, 120)}: ${e.message}`);
        continue;
      }
      seen.add(`${method} ${pattern}`);
      if (r.status === 500 || r.status < 200 || r.status > 599) {
        failures.push(`${method} ${p.slice(0, 120)} → ${r.status} ${
          r.text.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  assert.deepEqual(failures, [], `seed ${SEED}`);
  assert.ok(seen.size >= routes.length - 2,
    `routes answered: ${seen.size} of ${routes.length}`);
});

test('graceful stop: no sanitizer report, no crashed worker', async () => {
  await stack.nginx.stop();
  await sleep(500);
  const all = stack.reports();
  assert.deepEqual(all, [], `seed ${SEED}:\n${all.join('\n')}`);
  assert.doesNotMatch(stack.nginx.errorLog(), /exited on signal|\[alert\]/);
});
