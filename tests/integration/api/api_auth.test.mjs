// api_auth.test.mjs - bearer tokens at the API's door, against a real
// nginx with the module, a real Redis and a real cognito-local user pool.
//
// Id and access tokens cognito-local issues must be accepted, and so must
// tokens the test signs with cognito-local's own key and valid claims (the
// positive control: without it a verifier refusing everything would pass
// the rest). Then every way a token can be wrong is tried on its own, each
// validly signed unless the point is the signature: each must get 401
// `unauthorized` with `WWW-Authenticate: Bearer …`, a body with nothing
// but the error, and one "token refused: <reason>" line in nginx's error
// log; the token itself (its signature part) must never be logged.
// jku/x5u headers point at a loopback server that records requests: it
// must never be asked for anything.
//
// Sizes: the module refuses tokens over 8192 bytes. nginx's default
// header buffers (large_client_header_buffers 4 8k) would end a header
// line before that, so the server here has 32k buffers (as the shipped
// configuration does): tokens of 9 and 20 KB reach the module and must be
// 401; a 40 KB header overflows nginx's buffers and nginx's own 400 (494
// inside nginx) answers, which is acceptable: the request never reaches
// the module.
//
// Every answer of /api/v1 is checked against docs/openapi.yaml by the
// stack's api().

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { waitFor, sleep } from '../../lib/harness.mjs';
import {
  startApiStack, startRecorder, signToken, hostile, decodeJwt,
  COGNITO_PUBLIC_PEM, COGNITO_PUBLIC_PEM_PKCS1,
} from '../../lib/api.mjs';

let stack;
let cognito;
let recorder;
const usedTokens = []; // every refused token, for the log check

before(async () => {
  recorder = await startRecorder();
  // server level: overrides whatever the http level of the template says
  // the tenant named through the claim (echostream_tenant_claim on)
  stack = await startApiStack({
    serverConf: '        large_client_header_buffers 4 32k;',
    tenantClaim: true,
  });
  cognito = stack.cognito;
});

after(async () => {
  if (stack) await stack.stop();
  if (recorder) await recorder.stop();
});

const now = () => Math.floor(Date.now() / 1000);
const refusedLines = () => stack.nginx.errorLog().split('\n')
  .filter((l) => /token refused: /.test(l));

// GET /api/v1/me with the given Authorization (or none).
function me(authorization, opts = {}) {
  const headers = authorization === undefined ? {}
    : { Authorization: authorization };
  return stack.api('GET', '/api/v1/me', { headers, ...opts });
}

// Asserts a 401 with no data and one new "token refused" log line whose
// reason matches `reason`.
async function assertRefused(what, authorization, reason) {
  const before = refusedLines().length;
  const res = await me(authorization);
  assert.equal(res.status, 401, `${what}: expected 401, got ${res.status}: ${
    res.text}`);
  assert.match(res.headers['www-authenticate'] ?? '', /^Bearer\b/,
               `${what}: WWW-Authenticate`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(res.json), ['error'], `${what}: ${res.text}`);
  assert.equal(res.json.error.code, 'unauthorized');
  const lines = await waitFor(() => {
    const l = refusedLines();
    return l.length > before && l.slice(before);
  }, { what: `${what}: a "token refused" log line` });
  assert.equal(lines.length, 1, `${what}: ${lines.join('\n')}`);
  assert.match(lines[0], new RegExp(`token refused: .*${reason.source}`,
    reason.flags), `${what}: logged reason`);
  return res;
}

test('id and access tokens issued by cognito-local are accepted', async () => {
  const u = await cognito.user('ana@example.com', { tenant: 'acme' });
  const id = await me(`Bearer ${u.idToken}`);
  assert.equal(id.status, 200, id.text);
  assert.deepEqual(id.json, { sub: u.sub, email: 'ana@example.com',
                              tenant: 'acme', role: 'owner',
                              token_use: 'id', digest: false,
                              alert_email: false });
  assert.equal(id.headers['cache-control'], 'no-store');

  const access = await me(`Bearer ${u.accessToken}`);
  assert.equal(access.status, 200, access.text);
  assert.deepEqual(access.json, { sub: u.sub, email: null, tenant: 'acme',
                                  role: 'owner', token_use: 'access',
                                  digest: false, alert_email: false });

  // a repeat is answered the same (from the token cache)
  const again = await me(`Bearer ${u.idToken}`);
  assert.deepEqual(again.json, id.json);
  // the scheme name is case-insensitive (RFC 7235)
  const lower = await me(`bearer ${u.accessToken}`);
  assert.equal(lower.status, 200, lower.text);
});

test('a user without tenant attribute gets a tenant of their own', async () => {
  const u = await cognito.user('solo@example.com');
  const res = await me(`Bearer ${u.idToken}`);
  assert.equal(res.status, 200, res.text);
  const want = `u${createHash('sha256').update(u.sub).digest('hex')
    .slice(0, 20)}`;
  assert.equal(res.json.tenant, want);
  assert.equal(res.json.role, 'owner');
  // the access token of the same user lands in the same tenant
  const acc = await me(`Bearer ${u.accessToken}`);
  assert.equal(acc.json.tenant, want);
});

