// api_export_stream.test.mjs - the two long-lived answers of the API:
// /export.csv (a topic's comments as streamed CSV) and /stream (newly
// enriched comments as Server-Sent Events).
//
// Real nginx with the module, real Redis, cognito-local tokens. The data is
// what the enrich worker writes (per-comment records in hour buckets, the
// topics' recent entries, entries {ids: "a,b", hours} on the tenant's live
// stream), written here directly (tests/lib/records.mjs) so each case
// controls exactly what is there: records with quotes, line breaks and
// formula-like text, tombstones, garbage, ties on one millisecond, and
// 20,000 comments for an export that must arrive in many chunks without
// the worker's memory growing with it. Clients that
// read slowly or go away mid-answer must leave nginx healthy; Redis
// stopping under a stream must give one error event and then the stream
// must recover on the same connection.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';

import { startApiStack } from '../../lib/api.mjs';
import { openapi, validateResponse } from '../../lib/openapi.mjs';
import { setTenant } from '../../lib/enrich.mjs';
import { sleep, waitFor } from '../../lib/harness.mjs';
import {
  SEP, hourOf, recentEntry, tenantBucket, tombstone, writeRecord, writeRecords,
} from '../../lib/records.mjs';

const BIG = 20000;
const HEADER = 'id,created_utc,subreddit,author,label,compound,pos,neg,neu,'
  + 'engine,score,permalink,body';

let s;
let users;
let keepaliveWatch;

const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString()
  .replace('.000Z', 'Z');

// acme keeps comments 90 days (readers see no further back than the
// retention): the crafted comments are older than the export's default
// range of 30 days
const RETENTION_DAYS = 90;

// comment c as a record-like object (tests/lib/records.mjs)
function record(c) {
  return {
    id: c.id, topics: c.topics || ['csv'], label: c.label || 'positive',
    compound: c.compound ?? 0.6369, neg: c.neg ?? 0, neu: c.neu ?? 0.58,
    pos: c.pos ?? 0.42, engine: c.engine || 'vader', created: c.ms,
    subreddit: c.subreddit || 'rust', author: c.author ?? 'alice',
    body: c.body ?? 'hello',
    permalink: c.permalink ?? `/r/rust/comments/p/x/${c.id}/`,
    link_title: c.link_title ?? 'A post', score: c.score ?? '7',
  };
}

// Stored tenant parts no worker writes: one that makes no JSON (its cs
// is no number) and one outside the API's schema (a share of 9.9999).
const DAMAGED = {
  garbage: (r) => [r.topics.join(','), 'c', '0', 'p', 'garbage{', '', '0', '0',
    '0'].join(SEP),
  foreign: (r) => [r.topics.join(','), 'c', '0', 'p', '5000', '', '99999', '0',
    '0'].join(SEP),
};

// the creation time of every comment put, for the live entries
const createdOf = new Map();

// Puts comments: records (c.stored: 'tombstone' for a deleted one, null
// for none, 'garbage' or 'foreign' for a damaged one) and, when topic is
// given, their entries in its recent index.
async function putComments(tenant, topic, list) {
  for (const c of list) {
    const r = record(c);
    createdOf.set(c.id, c.ms);
    if (c.stored === null) {
      if (topic) {
        await s.redis.cmd('APPEND', `es:{t:${tenant}}:rc:${topic}:${hourOf(c.ms)}`,
          recentEntry(r));
      }
      continue;
    }
    await writeRecord(s.redis, tenant, r, { ret: RETENTION_DAYS * 86400,
                                           recent: Boolean(topic) });
    if (c.stored === 'tombstone') await tombstone(s.redis, tenant, c.id, c.ms);
    if (DAMAGED[c.stored]) {
      await s.redis.cmd('HSET', await tenantBucket(s.redis, tenant, c.id, c.ms),
        c.id, DAMAGED[c.stored](r));
    }
  }
}

