// tenants.mjs - helpers for the tenant isolation tests: the API's route
// table as the module defines it, an exact snapshot of everything Redis
// holds for one tenant, and a Server-Sent Events reader for /stream.
//
// The route table is parsed from the module's own source, not copied, so
// a route added later without an isolation check makes the test fail
// instead of passing unnoticed. Snapshots compare keys both in a readable
// form (so a failure shows what changed) and byte for byte (DUMP, done
// inside Redis and hex-encoded, since the test's RESP client decodes bulk
// strings as UTF-8 and would blur binary differences).

import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { ROOT, waitFor } from './harness.mjs';

export const ROUTES_SOURCE = path.join(ROOT, 'ngx_echostream_module', 'routes',
                                       'ngx_http_echostream_routes.c');

// Every row of the module's route table as "METHOD /pattern" strings, in
// table order. An item kind's ITEM_ROUTES("/path", …) row stands for the
// rows its macro expands to, read from the macro itself. Throws when the
// file holds no table (a renamed macro must not make the coverage check
// pass vacuously).
export function moduleRoutes(file = ROUTES_SOURCE) {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('ngx_http_echostream_routes[]');
  const macro = text.slice(text.indexOf('#define ITEM_ROUTES('), start);
  const itemRows = [...macro.matchAll(
    /ITEM\(\s*(GET|POST|PUT|PATCH|DELETE)\s*,\s*p(?:\s*"([^"]*)")?\s*,/g)]
    .map((m) => [m[1], m[2] ?? '']);
  const out = [];
  for (const m of text.slice(start).matchAll(
    /(ITEM_ROUTES|ROUTE)\(\s*(?:(GET|POST|PUT|PATCH|DELETE)\s*,\s*)?"([^"]+)"/g)) {
    if (m[1] === 'ROUTE') {
      out.push(`${m[2]} ${m[3]}`);
      continue;
    }
    if (itemRows.length === 0) {
      throw new Error(`${file}: ITEM_ROUTES used but its macro not found`);
    }
    for (const [method, suffix] of itemRows) out.push(`${method} ${m[3]}${suffix}`);
  }
  if (out.length === 0) throw new Error(`${file}: no ROUTE(...) rows found`);
  return out;
}

// True when the concrete path (no query, without /api/v1) matches the
// pattern's segments ("{…}" = one non-empty segment).
export function pathMatches(pattern, reqPath) {
  const p = pattern.split('/');
  const r = reqPath.split('?')[0].split('/');
  if (p.length !== r.length) return false;
  return p.every((seg, i) => (/^\{.+\}$/.test(seg) ? r[i].length > 0
                                                   : seg === r[i]));
}

// All keys matching a glob pattern, sorted.
export async function scanKeys(redis, pattern) {
  let cursor = '0';
  const keys = new Set();
  do {
    const [next, batch] = await redis.cmd('SCAN', cursor, 'MATCH', pattern,
                                          'COUNT', 1000);
    cursor = next;
    for (const k of batch) keys.add(k);
  } while (cursor !== '0');
  return [...keys].sort();
}

// For each key: its type, its DUMP as hex and its absolute expiry in ms
// (-1 none, -2 missing), computed inside Redis in one step.
const DUMP_SCRIPT = `
local out = {}
for i, k in ipairs(KEYS) do
  local d = redis.call('DUMP', k)
  local hex = ''
  if d then
    hex = string.gsub(d, '.', function(c)
      return string.format('%02x', string.byte(c)) end)
  end
  out[i] = {redis.call('TYPE', k)['ok'], hex, redis.call('PEXPIRETIME', k)}
end
return out`;

const pairsToObject = (arr) => {
  const o = {};
  for (let i = 0; i < arr.length; i += 2) o[arr[i]] = arr[i + 1];
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) =>
    (a < b ? -1 : a > b ? 1 : 0)));
};

// A readable copy of one key's value, by type.
async function readKey(redis, key, type) {
  switch (type) {
    case 'string': return redis.cmd('GET', key);
    case 'hash': return pairsToObject(await redis.cmd('HGETALL', key));
    case 'set': return (await redis.cmd('SMEMBERS', key)).sort();
    case 'zset': return redis.cmd('ZRANGE', key, 0, -1, 'WITHSCORES');
    case 'list': return redis.cmd('LRANGE', key, 0, -1);
    case 'stream': return redis.cmd('XRANGE', key, '-', '+');
    default: return `<${type}>`;
  }
}

// Snapshot of a list of keys: {readable: {key: {type, value, expire}},
// dumps: {key: hex}}. Missing keys are left out.
export async function snapshotKeys(redis, keys) {
  const readable = {};
  const dumps = {};
  if (keys.length === 0) return { readable, dumps };
  const rows = await redis.cmd('EVAL', DUMP_SCRIPT, keys.length, ...keys);
  for (let i = 0; i < keys.length; i++) {
    const [type, hex, expire] = rows[i];
    if (type === 'none') continue;
    readable[keys[i]] = { type, expire,
                          value: await readKey(redis, keys[i], type) };
    dumps[keys[i]] = hex;
  }
  return { readable, dumps };
}

// Everything Redis holds for tenant: every key with its hash tag, the
// records of its users (subs), its fields of the per-e-mail invites,
// and its entry in the set of all tenants.
export async function snapshotTenant(redis, tenant, subs) {
  const keys = await scanKeys(redis, `es:{t:${tenant}}:*`);
  for (const sub of subs) keys.push(`es:{users}:${sub}`);
  const invites = {};
  for (const k of await scanKeys(redis, 'es:{invites}:*')) {
    // the tenant's own field of the per-e-mail hash (other tenants may
    // invite the same address, and that is not a change of this tenant)
    const v = await redis.cmd('HGET', k, tenant);
    if (v !== null) invites[k] = v;
  }
  const snap = await snapshotKeys(redis, keys);
  snap.invites = invites;
  snap.listed = await redis.cmd('SISMEMBER', 'es:{tenants}:all', tenant);
  return snap;
}

// Opens GET /api/v1/stream. Resolves once the answer's head arrived (and,
// for a 200, the first block: the retry hint). The returned object
// collects events[] ({event, id, data, comment} per block) and text;
// close() ends it.
export function openStream(base, token, { lastEventId } = {}) {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: `Bearer ${token}`,
                      Accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
    const st = { events: [], text: '', closed: false };
    const req = http.request(`${base}/api/v1/stream`, { headers,
                                                        agent: false },
    (res) => {
      st.status = res.statusCode;
      st.headers = res.headers;
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d) => {
        st.text += d;
        buf += d;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              ev.comment = line.slice(1).trim();
              continue;
            }
            const k = line.indexOf(':');
            const name = line.slice(0, k);
            const v = line.slice(k + 1).replace(/^ /, '');
            ev[name] = ev[name] === undefined ? v : `${ev[name]}\n${v}`;
          }
          st.events.push(ev);
        }
      });
      const done = () => { st.closed = true; };
      res.on('end', done);
      res.on('error', done);
      if (res.statusCode !== 200) {
        res.on('end', () => resolve(st));
        return;
      }
      waitFor(() => st.events.length > 0, { what: 'stream start' })
        .then(() => resolve(st), reject);
    });
    req.on('error', (e) => {
      st.closed = true;
      if (st.status === undefined) reject(e);
    });
    req.end();
    st.close = () => req.destroy();
  });
}

// The comment events of a stream, data parsed.
export const streamComments = (st) => st.events
  .filter((e) => e.event === 'comment')
  .map((e) => ({ id: e.id, comment: JSON.parse(e.data) }));