test('tokens signed with the pool key and valid claims are accepted',
  async () => {
    // positive controls for the forged tokens below: same key, same
    // header, only the one defect differs
    const id = await me(`Bearer ${signToken(cognito.idClaims())}`);
    assert.equal(id.status, 200, id.text);
    assert.equal(id.json.token_use, 'id');
    const acc = await me(`Bearer ${signToken(cognito.accessClaims())}`);
    assert.equal(acc.status, 200, acc.text);
    assert.equal(acc.json.token_use, 'access');
    // nbf in the past and exp just ahead are fine
    const t = now();
    const edge = await me(`Bearer ${signToken(cognito.idClaims({
      nbf: t - 60, exp: t + 120 }))}`);
    assert.equal(edge.status, 200, edge.text);
  });

test('requests without a usable bearer token are refused', async () => {
  const good = signToken(cognito.idClaims());
  await assertRefused('no Authorization header', undefined,
                      /authorization/i);
  await assertRefused('Basic scheme', `Basic ${Buffer.from('a:b')
    .toString('base64')}`, /bearer/i);
  await assertRefused('Token scheme with a valid token', `Token ${good}`,
                      /bearer/i);
  await assertRefused('Bearer with nothing', 'Bearer ', /./);
  await assertRefused('token without scheme', good, /bearer/i);
});

// [name, token, expected reason in the log]
function forgedCases() {
  const id = (over) => cognito.idClaims(over);
  const acc = (over) => cognito.accessClaims(over);
  const valid = signToken(id());
  const t = now();
  const otherPool = cognito.issuer.replace(/[^/]+$/, 'us-east-1_NotThePool');
  return [
    // an empty signature part may be refused before the header is read
    ['alg none', hostile.algNone(id()), /alg|malformed/],
    ['alg none keeping an RS256 signature',
     hostile.algNone(id(), { keepSignature: true }), /alg/],
    ['alg "None"', signToken(id(), { header: { alg: 'None' } }), /alg/],
    ['HS256 keyed with the public key PEM (SPKI)',
     hostile.hs256WithPublicKey(id()), /alg/],
    ['HS256 keyed with the public key PEM (PKCS#1)',
     hostile.hs256WithPublicKey(id(), { pem: COGNITO_PUBLIC_PEM_PKCS1 }),
     /alg/],
    ['RS512 header', signToken(id(), { header: { alg: 'RS512' } }), /alg/],
    ['no alg', signToken(id(), { header: { alg: undefined } }), /alg|header/],
    ['tampered payload (other sub)',
     hostile.tamperPayload(valid, { sub: 'someone-else' }), /signature/],
    ['tampered payload (later exp)',
     hostile.tamperPayload(signToken(id({ exp: t - 3600 })),
                           { exp: t + 3600 }), /signature/],
    ['tampered signature', hostile.tamperSignature(valid), /signature/],
    ['signed by another key with the pool kid', hostile.foreignKey(id()),
     /signature/],
    ['expired', signToken(id({ iat: t - 7200, exp: t - 3600 })), /expired/],
    ['expired access token', signToken(acc({ iat: t - 7200, exp: t - 600 })),
     /expired/],
    ['no exp', signToken(id({ exp: undefined })), /expired|claims/],
    ['exp as a string', signToken(id({ exp: String(t + 3600) })),
     /expired|claims/],
    ['not yet valid', signToken(id({ nbf: t + 3600 })), /not yet valid/],
    ['wrong iss (other pool)', signToken(id({ iss: otherPool })), /issuer/],
    ['wrong iss (trailing slash)',
     signToken(id({ iss: `${cognito.issuer}/` })), /issuer/],
    ['no iss', signToken(id({ iss: undefined })), /issuer/],
    ['wrong aud (id token)', signToken(id({ aud: 'another-client-id' })),
     /audience/],
    ['no aud (id token)', signToken(id({ aud: undefined })), /audience/],
    ['wrong client_id (access token)',
     signToken(acc({ client_id: 'another-client-id' })), /audience/],
    ['no client_id (access token)', signToken(acc({ client_id: undefined })),
     /audience/],
    ['wrong token_use', signToken(id({ token_use: 'refresh' })),
     /token use/],
    ['no token_use', signToken(id({ token_use: undefined })), /token use/],
    ['id claims labelled access', signToken(id({ token_use: 'access' })),
     /token use|audience/],
    ['unknown kid', signToken(id(), { header: { kid: 'NotInTheJwks' } }),
     /kid/],
    ['no kid', signToken(id(), { header: { kid: undefined } }),
     /kid|header/],
    ['crit header', signToken(id(), { header: { crit: ['exp'] } }),
     /header/],
    ['jku header', signToken(id(), { header: {
      jku: `${recorder.url}/jwks.json` } }), /header/],
    ['jku header with a foreign kid', signToken(id(), { header: {
      jku: `${recorder.url}/attacker/jwks.json`, kid: 'attacker' } }),
     /header|kid/],
    ['x5u header', signToken(id(), { header: {
      x5u: `${recorder.url}/cert.pem` } }), /header/],
    ['embedded jwk header', signToken(id(), { header: {
      jwk: { kty: 'RSA', e: 'AQAB', n: 'AAAA' } } }), /header/],
    ['two parts', hostile.twoParts(valid), /malformed/],
    ['four parts', hostile.fourParts(valid), /malformed/],
    ['one part', valid.split('.')[0], /malformed/],
    ['empty parts', '..', /malformed/],
    ['characters outside base64url', hostile.badBase64Chars(valid),
     /malformed|signature/],
    ['padded standard base64', hostile.paddedBase64(id()), /malformed/],
    ['payload that is not JSON', hostile.notJson(id()), /malformed/],
    ['header that is a JSON array', `${Buffer.from('["RS256"]')
      .toString('base64url')}.${valid.split('.')[1]}.${valid.split('.')[2]}`,
     /malformed/],
    ['9 KB token', hostile.oversized(id(), 9 * 1024), /too long/],
    ['20 KB token', hostile.oversized(id(), 20 * 1024), /too long/],
  ];
}

