// api_members.test.mjs - /api/v1/members and /api/v1/settings against a
// real nginx with the module, a real Redis and cognito-local users.
//
// The invite flow end to end: an owner invites an e-mail, the invited
// user's first sign-in (a cognito-local id token with a verified e-mail)
// joins the tenant with the invited role, and the invite is consumed. Then
// the rules around it: tenants never learn of each other's invites, no
// invite for a member's e-mail, withdrawing invites, removing members
// (their user record goes, so their next sign-in is a stranger's), the
// last owner, owner-only writes; and the tenant settings with their
// version bump. Membership caching is off (echostream_membership_ttl 0) so
// a removal shows on the next request. Every JSON answer is checked
// against docs/openapi.yaml by the stack's api().

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

import { startApiStack, signToken } from '../lib/api.mjs';

let s;

before(async () => {
  s = await startApiStack({
    extraConf: '    echostream_membership_ttl 0;',
  });
});

after(async () => {
  await s?.stop();
});

const api = (method, path, token, body) =>
  s.api(method, `/api/v1${path}`, { token, body });

const tag = () => randomBytes(4).toString('hex');

// A signed-in cognito-local user: {sub, email, idToken, …, tenant, role}.
async function signedIn(email) {
  const u = await s.cognito.user(email);
  const me = await api('GET', '/me', u.idToken);
  assert.equal(me.status, 200, me.text);
  return { ...u, token: u.idToken, tenant: me.json.tenant,
           role: me.json.role };
}

// A quick owner of a new tenant (token signed with cognito-local's key).
async function owner() {
  const sub = `own-${tag()}`;
  const token = signToken(s.cognito.idClaims({ sub }));
  const me = await api('GET', '/me', token);
  assert.equal(me.status, 200, me.text);
  return { sub, token, tenant: me.json.tenant, email: me.json.email };
}

const inviteKey = (email) => `es:{invites}:${createHash('sha256')
  .update(email).digest('hex')}`;

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

function assertError(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error.code, code, r.text);
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
}

test('an invited user joins at first sign-in; members can be removed',
  async () => {
    const t = tag();
    const o = await signedIn(`owner-${t}@members.test`);
    assert.equal(o.role, 'owner');

    let r = await api('GET', '/members', o.token);
    assert.equal(r.status, 200);
    assert.equal(r.json.members.length, 1);
    const [me] = r.json.members;
    assert.deepEqual({ ...me, joined: undefined }, { sub: o.sub,
      email: `owner-${t}@members.test`, role: 'owner', joined: undefined });
    assert.match(me.joined, RFC3339);
    assert.deepEqual(r.json.invites, []);

    // the invite: e-mail lower-cased, role defaults to member
    const email = `ana-${t}@members.test`;
    r = await api('POST', '/members', o.token,
      { email: `Ana-${t}@Members.TEST` });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.created, RFC3339);
    assert.deepEqual(r.json, { email, role: 'member', invited_by: o.sub,
      created: r.json.created });
    const invite = r.json;

    // both records, the per-e-mail one with a 30-day TTL
    const h = await s.redis.cmd('HGETALL', inviteKey(email));
    assert.equal(h.length, 2, 'one field: the inviting tenant');
    assert.equal(h[0], o.tenant);
    const rec = JSON.parse(h[1]);
    assert.equal(rec.role, 'member');
    assert.equal(rec.invited_by, o.sub);
    assert.ok(Math.abs(Number(rec.created_ms) -
      Date.parse(invite.created)) < 1000);
    const ttl = await s.redis.cmd('TTL', inviteKey(email));
    assert.ok(ttl > 29 * 86400 && ttl <= 30 * 86400, `ttl ${ttl}`);
    assert.ok(await s.redis.cmd('HEXISTS', `es:{t:${o.tenant}}:invites`,
      email));

    r = await api('GET', '/members', o.token);
    assert.deepEqual(r.json.invites, [invite]);

    // Ana's first sign-in joins the owner's tenant as a member
    const ana = await signedIn(`Ana-${t}@members.test`);
    assert.equal(ana.tenant, o.tenant);
    assert.equal(ana.role, 'member');
    assert.equal(await s.redis.cmd('EXISTS', inviteKey(email)), 0);

    r = await api('GET', '/members', ana.token);
    assert.equal(r.status, 200, 'members read the list');
    assert.deepEqual(r.json.invites, []);
    assert.deepEqual(r.json.members.map((m) => [m.sub, m.role]),
      [[o.sub, 'owner'], [ana.sub, 'member']]);

    // a member cannot manage members
    r = await api('POST', '/members', ana.token, { email: `x-${t}@m.test` });
    assertError(r, 403, 'forbidden');
    r = await api('DELETE', `/members/${o.sub}`, ana.token);
    assertError(r, 403, 'forbidden');

    // inviting a member's e-mail is a conflict
    r = await api('POST', '/members', o.token, { email });
    assertError(r, 409, 'conflict');

    // removal: gone from the list, user record gone
    r = await api('DELETE', `/members/${ana.sub}`, o.token);
    assert.equal(r.status, 204);
    assert.equal(await s.redis.cmd('EXISTS', `es:{users}:${ana.sub}`), 0);
    r = await api('GET', '/members', o.token);
    assert.deepEqual(r.json.members.map((m) => m.sub), [o.sub]);
    r = await api('DELETE', `/members/${ana.sub}`, o.token);
    assertError(r, 404, 'not_found');

    // Ana's next request no longer lands in the owner's tenant
    r = await api('GET', '/me', ana.token);
    assert.equal(r.status, 200);
    assert.notEqual(r.json.tenant, o.tenant);
    r = await api('GET', '/topics', ana.token);
    assert.deepEqual(r.json, { topics: [] });
  });

