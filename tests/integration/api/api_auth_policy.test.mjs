// api_auth_policy.test.mjs - the token policy directives reach the checks:
// echostream_token_use (only id tokens here), echostream_jwt_leeway (60 s
// here) and echostream_invite_verified_email (on by default: invites are
// seen and answered only with a verified e-mail claim).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { signToken, startApiStack } from '../../lib/api.mjs';

let s;
const now = () => Math.floor(Date.now() / 1000);

before(async () => {
  s = await startApiStack({
    extraConf: [
      '    echostream_token_use id;',
      '    echostream_jwt_leeway 60s;',
      '    echostream_membership_ttl 0;',
    ].join('\n'),
  });
});

after(async () => {
  await s?.stop();
});

test('echostream_token_use id: access tokens are refused', async () => {
  const u = await s.cognito.user('policy-use@policy.test');
  let r = await s.api('GET', '/api/v1/me', { token: u.idToken });
  assert.equal(r.status, 200);
  r = await s.api('GET', '/api/v1/me', { token: u.accessToken });
  assert.equal(r.status, 401);
  assert.match(s.nginx.errorLog(), /token refused: .*token.use/);
});

test('echostream_jwt_leeway 60s: within it accepted, beyond it refused',
  async () => {
    const ok = signToken(s.cognito.idClaims({ exp: now() - 20 }));
    assert.equal((await s.api('GET', '/api/v1/me', { token: ok })).status,
      200);
    const late = signToken(s.cognito.idClaims({ exp: now() - 120 }));
    assert.equal((await s.api('GET', '/api/v1/me', { token: late })).status,
      401);
    const early = signToken(s.cognito.idClaims({ nbf: now() + 30 }));
    assert.equal((await s.api('GET', '/api/v1/me', { token: early }))
      .status, 200);
    const future = signToken(s.cognito.idClaims({ nbf: now() + 300 }));
    assert.equal((await s.api('GET', '/api/v1/me', { token: future }))
      .status, 401);
  });

test('invites need a verified e-mail: to see, to accept, to decline',
  async () => {
    const owner = await s.cognito.user('policy-owner@policy.test');
    const me = await s.api('GET', '/api/v1/me', { token: owner.idToken });
    const email = 'policy-unverified@policy.test';
    let r = await s.api('POST', '/api/v1/members', { token: owner.idToken,
      body: { email } });
    assert.equal(r.status, 201, r.text);
    const id = JSON.parse(Object.values(Object.fromEntries(
      chunk(await s.redis.cmd('HGETALL', inviteKey(email)))))[0]).id;

    // cognito-local marks every e-mail verified: sign the claims instead
    const sub = `unverified-${Date.now()}`;
    const token = signToken(s.cognito.idClaims({ sub, email,
      email_verified: false }));
    r = await s.api('GET', '/api/v1/me', { token });
    assert.equal(r.status, 200);
    assert.notEqual(r.json.tenant, me.json.tenant, 'did not join');
    assert.equal(r.json.role, 'owner', 'got a tenant of its own');
    for (const [method, path] of [['GET', '/api/v1/invites'],
      ['POST', `/api/v1/invites/${id}/accept`],
      ['POST', `/api/v1/invites/${id}/decline`]]) {
      r = await s.api(method, path, { token, body: method === 'POST'
        ? { } : undefined });
      assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
      assert.equal(r.json.error.code, 'email_not_verified');
    }
    r = await s.api('GET', '/api/v1/members', { token: owner.idToken });
    assert.deepEqual(r.json.invites.map((i) => i.email), [email],
      'the invite is still pending');

    // the same user, verified: sees it and joins
    const verified = signToken(s.cognito.idClaims({ sub, email }));
    r = await s.api('GET', '/api/v1/invites', { token: verified });
    assert.deepEqual(r.json.invites.map((i) => i.id), [id]);
    r = await s.api('POST', `/api/v1/invites/${id}/accept`,
      { token: verified, body: { confirm: true } });
    assert.equal(r.status, 200, r.text);
    r = await s.api('GET', '/api/v1/me', { token: verified });
    assert.equal(r.json.tenant, me.json.tenant);
    assert.equal(r.json.role, 'member');
  });

const chunk = (flat) => flat.reduce((out, v, i) => (i % 2
  ? out[out.length - 1].push(v) : out.push([v]), out), []);
const inviteKey = (email) => `es:{invites}:${createHash('sha256')
  .update(email).digest('hex')}`;