test('forged, altered, malformed and misdirected tokens get 401 and no data',
  async () => {
    // every case runs; the failures are reported together
    const failures = [];
    for (const [name, token, reason] of forgedCases()) {
      usedTokens.push(token);
      try {
        await assertRefused(name, `Bearer ${token}`, reason);
      } catch (e) {
        failures.push(`${name}: ${e.message.split('\n')[0]}`);
      }
    }
    assert.deepEqual(failures, []);
    // cognito-local's refresh token is a JWT of the pool without
    // token_use: not an API credential
    const u = await cognito.user('refresh@example.com');
    usedTokens.push(u.refreshToken);
    await assertRefused('refresh token', `Bearer ${u.refreshToken}`,
                        /token use|audience|claims|kid|header/);
  });

test('jku and x5u are never fetched', async () => {
  // the forged-token test sent them; give any stray fetch time to land,
  // then send them once more and check again
  for (const h of [{ jku: `${recorder.url}/late.json` },
                   { x5u: `${recorder.url}/late.pem` }]) {
    const res = await me(`Bearer ${signToken(cognito.idClaims(),
      { header: h })}`);
    assert.equal(res.status, 401, res.text);
  }
  await sleep(500);
  assert.deepEqual(recorder.requests, [],
                   `the module fetched ${JSON.stringify(recorder.requests)}`);
});

test('a header beyond nginx\'s buffers gets nginx\'s own 4xx', async () => {
  const token = hostile.oversized(cognito.idClaims(), 40 * 1024);
  const res = await me(`Bearer ${token}`, { validate: false });
  assert.ok([400, 431, 494].includes(res.status),
            `40 KB header: got ${res.status}`);
  assert.equal(res.json?.sub, undefined);
  // nginx itself notes "client sent too long header line" at info level,
  // quoting the line's start; the signature (the end) is never in it
  const sig = token.split('.')[2];
  await waitFor(() => /too long header line/.test(stack.nginx.errorLog()),
                { what: 'nginx noting the long header' });
  assert.ok(!stack.nginx.errorLog().includes(sig.slice(0, 40)));
});

test('refused tokens are logged by reason, never by content', async () => {
  // (nginx's own note about the 40 KB header line is checked above)
  const log = stack.nginx.errorLog().split('\n')
    .filter((l) => !/too long header line/.test(l)).join('\n');
  assert.ok(usedTokens.length > 30, 'the forged-token test ran first');
  for (const t of usedTokens) {
    // the payload and the signature identify a token (the header is the
    // same for most); 40 characters from the middle of each
    for (const part of t.split('.').slice(1)) {
      if (part.length < 40) continue;
      const mid = part.slice((part.length >> 1) - 20, (part.length >> 1) + 20);
      assert.ok(!log.includes(mid), `a token part is in the error log: ${mid}`);
    }
  }
  // nor are the accepted ones (they are cached by a hash, not by content)
  const u = await cognito.user('quiet@example.com');
  assert.equal((await me(`Bearer ${u.idToken}`)).status, 200);
  assert.ok(!stack.nginx.errorLog().includes(u.idToken.split('.')[2]
    .slice(0, 40)));
  assert.ok(!stack.nginx.errorLog()
    .includes(COGNITO_PUBLIC_PEM.split('\n')[1]));
  // the decoded claims are not logged either
  const { payload } = decodeJwt(u.idToken);
  assert.ok(!stack.nginx.errorLog().includes(payload.jti));
});

test('no worker crashed', () => {
  const log = stack.nginx.errorLog();
  assert.doesNotMatch(log, /exited on signal/);
  assert.doesNotMatch(log, /\[alert\]/);
});
