// api_series_cache.test.mjs - the per-worker cache of /topics/{id}/series
// answers is never stale: new counts with a data-version bump, a deleted
// topic and a changed topic are all seen by the very next request, tenants
// never share entries, and the cache holds no more entries than configured.
//
// What the module does for a request is read off Redis itself: a MONITOR
// connection records every command, and an ECHO marker after each request
// closes its share of the record (Redis runs commands in order, so the
// marker comes after everything the request sent). A request whose answer
// was read sends HMGET/HGETALL of the bucket hashes ("read"); one answered
// from the cache sends only HEXISTS and GET of the data version ("check").
// Each test talks through one keep-alive connection, so one nginx worker
// (one cache) answers all its requests.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';

import { signToken, startApiStack } from '../../lib/api.mjs';
import { waitFor } from '../../lib/harness.mjs';
import { nginxConfTest } from '../../lib/nginx.mjs';
import { validateResponse } from '../../lib/openapi.mjs';

const HOUR = 3600000;
const pad = (n) => String(n).padStart(2, '0');

let s;
let monitor;
const tokens = {};

// A MONITOR connection: every command Redis runs, as its raw line.
async function startMonitor(port) {
  const sock = net.createConnection(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const m = { lines: [], sock, rest: '', seq: 0 };
  sock.on('data', (d) => {
    const parts = (m.rest + d.toString('utf8')).split('\r\n');
    m.rest = parts.pop();
    m.lines.push(...parts);
  });
  sock.on('error', () => {});
  sock.write('MONITOR\r\n');
  await waitFor(() => m.lines.includes('+OK'), { what: 'MONITOR' });
  return m;
}

// The commands Redis ran since the last mark, up to a new one.
async function commandsSinceMark() {
  const mark = `series-cache-mark-${++monitor.seq}`;
  await s.redis.cmd('ECHO', mark);
  await waitFor(() => monitor.lines.some((l) => l.includes(mark)),
    { what: `monitor mark ${mark}` });
  const i = monitor.lines.findIndex((l) => l.includes(mark));
  const got = monitor.lines.slice(0, i);
  monitor.lines = monitor.lines.slice(i + 1);
  return got;
}

// One client: a keep-alive connection of its own (one nginx worker).
function client() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    // {status, json, text, did: "read" | "check" | "none"}, as tenant t
    async get(t, path) {
      await commandsSinceMark();
      const res = await new Promise((resolve, reject) => {
        const req = http.request(`${s.base}${path}`, {
          agent, headers: { Authorization: `Bearer ${tokens[t]}` },
          timeout: 10000,
        }, (r) => {
          const chunks = [];
          r.on('data', (d) => chunks.push(d));
          r.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try { json = JSON.parse(text); } catch { json = undefined; }
            resolve({ status: r.statusCode, headers: r.headers, text, json });
          });
          r.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${path}: timeout`)));
        req.on('error', reject);
        req.end();
      });
      validateResponse('GET', path, res);
      const cmds = (await commandsSinceMark())
        .filter((l) => l.includes(`{t:${t}}`));
      const read = cmds.some((l) => l.includes(':ts:'));
      const check = cmds.some((l) => l.includes(`"GET" "es:{t:${t}}:dv"`));
      res.did = read ? 'read' : (check ? 'check' : 'none');
      return res;
    },
    close() { agent.destroy(); },
  };
}

// Sets the six counters of the hour bucket starting at ms.
async function setHour(t, topic, ms, n, pos, cs) {
  const d = new Date(ms);
  const key = `es:{t:${t}}:ts:${topic}:h:${d.getUTCFullYear()}${
    pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
  const hh = pad(d.getUTCHours());
  await s.redis.cmd('HSET', key, `${hh}:n`, n, `${hh}:pos`, pos,
    `${hh}:neg`, n - pos, `${hh}:neu`, 0, `${hh}:mix`, 0, `${hh}:cs`, cs);
  await s.redis.cmd('EXPIRE', key, 3 * 86400);
}

// The six hours ending with the current one, as query arguments.
function range(shiftS = 0) {
  const hour = Math.floor(Date.now() / HOUR) * HOUR;
  const from = hour - 5 * HOUR;
  return { from, hour,
    q: `from=${from / 1000}&to=${(hour + HOUR) / 1000 - 60 + shiftS}` };
}

const counts = (res) => res.json.points.map((p) => p.n);

async function api(t, method, path, body) {
  const r = await s.api(method, `/api/v1${path}`, { token: tokens[t], body });
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r;
}

before(async () => {
  // tenants named through the claim (echostream_tenant_claim on)
  s = await startApiStack({ extraConf: '    echostream_series_cache 2;',
                           tenantClaim: true });
  for (const t of ['ca', 'cb']) {
    tokens[t] = signToken(s.cognito.idClaims({ sub: `owner-${t}`,
      'custom:tenant_id': t }));
    const me = await s.api('GET', '/api/v1/me', { token: tokens[t] });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual([me.json.tenant, me.json.role], [t, 'owner']);
  }
  monitor = await startMonitor(s.redis.port);
});

after(async () => {
  monitor?.sock.destroy();
  await s?.stop();
});

test('a repeated request is answered from the cache after one check',
  async () => {
    await api('ca', 'POST', '/topics', { id: 'rep', name: 'Rep',
      subreddits: ['rust'] });
    const { hour, q } = range();
    await setHour('ca', 'rep', hour - HOUR, 7, 5, 7 * 2500);
    const c = client();
    try {
      const path = `/api/v1/topics/rep/series?${q}`;
      const first = await c.get('ca', path);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.did, 'read');
      assert.deepEqual(counts(first), [0, 0, 0, 0, 7, 0]);
      assert.equal(first.json.points[4].compound, 0.25);

      const again = await c.get('ca', path);
      assert.equal(again.did, 'check');
      assert.equal(again.text, first.text);

      // another "to" in the same last bucket: the same points, its own "to"
      const later = await c.get('ca', `/api/v1/topics/rep/series?${
        range(30).q}`);
      assert.equal(later.did, 'check');
      assert.deepEqual(later.json.points, first.json.points);
      assert.equal(Date.parse(later.json.to) - Date.parse(first.json.to),
        30000);
    } finally {
      c.close();
    }
  });

test('new counts with a data version bump are answered at once', async () => {
  await api('ca', 'POST', '/topics', { id: 'fresh', name: 'Fresh',
    subreddits: ['rust'] });
  const { hour, q } = range();
  await setHour('ca', 'fresh', hour, 3, 3, 3 * 9000);
  const c = client();
  try {
    const path = `/api/v1/topics/fresh/series?${q}`;
    assert.deepEqual(counts(await c.get('ca', path)), [0, 0, 0, 0, 0, 3]);

    // the version, not the clock, decides: counts written without a bump
    // (which the enrich worker never does) are not looked for
    await setHour('ca', 'fresh', hour, 4, 4, 4 * 9000);
    const unchanged = await c.get('ca', path);
    assert.equal(unchanged.did, 'check');
    assert.deepEqual(counts(unchanged), [0, 0, 0, 0, 0, 3]);

    // what enrich does: write, then INCR the tenant's data version
    await setHour('ca', 'fresh', hour - 2 * HOUR, 2, 1, 0);
    await s.redis.cmd('INCR', 'es:{t:ca}:dv');
    const fresh = await c.get('ca', path);
    assert.equal(fresh.did, 'read');
    assert.deepEqual(counts(fresh), [0, 0, 0, 2, 0, 4]);
    assert.deepEqual(fresh.json.points[3], { t: new Date(hour - 2 * HOUR)
      .toISOString().replace('.000Z', 'Z'), n: 2, positive: 1, negative: 1,
      neutral: 0, mixed: 0, compound: 0.0 });
    assert.equal((await c.get('ca', path)).did, 'check');
  } finally {
    c.close();
  }
});

test('a tenant without a data version yet is cached, and a first bump counts',
  async () => {
    // a topic written straight into Redis: no function call, no counter
    await s.redis.cmd('HSET', 'es:{t:cb}:topics', 'raw', JSON.stringify(
      { id: 'raw', name: 'Raw', subreddits: ['rust'], query: '' }));
    assert.equal(await s.redis.cmd('EXISTS', 'es:{t:cb}:dv'), 0);
    const { hour, q } = range();
    await setHour('cb', 'raw', hour, 1, 1, 5000);
    const c = client();
    try {
      const path = `/api/v1/topics/raw/series?${q}`;
      assert.equal((await c.get('cb', path)).did, 'read');
      assert.equal((await c.get('cb', path)).did, 'check');
      await setHour('cb', 'raw', hour, 6, 6, 30000);
      await s.redis.cmd('INCR', 'es:{t:cb}:dv');
      const fresh = await c.get('cb', path);
      assert.equal(fresh.did, 'read');
      assert.deepEqual(counts(fresh), [0, 0, 0, 0, 0, 6]);
    } finally {
      c.close();
    }
  });

test('a deleted topic is 404 at once, by the API or behind its back',
  async () => {
    const { hour, q } = range();
    const c = client();
    try {
      await api('ca', 'POST', '/topics', { id: 'gone', name: 'Gone',
        subreddits: ['rust'] });
      await setHour('ca', 'gone', hour, 9, 9, 0);
      const path = `/api/v1/topics/gone/series?${q}`;
      assert.equal((await c.get('ca', path)).status, 200);
      assert.equal((await c.get('ca', path)).did, 'check');

      await api('ca', 'DELETE', '/topics/gone');
      let r = await c.get('ca', path);
      assert.equal(r.status, 404, r.text);
      assert.equal(r.json.error.code, 'not_found');

      // back again, then removed without any function (no version bump)
      await api('ca', 'POST', '/topics', { id: 'gone', name: 'Gone',
        subreddits: ['rust'] });
      r = await c.get('ca', path);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.did, 'read');
      assert.equal((await c.get('ca', path)).did, 'check');
      await s.redis.cmd('HDEL', 'es:{t:ca}:topics', 'gone');
      r = await c.get('ca', path);
      assert.equal(r.status, 404, r.text);
    } finally {
      c.close();
    }
  });

test('a changed topic is read afresh', async () => {
  const { hour, q } = range();
  const c = client();
  try {
    await api('ca', 'POST', '/topics', { id: 'chg', name: 'Change',
      subreddits: ['rust'] });
    await setHour('ca', 'chg', hour, 2, 2, 0);
    const path = `/api/v1/topics/chg/series?${q}`;
    assert.deepEqual(counts(await c.get('ca', path)), [0, 0, 0, 0, 0, 2]);
    assert.equal((await c.get('ca', path)).did, 'check');

    const dv = Number(await s.redis.cmd('GET', 'es:{t:ca}:dv'));
    await setHour('ca', 'chg', hour, 8, 8, 0);
    await api('ca', 'PUT', '/topics/chg', { name: 'Change',
      subreddits: ['rust', 'golang'] });
    assert.equal(Number(await s.redis.cmd('GET', 'es:{t:ca}:dv')), dv + 1);
    const r = await c.get('ca', path);
    assert.equal(r.did, 'read');
    assert.deepEqual(counts(r), [0, 0, 0, 0, 0, 8]);

    await setHour('ca', 'chg', hour, 11, 11, 0);
    await api('ca', 'PATCH', '/topics/chg', { name: 'Changed' });
    assert.deepEqual(counts(await c.get('ca', path)), [0, 0, 0, 0, 0, 11]);
  } finally {
    c.close();
  }
});

test('tenants never share entries', async () => {
  const { hour, q } = range();
  for (const [t, n] of [['ca', 5], ['cb', 50]]) {
    await api(t, 'POST', '/topics', { id: 'same', name: 'Same',
      subreddits: ['rust'] });
    await setHour(t, 'same', hour, n, n, 0);
  }
  // one connection, two tenants' tokens: the same worker and cache
  const c = client();
  try {
    const path = `/api/v1/topics/same/series?${q}`;
    for (let i = 0; i < 2; i++) {
      const ra = await c.get('ca', path);
      assert.deepEqual(counts(ra), [0, 0, 0, 0, 0, 5]);
      const rb = await c.get('cb', path);
      assert.deepEqual(counts(rb), [0, 0, 0, 0, 0, 50]);
      assert.equal(ra.did, i === 0 ? 'read' : 'check');
      assert.equal(rb.did, i === 0 ? 'read' : 'check');
    }
  } finally {
    c.close();
  }
});

test('the cache holds at most its configured entries, least recent out',
  async () => {
    await api('ca', 'POST', '/topics', { id: 'lru', name: 'LRU',
      subreddits: ['rust'] });
    const { hour, from } = range();
    await setHour('ca', 'lru', hour, 1, 1, 0);
    const c = client();
    try {
      // three answers (echostream_series_cache 2): A, B, C
      const at = (k) => `/api/v1/topics/lru/series?from=${from / 1000}&to=${
        (hour + HOUR) / 1000 - k * HOUR / 1000}`;
      const seq = ['A', 'B', 'A', 'C', 'A', 'B', 'A', 'C'];
      const paths = { A: at(0), B: at(1), C: at(2) };
      const did = [];
      for (const k of seq) did.push((await c.get('ca', paths[k])).did);
      assert.deepEqual(did, ['read', 'read', 'check', 'read', 'check', 'read',
        'check', 'read']);
    } finally {
      c.close();
    }
  });

test('echostream_series_cache 0 turns the cache off', async () => {
  const off = await startApiStack({ redis: s.redis, cognito: s.cognito,
    extraConf: '    echostream_series_cache 0;', tenantClaim: true });
  const saved = s.base;
  s.base = off.base;
  const c = client();
  try {
    const path = `/api/v1/topics/rep/series?${range().q}`;
    assert.equal((await c.get('ca', path)).did, 'read');
    assert.equal((await c.get('ca', path)).did, 'read');
  } finally {
    c.close();
    s.base = saved;
    await off.stop();
  }
});

test('nginx -t refuses bad echostream_series_cache values', async () => {
  const api = [
    '    echostream_issuer http://127.0.0.1:9/pool;',
    '    echostream_client_ids abc;',
  ].join('\n');
  const server = '        location /api/v1/ { echostream_api; }';
  const good = await nginxConfTest({ serverConf: server, extraConf:
    `${api}\n    echostream_series_cache 100 max_size=1m;` });
  assert.ok(good.ok, good.output);
  for (const [line, re] of [
    ['echostream_series_cache lots;',
      /"echostream_series_cache" needs a number/],
    ['echostream_series_cache 10 size=1m;', /takes "max_size=SIZE"/],
    ['echostream_series_cache 10 max_size=1k;', /max_size must be between/],
    ['echostream_series_cache 1;\n    echostream_series_cache 2;',
      /"echostream_series_cache" directive is duplicate/],
  ]) {
    const r = await nginxConfTest({ serverConf: server,
      extraConf: `${api}\n    ${line}` });
    assert.equal(r.ok, false, line);
    assert.match(r.output, re);
  }
});