before(async () => {
  // tenants named through the claim (echostream_tenant_claim on)
  s = await startApiStack({ tenantClaim: true });
  users = {
    acme: await s.cognito.user('owner@acme-export.test', { tenant: 'acme' }),
    beta: await s.cognito.user('owner@beta-export.test', { tenant: 'beta' }),
    gamma: await s.cognito.user('owner@gamma-export.test',
      { tenant: 'gamma' }),
  };
  for (const [t, u] of Object.entries(users)) {
    const me = await s.api('GET', '/api/v1/me', { token: u.idToken });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.tenant, t);
  }
  const topic = (id) => ({ id, name: id, subreddits: ['rust'], query: '' });
  await setTenant(s.redis, 'acme', [topic('csv'), topic('big'),
                                    topic('empty')],
                 { retention_days: String(RETENTION_DAYS) });
  await setTenant(s.redis, 'beta', [topic('other')]);
  // a stream of a tenant without comments, to see its keepalive at the end
  keepaliveWatch = await openStream('gamma');
});

after(async () => {
  keepaliveWatch?.close();
  await s?.stop();
});

function crashed() {
  return /exited on signal|\[alert\]/.test(s.nginx.errorLog());
}

// --- CSV -----------------------------------------------------------------

function num(x) {
  let t = x.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
  if (t === '-0') t = '0';
  return t;
}

// what a spreadsheet may run: a tab or CR first, or = + - @ (ASCII or
// fullwidth) after leading white space (ASCII, no-break, U+2000-200B,
// U+202F, U+205F, ideographic, BOM)
const FORMULA =
  /^(?:[\t\r]|[ \t\r\n\v\f\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20])/;

function cell(v, guard = true) {
  let t = String(v);
  if (guard && FORMULA.test(t)) t = `'${t}`;
  return /[",\r\n]/.test(String(v)) ? `"${t.replace(/"/g, '""')}"` : t;
}

function csvRow(c) {
  return [cell(c.id), cell(iso(c.ms)), cell(c.subreddit || 'rust'),
    cell(c.author ?? 'alice'), cell(c.label || 'positive'),
    num(c.compound ?? 0.6369), num(c.pos ?? 0.42), num(c.neg ?? 0),
    num(c.neu ?? 0.58), cell(c.engine || 'vader'), String(Number(c.score ?? 7)),
    cell(c.permalink ?? `/r/rust/comments/p/x/${c.id}/`), cell(c.body ?? 'hello'),
  ].join(',');
}

// A GET over a raw socket, so the chunks of the body can be counted.
// onBody(bytesSoFar, socket) sees the body grow. Resolves {status,
// headers, chunks, body (Buffer)} or rejects when the socket dies early.
function rawGet(path, token, { onBody, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(s.nginx.port, '127.0.0.1');
    const got = [];
    let length = 0;
    sock.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      sock.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n` +
        `Authorization: Bearer ${token}\r\n${extra}Connection: close\r\n\r\n`);
    });
    sock.on('data', (d) => {
      got.push(d);
      length += d.length;
      onBody?.(length, sock);
    });
    sock.on('error', reject);
    sock.on('close', () => {
      const buf = Buffer.concat(got);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error('no response head'));
      const head = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const hdrs = {};
      for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        hdrs[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      let rest = buf.subarray(end + 4);
      if (hdrs['transfer-encoding'] !== 'chunked') {
        return resolve({ status, headers: hdrs, chunks: 0, body: rest,
                         complete: true });
      }
      const parts = [];
      let chunks = 0;
      let complete = false;
      for (;;) {
        const nl = rest.indexOf('\r\n');
        if (nl < 0) break;
        const size = parseInt(rest.subarray(0, nl).toString('latin1'), 16);
        if (size === 0) { complete = true; break; }
        if (rest.length < nl + 2 + size + 2) break;
        parts.push(rest.subarray(nl + 2, nl + 2 + size));
        chunks++;
        rest = rest.subarray(nl + 2 + size + 2);
      }
      resolve({ status, headers: hdrs, chunks, body: Buffer.concat(parts),
                complete });
    });
  });
}

// RFC 4180 parser: rows of cells
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cellText = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cellText += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      cellText += ch; i++; continue;
    }
    if (ch === '"') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(cellText); cellText = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cellText); rows.push(row); row = []; cellText = ''; i += 2;
      continue;
    }
    cellText += ch; i++;
  }
  assert.equal(cellText, '', 'the file ends with CRLF');
  assert.equal(row.length, 0);
  return rows;
}

// 60 days ago, on a whole second: outside the default range of 30 days
const T0 = Math.floor((Date.now() - 60 * 86400000) / 1000) * 1000;

