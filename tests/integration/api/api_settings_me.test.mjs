// api_settings_me.test.mjs - what the daily summaries, alerts and mail add
// to a tenant's settings, to /me, to /usage, and the webhook secret,
// against a real nginx with the module, a real Redis and cognito-local
// tokens.
//
// Settings: the summary hour, the time zone (looked up in the machine's
// zone files, tried with hostile names: paths out of the directory, NULs,
// 300 characters, other alphabets) and the Bedrock budget under its own
// cap, every member at once, defaults for what was never set or is damaged
// in Redis. /me: each member's own opt-ins, changed only for the caller,
// whatever the body tries. /usage: the Bedrock counters the summarizer
// adds, and the budget in force. The webhook secret: owners only, made
// once however many ask at the same time, replaced on POST. A tenant
// deleted by its only member's accepted invite leaves none of these keys
// (nor the workers' pending summaries, alert state and deliveries)
// behind. Membership
// caching is off (echostream_membership_ttl 0). Every JSON answer is
// checked against docs/openapi.yaml by the stack's api().

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { apiConf, startApiStack, signToken } from '../../lib/api.mjs';
import { ROOT, tmpDir } from '../../lib/harness.mjs';
import { nginxConfTest } from '../../lib/nginx.mjs';

const PRICES = path.join(ROOT, 'deploy', 'aws', 'prices.json');

let s;

before(async () => {
  s = await startApiStack({
    extraConf: ['    echostream_membership_ttl 0;',
      '    echostream_bedrock_budget_max 50;',
      `    echostream_prices ${PRICES};`].join('\n'),
  });
});

after(async () => {
  await s?.stop();
});

const api = (method, path, token, body, opts = {}) =>
  s.api(method, `/api/v1${path}`, { token, body, ...opts });

const tag = () => randomBytes(4).toString('hex');

function assertError(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error.code, code, r.text);
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
}

// The owner of a new tenant: {sub, token, tenant, email}.
async function owner() {
  const sub = `own-${tag()}`;
  const token = signToken(s.cognito.idClaims({ sub }));
  const me = await api('GET', '/me', token);
  assert.equal(me.status, 200, me.text);
  return { sub, token, tenant: me.json.tenant, email: me.json.email };
}

// A member of o's tenant, invited and accepting: {sub, token, email}.
async function member(o) {
  const sub = `mem-${tag()}`;
  const email = `${sub}@members.test`;
  const token = signToken(s.cognito.idClaims({ sub, email }));
  let r = await api('POST', '/members', o.token, { email });
  assert.equal(r.status, 201, r.text);
  r = await api('GET', '/invites', token);
  r = await api('POST', `/invites/${r.json.invites[0].id}/accept`, token,
    { confirm: true });
  assert.equal(r.status, 200, r.text);
  return { sub, token, email };
}

const DEFAULTS = { engine: 'vader', comprehend_budget_usd: null,
  retention_days: 30, summary_hour: 7, time_zone: 'UTC',
  bedrock_budget_usd: 1 };

