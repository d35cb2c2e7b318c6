// api_tenancy.test.mjs - tenancy as an attacker with ordinary accounts
// tries it: cognito-local users and the HTTP API, nothing else.
//
// Membership is stored and changes only through the API:
//   1. a user who sets custom:tenant_id on themself (UpdateUserAttributes
//      with their own access token, as any app client that may write the
//      attribute allows) gains nothing: not another tenant's data, not the
//      ownership of a tenant whose owner has not signed in yet;
//   2. a removal sticks: within a second, on every worker of every nginx
//      sharing the Redis, the removed user's requests are 403 with any
//      token (old, refreshed, new, with a forged claim), and a removed
//      first owner does not come back as owner;
//   3. an invite is accepted only explicitly: a pre-invited address signs
//      up and lands in a tenant of its own, seeing the invite.
// And the operator's opt-in (echostream_tenant_claim on): the claim names
// the tenant, an invalid one is refused, and removal holds even against
// the claim. Each fault is shown through requests only; api_members covers
// the invite rules in detail.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  UpdateUserAttributesCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import { acceptInvite, apiConf, request, startApiStack }
  from '../../lib/api.mjs';
import { sleep } from '../../lib/harness.mjs';
import { startNginx } from '../../lib/nginx.mjs';

let s;       // the default stack: claims ignored, membership for 1 s
let other;   // a second nginx on the same Redis and user pool
let idp;

