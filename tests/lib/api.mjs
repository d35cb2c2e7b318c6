// api.mjs - the stack the API tests run against: a real Redis, a real
// cognito-local user pool and a real nginx with the EchoStream module's
// API, plus the means to make tokens of every kind.
//
// cognito-local signs its tokens with a key pair that ships in its package
// (lib/keys/cognitoLocal.private.json, kid "CognitoLocal"), and serves the
// public half as its JWKS. Signing with the same private key lets a test
// make tokens that are validly signed but wrong in exactly one way
// (expired, wrong audience, a crit header, …), so each check of the
// module's verifier is tested on its own; the hostile helpers below make
// the malformed ones (alg none, HS256 keyed with the public PEM, tampered
// parts, broken base64, …).
//
// Every process started here is the harness's (startProc), so all are
// killed when the test process exits even if a test forgets stop().

import { createHmac, createPrivateKey, createPublicKey, createSign,
         generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import assert from 'node:assert/strict';

import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import { ROOT, freePort, startProc, startRedis, tmpDir, waitFor }
  from './harness.mjs';
import { startNginx } from './nginx.mjs';
import { validateResponse } from './openapi.mjs';

const COGNITO_DIR = path.join(ROOT, 'node_modules', 'cognito-local', 'lib');
export const COGNITO_KID = 'CognitoLocal';

const keyFile = (which) => JSON.parse(readFileSync(
  path.join(COGNITO_DIR, 'keys', `cognitoLocal.${which}.json`), 'utf8'));

// cognito-local's signing key (a KeyObject) and its public half.
export const COGNITO_PRIVATE_KEY = createPrivateKey({
  key: keyFile('private').jwk, format: 'jwk' });
export const COGNITO_PUBLIC_KEY = createPublicKey(COGNITO_PRIVATE_KEY);
// The public key as PEM, in the two spellings a verifier might hold.
export const COGNITO_PUBLIC_PEM = COGNITO_PUBLIC_KEY.export({
  type: 'spki', format: 'pem' });
export const COGNITO_PUBLIC_PEM_PKCS1 = COGNITO_PUBLIC_KEY.export({
  type: 'pkcs1', format: 'pem' });

const nowS = () => Math.floor(Date.now() / 1000);

// base64url of a Buffer, a string (UTF-8) or a JSON value.
export function b64url(v) {
  if (Buffer.isBuffer(v)) return v.toString('base64url');
  if (typeof v === 'string') {
    return Buffer.from(v, 'utf8').toString('base64url');
  }
  return Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
}

// The decoded header and payload of a compact JWT (no verification).
export function decodeJwt(token) {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
           payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) };
}

// RS256 signature (base64url) of "header.payload" with key.
function rs256(signingInput, key) {
  const s = createSign('RSA-SHA256');
  s.update(signingInput);
  return s.sign(key).toString('base64url');
}

// Signs claims as an RS256 JWT. header members are merged over
// {alg:"RS256", typ:"JWT", kid:"CognitoLocal"} (a member set to undefined
// is left out); key defaults to cognito-local's own private key, so the
// token verifies against its JWKS unless the test changes something.
export function signToken(claims, { header = {}, key = COGNITO_PRIVATE_KEY }
                          = {}) {
  const h = { alg: 'RS256', typ: 'JWT', kid: COGNITO_KID, ...header };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  const input = `${b64url(h)}.${b64url(claims)}`;
  return `${input}.${rs256(input, key)}`;
}

// Claims of a valid id token of the pool, with overrides (a member set to
// undefined is left out).
export function idClaims({ issuer, clientId }, over = {}) {
  const t = nowS();
  const sub = over.sub ?? `sub-${randomBytes(8).toString('hex')}`;
  const c = {
    sub, 'cognito:username': sub, email: `${sub}@example.com`,
    email_verified: true, aud: clientId, token_use: 'id', iss: issuer,
    auth_time: t, iat: t, exp: t + 3600, jti: randomBytes(8).toString('hex'),
    ...over,
  };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}

