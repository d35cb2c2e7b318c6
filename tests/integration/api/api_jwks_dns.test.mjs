// api_jwks_dns.test.mjs - the JWKS host name is looked up again through
// nginx's `resolver` on each fetch, so an identity provider whose name
// moves is followed without a reload; without a resolver the address
// found at configuration time is kept.
//
// Two JWKS servers (tests/lib/jwks_server.mjs) listen on the same port of
// 127.0.0.1 and 127.0.0.2 with different signing keys, and a small DNS
// server (tests/lib/dns_server.mjs) answers for "localhost" with whichever
// address the test sets (nginx's resolver asks it, not /etc/hosts, while
// the configuration-time lookup uses the system's and finds 127.0.0.1).
// After the answer moves to 127.0.0.2, a token signed with the second
// server's key names a kid the worker does not hold; the refetch it
// causes (after the penalty, here 1 s) goes to the new address and the
// token is accepted. When the name stops resolving, or the nameserver
// stops answering, the fetch falls back to the configuration-time address
// and says so in the log.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startRedis, freePort, waitFor } from '../../lib/harness.mjs';
import { startNginx } from '../../lib/nginx.mjs';
import { apiConf, signToken, idClaims, request } from '../../lib/api.mjs';
import { startDnsServer } from '../../lib/dns_server.mjs';
import { startJwksServer, makeSigningKey, jwksText }
  from '../../lib/jwks_server.mjs';

const POOL = '/pool';
const JWKS_PATH = `${POOL}/.well-known/jwks.json`;
const CLIENT = 'jwks-dns-client';
const ISS = 'https://idp.example.test';
const KA = makeSigningKey('key-of-a');
const KB = makeSigningKey('key-of-b');
const KC = makeSigningKey('key-after-nxdomain');

let redis;
let dns;
let port;
let srvA;
let srvB;
const nginxes = [];

before(async () => {
  redis = await startRedis();
  dns = await startDnsServer({ records: { localhost: ['127.0.0.1'] } });
  port = await freePort();
  srvA = await startJwksServer({ port, host: '127.0.0.1' });
  srvB = await startJwksServer({ port, host: '127.0.0.2' });
  srvA.route(JWKS_PATH, { body: jwksText([KA]) });
  srvB.route(JWKS_PATH, { body: jwksText([KB]) });
});

after(async () => {
  for (const n of nginxes) await n.stop();
  await srvA?.close();
  await srvB?.close();
  await dns?.close();
  await redis?.close();
});

async function apiNginx(extra = '') {
  const n = await startNginx({
    redisUrl: redis.url,
    ...apiConf({ issuer: `${ISS}${POOL}`, jwksUri: `http://localhost:${port}${JWKS_PATH}`,
                 clientId: CLIENT },
               { extraConf: ['    echostream_jwks_penalty 1s;', extra].join('\n') }),
  });
  nginxes.push(n);
  return n;
}

const token = (key) => signToken(idClaims({ issuer: `${ISS}${POOL}`,
                                            clientId: CLIENT }),
                                 { header: { kid: key.kid },
                                   key: key.privateKey });

const me = (n, key) => request(n.url, 'GET', '/api/v1/me',
                               { token: token(key), timeout: 15000 });

// Both workers take the key: a worker declines an unknown kid within the
// penalty (401), so ask until each of several answers is 200.
async function accepted(n, key, what) {
  await waitFor(async () => {
    for (let i = 0; i < 4; i++) {
      if ((await me(n, key)).status !== 200) return false;
    }
    return true;
  }, { timeout: 15000, interval: 300, what });
}

function assertNoCrash(n) {
  assert.doesNotMatch(n.errorLog(),
    /signal \d+ \(SIG(SEGV|ABRT|BUS)\)|exited on signal|open socket #\d+ left/);
}

describe('the JWKS host through nginx\'s resolver', () => {

  test('without a resolver the configuration-time address is kept',
    async () => {
      dns.set('localhost', ['127.0.0.2']);
      const asked = dns.asked('localhost');
      const hitsB = srvB.hits(JWKS_PATH);
      const n = await apiNginx();
      await accepted(n, KA, 'the key of the configuration-time address');
      // a token of B's key causes refetches, all to 127.0.0.1
      for (let i = 0; i < 3; i++) {
        assert.equal((await me(n, KB)).status, 401);
      }
      assert.equal(srvB.hits(JWKS_PATH), hitsB, 'B was never asked');
      assert.equal(dns.asked('localhost'), asked, 'nginx asked no DNS');
      assertNoCrash(n);
      await n.stop();
    });

  test('a moved name is followed at the next fetch', async () => {
    dns.set('localhost', ['127.0.0.1']);
    const n = await apiNginx(
      `    resolver ${dns.address} valid=1s;\n    resolver_timeout 2s;`);
    await accepted(n, KA, 'the first address\'s key');
    assert.ok(dns.asked('localhost') >= 1, 'the name was looked up');
    assert.equal(srvB.hits(JWKS_PATH), 0);

    // the name moves; the next fetch, caused by B's kid, goes there
    dns.set('localhost', ['127.0.0.2']);
    await accepted(n, KB, 'the moved name\'s key');
    assert.ok(srvB.hits(JWKS_PATH) >= 1);
    assert.equal((await me(n, KA)).status, 401, 'A\'s key is gone');

    // the name no longer resolves: the configuration-time address (A)
    srvA.route(JWKS_PATH, { body: jwksText([KA, KC]) });
    dns.remove('localhost');
    await accepted(n, KC, 'the key at the fallback address');
    assert.match(n.errorLog(), /echostream http: resolving "localhost" failed \(3: Host not found\), using the address found at configuration time/);
    assertNoCrash(n);
    await n.stop();
    assertNoCrash(n);
  });

  test('a nameserver that does not answer: the configuration-time address',
    async () => {
      srvA.route(JWKS_PATH, { body: jwksText([KA]) });
      dns.set('localhost', ['127.0.0.2']);
      dns.mute(true);
      const asked = dns.asked('localhost');
      try {
        const n = await apiNginx(
          `    resolver ${dns.address} valid=1s;\n    resolver_timeout 1s;`);
        await accepted(n, KA, 'the key at the fallback address');
        assert.ok(dns.asked('localhost') > asked, 'the name was asked for');
        assert.match(n.errorLog(), /echostream http: resolving "localhost" failed \(110: Operation timed out\), using the address/);
        await n.stop();
        assertNoCrash(n);
      } finally {
        dns.mute(false);
      }
    });
});