const CRAFTED = [
  { id: 'a1', ms: T0 + 1000, body: 'plain words' },
  { id: 'a2', ms: T0 + 2000, author: 'bob', body: 'He said "hi", then\nleft',
    label: 'negative', compound: -0.4215, pos: 0, neg: 0.31, neu: 0.69 },
  { id: 'a3', ms: T0 + 3000, author: '-dash-', body: '=HYPERLINK("http://x")',
    label: 'mixed', compound: 0.05, pos: 0.3, neg: 0.3, neu: 0.4 },
  { id: 'a4', ms: T0 + 4000, body: '+1 and more', link_title: 'x,y',
    score: '-3' },
  { id: 'a5', ms: T0 + 5000, body: '@everyone look', engine: 'comprehend' },
  { id: 'a6', ms: T0 + 6000, body: '\tindented\r\nand a CR', label: 'neutral',
    compound: 0, pos: 0, neg: 0, neu: 1 },
  { id: 'a7', ms: T0 + 7000, body: 'héllo – ✓ 日本 🚀', author: 'ünï' },
  // one millisecond, two comments: byte order of the id
  { id: 'b2', ms: T0 + 8000, body: 'tie two' },
  { id: 'b1', ms: T0 + 8000, body: 'tie one' },
  // skipped: a tombstone, a missing record, garbage, a foreign shape
  { id: 'd1', ms: T0 + 9000, stored: 'tombstone', skip: true },
  { id: 'd2', ms: T0 + 9100, stored: null, skip: true },
  { id: 'd3', ms: T0 + 9200, stored: 'garbage', skip: true },
  { id: 'd4', ms: T0 + 9300, stored: 'foreign', skip: true },
  { id: 'a8', ms: T0 + 10000, body: 'last one' },
  // formulas behind white space or in fullwidth forms
  { id: 'f1', ms: T0 + 11000, body: ' =1+1' },
  { id: 'f2', ms: T0 + 11100, body: '\n=cmd|" /C calc"!A0' },
  { id: 'f3', ms: T0 + 11200, body: '\uff1dSUM(A1:A9)' },
  { id: 'f4', ms: T0 + 11300, body: '\u3000\uff0b1', author: '\uff20who' },
  { id: 'f5', ms: T0 + 11400, body: '\u00a0 \uff0d2' },
  { id: 'f6', ms: T0 + 11500, body: '   ' },
  { id: 'f7', ms: T0 + 11600, body: ' plain after a space' },
  // outside [from, to)
  { id: 'e1', ms: T0 - 1, body: 'too early', skip: true },
  { id: 'e2', ms: T0 + 20000, body: 'at "to": excluded', skip: true },
];