// Claims of a valid access token of the pool, with overrides.
export function accessClaims({ issuer, clientId }, over = {}) {
  const t = nowS();
  const sub = over.sub ?? `sub-${randomBytes(8).toString('hex')}`;
  const c = {
    sub, client_id: clientId, username: sub, token_use: 'access',
    scope: 'aws.cognito.signin.user.admin', iss: issuer, auth_time: t,
    iat: t, exp: t + 3600, jti: randomBytes(8).toString('hex'), ...over,
  };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}

// Tokens that must never be accepted. Each returns a compact string.
export const hostile = {
  // "alg":"none" and an empty signature (also with the RS256 one kept)
  algNone(claims, { keepSignature = false } = {}) {
    const input = `${b64url({ alg: 'none', typ: 'JWT', kid: COGNITO_KID })}.${
      b64url(claims)}`;
    return `${input}.${keepSignature ? rs256(input, COGNITO_PRIVATE_KEY)
                                     : ''}`;
  },
  // HS256 keyed with the public key's PEM: the classic algorithm confusion
  hs256WithPublicKey(claims, { pem = COGNITO_PUBLIC_PEM } = {}) {
    const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: COGNITO_KID })}.${
      b64url(claims)}`;
    return `${input}.${createHmac('sha256', pem).update(input)
      .digest('base64url')}`;
  },
  // a valid token whose payload is swapped for changed claims
  tamperPayload(token, changes) {
    const [h, p, s] = token.split('.');
    const claims = { ...JSON.parse(Buffer.from(p, 'base64url')
      .toString('utf8')), ...changes };
    return `${h}.${b64url(claims)}.${s}`;
  },
  // a valid token with one bit of its signature flipped
  tamperSignature(token) {
    const [h, p, s] = token.split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[sig.length >> 1] ^= 0x01;
    return `${h}.${p}.${sig.toString('base64url')}`;
  },
  // signed by another RSA key that claims cognito-local's kid
  foreignKey(claims) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return signToken(claims, { key: privateKey });
  },
  // two parts (no signature) or four parts (one extra)
  twoParts(token) {
    return token.split('.').slice(0, 2).join('.');
  },
  fourParts(token) {
    return `${token}.${b64url('extra')}`;
  },
  // validly signed, padded with a junk claim to about `bytes` characters
  oversized(claims, bytes) {
    const base = signToken({ ...claims, pad: '' }).length;
    const padLen = Math.max(0, Math.floor((bytes - base) * 3 / 4));
    return signToken({ ...claims, pad: 'x'.repeat(padLen) });
  },
  // characters outside base64url in the payload (kept signature)
  badBase64Chars(token) {
    const [h, p, s] = token.split('.');
    return `${h}.${p.slice(0, 10)}*!${p.slice(12)}.${s}`;
  },
  // standard base64 with padding instead of base64url
  paddedBase64(claims) {
    const h = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT',
                                           kid: COGNITO_KID }))
      .toString('base64');
    const p = Buffer.from(JSON.stringify(claims)).toString('base64');
    const input = `${h.replace(/=*$/, '==')}.${p}`;
    return `${input}.${rs256(input, COGNITO_PRIVATE_KEY)}`;
  },
  // base64url that decodes to something that is not JSON, validly signed
  notJson(claims) {
    const input = `${b64url({ alg: 'RS256', typ: 'JWT', kid: COGNITO_KID })}.${
      b64url(`${JSON.stringify(claims)}}garbage`)}`;
    return `${input}.${rs256(input, COGNITO_PRIVATE_KEY)}`;
  },
};

// A loopback HTTP server that records every request it gets (for "never
// fetched" checks). Returns {url, port, requests, stop()}.
export async function startRecorder() {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [] }));
  });
  const port = await freePort();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port, url: `http://127.0.0.1:${port}`, requests,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

