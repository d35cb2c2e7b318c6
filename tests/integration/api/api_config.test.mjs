// api_config.test.mjs - a bad API configuration fails `nginx -t` with a
// message naming the directive; a good one passes.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { nginxConfTest } from '../../lib/nginx.mjs';

const ISSUER = 'http://127.0.0.1:9/local_pool';
const API = '        location /api/v1/ { echostream_api; }';

async function conf(http, server = API) {
  return nginxConfTest({ extraConf: http, serverConf: server });
}

test('a complete API configuration passes nginx -t', async () => {
  const r = await conf([
    `echostream_issuer ${ISSUER};`,
    'echostream_client_ids abc def;',
    'echostream_token_use id access;',
    'echostream_jwt_leeway 10s;',
    'echostream_rate_limit 600r/m burst=20;',
    'echostream_cors_origins https://app.example.com http://127.0.0.1:3000;',
    'echostream_token_cache 500;',
    'echostream_membership_ttl 500ms;',
    'echostream_tenant_claim off;',
    'echostream_invite_ttl 3d;',
    'echostream_comprehend_budget_max 250;',
    'echostream_jwks_timeout 2s;',
    'echostream_jwks_refresh 30m;',
    'echostream_jwks_penalty 30s;',
  ].join('\n'));
  assert.ok(r.ok, r.output);
});

test('echostream_cognito derives issuer and JWKS from region and pool',
  async () => {
    const r = await conf('echostream_cognito eu-west-1 eu-west-1_AbC123;\n' +
      'echostream_client_ids abc;\n' +
      // no network at configuration time: the JWKS host resolves locally
      'echostream_jwks_uri http://127.0.0.1:9/jwks.json;');
    assert.ok(r.ok, r.output);
  });

for (const [name, http, re] of [
  ['no issuer', 'echostream_client_ids abc;',
    /"echostream_api" needs "echostream_cognito" or "echostream_issuer"/],
  ['no client ids', `echostream_issuer ${ISSUER};`,
    /"echostream_api" needs "echostream_client_ids"/],
  ['bad region', 'echostream_cognito EU_WEST eu_1;',
    /"echostream_cognito" directive has an invalid region/],
  ['pool of another region', 'echostream_cognito eu-west-1 us-east-1_abc;',
    /"echostream_cognito" directive has an invalid user pool id/],
  ['issuer with a trailing slash', 'echostream_issuer http://x.test/p/;',
    /"echostream_issuer" directive needs an http\(s\) URL/],
  ['issuer and cognito both',
    `echostream_issuer ${ISSUER};\n` +
    'echostream_cognito eu-west-1 eu-west-1_AbC123;',
    /"echostream_cognito" directive is duplicate/],
  ['bad token use', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_token_use refresh;',
    /invalid value "refresh" in "echostream_token_use"/],
  ['bad rate', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_rate_limit fast;',
    /"echostream_rate_limit" directive needs a rate/],
  ['bad burst', `echostream_issuer ${ISSUER};\nechostream_client_ids a;\n` +
    'echostream_rate_limit 5r/s burst=lots;',
    /"echostream_rate_limit" directive needs a burst/],
  ['rate limit zone too small', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_rate_limit 5r/s zone=4k;',
    /"echostream_rate_limit" directive needs a zone size/],
  ['budget cap not a number', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_comprehend_budget_max lots;',
    /"echostream_comprehend_budget_max" directive invalid number/],
  ['budget cap too large', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_comprehend_budget_max 2000000;',
    /"echostream_comprehend_budget_max" must be from 0 to 1000000/],
  ['membership trusted too long', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_membership_ttl 5s;',
    /"echostream_membership_ttl" must be at most 1s/],
  ['invite lifetime too long', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_invite_ttl 100d;',
    /"echostream_invite_ttl" must be from 1s to 90d/],
  ['tenant claim not a flag', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_tenant_claim maybe;',
    /invalid value "maybe" in "echostream_tenant_claim"/],
  ['bad origin', `echostream_issuer ${ISSUER};\nechostream_client_ids a;\n` +
    'echostream_cors_origins https://app.example.com/path;',
    /invalid origin "https:\/\/app.example.com\/path" in "echostream_cors_origins"/],
  ['bad client id', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids "a b";',
    /invalid client id "a b" in "echostream_client_ids"/],
  ['leeway too long', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_jwt_leeway 1h;',
    /"echostream_jwt_leeway" must be at most 300s/],
  ['JWKS fetch without time', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_jwks_timeout 0;',
    /"echostream_jwks_timeout" must be more than 0/],
  ['JWKS penalty not a time', `echostream_issuer ${ISSUER};\n` +
    'echostream_client_ids a;\nechostream_jwks_penalty soon;',
    /"echostream_jwks_penalty" directive invalid value/],
  ['unresolvable JWKS host', 'echostream_issuer https://no-such-host.invalid/p;\n' +
    'echostream_client_ids a;', /echostream_issuer/],
]) {
  test(`nginx -t names the directive: ${name}`, async () => {
    const r = await conf(http);
    assert.equal(r.ok, false, `${name} must fail`);
    assert.match(r.output, re);
  });
}