test('export: header, order, RFC 4180 quoting, formula guard, range',
  async () => {
    await putComments('acme', 'csv', CRAFTED);
    const from = T0 / 1000;
    const to = (T0 + 20000) / 1000;
    const path = `/api/v1/export.csv?topic=csv&from=${from}&to=${to}`;
    const r = await s.api('GET', path, { token: users.acme.idToken });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-type'], 'text/csv; charset=utf-8');
    assert.equal(r.headers['content-disposition'],
      'attachment; filename="csv.csv"');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['content-length'], undefined);
    assert.equal(r.headers['cache-control'], 'no-store');

    // oldest first; one millisecond in byte order of the id (b1, b2)
    const want = CRAFTED.filter((c) => !c.skip)
      .sort((a, b) => a.ms - b.ms || (a.id < b.id ? -1 : 1));
    assert.deepEqual(want.map((c) => c.id).slice(7, 9), ['b1', 'b2']);
    const expected = [HEADER, ...want.map(csvRow)].join('\r\n') + '\r\n';
    assert.equal(r.text, expected);

    // and what a spreadsheet reads back
    const rows = parseCsv(r.text);
    assert.deepEqual(rows[0], HEADER.split(','));
    assert.deepEqual(rows.slice(1).map((x) => x[0]), want.map((c) => c.id));
    const byId = Object.fromEntries(rows.slice(1).map((x) => [x[0], x]));
    assert.equal(byId.a2[12], 'He said "hi", then\nleft');
    assert.equal(byId.a2[5], '-0.4215', 'numbers are not guarded');
    assert.equal(byId.a3[12], '\'=HYPERLINK("http://x")');
    assert.equal(byId.a3[3], '\'-dash-');
    assert.equal(byId.a4[12], '\'+1 and more');
    assert.equal(byId.a4[10], '-3');
    assert.equal(byId.a5[12], '\'@everyone look');
    assert.equal(byId.a6[12], '\'\tindented\r\nand a CR');
    assert.equal(byId.a7[12], 'héllo – ✓ 日本 🚀');
    assert.equal(byId.f1[12], '\' =1+1');
    assert.equal(byId.f2[12], '\'\n=cmd|" /C calc"!A0');
    assert.equal(byId.f3[12], '\'\uff1dSUM(A1:A9)');
    assert.equal(byId.f4[12], '\'\u3000\uff0b1');
    assert.equal(byId.f4[3], '\'\uff20who');
    assert.equal(byId.f5[12], '\'\u00a0 \uff0d2');
    assert.equal(byId.f6[12], '   ', 'white space alone is no formula');
    assert.equal(byId.f7[12], ' plain after a space');
    assert.equal(byId.a1[1], iso(T0 + 1000));
    assert.match(s.nginx.errorLog(), /export skips comment record "d3": not a JSON object/);
    assert.match(s.nginx.errorLog(), /export skips comment record "d4": bad sentiment scores/);

    // the range: from inclusive, to exclusive, defaults to the last 30 days
    const narrow = await s.api('GET', `/api/v1/export.csv?topic=csv&from=${
      from + 2}&to=${from + 5}`, { token: users.acme.idToken });
    assert.deepEqual(parseCsv(narrow.text).slice(1).map((x) => x[0]),
      ['a2', 'a3', 'a4']);
    const recent = { id: 'n1', ms: Date.now() - 3600000, body: 'new' };
    await putComments('acme', 'csv', [recent]);
    const dflt = await s.api('GET', '/api/v1/export.csv?topic=csv',
      { token: users.acme.idToken });
    assert.deepEqual(parseCsv(dflt.text).slice(1).map((x) => x[0]), ['n1']);

    const empty = await s.api('GET', '/api/v1/export.csv?topic=empty',
      { token: users.acme.idToken });
    assert.equal(empty.status, 200);
    assert.equal(empty.text, `${HEADER}\r\n`);

    const head = await s.api('HEAD', path, { token: users.acme.idToken,
                                             validate: false });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

test('export: bad arguments, unknown and foreign topics', async () => {
  const t = users.acme.idToken;
  const cases = [
    ['/api/v1/export.csv', 400, 'topic'],
    ['/api/v1/export.csv?topic=bad!id', 400, 'topic'],
    ['/api/v1/export.csv?topic=csv&from=yesterday', 400, 'from'],
    ['/api/v1/export.csv?topic=csv&from=1700000000&to=1600000000', 400,
      'from'],
    ['/api/v1/export.csv?topic=csv&from=1600000000&to=1700000000', 400,
      'from'],
    ['/api/v1/export.csv?topic=nope', 404],
    ['/api/v1/export.csv?topic=other', 404], // beta's topic
  ];
  for (const [path, status, field] of cases) {
    const r = await s.api('GET', path, { token: t });
    assert.equal(r.status, status, `${path}: ${r.text}`);
    if (field) assert.equal(r.json.error.field, field, path);
  }
  const r = await s.api('GET', '/api/v1/export.csv?topic=csv',
    { token: users.beta.idToken });
  assert.equal(r.status, 404, 'beta has no topic "csv"');
});

// three days ago, on a whole hour: within the retention
const BIG_T0 = Math.floor((Date.now() - 3 * 86400000) / 3600000) * 3600000;

// 20,000 records of about 1 KiB on "big" (each public part too long for
// its bucket), every 50th on the millisecond of the one before
async function seedBig() {
  const body = 'word, "quoted" '.repeat(64);
  const list = [];
  for (let i = 1; i <= BIG; i++) {
    const id = `g${String(i).padStart(6, '0')}`;
    let ms = BIG_T0 + i * 1000;
    if (i % 50 === 0) ms -= 1000;
    list.push({ id, topics: ['big'], label: 'neutral', compound: 0.25, neg: 0.1,
      neu: 0.8, pos: 0.1, engine: 'vader', created: ms, subreddit: 'rust',
      author: `u${i}`, body: `${body}${i}`, permalink: `/r/rust/${id}`,
      link_title: 't', score: '1' });
  }
  await writeRecords(s.redis, 'acme', list, { ret: RETENTION_DAYS * 86400 });
}

function bigIds() {
  const rows = [];
  for (let i = 1; i <= BIG; i++) {
    let ms = BIG_T0 + i * 1000;
    if (i % 50 === 0) ms -= 1000;
    rows.push({ id: `g${String(i).padStart(6, '0')}`, ms });
  }
  return rows.sort((a, b) => a.ms - b.ms || (a.id < b.id ? -1 : 1))
    .map((r) => r.id);
}

// the ids of an export of "big" (no line breaks inside its cells)
function bigRows(text) {
  const lines = text.split('\r\n');
  assert.equal(lines[0], HEADER);
  assert.equal(lines.pop(), '', 'the file ends with CRLF');
  return lines.slice(1).map((l) => l.slice(0, l.indexOf(',')));
}

function workerPids() {
  return [...s.nginx.errorLog().matchAll(/start worker process (\d+)/g)]
    .map((m) => Number(m[1]))
    .filter((pid) => {
      try { readFileSync(`/proc/${pid}/status`); return true; } catch {
        return false;
      }
    });
}

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

const BIG_PATH = `/api/v1/export.csv?topic=big&from=${BIG_T0 / 1000}&to=${
  BIG_T0 / 1000 + BIG + 10}`;

test('export: 20,000 comments stream in chunks, in order, memory flat',
  async () => {
    await seedBig();
    const want = bigIds();
    const before = Object.fromEntries(workerPids().map((p) => [p, rssKb(p)]));

    const r = await rawGet(BIG_PATH, users.acme.idToken);
    assert.equal(r.status, 200);
    assert.ok(r.complete, 'the chunked body ends properly');
    assert.ok(r.body.length > BIG * 1000, `${r.body.length} bytes`);
    // a chunk per page of 500: never the whole file at once
    assert.ok(r.chunks >= BIG / 500, `${r.chunks} chunks`);
    const text = r.body.toString('utf8');
    assert.deepEqual(bigRows(text), want);
    const first = parseCsv(text.slice(0, text.indexOf('\r\n',
      HEADER.length + 2) + 2));
    assert.deepEqual(first[0], HEADER.split(','));
    assert.equal(first[1][12], `${'word, "quoted" '.repeat(64)}${1}`);

    // the worker that served it did not hold the file (> 20 MB) in memory
    // (replies kept in the request's pool grow it by about 45 MB); not
    // under a wrapper such as valgrind, whose allocator keeps freed memory
    for (const [pid, kb] of Object.entries(process.env.ES_NGINX ? {}
      : before)) {
      const grew = rssKb(Number(pid)) - kb;
      assert.ok(grew < 12 * 1024, `worker ${pid} grew by ${grew} KiB`);
    }
  });

test('export: a client that reads slowly gets everything', async () => {
  const want = bigIds();
  let paused = false;
  const r = await rawGet(BIG_PATH, users.acme.idToken, {
    onBody: (n, sock) => {
      if (!paused && n > 100000) {
        paused = true;
        sock.pause(); // nginx must wait for the socket, not buffer it all
        setTimeout(() => sock.resume(), 1500);
      }
    },
  });
  assert.ok(paused);
  assert.ok(r.complete);
  assert.deepEqual(bigRows(r.body.toString('utf8')), want);
});

test('export: clients that go away mid-export leave nginx healthy',
  async () => {
    for (let i = 0; i < 6; i++) {
      await rawGet(BIG_PATH, users.acme.idToken, {
        onBody: (n, sock) => { if (n > 50000 * (i + 1)) sock.destroy(); },
      }).catch(() => null);
    }
    // a request right after the headers, before any page
    await new Promise((resolve) => {
      const sock = net.createConnection(s.nginx.port, '127.0.0.1', () => {
        sock.end(`GET ${BIG_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: ` +
          `Bearer ${users.acme.idToken}\r\n\r\n`);
        sock.destroy();
        resolve();
      });
    });
    await sleep(300);
    const r = await s.api('GET', '/api/v1/export.csv?topic=csv&from=' +
      `${T0 / 1000}&to=${T0 / 1000 + 20}`, { token: users.acme.idToken });
    assert.equal(r.status, 200);
    assert.ok(!crashed(), 'no worker crashed');
  });

// --- SSE -------------------------------------------------------------------

// Opens /stream; events[] collects {event, id, data, comment} blocks.
function openStream(tenant, { lastEventId, token } = {}) {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: `Bearer ${token ||
      users[tenant].idToken}`, Accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
    const st = { events: [], text: '', closed: false };
    const req = http.request(`${s.base}/api/v1/stream`, { headers,
                                                         agent: false },
    (res) => {
      st.res = res;
      st.status = res.statusCode;
      st.headers = res.headers;
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d) => {
        st.text += d;
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) { ev.comment = line.slice(1).trim(); continue; }
            const k = line.indexOf(':');
            const name = line.slice(0, k);
            const v = line.slice(k + 1).replace(/^ /, '');
            ev[name] = ev[name] === undefined ? v : `${ev[name]}\n${v}`;
          }
          st.events.push(ev);
        }
      });
      res.on('end', () => { st.closed = true; });
      res.on('error', () => { st.closed = true; });
      if (res.statusCode !== 200) {
        res.on('end', () => resolve(st));
        return;
      }
      // the stream has started once the retry hint is in
      waitFor(() => st.events.length > 0, { what: 'stream start' })
        .then(() => resolve(st), reject);
    });
    req.on('error', (e) => { st.closed = true; if (!st.res) reject(e); });
    req.end();
    st.close = () => req.destroy();
  });
}

