// api_members.test.mjs - /api/v1/members and /api/v1/settings against a
// real nginx with the module, a real Redis and cognito-local users.
//
// The invite flow end to end: an owner invites an e-mail; the invited
// user's first sign-in (a cognito-local id token with a verified e-mail)
// gives them a tenant of their own and nothing else; they see the invite
// (GET /invites) and accept it (deleting their own tenant only when they
// confirm) or decline it. Then the rules around it: tenants never learn of
// each other's invites, no invite for a member's e-mail, withdrawing and
// expired invites, an owner with members who must hand over first,
// removing members (the removal sticks: no tenant, whatever the token,
// until another invite), leaving, the last owner, owner-only writes; and
// the tenant settings with their version bump. Membership caching is off
// (echostream_membership_ttl 0) so a change shows on the next request.
// Every JSON answer is checked against docs/openapi.yaml by the stack's
// api().

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

import { startApiStack, signToken } from '../../lib/api.mjs';

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

// A member of owner o's tenant the only way there is: invited, then
// accepting (their own fresh tenant is deleted). {sub, token, email}.
async function member(o) {
  const sub = `mem-${tag()}`;
  const email = `${sub}@members.test`;
  const token = signToken(s.cognito.idClaims({ sub, email }));
  let r = await api('POST', '/members', o.token, { email });
  assert.equal(r.status, 201, r.text);
  r = await api('GET', '/invites', token);
  assert.equal(r.status, 200, r.text);
  r = await api('POST', `/invites/${r.json.invites[0].id}/accept`, token,
    { confirm: true });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.tenant, o.tenant);
  // the own tenant it left held nothing beyond what the accept deleted:
  // the sweep's one page is empty, and the sweep still ends as complete
  const log = s.nginx.errorLog();
  assert.match(log, new RegExp(
    `swept 0 keys of "es:\\{t:${r.json.deleted_tenant}\\}:\\*"`));
  assert.doesNotMatch(log, /the sweep of .* stopped/);
  return { sub, token, email };
}

const inviteKey = (email) => `es:{invites}:${createHash('sha256')
  .update(email).digest('hex')}`;

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

function assertError(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error.code, code, r.text);
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
}

