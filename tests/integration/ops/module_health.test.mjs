// module_health.test.mjs - the module's operating surface against a real
// nginx (two worker processes, conf/nginx.conf.in), a real Redis and
// cognito-local: /livez, /readyz, who may read /healthz, /metrics counted
// in shared memory whichever worker answers, and the access log's tenant
// and route.
//
// The counting test scrapes through a location that adds the answering
// worker's pid as a header, so it can show that two different processes
// served the very same numbers. Redis is stopped last: /livez must not
// care, /readyz must say 503 until Redis is back and the function
// libraries are loaded again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { request, startApiStack } from '../../lib/api.mjs';
import { BUILD, ROOT, tmpDir, waitFor, sleep } from '../../lib/harness.mjs';
import { nginxConfTest } from '../../lib/nginx.mjs';
import { ROUTES_SOURCE, moduleRoutes } from '../../lib/tenants.mjs';

const TOKEN = `hz-${randomBytes(18).toString('hex')}`;
const N = 37; // API requests the counting test makes

let s;
let tokenFile;

before(async () => {
  const dir = await tmpDir('es-health-');
  tokenFile = path.join(dir, 'healthz.token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  s = await startApiStack({
    tenantClaim: true,
    serverConf: [
      // the same document, for token holders only: loopback switched off
      '        location = /healthz-locked {',
      '            echostream_healthz;',
      '            echostream_healthz_loopback off;',
      `            echostream_healthz_token_file ${tokenFile};`,
      '        }',
      // /metrics, naming the worker process that answered
      '        location = /metrics-pid {',
      '            echostream_metrics;',
      '            add_header X-Worker-Pid $pid always;',
      '        }',
    ].join('\n'),
  });
});

after(async () => {
  if (s) await s.stop();
});

