#!/usr/bin/env bash
# tests/bench/membership.sh - what "a removal holds within a second" costs.
#
# Each nginx worker trusts a user's tenant and role for
# echostream_membership_ttl (default and at most 1 s) and then asks Redis
# again (one FCALL es_api_signin). This measures GET /api/v1/me, whose
# work is the token check and the membership and nothing else, with 500
# distinct users (tokens rotated by a wrk Lua script, so the membership
# cache works as it does with many people signed in), against nginx's own
# "return 200" in the same run:
#
#   (a) /bench/return200                      the ceiling
#   (b) /me, echostream_membership_ttl 1s     the default
#   (c) /me, echostream_membership_ttl 0      a Redis round trip per request
#
# in BENCH_MEMBERSHIP_ROUNDS rounds (default 3) of BENCH_MEMBERSHIP_SECONDS
# each (default 5 s), alternating; medians are compared.
#
# Prints:
#   membership return200: N req/s
#   membership ttl 1s: N req/s, ratio R to return200, non-2xx K
#   membership ttl 0: N req/s, ratio R to return200, non-2xx K
#   membership ttl 1s / ttl 0: R
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
SECONDS_RUN=${BENCH_MEMBERSHIP_SECONDS:-5}
ROUNDS=${BENCH_MEMBERSHIP_ROUNDS:-3}

command -v wrk >/dev/null ||
    { echo "membership: wrk is not installed" >&2; exit 1; }

ROOT=$ROOT SECONDS_RUN=$SECONDS_RUN ROUNDS=$ROUNDS \
    node --input-type=module - <<'NODE'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = process.env.ROOT;
const secs = Number(process.env.SECONDS_RUN);
const rounds = Math.max(1, Number(process.env.ROUNDS));
const { startApiStack, signToken } = await import(`${root}/tests/lib/api.mjs`);
const { median, parseWrk, wrk } = await import(`${root}/tests/lib/wrk.mjs`);

const USERS = 500;
const dir = mkdtempSync(path.join(os.tmpdir(), 'es-bench-membership-'));
const ttl1 = await startApiStack({
  serverConf: '        location = /bench/return200 { return 200 "ok"; }',
});
const ttl0 = await startApiStack({ redis: ttl1.redis, cognito: ttl1.cognito,
  extraConf: '    echostream_membership_ttl 0;' });
let status = 0;
try {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const tokens = [];
  for (let i = 0; i < USERS; i++) {
    const token = signToken(ttl1.cognito.idClaims({ sub: `bench-${i}`, exp }));
    // the first request makes each user's tenant, once
    const r = await ttl1.api('GET', '/api/v1/me', { token });
    if (r.status !== 200) throw new Error(`/me: ${r.status} ${r.text}`);
    tokens.push(token);
  }
  // every wrk connection walks the users in turn
  const script = path.join(dir, 'users.lua');
  writeFileSync(script, [
    `local tokens = {${tokens.map((t) => `"${t}"`).join(',')}}`,
    'local i = math.random(#tokens)',
    'request = function()',
    '  i = i % #tokens + 1',
    '  return wrk.format("GET", nil, {Authorization = "Bearer " .. tokens[i]})',
    'end',
  ].join('\n'));

  const me = '/api/v1/me';
  const runs = { a: [], b: [], c: [] };
  await wrk(`${ttl1.base}/bench/return200`, 1);
  await wrk(`${ttl1.base}${me}`, 1, { script });
  await wrk(`${ttl0.base}${me}`, 1, { script });
  for (let i = 0; i < rounds; i++) {
    runs.a.push(parseWrk(await wrk(`${ttl1.base}/bench/return200`, secs)));
    runs.b.push(parseWrk(await wrk(`${ttl1.base}${me}`, secs, { script })));
    runs.c.push(parseWrk(await wrk(`${ttl0.base}${me}`, secs, { script })));
  }
  const rps = (k) => median(runs[k].map((x) => x.rps));
  const non2xx = (k) => runs[k].reduce((n, x) => n + x.non2xx, 0);
  const a = rps('a');
  console.log(`membership return200: ${a.toFixed(0)} req/s`);
  for (const [k, label] of [['b', 'ttl 1s'], ['c', 'ttl 0']]) {
    console.log(`membership ${label}: ${rps(k).toFixed(0)} req/s, ratio ${
      (rps(k) / a).toFixed(2)} to return200, non-2xx ${non2xx(k)}`);
  }
  console.log(`membership ttl 1s / ttl 0: ${(rps('b') / rps('c')).toFixed(2)}`);
  if (non2xx('b') + non2xx('c') > 0 || !(a > 0)) status = 1;
} catch (e) {
  console.error(`membership: ${e.stack || e}`);
  status = 1;
} finally {
  await ttl0.stop();
  await ttl1.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
NODE