const comments = (st) => st.events.filter((e) => e.event === 'comment');

// A live entry as enrich appends it: the ids, and their creation hours
// (one for all when they share it)
async function live(tenant, ids) {
  const hours = ids.map((id) => hourOf(createdOf.get(id) ?? Date.now()));
  return s.redis.cmd('XADD', `es:{t:${tenant}}:live`, 'MAXLEN', '~', '10000',
    '*', 'ids', ids.join(','), 'hours',
    hours.every((h) => h === hours[0]) ? hours[0] : hours.join(','));
}

test('stream: headers, one event per comment, the entry id on its last',
  async () => {
    // before the client connects: never delivered
    await putComments('acme', null, [{ id: 'old1', ms: Date.now() }]);
    await live('acme', ['old1']);

    const st = await openStream('acme');
    assert.equal(st.status, 200);
    assert.equal(st.headers['content-type'], 'text/event-stream');
    assert.equal(st.headers['cache-control'], 'no-store');
    assert.equal(st.headers['x-accel-buffering'], 'no');
    assert.equal(st.events[0].retry, '2000');

    const now = Date.now();
    const recs = ['s1', 's2', 's3', 's4'].map((id, i) => ({
      id, ms: now + i, body: `live ${id}\nsecond line "q"` }));
    await putComments('acme', null, recs);
    await putComments('acme', null, [{ id: 's5', ms: now, stored: 'tombstone' },
      { id: 's6', ms: now, stored: 'garbage' }]);
    const e1 = await live('acme', ['s1', 's2']);
    const e2 = await live('acme', ['s3']);
    const e3 = await live('acme', ['s4', 's5', 's6', 's7', 'BAD!']);
    await waitFor(() => comments(st).length >= 4, { what: '4 events' });
    await sleep(700); // nothing more comes
    const got = comments(st);
    assert.deepEqual(got.map((e) => JSON.parse(e.data).id),
      ['s1', 's2', 's3', 's4']);
    assert.deepEqual(got.map((e) => e.id), [undefined, e1, e2, e3]);
    for (const e of got) {
      const c = JSON.parse(e.data);
      assert.deepEqual(openapi().check('Comment', c), [], e.data);
      assert.ok(!e.data.includes('\n'));
    }
    assert.equal(JSON.parse(got[0].data).body, 'live s1\nsecond line "q"');
    st.close();
  });