test('an invite is accepted explicitly; a removed member stays out',
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

    // the invite: e-mail lower-cased, role defaults to member, 7 days
    const email = `ana-${t}@members.test`;
    r = await api('POST', '/members', o.token,
      { email: `Ana-${t}@Members.TEST` });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.created, RFC3339);
    assert.deepEqual(r.json, { email, role: 'member', invited_by: o.sub,
      created: r.json.created, expires: r.json.expires });
    assert.equal(Date.parse(r.json.expires) - Date.parse(r.json.created),
      7 * 86400 * 1000);
    const invite = r.json;

    // both records, the per-e-mail one with the invite's lifetime as TTL
    const h = await s.redis.cmd('HGETALL', inviteKey(email));
    assert.equal(h.length, 2, 'one field: the inviting tenant');
    assert.equal(h[0], o.tenant);
    const rec = JSON.parse(h[1]);
    assert.equal(rec.role, 'member');
    assert.equal(rec.invited_by, o.sub);
    assert.match(rec.id, /^[a-z0-9]{16}$/);
    assert.ok(Math.abs(Number(rec.created_ms) -
      Date.parse(invite.created)) < 1000);
    const ttl = await s.redis.cmd('TTL', inviteKey(email));
    assert.ok(ttl > 6 * 86400 && ttl <= 7 * 86400, `ttl ${ttl}`);

    r = await api('GET', '/members', o.token);
    assert.deepEqual(r.json.invites, [invite]);

    // Ana's first sign-in gives her a tenant of her own: nothing joins
    // her to another without her word
    const ana = await signedIn(`Ana-${t}@members.test`);
    assert.notEqual(ana.tenant, o.tenant);
    assert.equal(ana.role, 'owner');
    assert.equal(await s.redis.cmd('HLEN', inviteKey(email)), 1);

    // she sees the invite, with who sent it
    r = await api('GET', '/invites', ana.token);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.invites.length, 1);
    const inv = r.json.invites[0];
    assert.deepEqual(inv, { id: rec.id, tenant: o.tenant, role: 'member',
      invited_by: o.sub, invited_by_email: `owner-${t}@members.test`,
      created: invite.created, expires: invite.expires });

    // accepting would delete her own tenant: asked first, nothing changed
    await api('POST', '/topics', ana.token, { id: 'mine', name: 'Mine',
      subreddits: ['rust'] });
    r = await api('POST', `/invites/${inv.id}/accept`, ana.token);
    assertError(r, 409, 'confirm_required');
    assert.match(r.json.error.message,
      new RegExp(`deletes your tenant ${ana.tenant} and all its data ` +
                 '\\(1 topics, 0 alert rules\\)'));
    r = await api('GET', '/me', ana.token);
    assert.equal(r.json.tenant, ana.tenant);
    r = await api('POST', `/invites/${inv.id}/accept`, ana.token,
      { confirm: 'yes' });
    assertError(r, 422, 'validation_failed', 'confirm');

    r = await api('POST', `/invites/${inv.id}/accept`, ana.token,
      { confirm: true });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { tenant: o.tenant, role: 'member',
      deleted_tenant: ana.tenant });
    assert.equal(await s.redis.cmd('EXISTS', inviteKey(email)), 0);
    // her old tenant and all its keys are gone, and out of the watch union
    assert.deepEqual(await s.redis.cmd('KEYS', `es:{t:${ana.tenant}}:*`), []);
    assert.equal(await s.redis.cmd('SISMEMBER', 'es:{tenants}:all',
      ana.tenant), 0);
    r = await api('GET', '/me', ana.token);
    assert.deepEqual([r.json.tenant, r.json.role], [o.tenant, 'member']);
    r = await api('GET', '/invites', ana.token);
    assert.deepEqual(r.json, { invites: [] });
    r = await api('POST', `/invites/${inv.id}/accept`, ana.token);
    assertError(r, 404, 'not_found');

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

    // removal: gone from the list; the record stays, so it sticks
    r = await api('DELETE', `/members/${ana.sub}`, o.token);
    assert.equal(r.status, 204);
    r = await api('GET', '/members', o.token);
    assert.deepEqual(r.json.members.map((m) => m.sub), [o.sub]);
    r = await api('DELETE', `/members/${ana.sub}`, o.token);
    assertError(r, 404, 'not_found');

    // Ana has no tenant now, whatever token she brings, until an invite
    for (const token of [ana.token, ana.accessToken,
      (await s.cognito.signIn(ana.email, ana.password)).idToken]) {
      for (const path of ['/me', '/topics', '/members']) {
        r = await api('GET', path, token);
        assertError(r, 403, 'no_tenant');
      }
    }
    r = await api('GET', '/invites', ana.token);
    assert.deepEqual(r.json, { invites: [] });

    // invited again, she may come back
    r = await api('POST', '/members', o.token, { email });
    assert.equal(r.status, 201);
    r = await api('GET', '/invites', ana.token);
    r = await api('POST', `/invites/${r.json.invites[0].id}/accept`,
      ana.token);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { tenant: o.tenant, role: 'member',
      deleted_tenant: null });
    r = await api('GET', '/me', ana.token);
    assert.equal(r.json.tenant, o.tenant);

    // and leave by herself
    r = await api('DELETE', `/members/${ana.sub}`, ana.token);
    assert.equal(r.status, 204);
    r = await api('GET', '/me', ana.token);
    assertError(r, 403, 'no_tenant');
  });

