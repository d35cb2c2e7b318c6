#!/usr/bin/env bash
# tests/bench/api.sh - the API against nginx's own "return 200".
#
# Starts a private Redis, cognito-local and nginx with the module
# (conf/nginx.conf.in: 2 worker processes, the same configuration as the
# tests) plus a location "= /bench/return200 { return 200 "ok"; }", signs
# an id token with cognito-local's own key, lets its first request create
# the tenant, and gives a topic a day of hourly series data (every field of
# the 25 hourly buckets the default range shows). Then, on the same machine
# and in the same run, alternating:
#
#   (a) wrk against /bench/return200
#   (b) wrk against GET /api/v1/topics/<id>/series?step=hour with
#       "Authorization: Bearer <token>": token check (cached after the
#       first request), tenant, rate-limit bookkeeping, one pipelined Redis
#       round trip and 25 points of JSON. The round trip is HEXISTS of the
#       topic + GET of the tenant's data version while the worker's cached
#       points carry that version, else also the buckets (HMGET/HGETALL of
#       the day hashes). Meanwhile the data version is INCR'd every 100 ms,
#       as a busy enrich worker would, so each worker also reads the whole
#       series again about ten times a second.
#
# after a short warm-up of each, with wrk -t2 -c256 --latency, in
# BENCH_API_ROUNDS rounds (default 3) of BENCH_API_SECONDS each (default
# 5 s): the machine is shared, so (a) and (b) alternate and the medians are
# compared. The goal is (b) at no less than half of (a)'s requests/s, with
# no answer of (b) other than 2xx.
#
# Prints (medians over the rounds; non-2xx and socket errors summed):
#   api return200: N req/s, p99 X ms
#   api series: N req/s, p99 X ms, non-2xx K of T, socket errors E
#   api ratio: R (goal >= 0.5 met|MISSED)
#   api rounds: ratio of each round; data version bumps during (b)
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
SECONDS_RUN=${BENCH_API_SECONDS:-5}
ROUNDS=${BENCH_API_ROUNDS:-3}

command -v wrk >/dev/null || { echo "api: wrk is not installed" >&2; exit 1; }
[ -f build/ngx_http_echostream_module.so ] ||
    { echo "api: build/ngx_http_echostream_module.so missing (make module)" >&2
      exit 1; }

ROOT=$ROOT SECONDS_RUN=$SECONDS_RUN ROUNDS=$ROUNDS \
    node --input-type=module - <<'NODE'
const root = process.env.ROOT;
const secs = Number(process.env.SECONDS_RUN);
const rounds = Math.max(1, Number(process.env.ROUNDS));
const { startApiStack, signToken } = await import(`${root}/tests/lib/api.mjs`);
const { median, parseWrk, wrk: runWrk } =
  await import(`${root}/tests/lib/wrk.mjs`);

// the tenant named by the token's claim (echostream_tenant_claim on), so
// the series data can be written under a known id
const stack = await startApiStack({
  serverConf: '        location = /bench/return200 { return 200 "ok"; }',
  tenantClaim: true,
});

let status = 0;
try {
  const tenant = 'bench';
  const token = signToken(stack.cognito.idClaims({
    sub: 'bench-user', 'custom:tenant_id': tenant,
    exp: Math.floor(Date.now() / 1000) + 3600 }));
  const me = await stack.api('GET', '/api/v1/me', { token });
  if (me.status !== 200) throw new Error(`/me: ${me.status} ${me.text}`);

  // a topic and a day of hourly data (today's and yesterday's day hashes)
  const r = stack.redis;
  const topic = 'benchtopic';
  await r.cmd('HSET', `es:{t:${tenant}}:topics`, topic, JSON.stringify(
    { id: topic, name: 'Bench', subreddits: ['rust'], query: '' }));
  const pad = (n) => String(n).padStart(2, '0');
  const now = Date.now();
  for (let h = 0; h <= 25; h++) {
    const d = new Date(now - h * 3600000);
    const key = `es:{t:${tenant}}:ts:${topic}:h:${d.getUTCFullYear()}${
      pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
    const hh = pad(d.getUTCHours());
    const n = 20 + h * 3;
    await r.cmd('HSET', key, `${hh}:n`, n, `${hh}:pos`, n - 9, `${hh}:neg`, 5,
      `${hh}:neu`, 3, `${hh}:mix`, 1, `${hh}:cs`, 1234 * n);
  }
  const series = `/api/v1/topics/${topic}/series?step=hour`;
  const check = await stack.api('GET', series, { token });
  if (check.status !== 200 || check.json.points.length < 24 ||
      check.json.points.every((p) => p.n === 0)) {
    throw new Error(`series: ${check.status} ${check.text.slice(0, 300)}`);
  }

  const wrk = (path, seconds, headers = []) =>
    runWrk(`${stack.base}${path}`, seconds, { headers });
  const parse = parseWrk;
  const auth = [`Authorization: Bearer ${token}`];

  // the enrich worker's part: the tenant's data changes all the time
  const dvKey = `es:{t:${tenant}}:dv`;
  let bumping = false;
  let bumps = 0;
  const bumper = setInterval(() => {
    if (bumping) r.cmd('INCR', dvKey).then(() => { bumps++; }, () => {});
  }, 100);

  const as = [];
  const bs = [];
  try {
    await wrk('/bench/return200', 2);
    bumping = true;
    await wrk(series, 2, auth);
    bumping = false;
    bumps = 0;
    for (let i = 0; i < rounds; i++) {
      as.push(parse(await wrk('/bench/return200', secs)));
      bumping = true;
      bs.push(parse(await wrk(series, secs, auth)));
      bumping = false;
    }
  } finally {
    clearInterval(bumper);
  }
  if (process.env.BENCH_VERBOSE) {
    for (const x of [...as, ...bs]) console.error(x.out);
  }

  const a = { rps: median(as.map((x) => x.rps)),
              p99: median(as.map((x) => x.p99)) };
  const b = { rps: median(bs.map((x) => x.rps)),
              p99: median(bs.map((x) => x.p99)),
              non2xx: bs.reduce((n, x) => n + x.non2xx, 0),
              total: bs.reduce((n, x) => n + x.total, 0),
              sockErrors: bs.reduce((n, x) => n + x.sockErrors, 0) };
  const ratio = b.rps / a.rps;
  console.log(`api return200: ${a.rps.toFixed(0)} req/s, p99 ${
    a.p99.toFixed(2)} ms`);
  console.log(`api series: ${b.rps.toFixed(0)} req/s, p99 ${
    b.p99.toFixed(2)} ms, non-2xx ${b.non2xx} of ${b.total}, socket errors ${
    b.sockErrors}`);
  console.log(`api ratio: ${ratio.toFixed(2)} (goal >= 0.5 ${
    ratio >= 0.5 ? 'met' : 'MISSED'})`);
  console.log(`api rounds: ${as.map((x, i) => (bs[i].rps / x.rps).toFixed(2))
    .join(' ')}; ${bumps} data version bumps during the series runs`);
  if (b.non2xx > 0) {
    console.error('api: the series route answered non-2xx under load');
    status = 1;
  }
  if (!(b.rps > 0) || !(a.rps > 0)) status = 1;
} catch (e) {
  console.error(`api: ${e.stack || e}`);
  status = 1;
} finally {
  await stack.stop();
}
process.exit(status);
NODE
