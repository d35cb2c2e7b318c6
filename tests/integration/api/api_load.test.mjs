// api_load.test.mjs - the API under load: 10,000 requests under wrk with
// valid tokens and not one non-2xx answer; Redis killed (-9) and restarted
// while clients keep asking: every answer is 200 or a 503 JSON error, never
// a crash or a dropped connection, and the API recovers by itself.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { startApiStack } from '../../lib/api.mjs';
import { sleep, startProc, waitFor } from '../../lib/harness.mjs';

let s;
let user;
let series;

before(async () => {
  s = await startApiStack({ extraConf: '    echostream_redis_timeout 500;' });
  user = await s.cognito.user('load@load.test');
  const me = await s.api('GET', '/api/v1/me', { token: user.idToken });
  assert.equal(me.status, 200);
  const { tenant } = me.json;
  await s.redis.cmd('HSET', `es:{t:${tenant}}:topics`, 'rust',
    JSON.stringify({ id: 'rust', name: 'Rust', subreddits: ['rust'],
                     query: '' }));
  // a day of hourly data, as the enrich worker writes it
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const fields = [];
  for (let h = 0; h < 24; h++) {
    const hh = String(h).padStart(2, '0');
    fields.push(`${hh}:n`, '10', `${hh}:pos`, '6', `${hh}:neg`, '2',
      `${hh}:neu`, '2', `${hh}:mix`, '0', `${hh}:cs`, '12345');
  }
  await s.redis.cmd('HSET', `es:{t:${tenant}}:ts:rust:h:${day}`, ...fields);
  series = '/api/v1/topics/rust/series?step=hour';
  const r = await s.api('GET', series, { token: user.idToken });
  assert.equal(r.status, 200, r.text);
});

after(async () => {
  await s?.stop();
});

function crashed() {
  return /exited on signal|\[alert\]/.test(s.nginx.errorLog());
}

test('10,000 requests under wrk: zero non-2xx answers', async () => {
  const p = startProc('wrk', ['-t2', '-c32', '-d6s', '--latency',
    '-H', `Authorization: Bearer ${user.accessToken}`, `${s.base}${series}`],
  { name: 'wrk' });
  const { code } = await p.exited;
  const out = p.output();
  assert.equal(code, 0, out);
  const total = Number(/(\d+) requests in/.exec(out)?.[1]);
  assert.ok(total >= 10000, `only ${total} requests:\n${out}`);
  assert.doesNotMatch(out, /Non-2xx or 3xx responses/, out);
  assert.doesNotMatch(out, /Socket errors/, out);
  assert.ok(!crashed());
});

// Sends GETs with concurrency n until stop() is called; counts statuses.
function load(path, token, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n });
  const counts = {};
  const bad = [];
  let running = true;
  const one = () => new Promise((resolve) => {
    const req = http.get(`${s.base}${path}`, { agent,
      headers: { Authorization: `Bearer ${token}` } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        counts[res.statusCode] = (counts[res.statusCode] || 0) + 1;
        if (res.statusCode !== 200) {
          let code;
          try { code = JSON.parse(Buffer.concat(chunks)).error.code; } catch {
            code = 'not json';
          }
          if (res.statusCode !== 503 || code !== 'unavailable') {
            bad.push(`${res.statusCode} ${code}`);
          }
        }
        resolve();
      });
    });
    req.on('error', (e) => { bad.push(e.message); resolve(); });
  });
  const loops = Array.from({ length: n }, async () => {
    while (running) await one();
  });
  return {
    counts, bad,
    async stop() { running = false; await Promise.all(loops); agent.destroy(); },
  };
}

test('Redis killed and restarted under load', async () => {
  const l = load(series, user.idToken, 16);
  await sleep(800);
  await s.redis.kill9();
  await sleep(1500);
  await s.redis.restart();
  await waitFor(async () => (await s.api('GET', series,
    { token: user.idToken })).status === 200,
  { timeout: 15000, interval: 200, what: 'series answering again' });
  const seen = { ...l.counts };
  await sleep(800);
  await l.stop();
  assert.deepEqual(l.bad, [], 'only 200 and 503 unavailable');
  assert.ok(seen[503] > 0, `503 while Redis was down: ${JSON.stringify(seen)}`);
  assert.ok(l.counts[200] > (seen[200] || 0), 'answers 200 again');
  assert.ok(!crashed(), 'no worker crashed');
});