test('an invite as owner; a removed first owner does not come back',
  async () => {
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
    assert.notEqual(second.tenant, o.tenant);
    r = await api('GET', '/invites', second.token);
    r = await api('POST', `/invites/${r.json.invites[0].id}/accept`,
      second.token, { confirm: true });
    assert.deepEqual([r.json.tenant, r.json.role], [o.tenant, 'owner']);

    // two owners: the second removes the first, then is the last one
    r = await api('DELETE', `/members/${o.sub}`, second.token);
    assert.equal(r.status, 204);
    r = await api('DELETE', `/members/${second.sub}`, second.token);
    assertError(r, 409, 'conflict');
    r = await api('GET', '/members', second.token);
    assert.deepEqual(r.json.members.map((m) => [m.sub, m.role]),
      [[second.sub, 'owner']]);

    // the first owner, named owner in the tenant's meta, stays out
    assert.equal(await s.redis.cmd('HGET', `es:{t:${o.tenant}}:meta`,
      'owner'), o.sub);
    const again = await s.cognito.signIn(o.email, o.password);
    for (const token of [o.token, again.idToken, again.accessToken]) {
      r = await api('GET', '/me', token);
      assertError(r, 403, 'no_tenant');
      r = await api('POST', '/topics', token, { name: 'x',
        subreddits: ['rust'] });
      assertError(r, 403, 'no_tenant');
    }
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
    retention_days: 30, summary_hour: 7, time_zone: 'UTC', bedrock_budget_usd: 1 });

  let v0 = Number(await s.redis.cmd('GET', 'es:{topics}:version'));
  r = await api('PATCH', '/settings', o.token, { engine: 'comprehend',
    comprehend_budget_usd: 25.5 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { engine: 'comprehend',
    comprehend_budget_usd: 25.5, retention_days: 30, summary_hour: 7, time_zone: 'UTC', bedrock_budget_usd: 1 });
  assert.equal(Number(await s.redis.cmd('GET', 'es:{topics}:version')),
    v0 + 1);
  // stored as the strings enrich parses
  assert.deepEqual(await s.redis.cmd('HMGET', meta, 'engine',
    'comprehend_budget_usd', 'retention_days'), ['comprehend', '25.5', null]);

  r = await api('PATCH', '/settings', o.token, { retention_days: 365,
    comprehend_budget_usd: 0 });
  assert.deepEqual(r.json, { engine: 'comprehend', comprehend_budget_usd: 0,
    retention_days: 365, summary_hour: 7, time_zone: 'UTC', bedrock_budget_usd: 1 });
  r = await api('GET', '/settings', o.token);
  assert.deepEqual(r.json, { engine: 'comprehend', comprehend_budget_usd: 0,
    retention_days: 365, summary_hour: 7, time_zone: 'UTC', bedrock_budget_usd: 1 });

  // null clears the budget; the owner and creation time stay
  r = await api('PATCH', '/settings', o.token, {
    comprehend_budget_usd: null, engine: 'vader' });
  assert.deepEqual(r.json, { engine: 'vader', comprehend_budget_usd: null,
    retention_days: 365, summary_hour: 7, time_zone: 'UTC', bedrock_budget_usd: 1 });
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
  const m = (await member(o)).token;
  r = await api('GET', '/settings', m);
  assert.equal(r.status, 200);
  r = await api('PATCH', '/settings', m, { engine: 'comprehend' });
  assertError(r, 403, 'forbidden');

  // values out of range in Redis show as their defaults
  await s.redis.cmd('HSET', meta, 'engine', 'bogus', 'retention_days', '9999',
    'comprehend_budget_usd', 'lots');
  r = await api('GET', '/settings', o.token);
  assert.deepEqual(r.json, { engine: 'vader', comprehend_budget_usd: null,
    retention_days: 30, summary_hour: 7, time_zone: 'UTC', bedrock_budget_usd: 1 });
});