test('settings: summary hour, time zone and Bedrock budget', async () => {
  const o = await owner();
  const meta = `es:{t:${o.tenant}}:meta`;
  let r = await api('GET', '/settings', o.token);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, DEFAULTS);
  assert.match(r.text, /"bedrock_budget_usd":1\.0/, 'the default, a number');

  // every member at once
  const v0 = Number(await s.redis.cmd('GET', 'es:{topics}:version'));
  r = await api('PATCH', '/settings', o.token, { engine: 'comprehend',
    comprehend_budget_usd: 12.5, retention_days: 90, summary_hour: 0,
    time_zone: 'Europe/Berlin', bedrock_budget_usd: 49.999999 });
  assert.equal(r.status, 200, r.text);
  const all = { engine: 'comprehend', comprehend_budget_usd: 12.5,
    retention_days: 90, summary_hour: 0, time_zone: 'Europe/Berlin',
    bedrock_budget_usd: 49.999999 };
  assert.deepEqual(r.json, all);
  assert.deepEqual((await api('GET', '/settings', o.token)).json, all);
  assert.equal(Number(await s.redis.cmd('GET', 'es:{topics}:version')),
    v0 + 1, 'the workers reload');
  // as the workers read them
  assert.deepEqual(await s.redis.cmd('HMGET', meta, 'summary_hour',
    'time_zone', 'bedrock_budget_usd'), ['0', 'Europe/Berlin', '49.999999']);

  // three segments; 23; 0 (never Bedrock); null: the default again
  r = await api('PATCH', '/settings', o.token, { summary_hour: 23,
    time_zone: 'America/Argentina/Buenos_Aires', bedrock_budget_usd: 0 });
  assert.deepEqual([r.json.summary_hour, r.json.time_zone,
    r.json.bedrock_budget_usd], [23, 'America/Argentina/Buenos_Aires', 0]);
  r = await api('PATCH', '/settings', o.token, { bedrock_budget_usd: null,
    time_zone: 'UTC' });
  assert.equal(r.json.bedrock_budget_usd, 1);
  assert.equal(await s.redis.cmd('HEXISTS', meta, 'bedrock_budget_usd'), 0);
  assert.equal(r.json.time_zone, 'UTC');
  assert.equal(await s.redis.cmd('HGET', meta, 'owner'), o.sub);

  // members read them, owners change them
  const m = await member(o);
  r = await api('GET', '/settings', m.token);
  assert.equal(r.json.summary_hour, 23);
  r = await api('PATCH', '/settings', m.token, { summary_hour: 1 });
  assertError(r, 403, 'forbidden');
});

test('settings: out-of-range hours and budgets are refused', async () => {
  const o = await owner();
  const v0 = Number(await s.redis.cmd('GET', 'es:{topics}:version'));
  const bad = [
    [{ summary_hour: 24 }, 'summary_hour'],
    [{ summary_hour: -1 }, 'summary_hour'],
    [{ summary_hour: 7.5 }, 'summary_hour'],
    [{ summary_hour: '7' }, 'summary_hour'],
    [{ summary_hour: null }, 'summary_hour'],
    [{ bedrock_budget_usd: -0.01 }, 'bedrock_budget_usd'],
    // over the operator's cap (echostream_bedrock_budget_max 50 here),
    // which is not Comprehend's
    [{ bedrock_budget_usd: 50.01 }, 'bedrock_budget_usd'],
    [{ bedrock_budget_usd: '5' }, 'bedrock_budget_usd'],
    [{ bedrock_budget_usd: 1e308 }, 'bedrock_budget_usd'],
    [{ webhook_secret: 'ab'.repeat(32) }, 'webhook_secret'],
    [{ owner: 'me' }, 'owner'],
  ];
  for (const [body, field] of bad) {
    const r = await api('PATCH', '/settings', o.token, body);
    assertError(r, 422, 'validation_failed', field);
  }
  let r = await api('PATCH', '/settings', o.token,
    { comprehend_budget_usd: 900 });
  assert.equal(r.status, 200, r.text);
  // a refused member refuses the whole body
  r = await api('PATCH', '/settings', o.token, { summary_hour: 3,
    bedrock_budget_usd: 51 });
  assertError(r, 422, 'validation_failed', 'bedrock_budget_usd');
  assert.equal((await api('GET', '/settings', o.token)).json.summary_hour, 7);
  assert.equal(Number(await s.redis.cmd('GET', 'es:{topics}:version')),
    v0 + 1, 'only the accepted change moved the version');
});

