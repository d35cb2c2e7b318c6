// api_ratelimit_zone.test.mjs - the per-tenant rate limit holds when its
// shared zone is full.
//
// Every new user creates a tenant, and every tenant needs a bucket in the
// limiter's shared memory. A zone that let requests through uncounted once
// full could be filled by sign-ups to lift the limit for everyone. With a
// deliberately tiny zone (zone=32k), hundreds of fresh tenants fill it;
// then a new tenant's burst must still be limited (the least recently seen
// buckets are evicted to make room), and nothing may crash.
//
// Real nginx with the module, real Redis; the tokens are validly signed
// with cognito-local's key, one fresh user (so one fresh tenant) each.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { signToken, startApiStack } from '../../lib/api.mjs';

let s;

before(async () => {
  s = await startApiStack({
    extraConf: '    echostream_rate_limit 2r/s burst=2 zone=32k;',
  });
});

after(async () => {
  await s?.stop();
});

const freshToken = () => signToken(s.cognito.idClaims());

// n requests, at most `width` in flight; resolves their statuses
async function statuses(tokens, width = 16) {
  const out = [];
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const t = tokens[next++];
      out.push((await s.api('GET', '/api/v1/me', { token: t })).status);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

test('a full zone still limits: the least recently seen tenant makes room',
  async () => {
    // far more tenants than 32k of buckets hold, each seen once
    const fill = await statuses(Array.from({ length: 600 }, freshToken));
    assert.deepEqual([...new Set(fill)], [200], 'every new tenant served');
    assert.match(s.nginx.errorLog(), /rate limit zone is full, evicting/);

    // a newcomer's burst is counted like anyone's
    const token = freshToken();
    const burst = [];
    for (let i = 0; i < 10; i++) {
      const r = await s.api('GET', '/api/v1/me', { token });
      burst.push(r.status);
      if (r.status === 429) {
        assert.equal(r.json.error.code, 'rate_limited');
        assert.match(r.headers['retry-after'], /^[1-9][0-9]*$/);
      }
    }
    assert.ok(burst.filter((x) => x === 429).length >= 5,
      `burst statuses: ${burst}`);
    assert.doesNotMatch(s.nginx.errorLog(), /exited on signal|\[alert\]/);
  });

test('rate limit zone sizes are checked at configuration time', async () => {
  for (const bad of ['zone=1k', 'zone=2g', 'zone=lots', 'zones=1m']) {
    await assert.rejects(startApiStack({ redis: s.redis, cognito: s.cognito,
      extraConf: `    echostream_rate_limit 2r/s ${bad};` }),
    /echostream_rate_limit/, bad);
  }
});