test('an invite as owner; the last owner cannot be removed', async () => {
  const t = tag();
  const o = await signedIn(`first-${t}@members.test`);
  let r = await api('DELETE', `/members/${o.sub}`, o.token);
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /last owner/);

  r = await api('POST', '/members', o.token,
    { email: `second-${t}@members.test`, role: 'owner' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.role, 'owner');
  const second = await signedIn(`second-${t}@members.test`);
  assert.equal(second.tenant, o.tenant);
  assert.equal(second.role, 'owner');

  // two owners: the second removes the first, then is the last one
  r = await api('DELETE', `/members/${o.sub}`, second.token);
  assert.equal(r.status, 204);
  r = await api('DELETE', `/members/${second.sub}`, second.token);
  assertError(r, 409, 'conflict');
  r = await api('GET', '/members', second.token);
  assert.deepEqual(r.json.members.map((m) => [m.sub, m.role]),
    [[second.sub, 'owner']]);
});

test('invites: validation, invites of several tenants, withdrawal',
  async () => {
    const a = await owner();
    const b = await owner();
    const t = tag();

    for (const email of ['', 'no-at-sign', 'two@@x.test', 'a@b@c.test',
      'sp ace@x.test', '@x.test', 'x@', 'x@-x.test', 'x@x..test',
      'x@x_y.test', `${'a'.repeat(65)}@x.test`, 'quo"te@x.test',
      `x@${'a'.repeat(250)}.test`, 5, null]) {
      const r = await api('POST', '/members', a.token, { email });
      assertError(r, 422, 'validation_failed', 'email');
    }
    let r = await api('POST', '/members', a.token, {});
    assertError(r, 422, 'validation_failed', 'email');
    r = await api('POST', '/members', a.token,
      { email: `ok-${t}@x.test`, role: 'admin' });
    assertError(r, 422, 'validation_failed', 'role');
    r = await api('POST', '/members', a.token,
      { email: `ok-${t}@x.test`, tenant: 'other' });
    assertError(r, 422, 'validation_failed', 'tenant');

    // several tenants may invite one address; none learns of the others
    const bob = `bob-${t}@x.test`;
    r = await api('POST', '/members', b.token, { email: bob });
    assert.equal(r.status, 201);
    r = await api('POST', '/members', a.token, { email: bob.toUpperCase() });
    assert.equal(r.status, 201, r.text);
    r = await api('GET', '/members', a.token);
    assert.deepEqual(r.json.invites.map((i) => i.email), [bob]);
    assert.equal(r.json.invites[0].invited_by, a.sub);
    assert.equal(await s.redis.cmd('HLEN', inviteKey(bob)), 2);

    // inviting again from the same tenant renews it (role may change)
    r = await api('POST', '/members', b.token, { email: bob, role: 'owner' });
    assert.equal(r.status, 201);
    r = await api('GET', '/members', b.token);
    assert.deepEqual(r.json.invites.map((i) => [i.email, i.role]),
      [[bob, 'owner']]);

    // each tenant withdraws only its own invite, once
    r = await api('DELETE', `/members/invites/${encodeURIComponent(bob)}`,
      a.token);
    assert.equal(r.status, 204);
    assert.equal(await s.redis.cmd('HLEN', inviteKey(bob)), 1);
    assert.equal(await s.redis.cmd('HEXISTS', inviteKey(bob), b.tenant), 1);
    r = await api('DELETE', `/members/invites/${encodeURIComponent(bob)}`,
      a.token);
    assertError(r, 404, 'not_found');
    r = await api('DELETE',
      `/members/invites/${encodeURIComponent(bob.toUpperCase())}`, b.token);
    assert.equal(r.status, 204);
    assert.equal(await s.redis.cmd('EXISTS', inviteKey(bob)), 0);
    assert.equal(await s.redis.cmd('HLEN', `es:{t:${b.tenant}}:invites`), 0);
    r = await api('DELETE', '/members/invites/not-an-email', b.token);
    assertError(r, 404, 'not_found');
  });