before(async () => {
  s = await startApiStack();
  other = await startNginx({ redisUrl: s.redis.url, ...apiConf(s.cognito) });
  idp = new CognitoIdentityProviderClient({
    endpoint: s.cognito.endpoint, region: 'us-east-1', maxAttempts: 2,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

after(async () => {
  idp?.destroy();
  await other?.stop();
  await s?.stop();
});

const tag = () => `${Date.now().toString(36)}${Math.random()
  .toString(36).slice(2, 6)}`;

// one request to the first nginx (base given: to that one)
const api = (method, path, token, body, base = s.base) =>
  request(base, method, `/api/v1${path}`, { token, body });

// a cognito-local user, signed in: {…, idToken, accessToken, refreshToken}
const user = (name) => s.cognito.user(`${name}-${tag()}@tenancy.test`);

// a signed-in user's tenant and role, as the API says
async function whereIs(token) {
  const r = await api('GET', '/me', token);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// the attacker's move: write custom:tenant_id with their own access
// token, then sign in again for tokens that carry it
async function claimTenant(u, tenant) {
  await idp.send(new UpdateUserAttributesCommand({
    AccessToken: u.accessToken,
    UserAttributes: [{ Name: 'custom:tenant_id', Value: tenant }],
  }));
  const fresh = await s.cognito.signIn(u.email, u.password);
  const claims = JSON.parse(Buffer.from(fresh.idToken.split('.')[1],
    'base64url').toString('utf8'));
  assert.equal(claims['custom:tenant_id'], tenant, 'the claim is in the token');
  return fresh;
}

// invited by owner o (a signed-in user) and accepted: a member of o's tenant
async function joined(o, name, role = 'member') {
  const m = await user(name);
  const r = await api('POST', '/members', o.idToken, { email: m.email, role });
  assert.equal(r.status, 201, r.text);
  await acceptInvite(s, m.idToken, o.tenant);
  return m;
}

async function owner(name) {
  const o = await user(name);
  o.tenant = (await whereIs(o.idToken)).tenant;
  const r = await api('POST', '/topics', o.idToken, { id: 'secret',
    name: `${name} secret`, subreddits: ['rust'] });
  assert.equal(r.status, 201, r.text);
  return o;
}

test('1. a tenant claim a user sets on themself joins nothing', async () => {
  const victim = await owner('victim');
  const x = await user('attacker');
  const own = (await whereIs(x.idToken)).tenant;

  // the victim's tenant id in the claim, with fresh tokens
  const fresh = await claimTenant(x, victim.tenant);
  for (const token of [fresh.idToken, fresh.accessToken]) {
    const me = await whereIs(token);
    assert.deepEqual([me.tenant, me.role], [own, 'owner']);
    const r = await api('GET', '/topics', token);
    assert.deepEqual(r.json, { topics: [] });
    assert.equal((await api('GET', '/topics/secret', token)).status, 404);
  }
  const r = await api('GET', '/members', victim.idToken);
  assert.deepEqual(r.json.members.map((m) => m.sub), [victim.sub]);
});

test('1. the predictable tenant of a user not yet signed in stays theirs',
  async () => {
    // y exists in the pool but has not called the API yet; its tenant id
    // is derived from its sub, which an attacker may learn
    const y = await user('later');
    const x = await user('squatter');
    await whereIs(x.idToken);
    const { createHash } = await import('node:crypto');
    const predicted = `u${createHash('sha256').update(y.sub).digest('hex')
      .slice(0, 20)}`;
    const fresh = await claimTenant(x, predicted);
    const me = await whereIs(fresh.idToken);
    assert.notEqual(me.tenant, predicted, 'no owner by claim');

    const ym = await whereIs(y.idToken);
    assert.deepEqual([ym.tenant, ym.role], [predicted, 'owner']);
    const r = await api('GET', '/members', y.idToken);
    assert.deepEqual(r.json.members.map((m) => m.sub), [y.sub]);
  });

test('2. a removed member is out within a second, on every nginx, with ' +
  'any token', async () => {
  const o = await owner('remover');
  const m = await joined(o, 'removed');
  const refreshed = await idp.send(new InitiateAuthCommand({
    AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: s.cognito.clientId,
    AuthParameters: { REFRESH_TOKEN: m.refreshToken },
  }));
  // every worker of both nginx instances has the membership cached
  for (let i = 0; i < 20; i++) {
    for (const base of [s.base, other.url]) {
      assert.equal((await api('GET', '/topics', m.idToken, undefined, base))
        .status, 200);
    }
  }

  let r = await api('DELETE', `/members/${m.sub}`, o.idToken);
  assert.equal(r.status, 204);
  // this worker forgot at once; every other within a second
  await sleep(1100);

  const again = await s.cognito.signIn(m.email, m.password);
  const forged = await claimTenant({ ...m, ...again }, o.tenant);
  const tokens = [m.idToken, m.accessToken,
    refreshed.AuthenticationResult.IdToken, again.idToken, forged.idToken];
  for (const token of tokens) {
    for (const base of [s.base, other.url]) {
      for (let i = 0; i < 4; i++) {
        for (const path of ['/me', '/topics', '/topics/secret/series']) {
          r = await api('GET', path, token, undefined, base);
          assert.equal(r.status, 403, `${path}: ${r.text}`);
          assert.equal(r.json.error.code, 'no_tenant');
        }
      }
    }
  }
  r = await api('GET', '/members', o.idToken);
  assert.deepEqual(r.json.members.map((x) => x.sub), [o.sub]);
});

test('2. a removed first owner does not come back as owner', async () => {
  const first = await owner('first');
  const second = await joined(first, 'second', 'owner');
  let r = await api('DELETE', `/members/${first.sub}`, second.idToken);
  assert.equal(r.status, 204);
  await sleep(1100);
  const again = await s.cognito.signIn(first.email, first.password);
  for (const token of [first.idToken, again.idToken, again.accessToken]) {
    r = await api('GET', '/me', token);
    assert.equal(r.status, 403, r.text);
    r = await api('DELETE', `/members/${second.sub}`, token);
    assert.equal(r.status, 403);
    r = await api('GET', '/topics/secret', token);
    assert.equal(r.status, 403);
  }
  r = await api('GET', '/members', second.idToken);
  assert.deepEqual(r.json.members.map((x) => [x.sub, x.role]),
    [[second.sub, 'owner']]);
});

test('3. a pre-invited address signs up into a tenant of its own',
  async () => {
    const attacker = await owner('inviter');
    const ceo = `ceo-${tag()}@victim.example`;
    let r = await api('POST', '/members', attacker.idToken, { email: ceo });
    assert.equal(r.status, 201);

    // the victim's very first sign-in
    const v = await s.cognito.user(ceo);
    const me = await whereIs(v.idToken);
    assert.notEqual(me.tenant, attacker.tenant);
    assert.equal(me.role, 'owner');
    r = await api('POST', '/topics', v.idToken, { id: 'board',
      name: 'Board matters', subreddits: ['rust'] });
    assert.equal(r.status, 201);

    // the attacker sees no new member and none of the victim's data
    r = await api('GET', '/members', attacker.idToken);
    assert.deepEqual(r.json.members.map((x) => x.sub), [attacker.sub]);
    assert.deepEqual(r.json.invites.map((i) => i.email), [ceo]);
    r = await api('GET', '/topics', attacker.idToken);
    assert.deepEqual(r.json.topics.map((t) => t.id), ['secret']);

    // the victim sees the invite and declines it
    r = await api('GET', '/invites', v.idToken);
    assert.deepEqual(r.json.invites.map((i) => [i.tenant, i.role]),
      [[attacker.tenant, 'member']]);
    r = await api('POST', `/invites/${r.json.invites[0].id}/decline`,
      v.idToken);
    assert.equal(r.status, 204);
    r = await api('GET', '/members', attacker.idToken);
    assert.deepEqual(r.json.invites, []);
  });

test('the operator\'s opt-in: the claim names the tenant; removal still ' +
  'holds', async () => {
  const c = await startApiStack({ tenantClaim: true });
  try {
    const t = `acme${tag()}`;
    const a = await c.cognito.user(`a-${tag()}@claim.test`, { tenant: t });
    const b = await c.cognito.user(`b-${tag()}@claim.test`, { tenant: t });
    const capi = (m, p, token, body) => c.api(m, `/api/v1${p}`,
      { token, body });
    let r = await capi('GET', '/me', a.idToken);
    assert.deepEqual([r.json.tenant, r.json.role], [t, 'owner']);
    r = await capi('GET', '/me', b.idToken);
    assert.deepEqual([r.json.tenant, r.json.role], [t, 'member']);

    // an invalid claim is refused in this mode
    const bad = await c.cognito.user(`bad-${tag()}@claim.test`,
      { tenant: 'bad tenant!' });
    r = await capi('GET', '/me', bad.idToken);
    assert.equal(r.status, 401);

    // a removed user stays out although the claim still names the tenant
    r = await capi('DELETE', `/members/${b.sub}`, a.idToken);
    assert.equal(r.status, 204);
    await sleep(1100);
    const again = await c.cognito.signIn(b.email, b.password);
    r = await capi('GET', '/me', again.idToken);
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'no_tenant');
  } finally {
    await c.stop();
  }
});