// Starts cognito-local on a free loopback port in a temporary directory,
// with a user pool (custom attribute tenant_id) and an app client
// (USER_PASSWORD_AUTH, no secret). nodeArgs go to node before the script
// (the Node compatibility suite runs it under the oldest Node's module
// rules). See the return value at the end.
export async function startCognito({ dir, nodeArgs = [] } = {}) {
  const d = dir || await tmpDir('es-cognito-');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // iss = <IssuerDomain>/<poolId>: the address the module fetches the
  // JWKS from (what deploy/local/cognito-setup.mjs issuer does)
  mkdirSync(path.join(d, '.cognito'), { recursive: true });
  writeFileSync(path.join(d, '.cognito', 'config.json'), JSON.stringify({
    TokenConfig: { IssuerDomain: endpoint } }, null, 2) + '\n');
  const proc = startProc('node', [...nodeArgs,
    path.join(COGNITO_DIR, 'bin', 'start.js')],
    { cwd: d, env: { HOST: '127.0.0.1', PORT: String(port) },
      name: 'cognito-local' });
  let exited = null;
  proc.exited.then((e) => { exited = e; });
  await waitFor(async () => {
    if (exited) {
      throw new Error(`cognito-local exited (${JSON.stringify(exited)}): ${
        proc.output()}`);
    }
    const res = await fetch(`${endpoint}/health`).catch(() => null);
    return res?.status === 200;
  }, { timeout: 30000, interval: 100, what: `cognito-local on ${port}` });

  const idp = new CognitoIdentityProviderClient({
    endpoint, region: 'us-east-1', maxAttempts: 2,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const pool = await idp.send(new CreateUserPoolCommand({
    PoolName: 'echostream-test',
    UsernameAttributes: ['email'],
    AutoVerifiedAttributes: ['email'],
    Schema: [{ Name: 'tenant_id', AttributeDataType: 'String',
               Mutable: true }],
  }));
  const poolId = pool.UserPool.Id;
  const client = await idp.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId, ClientName: 'echostream-test', GenerateSecret: false,
    ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH',
                        'ALLOW_REFRESH_TOKEN_AUTH'],
  }));
  const clientId = client.UserPoolClient.ClientId;
  const issuer = `${endpoint}/${poolId}`;

  const c = {
    port, endpoint, dir: d, proc, poolId, clientId, issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    // A confirmed user with a permanent random password. tenant sets
    // custom:tenant_id; emailVerified (default true) sets email_verified.
    // Returns {username, password, sub, email}.
    async createUser(email, { tenant, emailVerified = true } = {}) {
      const password = `${randomBytes(12).toString('base64url')}Aa1!`;
      const attrs = [{ Name: 'email', Value: email },
                     { Name: 'email_verified', Value: String(emailVerified) }];
      if (tenant !== undefined) {
        attrs.push({ Name: 'custom:tenant_id', Value: tenant });
      }
      const out = await idp.send(new AdminCreateUserCommand({
        UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS',
        UserAttributes: attrs,
      }));
      await idp.send(new AdminSetUserPasswordCommand({
        UserPoolId: poolId, Username: email, Password: password,
        Permanent: true,
      }));
      const sub = out.User.Attributes.find((a) => a.Name === 'sub')?.Value;
      return { username: out.User.Username, password, sub, email };
    },
    // USER_PASSWORD_AUTH through the SDK: {idToken, accessToken,
    // refreshToken}.
    async signIn(email, password) {
      const out = await idp.send(new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId,
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }));
      const r = out.AuthenticationResult;
      return { idToken: r.IdToken, accessToken: r.AccessToken,
               refreshToken: r.RefreshToken };
    },
    // createUser + signIn: {username, password, sub, email, idToken,
    // accessToken, refreshToken}.
    async user(email, opts) {
      const u = await c.createUser(email, opts);
      return { ...u, ...(await c.signIn(email, u.password)) };
    },
    // Valid claim sets of this pool (see idClaims / accessClaims).
    idClaims: (over) => idClaims({ issuer, clientId }, over),
    accessClaims: (over) => accessClaims({ issuer, clientId }, over),
    async stop() {
      idp.destroy();
      if (exited) return;
      proc.kill('SIGTERM');
      await proc.exited;
    },
  };
  return c;
}