test('settings: hostile time zones are refused', async () => {
  const o = await owner();
  const meta = `es:{t:${o.tenant}}:meta`;
  const names = ['../../etc/passwd', 'UTC/../x', '../zoneinfo/UTC',
    'Europe/../Europe/Berlin', './UTC', '/etc/passwd', '/UTC',
    'Europe/Berlin/', 'Europe//Berlin', '..', '.', 'zone.tab', 'leapseconds',
    'tzdata.zi', 'Europe', 'Europe/Atlantis', 'utc', ' UTC', 'UTC ',
    'a'.repeat(300), `${'a'.repeat(32)}/${'b'.repeat(33)}`,
    'America/Argentina/Buenos_Aires/x', 'Europe\\Berlin', 'Europe/Zürich',
    'İstanbul', 'Europe/Berlin\n', '%2e%2e/etc/passwd', '$(id)', '',
    'Europe/Berlin;rm'];
  for (const tz of names) {
    const r = await api('PATCH', '/settings', o.token, { time_zone: tz });
    assertError(r, 422, 'validation_failed', 'time_zone');
  }
  for (const v of [null, 1, true, ['UTC'], { name: 'UTC' }]) {
    const r = await api('PATCH', '/settings', o.token, { time_zone: v });
    assertError(r, 422, 'validation_failed', 'time_zone');
  }
  // a NUL inside the name: the body parser refuses it first
  let r = await api('PATCH', '/settings', o.token,
    '{"time_zone":"UTC\\u0000/../../etc/passwd"}',
    { headers: { 'Content-Type': 'application/json' } });
  assertError(r, 400, 'invalid_json');
  assert.equal(await s.redis.cmd('HEXISTS', meta, 'time_zone'), 0);

  // a zone Redis holds whose file is gone (or was never one) shows as UTC
  await s.redis.cmd('HSET', meta, 'time_zone', '../../etc/passwd',
    'summary_hour', '99', 'bedrock_budget_usd', 'lots');
  r = await api('GET', '/settings', o.token);
  assert.deepEqual([r.json.time_zone, r.json.summary_hour,
    r.json.bedrock_budget_usd], ['UTC', 7, 1]);
  assert.ok(existsSync('/usr/share/zoneinfo/Europe/Berlin'),
    'the machine has the zone files these tests name');
});

test('/me: each member\'s own opt-ins', async () => {
  const o = await owner();
  const m = await member(o);
  const members = `es:{t:${o.tenant}}:members`;
  let r = await api('GET', '/me', m.token);
  assert.deepEqual([r.json.sub, r.json.role, r.json.digest,
    r.json.alert_email], [m.sub, 'member', false, false]);

  r = await api('PATCH', '/me', m.token, { digest: true });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.sub, r.json.tenant, r.json.role, r.json.digest,
    r.json.alert_email], [m.sub, o.tenant, 'member', true, false]);
  r = await api('PATCH', '/me', m.token, { alert_email: true });
  assert.deepEqual([r.json.digest, r.json.alert_email], [true, true]);
  r = await api('GET', '/me', m.token);
  assert.deepEqual([r.json.digest, r.json.alert_email], [true, true]);
  // the record keeps everything else
  const rec = JSON.parse(await s.redis.cmd('HGET', members, m.sub));
  assert.deepEqual([rec.sub, rec.email, rec.role, rec.digest,
    rec.alert_email], [m.sub, m.email, 'member', true, true]);
  assert.ok(rec.joined_ms > 0);

  // the owner's own are apart
  r = await api('GET', '/me', o.token);
  assert.deepEqual([r.json.digest, r.json.alert_email], [false, false]);
  r = await api('PATCH', '/me', o.token, { digest: true, alert_email: false });
  assert.deepEqual([r.json.role, r.json.digest, r.json.alert_email],
    ['owner', true, false]);
  assert.equal(JSON.parse(await s.redis.cmd('HGET', members, m.sub))
    .alert_email, true);

  // only the two members, only booleans, at least one
  const before1 = await s.redis.cmd('HGETALL', members);
  for (const [body, field] of [[{}, 'digest'], [{ digest: 1 }, 'digest'],
    [{ alert_email: 'false' }, 'alert_email'], [{ digest: null }, 'digest'],
    [{ digest: true, role: 'owner' }, 'role'],
    [{ digest: false, sub: o.sub }, 'sub'],
    [{ alert_email: false, tenant: 'other' }, 'tenant'],
    [{ digest: false, email: 'x@y.z' }, 'email']]) {
    r = await api('PATCH', '/me', m.token, body);
    assertError(r, 422, 'validation_failed', field);
  }
  assert.deepEqual(await s.redis.cmd('HGETALL', members), before1);
  r = await api('PATCH', '/me', m.token, '[true]',
    { headers: { 'Content-Type': 'application/json' } });
  assertError(r, 400, 'invalid_json');
  r = await api('PATCH', '/me', m.token, 'digest=true',
    { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assertError(r, 415, 'unsupported_media_type');

  // a removed member has no record to change
  r = await api('DELETE', `/members/${m.sub}`, o.token);
  assert.equal(r.status, 204, r.text);
  r = await api('PATCH', '/me', m.token, { digest: false });
  assertError(r, 403, 'no_tenant');
  assert.equal(await s.redis.cmd('HEXISTS', members, m.sub), 0);

  // a damaged record reads as no opt-ins, and is not rewritten
  await s.redis.cmd('HSET', members, o.sub, '{"role":"owner"');
  r = await api('GET', '/me', o.token);
  assert.deepEqual([r.json.role, r.json.digest, r.json.alert_email],
    ['member', false, false]);
  r = await api('PATCH', '/me', o.token, { digest: true });
  assertError(r, 500, 'internal');
  assert.equal(await s.redis.cmd('HGET', members, o.sub), '{"role":"owner"');
});