// Every route name of the table, in table order (the metrics' labels).
function routeNames() {
  const text = readFileSync(ROUTES_SOURCE, 'utf8');
  const table = text.slice(text.indexOf('ngx_http_echostream_routes[]'));
  const macro = text.slice(text.indexOf('#define ITEM_ROUTES('),
                           text.indexOf('ngx_http_echostream_routes[]'));
  const suffixes = [...macro.matchAll(/ITEM\(\s*\w+\s*,[^,]+,\s*n\s*"([^"]+)"/g)]
    .map((m) => m[1]);
  const out = [];
  for (const m of table.matchAll(
    /(ITEM_ROUTES|ROUTE)\((?:\s*\w+\s*,)?\s*"[^"]+"\s*,\s*"([^"]+)"/g)) {
    if (m[1] === 'ROUTE') out.push(m[2]);
    else for (const sfx of suffixes) out.push(`${m[2]}${sfx}`);
  }
  return out;
}

function buildInfo() {
  const h = readFileSync(path.join(BUILD, 'gen', 'es_build_info.h'), 'utf8');
  const get = (name) => h.match(new RegExp(`#define ${name} "([^"]*)"`))[1];
  return { version: get('ES_VERSION'), revision: get('ES_GIT_REV'),
           built: get('ES_BUILD_DATE') };
}

// The value of one series (exact name and labels), or undefined.
function sample(text, series) {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function scrape(p = '/metrics') {
  const r = await request(s.base, 'GET', p);
  assert.equal(r.status, 200, r.text);
  return r;
}

test('every series is there with zeros before any request, with HELP and TYPE',
  async () => {
    const r = await s.api('GET', '/metrics');
    assert.equal(r.status, 200);
    const names = routeNames();
    assert.equal(names.length, moduleRoutes().length,
                 'one name per row of the route table');
    for (const route of [...names, 'none']) {
      for (const status of ['200', '401', '404', '500', 'other']) {
        assert.equal(sample(r.text, `echostream_http_requests_total{route="${
          route}",status="${status}"}`), 0, `${route} ${status}`);
      }
      assert.equal(sample(r.text,
        `echostream_http_request_duration_seconds_bucket{route="${route}",le="+Inf"}`), 0);
      assert.equal(sample(r.text,
        `echostream_http_request_duration_seconds_count{route="${route}"}`), 0);
    }
    for (const c of ['1xx', '2xx', '3xx', '4xx', '5xx']) {
      assert.equal(sample(r.text, `echostream_http_responses_total{class="${c}"}`), 0);
    }
    assert.equal(sample(r.text, 'echostream_token_cache_lookups_total{result="hit"}'), 0);
    assert.equal(sample(r.text, 'echostream_token_cache_lookups_total{result="miss"}'), 0);
    for (const [name, type] of [
      ['echostream_build_info', 'gauge'],
      ['echostream_http_requests_total', 'counter'],
      ['echostream_http_responses_total', 'counter'],
      ['echostream_http_request_duration_seconds', 'histogram'],
      ['echostream_token_cache_lookups_total', 'counter'],
      ['echostream_worker_processes', 'gauge'],
      ['echostream_redis_up', 'gauge'],
      ['echostream_redis_connected_workers', 'gauge'],
      ['echostream_jwks_keys', 'gauge'],
      ['echostream_jwks_fetches_total', 'counter'],
      ['echostream_jwks_failures_total', 'counter'],
    ]) {
      assert.match(r.text, new RegExp(`^# HELP ${name} \\S`, 'm'), name);
      assert.match(r.text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
    }
  });

test('build_info carries the values of es_build_info.h', async () => {
  const { version, revision, built } = buildInfo();
  const r = await scrape();
  assert.equal(sample(r.text, `echostream_build_info{version="${version
  }",revision="${revision}",built="${built}"}`), 1, r.text.slice(0, 400));
});

test('N requests count N whichever of two worker processes is scraped',
  async () => {
    const u = await s.cognito.user('counter@example.test', { tenant: 'acme' });
    for (let i = 0; i < N; i++) {
      const r = await s.api('GET', '/api/v1/me', { token: u.idToken });
      assert.equal(r.status, 200, r.text);
    }
    const pids = new Set();
    for (let i = 0; i < 200 && (pids.size < 2 || i < 20); i++) {
      const r = await scrape('/metrics-pid');
      pids.add(r.headers['x-worker-pid']);
      assert.equal(sample(r.text,
        'echostream_http_requests_total{route="me",status="200"}'), N,
      `scrape ${i} by worker ${r.headers['x-worker-pid']}`);
      assert.equal(sample(r.text,
        'echostream_http_request_duration_seconds_count{route="me"}'), N);
      assert.equal(sample(r.text,
        'echostream_http_responses_total{class="2xx"}'), N);
      assert.equal(sample(r.text,
        'echostream_token_cache_lookups_total{result="hit"}') +
        sample(r.text, 'echostream_token_cache_lookups_total{result="miss"}'),
      N);
    }
    assert.ok(pids.size >= 2, `scrapes answered by ${[...pids]}`);
    // the gauges cover both processes (each reports within a second)
    await waitFor(async () => {
      const t = (await scrape()).text;
      return sample(t, 'echostream_worker_processes') === 2 &&
        sample(t, 'echostream_redis_connected_workers') === 2 &&
        sample(t, 'echostream_redis_up') === 1;
    }, { timeout: 5000, interval: 200, what: 'gauges of both workers' });
  });

test('the access log names the tenant and route of an API request',
  async () => {
    const u = await s.cognito.user('logged@example.test', { tenant: 'globex' });
    const me = await s.api('GET', '/api/v1/me?probe=access-log',
                           { token: u.idToken });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.tenant, 'globex');
    await s.api('GET', '/livez?probe=access-log');
    const log = path.join(s.nginx.prefix, 'logs', 'access.log');
    await waitFor(() => readFileSync(log, 'utf8').includes('/livez?probe='),
                  { what: 'access log lines' });
    const lines = readFileSync(log, 'utf8').split('\n');
    const api = lines.find((l) => l.includes('/api/v1/me?probe=access-log'));
    assert.match(api, / 200 .* tenant=globex route=me$/);
    const live = lines.find((l) => l.includes('/livez?probe=access-log'));
    assert.match(live, / 200 .* tenant=- route=-$/);
    // no token, no tenant: still the route
    await s.api('GET', '/api/v1/topics?probe=no-token', { validate: false });
    await waitFor(() => readFileSync(log, 'utf8').includes('probe=no-token'),
                  { what: 'access log line' });
    const anon = readFileSync(log, 'utf8').split('\n')
      .find((l) => l.includes('probe=no-token'));
    assert.match(anon, / 401 .* tenant=- route=topics\.list$/);
  });

test('/healthz: loopback gets the detail, hosts and pids included',
  async () => {
    const now = Date.now();
    await s.redis.cmd('HSET', 'es:workers', 'ingest:box-7-4242', JSON.stringify({
      worker: 'ingest', instance: 'box-7-4242', pid: 4242, beat_ms: now,
      interval_ms: 2000, status: {} }));
    const r = await s.api('GET', '/healthz');
    assert.ok(r.status === 200 || r.status === 503, r.text);
    const inst = r.json.workers.ingest.instances
      .find((i) => i.instance === 'box-7-4242');
    assert.deepEqual({ host: inst.host, pid: inst.pid },
                     { host: 'box-7', pid: 4242 });
  });

test('/healthz with loopback off: 403 without the token, detail with it',
  async () => {
    const url = '/healthz-locked';
    for (const headers of [{}, { Authorization: 'Bearer wrong-token-123456' },
      { Authorization: `Bearer ${TOKEN}x` },
      { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { Authorization: TOKEN }]) {
      const r = await request(s.base, 'GET', url, { headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.doesNotMatch(r.text, /workers|redis|4242/);
    }
    const ok = await request(s.base, 'GET', url,
      { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.ok(ok.status === 200 || ok.status === 503, ok.text);
    assert.equal(ok.json.redis.state, 'up');
    assert.ok(ok.json.workers.ingest, ok.text);
    // the token never reaches a log
    await sleep(200);
    assert.ok(!s.nginx.errorLog().includes(TOKEN.slice(3)));
    assert.ok(!readFileSync(path.join(s.nginx.prefix, 'logs', 'access.log'),
      'utf8').includes(TOKEN.slice(3)));
  });

test('nginx -t checks echostream_healthz_token_file, never showing the token',
  async () => {
    const dir = await tmpDir('es-health-t-');
    const short = path.join(dir, 'short');
    writeFileSync(short, 'tiny-s3cret\n');
    for (const [file, why] of [[path.join(dir, 'missing'), /missing/],
      [short, /short/]]) {
      const r = await nginxConfTest({ serverConf:
        `        echostream_healthz_token_file ${file};` });
      assert.equal(r.ok, false, r.output);
      assert.match(r.output, /"echostream_healthz_token_file"/);
      assert.match(r.output, why);
      assert.doesNotMatch(r.output, /tiny-s3cret/);
    }
    const r = await nginxConfTest({ serverConf:
      `        echostream_healthz_token_file ${tokenFile};\n` +
      '        echostream_healthz_loopback off;' });
    assert.equal(r.ok, true, r.output);
  });

test('/livez stays 200 with Redis stopped; /readyz is 503 until it is back',
  async () => {
    const ready = await s.api('GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.json, { status: 'ready' });
    await s.redis.stop();
    try {
      // several requests, so both worker processes answer
      for (let i = 0; i < 8; i++) {
        const live = await s.api('GET', '/livez');
        assert.equal(live.status, 200);
        assert.deepEqual(live.json, { status: 'alive' });
        const r = await s.api('GET', '/readyz');
        assert.equal(r.status, 503, r.text);
        assert.equal(r.json.status, 'unready');
        assert.match(r.json.reason, /^redis /);
        assert.equal(r.headers['cache-control'], 'no-store');
      }
      const post = await request(s.base, 'POST', '/readyz', { body: 'x' });
      assert.equal(post.status, 405);
    } finally {
      await s.redis.start();
    }
    await waitFor(async () => {
      for (let i = 0; i < 6; i++) {
        const r = await s.api('GET', '/readyz');
        if (r.status !== 200) return false;
      }
      return true;
    }, { timeout: 20000, interval: 200, what: '/readyz 200 after restart' });
    // ready means the function libraries are there again
    const libs = await s.redis.cmd('FUNCTION', 'LIST');
    assert.ok(JSON.stringify(libs).includes('tenancy'), JSON.stringify(libs));
    assert.doesNotMatch(s.nginx.errorLog(), /exited on signal|\[alert\]/);
  });

test('the shipped configuration wires the probes and the log format', () => {
  const conf = readFileSync(path.join(ROOT, 'conf', 'nginx.conf.in'), 'utf8');
  assert.match(conf, /location = \/livez \{\s*echostream_livez;/);
  assert.match(conf, /location = \/readyz \{\s*echostream_readyz;/);
  assert.match(conf, /\$echostream_tenant/);
  assert.match(conf, /access_log \S+ echostream;/);
});