test('invited by two tenants: the user chooses; the other stays pending ' +
  'until declined', async () => {
  const a = await owner();
  const b = await owner();
  const carol = `carol-${tag()}@members.test`;
  let r = await api('POST', '/members', a.token, { email: carol });
  assert.equal(r.status, 201);
  await new Promise((res) => setTimeout(res, 20));
  r = await api('POST', '/members', b.token, { email: carol, role: 'owner' });
  assert.equal(r.status, 201);

  const c = await signedIn(carol);
  assert.notEqual(c.tenant, a.tenant);
  assert.notEqual(c.tenant, b.tenant);
  r = await api('GET', '/invites', c.token);
  assert.deepEqual(r.json.invites.map((i) => [i.tenant, i.role]),
    [[a.tenant, 'member'], [b.tenant, 'owner']], 'oldest first');
  const [fromA, fromB] = r.json.invites;

  // she takes b's; a's stays pending for her and on a's list
  r = await api('POST', `/invites/${fromB.id}/accept`, c.token,
    { confirm: true });
  assert.deepEqual([r.json.tenant, r.json.role], [b.tenant, 'owner']);
  r = await api('GET', '/members', a.token);
  assert.deepEqual(r.json.invites.map((i) => i.email), [carol]);
  assert.deepEqual(await s.redis.cmd('HKEYS', inviteKey(carol)), [a.tenant]);

  // declining removes it on both sides, once; b's id is no longer hers
  r = await api('POST', `/invites/${fromA.id}/decline`, c.token);
  assert.equal(r.status, 204);
  r = await api('POST', `/invites/${fromA.id}/decline`, c.token);
  assertError(r, 404, 'not_found');
  r = await api('GET', '/members', a.token);
  assert.deepEqual(r.json.invites, []);
  assert.equal(await s.redis.cmd('EXISTS', inviteKey(carol)), 0);
  r = await api('POST', `/invites/${fromB.id}/accept`, c.token);
  assertError(r, 404, 'not_found');
});

test('accepting: an owner with members must hand over first; a withdrawn ' +
  'or expired invite cannot be taken', async () => {
  const a = await owner();
  const b = await owner();
  // b has a member, so b's owner cannot leave for a
  const bm = await member(b);
  let r = await api('POST', '/members', a.token, { email: b.email });
  assert.equal(r.status, 201);
  r = await api('GET', '/invites', b.token);
  const id = r.json.invites[0].id;
  r = await api('POST', `/invites/${id}/accept`, b.token, { confirm: true });
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /only owner of tenant .* other members/);
  r = await api('GET', '/me', b.token);
  assert.deepEqual([r.json.tenant, r.json.role], [b.tenant, 'owner']);

  // once b's member is an owner too, b may go; b's tenant stays with it
  r = await api('DELETE', `/members/${bm.sub}`, b.token);
  assert.equal(r.status, 204);
  r = await api('POST', '/members', b.token, { email: bm.email,
    role: 'owner' });
  assert.equal(r.status, 201, r.text);
  r = await api('GET', '/invites', bm.token);
  r = await api('POST', `/invites/${r.json.invites[0].id}/accept`, bm.token);
  assert.deepEqual([r.json.tenant, r.json.role], [b.tenant, 'owner']);
  r = await api('POST', `/invites/${id}/accept`, b.token);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { tenant: a.tenant, role: 'member',
    deleted_tenant: null });
  r = await api('GET', '/members', bm.token);
  assert.deepEqual(r.json.members.map((m) => m.sub), [bm.sub]);

  // a withdrawn invite is gone for the invitee too
  const d = await owner();
  r = await api('POST', '/members', a.token, { email: d.email });
  r = await api('GET', '/invites', d.token);
  const wid = r.json.invites[0].id;
  r = await api('DELETE', `/members/invites/${encodeURIComponent(d.email)}`,
    a.token);
  assert.equal(r.status, 204);
  r = await api('POST', `/invites/${wid}/accept`, d.token, { confirm: true });
  assertError(r, 404, 'not_found');

  // an invite past its end: 410, and pruned
  r = await api('POST', '/members', a.token, { email: d.email });
  r = await api('GET', '/invites', d.token);
  const eid = r.json.invites[0].id;
  const k = inviteKey(d.email);
  const rec = JSON.parse(await s.redis.cmd('HGET', k, a.tenant));
  rec.expires_ms = Date.now() - 1;
  await s.redis.cmd('HSET', k, a.tenant, JSON.stringify(rec));
  r = await api('POST', `/invites/${eid}/accept`, d.token, { confirm: true });
  assertError(r, 410, 'invite_expired');
  assert.equal(await s.redis.cmd('EXISTS', k), 0);
  r = await api('GET', '/members', a.token);
  assert.deepEqual(r.json.invites, []);

  // ids that are no invite of hers
  for (const bad of ['nope', 'x'.repeat(64)]) {
    r = await api('POST', `/invites/${bad}/accept`, d.token);
    assertError(r, 404, 'not_found');
  }
  r = await api('POST', '/invites/bad!id/accept', d.token);
  assert.equal(r.status, 404);
});
