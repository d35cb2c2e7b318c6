// api_jwks.test.mjs - the module's JWKS fetcher, seen through /api/v1:
// a real nginx (two worker processes) and a real Redis, with the identity
// provider's JWKS served by tests/lib/jwks_server.mjs, which can delay,
// hang, drop, refuse, serve over HTTPS and count every fetch.
//
// Tokens are signed here with RSA keys generated for the test, whose
// public JWKs the server lists; a token whose kid the server does not
// list is "an unknown kid". Each worker process holds its own key set and
// fetches on its own, so fetch counts are bounded by the two workers
// rather than exact where a test cannot choose the worker: "one fetch"
// means at most one per worker.
//
// The penalty between fetches caused by unknown kids is the default 10 s.
// Tests that need a worker to be allowed to refetch wait that long after
// the start-up fetches, so they run concurrently, each against its own
// nginx. No test asserts a duration: "does not stall" is checked as an
// order of events (known-kid requests answered while the fetch is held
// open by the server and the request that waits on it is still pending).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { startRedis, freePort, waitFor, sleep } from '../../lib/harness.mjs';
import { canFakeHosts, startNginx, nginxConfTest } from '../../lib/nginx.mjs';
import { apiConf, signToken, idClaims, request } from '../../lib/api.mjs';
import { startJwksServer, makeSigningKey, makeCerts, jwksText }
  from '../../lib/jwks_server.mjs';

const POOL = '/pool';
const JWKS_PATH = `${POOL}/.well-known/jwks.json`;
const CLIENT = 'jwks-test-client';
const PENALTY_MS = 10000; // the module's default penalty
const MAX_SIZE = 65536; // the module's cap on a JWKS document

let redis;
let certs;
const K1 = makeSigningKey('key-one');
const K2 = makeSigningKey('key-two');
const KX = makeSigningKey('key-never-served');

const servers = [];
const nginxes = [];

before(async () => {
  redis = await startRedis();
  certs = await makeCerts();
});

after(async () => {
  for (const n of nginxes) await n.stop();
  for (const s of servers) await s.close();
  if (redis) await redis.close();
});

async function jwksServer(opts) {
  const s = await startJwksServer(opts);
  servers.push(s);
  return s;
}

// nginx with the API, its JWKS at jwksUri and "iss" of the HTTP server.
async function apiNginx(jwksUri, issuerOrigin, extra = '', hosts) {
  const n = await startNginx({
    redisUrl: redis.url,
    hosts,
    ...apiConf({ issuer: `${issuerOrigin}${POOL}`, jwksUri, clientId: CLIENT },
               { extraConf: extra }),
  });
  nginxes.push(n);
  return n;
}

// A valid id token signed with key (its kid in the header).
function token(key, issuerOrigin) {
  return signToken(idClaims({ issuer: `${issuerOrigin}${POOL}`,
                              clientId: CLIENT }),
                   { header: { kid: key.kid }, key: key.privateKey });
}

function me(n, tok, timeout = 30000) {
  return request(n.url, 'GET', '/api/v1/me', { token: tok, timeout });
}