// One HTTP request; resolves {status, headers, text, json} (json when the
// body parses as JSON, else undefined). Never throws for a status.
export function request(base, method, reqPath, { token, body, headers = {},
                                                 timeout = 10000 } = {}) {
  const h = { ...headers };
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      payload = body;
    } else {
      payload = JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
        h['Content-Type'] = 'application/json';
      }
    }
  }
  if (token !== undefined) h.Authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${reqPath}`, { method, headers: h,
                                                     timeout, agent: false },
    (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(
      `${method} ${reqPath}: no answer within ${timeout} ms`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// nginx configuration lines of the API (http level and server level).
export function apiConf(cognito, { extraConf = '', serverConf = '',
                                  tenantClaim = false } = {}) {
  return {
    extraConf: [
      `    echostream_issuer ${cognito.issuer};`,
      `    echostream_jwks_uri ${cognito.jwksUri};`,
      `    echostream_client_ids ${cognito.clientId};`,
      // operators who provision tenants in the identity provider: the
      // suites that name their tenants (acme, globex) through the claim
      tenantClaim ? '    echostream_tenant_claim on;' : '',
      extraConf,
    ].join('\n'),
    serverConf: [
      '        location /api/v1/ {',
      '            echostream_api;',
      '        }',
      '        location = /metrics {',
      '            echostream_metrics;',
      '        }',
      serverConf,
    ].join('\n'),
  };
}

// Starts Redis (unless given), cognito-local (unless given) and nginx with
// the API. extraConf / serverConf / mainConf add directives at http /
// server / top level;
// tenantClaim turns on echostream_tenant_claim (the tenant named by the
// token's custom:tenant_id, as an operator who provisions tenants sets).
// api() validates each answer of /api/v1, /healthz, /livez, /readyz and
// /metrics against docs/openapi.yaml (pass validate:false for a
// deliberately odd request) and throws on a mismatch.
export async function startApiStack({ redis, cognito, extraConf = '',
                                      serverConf = '', mainConf = '',
                                      webRoot, tenantClaim = false } = {}) {
  const ownRedis = !redis;
  const ownCognito = !cognito;
  const r = redis || await startRedis();
  let cg;
  let nginx;
  try {
    cg = cognito || await startCognito();
    nginx = await startNginx({ redisUrl: r.url, webRoot, mainConf,
      ...apiConf(cg, { extraConf, serverConf, tenantClaim }) });
  } catch (e) {
    if (ownCognito && cg) await cg.stop();
    if (ownRedis) await r.close();
    throw e;
  }
  const base = nginx.url;
  const s = {
    redis: r, cognito: cg, nginx, base,
    // {status, headers, text, json}; opts: {token, body, headers, timeout,
    // validate = true}
    async api(method, reqPath, opts = {}) {
      const res = await request(base, method, reqPath, opts);
      const p = reqPath.split('?')[0];
      if (opts.validate !== false && (p.startsWith('/api/v1/') ||
          ['/healthz', '/livez', '/readyz', '/metrics'].includes(p))) {
        validateResponse(method, reqPath, res);
      }
      return res;
    },
    async stop() {
      await nginx.stop();
      if (ownCognito) await cg.stop();
      if (ownRedis) await r.close();
    },
  };
  return s;
}

// The invitee's side of an invite: finds the pending invite from the
// tenant `from` (GET /invites) and accepts it, confirming the deletion of
// the invitee's own tenant when it would be left empty. Waits until the
// new membership shows in /me on every nginx worker (each trusts a
// membership for echostream_membership_ttl). Returns the accept answer.
export async function acceptInvite(stack, token, from) {
  const list = await stack.api('GET', '/api/v1/invites', { token });
  assert.equal(list.status, 200, list.text);
  const inv = list.json.invites.find((i) => i.tenant === from);
  assert.ok(inv, `an invite from ${from}: ${list.text}`);
  const r = await stack.api('POST', `/api/v1/invites/${inv.id}/accept`,
    { token, body: { confirm: true } });
  assert.equal(r.status, 200, r.text);
  for (let i = 0; i < 6; i++) {
    await waitFor(async () => (await stack.api('GET', '/api/v1/me',
      { token })).json?.tenant === from, { timeout: 3000, interval: 50,
      what: `membership of ${from}` });
  }
  return r.json;
}