test('/usage: Bedrock tokens, cost, budget and summaries', async () => {
  const o = await owner();
  const now = new Date();
  const month = `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1)
    .padStart(2, '0')}`;
  const key = `es:{t:${o.tenant}}:usage:${month}`;
  let r = await api('GET', '/usage', o.token);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.bedrock_input_tokens, r.json.bedrock_output_tokens,
    r.json.bedrock_usd, r.json.bedrock_budget_usd, r.json.summaries],
  [0, 0, 0, 1, 0]);

  await s.redis.cmd('HSET', key, 'bedrock_input_tokens', '120000',
    'bedrock_output_tokens', '9000', 'bedrock_usd_micros', '165000',
    'summaries', '31', 'comments', '5');
  await api('PATCH', '/settings', o.token, { bedrock_budget_usd: 2.5 });
  r = await api('GET', '/usage', o.token);
  assert.deepEqual([r.json.comments, r.json.bedrock_input_tokens,
    r.json.bedrock_output_tokens, r.json.bedrock_usd,
    r.json.bedrock_budget_usd, r.json.summaries],
  [5, 120000, 9000, 0.165, 2.5, 31]);

  // damaged counters read as 0, a damaged budget as the default
  await s.redis.cmd('HSET', key, 'bedrock_input_tokens', 'many',
    'summaries', '-3');
  await s.redis.cmd('HSET', `es:{t:${o.tenant}}:meta`, 'bedrock_budget_usd',
    'x');
  r = await api('GET', '/usage', o.token);
  assert.deepEqual([r.json.bedrock_input_tokens, r.json.summaries,
    r.json.bedrock_budget_usd], [0, 0, 1]);
  assert.match(s.nginx.errorLog(), /malformed usage fields/);

  // another tenant's counters are its own
  const other = await owner();
  r = await api('GET', '/usage', other.token);
  assert.deepEqual([r.json.bedrock_output_tokens, r.json.summaries], [0, 0]);
});