test('stream: Last-Event-ID resumes after that entry', async () => {
  const st = await openStream('acme');
  const now = Date.now();
  await putComments('acme', null, ['r1', 'r2', 'r3', 'r4'].map((id) => ({
    id, ms: now })));
  const e1 = await live('acme', ['r1']);
  await waitFor(() => comments(st).length === 1, { what: 'r1' });
  st.close();
  await waitFor(() => st.closed, { what: 'closed' });

  await live('acme', ['r2', 'r3']);
  const e3 = await live('acme', ['r4']);
  const again = await openStream('acme', { lastEventId: e1 });
  await waitFor(() => comments(again).length >= 3, { what: 'resumed' });
  assert.deepEqual(comments(again).map((e) => JSON.parse(e.data).id),
    ['r2', 'r3', 'r4']);
  assert.equal(comments(again)[2].id, e3);
  again.close();

  // beyond Redis's ids, or the last one (nothing can follow it): Redis
  // would refuse every poll after it
  for (const bad of ['nope', '1-2-3', '-1', '12345678901234567890123-0',
    '18446744073709551616-0', '0-18446744073709551616',
    '18446744073709551615-18446744073709551615']) {
    const r = await openStream('acme', { lastEventId: bad });
    assert.equal(r.status, 400, bad);
    await waitFor(() => r.closed, { what: 'closed' });
    validateResponse('GET', '/api/v1/stream', { status: r.status,
      headers: r.headers, text: r.text, json: JSON.parse(r.text) });
  }
});