test('an expired or damaged invite is not listed', async () => {
  const o = await owner();
  const key = `es:{t:${o.tenant}}:invites`;
  const old = Date.now() - 31 * 86400 * 1000;
  await s.redis.cmd('HSET', key, 'old@x.test', JSON.stringify({
    email: 'old@x.test', role: 'member', invited_by: o.sub,
    created_ms: old }));
  await s.redis.cmd('HSET', key, 'bad@x.test', '{"role":');
  await s.redis.cmd('HSET', `es:{t:${o.tenant}}:members`, 'ghost', '[]');
  let r = await api('GET', '/members', o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.invites, []);
  assert.deepEqual(r.json.members.map((m) => m.sub), [o.sub]);
  assert.match(s.nginx.errorLog(), /skipping malformed invite "bad@x.test"/);
  // the next invite prunes both
  r = await api('POST', '/members', o.token, { email: `new-${tag()}@x.test` });
  assert.equal(r.status, 201);
  assert.equal(await s.redis.cmd('HLEN', key), 1);
});

test('removing members: unknown or foreign subs are 404', async () => {
  const a = await owner();
  const b = await owner();
  let r = await api('DELETE', '/members/no-such-sub', a.token);
  assertError(r, 404, 'not_found');
  // b's owner is not a's member: nothing changes for b
  r = await api('DELETE', `/members/${b.sub}`, a.token);
  assertError(r, 404, 'not_found');
  assert.equal(await s.redis.cmd('HGET', `es:{users}:${b.sub}`, 'tenant'),
    b.tenant);
  r = await api('DELETE', '/members/has%7Bbrace%7D', a.token);
  assertError(r, 404, 'not_found');
});