test('/usage: the month\'s prediction, metered spend at its pace plus a share of the fixed cost',
  async () => {
    const o = await owner();
    const now = new Date();
    const month = `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    await s.redis.cmd('HSET', `es:{t:${o.tenant}}:usage:${month}`,
      'comprehend_usd_micros', '250000', 'bedrock_usd_micros', '330000');
    const r = await api('GET', '/usage', o.token);
    assert.equal(r.status, 200, r.text);
    const p = r.json.prediction;
    const tenants = Number(await s.redis.cmd('SCARD', 'es:{tenants}:all'));
    assert.equal(p.tenants, tenants);
    assert.equal(p.metered_usd, 0.58);
    // the month's pace: elapsed time, at least one day
    const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    const pace = (end - start) / Math.max(Date.now() - start, 86400000);
    assert.ok(Math.abs(p.metered_month_usd - 0.58 * pace) < 0.001 * pace,
      `${p.metered_month_usd} vs ${0.58 * pace}`);
    // the fixed cost is the cost model's, from the same price file and the
    // template's instance and volume (the directive's defaults)
    const model = JSON.parse(spawnSync('python3', [path.join(ROOT, 'deploy', 'aws', 'cost.py'),
      '--json'], { encoding: 'utf8' }).stdout).default;
    assert.equal(p.instance, model.instance);
    const fixed = model.lines.instance + model.lines.ebs + model.lines.public_ipv4;
    assert.ok(Math.abs(p.fixed_usd - fixed) < 1e-6, `${p.fixed_usd} vs ${fixed}`);
    assert.ok(Math.abs(p.fixed_share_usd - fixed / tenants) < 1e-6);
    assert.ok(Math.abs(p.month_usd - (p.metered_month_usd + p.fixed_share_usd)) < 2e-6);
    const dates = Object.values(JSON.parse(readFileSync(PRICES, 'utf8')).prices)
      .map((x) => x.date).sort();
    assert.ok(dates.includes(p.prices_date));
  });

test('echostream_prices: a file or price that cannot be used fails nginx -t', async () => {
  const dir = await tmpDir('es-prices-');
  const doc = JSON.parse(readFileSync(PRICES, 'utf8'));
  const variant = (name, change) => {
    const d = structuredClone(doc);
    change(d.prices);
    const f = path.join(dir, name);
    writeFileSync(f, JSON.stringify(d));
    return f;
  };
  const notJson = path.join(dir, 'broken.json');
  writeFileSync(notJson, '{"prices": ');
  const cases = [
    [`${path.join(dir, 'missing.json')}`, /echostream_prices.*missing\.json/],
    [notJson, /broken\.json/],
    [variant('nodate.json', (p) => { delete p.ec2_t4g_small_hour.date; }),
     /price ec2_t4g_small_hour has no date/],
    [variant('nosource.json', (p) => { p.public_ipv4_hour.source = 'somewhere'; }),
     /price public_ipv4_hour has no source/],
    [variant('negative.json', (p) => { p.ebs_gp3_gb_month.usd = -1; }),
     /price ebs_gp3_gb_month has no usd/],
    [`${PRICES} t4g.huge`, /price ec2_t4g_huge_hour has no usd/],
    [`${PRICES} T4G.Small`, /invalid instance type/],
    [`${PRICES} t4g.micro 0`, /invalid volume size/],
  ];
  for (const [args, why] of cases) {
    const r = await nginxConfTest({ ...apiConf(s.cognito, { extraConf:
      `    echostream_prices ${args};` }) });
    assert.equal(r.ok, false, `${args}: ${r.output}`);
    assert.match(r.output, why);
  }
  const r = await nginxConfTest({ ...apiConf(s.cognito, { extraConf:
    `    echostream_prices ${PRICES} t4g.micro 8;` }) });
  assert.equal(r.ok, true, r.output);
});

test('the webhook secret: owners only, made once, rotated', async () => {
  const o = await owner();
  const meta = `es:{t:${o.tenant}}:meta`;
  const m = await member(o);

  // many at once make one
  const first = await Promise.all(Array.from({ length: 8 }, () =>
    api('GET', '/settings/webhook-secret', o.token)));
  for (const r of first) {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['cache-control'], 'no-store');
  }
  const secret = first[0].json.secret;
  assert.match(secret, /^[0-9a-f]{64}$/);
  assert.ok(first.every((r) => r.json.secret === secret));
  assert.equal(await s.redis.cmd('HGET', meta, 'webhook_secret'), secret);

  // one a worker made first is the one answered
  const o2 = await owner();
  const made = 'c0ffee'.padEnd(64, '1');
  await s.redis.cmd('HSETNX', `es:{t:${o2.tenant}}:meta`, 'webhook_secret',
    made);
  assert.equal((await api('GET', '/settings/webhook-secret', o2.token)).json
    .secret, made);

  let r = await api('POST', '/settings/webhook-secret', o.token);
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.secret, /^[0-9a-f]{64}$/);
  assert.notEqual(r.json.secret, secret);
  assert.equal(await s.redis.cmd('HGET', meta, 'webhook_secret'),
    r.json.secret);
  assert.equal((await api('GET', '/settings/webhook-secret', o.token)).json
    .secret, r.json.secret);
  // a body is not read
  r = await api('POST', '/settings/webhook-secret', o.token,
    { secret: '0'.repeat(64) });
  assert.equal(r.status, 200, r.text);
  assert.notEqual(r.json.secret, '0'.repeat(64));
  const kept = r.json.secret;

  // members and strangers
  for (const method of ['GET', 'POST']) {
    r = await api(method, '/settings/webhook-secret', m.token);
    assertError(r, 403, 'forbidden');
    r = await api(method, '/settings/webhook-secret', 'not.a.token');
    assertError(r, 401, 'unauthorized');
  }
  assert.equal(await s.redis.cmd('HGET', meta, 'webhook_secret'), kept);
  assert.ok(!s.nginx.errorLog().includes(kept), 'the secret is not logged');

  // a damaged one is not served; rotating replaces it
  await s.redis.cmd('HSET', meta, 'webhook_secret', 'short');
  r = await api('GET', '/settings/webhook-secret', o.token);
  assertError(r, 500, 'internal');
  r = await api('POST', '/settings/webhook-secret', o.token);
  assert.match(r.json.secret, /^[0-9a-f]{64}$/);
  // settings do not show it
  r = await api('GET', '/settings', o.token);
  assert.equal(r.json.webhook_secret, undefined);
});

test('a tenant deleted by an accepted invite leaves none of its new keys',
  async () => {
    const o = await owner();
    // x's own tenant gathers the new kinds of data, then x joins o's
    const sub = `lone-${tag()}`;
    const email = `${sub}@members.test`;
    const token = signToken(s.cognito.idClaims({ sub, email }));
    let r = await api('POST', '/topics', token, { id: 't1', name: 't1',
      subreddits: [`dl${tag()}`] });
    assert.equal(r.status, 201, r.text);
    const mine = (await api('GET', '/me', token)).json.tenant;
    await api('PATCH', '/me', token, { digest: true });
    await api('GET', '/settings/webhook-secret', token);
    r = await api('POST', '/summaries', token, { topic: 't1' });
    assert.equal(r.status, 202, r.text);
    await s.redis.cmd('HSET', `es:{t:${mine}}:alerts:state`, 'r1', '{}');
    await s.redis.cmd('HSET', `es:{t:${mine}}:deliveries`, 'd1',
      '{"status":"pending"}');
    for (const k of ['summary_pending', 'summary_requests', 'alerts:state',
      'deliveries', 'meta', 'members']) {
      assert.equal(await s.redis.cmd('EXISTS', `es:{t:${mine}}:${k}`), 1, k);
    }

    r = await api('POST', '/members', o.token, { email });
    assert.equal(r.status, 201, r.text);
    r = await api('GET', '/invites', token);
    r = await api('POST', `/invites/${r.json.invites[0].id}/accept`, token,
      { confirm: true });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.deleted_tenant, mine);
    let left = [];
    let cursor = '0';
    do {
      const [next, keys] = await s.redis.cmd('SCAN', cursor, 'MATCH',
        `es:{t:${mine}}:*`, 'COUNT', 1000);
      left = left.concat(keys);
      cursor = next;
    } while (cursor !== '0');
    assert.deepEqual(left, []);
    // the opt-ins do not travel: a new member starts with none
    r = await api('GET', '/me', token);
    assert.deepEqual([r.json.tenant, r.json.digest], [o.tenant, false]);
  });