test('stream: a tenant sees only its own comments', async () => {
  const a = await openStream('acme');
  const b = await openStream('beta');
  const now = Date.now();
  await putComments('acme', null, [{ id: 'ta1', ms: now }]);
  await putComments('beta', null, [{ id: 'tb1', ms: now, topics: ['other'] },
    { id: 'ta1', ms: now, stored: null }]);
  await live('acme', ['ta1']);
  // beta has no record ta1: acme's, whose public part is there for every
  // tenant, is not beta's to show
  await live('beta', ['tb1', 'ta1']);
  await waitFor(() => comments(a).length === 1 && comments(b).length === 1,
    { what: 'one event each' });
  await sleep(700);
  assert.deepEqual(comments(a).map((e) => JSON.parse(e.data).id), ['ta1']);
  assert.deepEqual(comments(b).map((e) => JSON.parse(e.data).id), ['tb1']);
  a.close();
  b.close();
});

test('stream: clients that go away release everything', async () => {
  for (let round = 0; round < 3; round++) {
    const streams = await Promise.all(Array.from({ length: 10 },
      () => openStream('acme')));
    streams.forEach((x) => x.close());
  }
  // a client gone while the first Redis answer is pending
  for (let i = 0; i < 5; i++) {
    const sock = net.createConnection(s.nginx.port, '127.0.0.1', () => {
      sock.write(`GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: ` +
        `Bearer ${users.acme.idToken}\r\n\r\n`);
      sock.destroy();
    });
    sock.on('error', () => {});
  }
  await sleep(800);
  const st = await openStream('acme');
  await putComments('acme', null, [{ id: 'after1', ms: Date.now() }]);
  await live('acme', ['after1']);
  await waitFor(() => comments(st).length === 1, { what: 'still streams' });
  st.close();
  assert.ok(!crashed(), 'no worker crashed');
});

test('stream: an idle stream gets a keepalive comment', async () => {
  await waitFor(() => keepaliveWatch.events.some((e) =>
    e.comment === 'keepalive'), { timeout: 30000, interval: 200,
                                  what: 'keepalive' });
  assert.ok(!keepaliveWatch.closed);
  assert.ok(!crashed(), 'no worker crashed');
});

test('stream: Redis down sends one error event and the stream recovers',
  async () => {
    const st = await openStream('acme');
    await s.redis.stop();
    try {
      await waitFor(() => st.events.some((e) => e.event === 'error'),
        { timeout: 15000, what: 'error event' });
      const errs = () => st.events.filter((e) => e.event === 'error');
      assert.deepEqual(JSON.parse(errs()[0].data), { code: 'unavailable' });
      await sleep(1500); // several polls fail: still one event
      assert.equal(errs().length, 1);
      assert.ok(!st.closed);

      // what needs Redis before its first byte answers 503
      const r = await s.api('GET', '/api/v1/export.csv?topic=csv',
        { token: users.acme.idToken });
      assert.equal(r.status, 503, r.text);
    } finally {
      await s.redis.start();
    }
    await putComments('acme', null, [{ id: 'back1', ms: Date.now() }]);
    await live('acme', ['back1']);
    await waitFor(() => comments(st).some((e) => JSON.parse(e.data).id ===
      'back1'), { timeout: 15000, what: 'event after recovery' });
    st.close();
  });