// GET /api/v1/me, also telling when the request has been written out:
// {sent, done (resolves {status, text})}.
function meSent(n, tok) {
  let onSent;
  const sent = new Promise((resolve) => { onSent = resolve; });
  const done = new Promise((resolve, reject) => {
    const req = http.request(`${n.url}/api/v1/me`, {
      headers: { Authorization: `Bearer ${tok}` }, agent: false,
      timeout: 30000,
    }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode,
        text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('finish', onSent);
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
  return { sent, done };
}

function errorCode(res) {
  return res.json?.error?.code;
}

const jwksLines = (n) => n.errorLog().split('\n')
  .filter((l) => l.includes('echostream jwks: '));

// Both workers have their first key set and a known kid is accepted.
async function ready(n, srv, key) {
  await waitFor(() => srv.hits(JWKS_PATH) >= 2,
                { what: 'the start-up fetch of both workers' });
  const res = await me(n, token(key, srv.origin));
  assert.equal(res.status, 200, res.text);
}

function assertNoCrash(n) {
  const log = n.errorLog();
  assert.doesNotMatch(log,
    /signal \d+ \(SIG(SEGV|ABRT|BUS)\)|exited on signal/);
  assert.doesNotMatch(log, /open socket #\d+ left/);
}

describe('JWKS fetching', { concurrency: 4 }, () => {

  test('the first request waits for the start-up fetch and succeeds',
    async () => {
      const srv = await jwksServer();
      // each worker's start-up fetch is held open by the server
      srv.route(JWKS_PATH, { hang: true });
      const n = await apiNginx(`${srv.origin}${JWKS_PATH}`, srv.origin,
        '    echostream_jwks_timeout 30s;');
      await waitFor(() => srv.hangingCount(JWKS_PATH) === 2,
                    { what: 'both start-up fetches' });

      let answered = false;
      const { sent, done } = meSent(n, token(K1, srv.origin));
      const pending = done.finally(() => { answered = true; });
      await sent;
      await sleep(300);
      assert.equal(answered, false, 'answered before any key set existed');

      // a body ended by closing the connection (no length, not chunked)
      srv.route(JWKS_PATH, { body: jwksText([K1]), mode: 'eof' });
      srv.release();
      const res = await pending;
      assert.equal(res.status, 200, res.text);
      // the request joined a start-up fetch instead of starting its own
      assert.equal(srv.hits(JWKS_PATH), 2);

      // what the fetcher sent
      const req = srv.requests[0];
      assert.equal(req.line, `GET ${JWKS_PATH} HTTP/1.1`);
      assert.equal(req.headers.host, `127.0.0.1:${srv.port}`);
      assert.equal(req.headers.accept, 'application/json');
      assert.equal(req.headers.connection, 'close');
      assert.equal(req.headers['user-agent'], 'echostream');
      assertNoCrash(n);
    });

  test('a new kid after a key rotation causes exactly one refetch',
    async () => {
      const srv = await jwksServer();
      srv.route(JWKS_PATH, { body: jwksText([K1]) });
      const n = await apiNginx(`${srv.origin}${JWKS_PATH}`, srv.origin);
      await ready(n, srv, K1);
      await sleep(PENALTY_MS + 500);

      // rotation: the provider now signs with K2 and lists both, sent
      // chunked this time
      srv.route(JWKS_PATH, { body: jwksText([K2, K1]), mode: 'chunked' });
      const before = srv.hits(JWKS_PATH);
      const res = await me(n, token(K2, srv.origin));
      assert.equal(res.status, 200, res.text);
      assert.equal(srv.hits(JWKS_PATH) - before, 1);
      assert.ok(jwksLines(n).some((l) => /2 keys from/.test(l)));
      assertNoCrash(n);
    });

  test('a burst of unknown kids causes one fetch, then the penalty',
    async () => {
      const srv = await jwksServer();
      srv.route(JWKS_PATH, { body: jwksText([K1]) });
      const n = await apiNginx(`${srv.origin}${JWKS_PATH}`, srv.origin);
      await ready(n, srv, K1);
      await sleep(PENALTY_MS + 500);

      const before = srv.hits(JWKS_PATH);
      const burst = await Promise.all(Array.from({ length: 20 },
        () => me(n, token(KX, srv.origin))));
      for (const res of burst) {
        assert.equal(res.status, 401, res.text);
        assert.equal(errorCode(res), 'unauthorized');
      }
      const afterBurst = srv.hits(JWKS_PATH) - before;
      assert.ok(afterBurst >= 1 && afterBurst <= 2,
                `${afterBurst} fetches for one burst (two workers)`);

      // within the penalty: refused at once, nothing fetched
      const again = await Promise.all(Array.from({ length: 10 },
        () => me(n, token(KX, srv.origin))));
      for (const res of again) assert.equal(res.status, 401, res.text);
      const total = srv.hits(JWKS_PATH) - before;
      assert.ok(total <= 2, `${total} fetches within the penalty`);

      // a known kid is still fine
      const ok = await me(n, token(K1, srv.origin));
      assert.equal(ok.status, 200, ok.text);
      assertNoCrash(n);
    });

  test('a hanging JWKS server does not delay requests with a known kid',
    async () => {
      const srv = await jwksServer();
      srv.route(JWKS_PATH, { body: jwksText([K1]) });
      const n = await apiNginx(`${srv.origin}${JWKS_PATH}`, srv.origin,
        '    echostream_jwks_timeout 60s;');
      await ready(n, srv, K1);
      await sleep(PENALTY_MS + 500);

      // unknown-kid requests until every worker has a fetch held open
      // (new connections land on either worker; a worker with a fetch in
      // flight queues the request on it)
      srv.route(JWKS_PATH, { hang: true });
      const waiting = [];
      let unanswered = 0;
      for (let i = 0; i < 30 && srv.hangingCount(JWKS_PATH) < 2; i++) {
        unanswered++;
        waiting.push(me(n, token(K2, srv.origin), 60000)
          .finally(() => { unanswered--; }));
        await sleep(100);
      }
      assert.ok(srv.hangingCount(JWKS_PATH) >= 1);

      const known = await Promise.all(Array.from({ length: 8 },
        () => me(n, token(K1, srv.origin))));
      for (const res of known) assert.equal(res.status, 200, res.text);
      assert.equal(unanswered, waiting.length,
                   'a request waiting on the held fetch was answered early');

      // the fetch completes with K2: everyone waiting gets in
      srv.route(JWKS_PATH, { body: jwksText([K1, K2]) });
      srv.release();
      for (const res of await Promise.all(waiting)) {
        assert.equal(res.status, 200, res.text);
      }
      assertNoCrash(n);
    });

  test('JWKS server down at start: 503, then 200 once it is up, no reload',
    async () => {
      const port = await freePort();
      const origin = `http://127.0.0.1:${port}`;
      const n = await apiNginx(`${origin}${JWKS_PATH}`, origin);

      const res = await me(n, token(K1, origin));
      assert.equal(res.status, 503, res.text);
      assert.equal(errorCode(res), 'unavailable');
      assert.ok(jwksLines(n).some((l) => l.includes(`"${origin}${JWKS_PATH}"`)
        && /failed: connect\(\) to 127\.0\.0\.1:\d+ failed/.test(l)),
                jwksLines(n).join('\n'));

      const srv = await jwksServer({ port });
      srv.route(JWKS_PATH, { body: jwksText([K1]) });
      const ok = await waitFor(async () => {
        const r = await me(n, token(K1, origin));
        return r.status === 200 ? r : null;
      }, { timeout: 20000, interval: 200, what: 'a 200 once keys exist' });
      assert.equal(errorCode(ok), undefined);
      assertNoCrash(n);
    });

  test('https: a trusted CA works, an untrusted CA or a wrong name fails',
    async () => {
      const srv = await jwksServer({ certs });
      srv.route(JWKS_PATH, { body: jwksText([K1]) });
      // iss stays an http URL: only the key set comes over TLS
      const iss = `http://127.0.0.1:${srv.port}`;
      const cases = [
        { name: 'trusted', uri: `https://localhost:${srv.port}${JWKS_PATH}`,
          ca: certs.ca, status: 200 },
        { name: 'untrusted', uri: `https://localhost:${srv.port}${JWKS_PATH}`,
          ca: certs.otherCa, status: 503, log: /certificate verify error/ },
        { name: 'wrong name', uri: `https://127.0.0.1:${srv.port}${JWKS_PATH}`,
          ca: certs.ca, status: 503,
          log: /certificate does not match "127\.0\.0\.1"/ },
      ];
      for (const c of cases) {
        const before = srv.hits(JWKS_PATH);
        const n = await apiNginx(c.uri, iss,
          `    echostream_jwks_trusted_certificate ${c.ca};`);
        const res = await me(n, token(K1, iss));
        assert.equal(res.status, c.status, `${c.name}: ${res.text}`);
        if (c.log) {
          assert.equal(errorCode(res), 'unavailable');
          assert.ok(jwksLines(n).some((l) => c.log.test(l)),
                    `${c.name}: ${jwksLines(n).join('\n')}`);
          // no request was ever sent over the unverified connection
          assert.equal(srv.hits(JWKS_PATH), before, c.name);
        }
        assertNoCrash(n);
        await n.stop();
      }
    });

  test('a JWKS host with several addresses: one that refuses is skipped',
    { skip: !canFakeHosts() && 'needs root for a private /etc/hosts' },
    async () => {
      // the name has three addresses and the key server listens on one;
      // whichever order nginx keeps them in, in one of the two runs the
      // first address tried refuses the connection
      const hosts = '::1 jwks.es.test\n127.0.0.1 jwks.es.test\n' +
        '127.0.0.2 jwks.es.test\n';
      for (const host of ['127.0.0.1', '127.0.0.2']) {
        const srv = await jwksServer({ host });
        srv.route(JWKS_PATH, { body: jwksText([K1]) });
        const iss = `http://127.0.0.1:${srv.port}`;
        const n = await apiNginx(`http://jwks.es.test:${srv.port}${JWKS_PATH}`,
          iss, '', hosts);
        const res = await me(n, token(K1, iss));
        assert.equal(res.status, 200, `server on ${host}: ${res.text}`);
        assert.ok(srv.hits(JWKS_PATH) >= 1, host);
        assertNoCrash(n);
        await n.stop();
      }
    });

  test('a JWKS over 64 KiB is refused; a good one is then taken', async () => {
    const srv = await jwksServer();
    const big = jwksText([K1], { padding: 'x'.repeat(MAX_SIZE) });
    srv.route(JWKS_PATH, { body: big });
    const n = await apiNginx(`${srv.origin}${JWKS_PATH}`, srv.origin);

    const res = await me(n, token(K1, srv.origin));
    assert.equal(res.status, 503, res.text);
    assert.ok(jwksLines(n).some((l) => /larger than 65536 bytes/.test(l)),
              jwksLines(n).join('\n'));

    // no Content-Length to judge by: the cap stops the chunked body (a
    // request with no key set brings the next attempt forward)
    srv.route(JWKS_PATH, { body: big, mode: 'chunked' });
    const res2 = await me(n, token(K1, srv.origin));
    assert.equal(res2.status, 503, res2.text);
    assert.ok(jwksLines(n).some((l) =>
      /failed: response body larger than 65536 bytes/.test(l)),
              jwksLines(n).join('\n'));

    // a body that is not a key set is refused with the reason
    srv.route(JWKS_PATH, { body: '{"keys": "nope"}' });
    const res3 = await me(n, token(K1, srv.origin));
    assert.equal(res3.status, 503, res3.text);
    assert.ok(jwksLines(n).some((l) => /key set from .* refused: /.test(l)),
              jwksLines(n).join('\n'));

    srv.route(JWKS_PATH, { body: jwksText([K1]) });
    const ok = await me(n, token(K1, srv.origin));
    assert.equal(ok.status, 200, ok.text);
    assertNoCrash(n);
  });

  test('a reload or a stop with fetches in flight closes them cleanly',
    async () => {
      const srv = await jwksServer();
      srv.route(JWKS_PATH, { hang: true });
      // the fetch timeout is far beyond the stop's patience (8 s, then
      // SIGKILL): only a fetch that does not hold a shutdown lets it end
      const n = await apiNginx(`${srv.origin}${JWKS_PATH}`, srv.origin,
        '    echostream_jwks_timeout 60s;');
      await waitFor(() => srv.hangingCount(JWKS_PATH) === 2,
                    { what: 'both start-up fetches' });

      await n.reload();
      // the old workers go, closing their fetches; the new ones fetch
      await waitFor(() => (n.errorLog().match(/exited with code 0/g) || [])
        .length >= 2, { timeout: 20000, what: 'the old workers exiting' });
      await waitFor(() => srv.hits(JWKS_PATH) >= 4 &&
                          srv.hangingCount(JWKS_PATH) === 2,
                    { what: 'the new workers fetching, the old ones closed' });

      await n.stop();
      const { code, signal } = await n.proc.exited;
      assert.equal(signal, null, 'nginx had to be killed');
      assert.equal(code, 0);
      await waitFor(() => srv.hangingCount(JWKS_PATH) === 0,
                    { what: 'every fetch connection closed' });
      assertNoCrash(n);
      assert.equal((n.errorLog().match(/exited with code 0/g) || []).length,
                   4, n.errorLog());
    });

  test('nginx -t names the directive of a bad JWKS URI', async () => {
    const conf = (uri, extra = '') => ({
      redisUrl: redis.url,
      extraConf: [
        '    echostream_issuer http://127.0.0.1:1/pool;',
        `    echostream_jwks_uri ${uri};`,
        `    echostream_client_ids ${CLIENT};`,
        extra,
      ].join('\n'),
      serverConf: '        location /api/v1/ { echostream_api; }',
    });
    const cases = [
      ['ftp://127.0.0.1/jwks.json', /expected http:\/\/ or https:\/\//],
      ['https:///jwks.json', /no host/],
      ['http://127.0.0.1:99999/jwks.json', /invalid port/],
      ['http://user:secret@127.0.0.1/jwks.json', /user information/],
    ];
    for (const [uri, why] of cases) {
      const { ok, output } = await nginxConfTest(conf(uri));
      assert.equal(ok, false, `${uri} accepted`);
      assert.match(output, /"echostream_jwks_uri"/, output);
      assert.match(output, why, output);
      assert.doesNotMatch(output, /secret/, 'a password was repeated');
    }
    const { ok, output } = await nginxConfTest(conf(
      'https://localhost:1/jwks.json',
      '    echostream_jwks_trusted_certificate /nonexistent/ca.pem;'));
    assert.equal(ok, false);
    assert.match(output,
      /cannot read the trusted certificates "\/nonexistent\/ca\.pem"/, output);

    const good = await nginxConfTest(conf(`http://127.0.0.1:1${JWKS_PATH}`));
    assert.equal(good.ok, true, good.output);
  });
});