test('settings: defaults, changes, validation, version bump', async () => {
  const o = await owner();
  const meta = `es:{t:${o.tenant}}:meta`;
  let r = await api('GET', '/settings', o.token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { engine: 'vader', comprehend_budget_usd: null,
    retention_days: 30 });

  let v0 = Number(await s.redis.cmd('GET', 'es:{topics}:version'));
  r = await api('PATCH', '/settings', o.token, { engine: 'comprehend',
    comprehend_budget_usd: 25.5 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { engine: 'comprehend',
    comprehend_budget_usd: 25.5, retention_days: 30 });
  assert.equal(Number(await s.redis.cmd('GET', 'es:{topics}:version')),
    v0 + 1);
  // stored as the strings enrich parses
  assert.deepEqual(await s.redis.cmd('HMGET', meta, 'engine',
    'comprehend_budget_usd', 'retention_days'), ['comprehend', '25.5', null]);

  r = await api('PATCH', '/settings', o.token, { retention_days: 365,
    comprehend_budget_usd: 0 });
  assert.deepEqual(r.json, { engine: 'comprehend', comprehend_budget_usd: 0,
    retention_days: 365 });
  r = await api('GET', '/settings', o.token);
  assert.deepEqual(r.json, { engine: 'comprehend', comprehend_budget_usd: 0,
    retention_days: 365 });

  // null clears the budget; the owner and creation time stay
  r = await api('PATCH', '/settings', o.token, {
    comprehend_budget_usd: null, engine: 'vader' });
  assert.deepEqual(r.json, { engine: 'vader', comprehend_budget_usd: null,
    retention_days: 365 });
  assert.equal(await s.redis.cmd('HEXISTS', meta, 'comprehend_budget_usd'), 0);
  assert.equal(await s.redis.cmd('HGET', meta, 'owner'), o.sub);

  // an empty PATCH changes nothing, not even the version
  v0 = Number(await s.redis.cmd('GET', 'es:{topics}:version'));
  r = await api('PATCH', '/settings', o.token, {});
  assert.equal(r.status, 200);
  assert.equal(Number(await s.redis.cmd('GET', 'es:{topics}:version')), v0);

  const bad = [
    [{ engine: 'gpt' }, 'engine'], [{ engine: 1 }, 'engine'],
    [{ comprehend_budget_usd: -1 }, 'comprehend_budget_usd'],
    [{ comprehend_budget_usd: 1e7 }, 'comprehend_budget_usd'],
    // above the operator's cap (echostream_comprehend_budget_max, 1000)
    [{ comprehend_budget_usd: 1000.01 }, 'comprehend_budget_usd'],
    [{ comprehend_budget_usd: '5' }, 'comprehend_budget_usd'],
    [{ retention_days: 0 }, 'retention_days'],
    [{ retention_days: 366 }, 'retention_days'],
    [{ retention_days: 1.5 }, 'retention_days'],
    [{ retention_days: '30' }, 'retention_days'],
    [{ owner: 'me' }, 'owner'],
  ];
  for (const [body, field] of bad) {
    r = await api('PATCH', '/settings', o.token, body);
    assertError(r, 422, 'validation_failed', field);
  }
  assert.equal(Number(await s.redis.cmd('GET', 'es:{topics}:version')), v0,
    'refused changes write nothing');

  // members read settings but cannot change them
  const sub = `mem-${tag()}`;
  const m = signToken(s.cognito.idClaims({ sub,
    'custom:tenant_id': o.tenant }));
  r = await api('GET', '/settings', m);
  assert.equal(r.status, 200);
  r = await api('PATCH', '/settings', m, { engine: 'comprehend' });
  assertError(r, 403, 'forbidden');

  // values out of range in Redis show as their defaults
  await s.redis.cmd('HSET', meta, 'engine', 'bogus', 'retention_days', '9999',
    'comprehend_budget_usd', 'lots');
  r = await api('GET', '/settings', o.token);
  assert.deepEqual(r.json, { engine: 'vader', comprehend_budget_usd: null,
    retention_days: 30 });
});

test('invited by two tenants: the user joins the oldest invite, the other ' +
  'stays pending', async () => {
  const a = await owner();
  const b = await owner();
  const carol = `carol-${tag()}@members.test`;
  let r = await api('POST', '/members', a.token, { email: carol });
  assert.equal(r.status, 201);
  await new Promise((res) => setTimeout(res, 20));
  r = await api('POST', '/members', b.token, { email: carol, role: 'owner' });
  assert.equal(r.status, 201);

  const c = await signedIn(carol);
  assert.equal(c.tenant, a.tenant);
  assert.equal(c.role, 'member');
  r = await api('GET', '/members', a.token);
  assert.deepEqual(r.json.invites, []);
  assert.ok(r.json.members.some((m) => m.sub === c.sub));
  r = await api('GET', '/members', b.token);
  assert.deepEqual(r.json.invites.map((i) => i.email), [carol]);
  assert.deepEqual(await s.redis.cmd('HKEYS', inviteKey(carol)), [b.tenant]);
});
