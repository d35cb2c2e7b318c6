// stream_sink.test.mjs - the ingest sink's guarantees on the comment stream,
// black-box: echostream-ingest (backfill of small NDJSON files, and the
// poll loop for its periodic trimming) against a real Redis.
//
// Covered: exactly-once appends, deletion events, rejection of hostile ids
// and names, UTF-8 repair, trimming only below what every consumer group
// acknowledged, MAXLEN trimming without groups, and back-pressure that waits
// for consumers instead of dropping entries.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { bin, startProc, startRedis, tmpDir, waitFor } from '../../lib/harness.mjs';

const STREAM = 'es:{ingest}:comments';
let redis;
let dir;
let n = 0;

before(async () => {
  redis = await startRedis();
  dir = await tmpDir('es-sink-');
});

after(async () => {
  await redis?.close();
});

function line(id, sub, body, extra = {}) {
  return JSON.stringify({ id, subreddit: sub, author: 'someone', body,
                          created_utc: 1732540000, link_id: 't3_abc',
                          score: 1, ...extra });
}

function dump(lines) {
  const p = path.join(dir, `d${++n}.ndjson`);
  writeFileSync(p, lines.map((l) => (Buffer.isBuffer(l) ? l : Buffer.from(l)))
    .reduce((a, b) => Buffer.concat([a, b, Buffer.from('\n')]),
            Buffer.alloc(0)));
  return p;
}

async function backfill(file, env = {}, args = []) {
  const p = startProc(bin('ingest'), ['--backfill', file, '--all', ...args],
    { env: { ECHOSTREAM_REDIS: redis.url, ...env }, name: 'ingest' });
  const ex = await p.exited;
  assert.equal(ex.code, 0, p.output());
  return p.output();
}

async function entries() {
  const out = [];
  for (const [id, f] of await redis.cmd('XRANGE', STREAM, '-', '+')) {
    const o = { _id: id };
    for (let i = 0; i < f.length; i += 2) o[f[i]] = f[i + 1];
    out.push(o);
  }
  return out;
}

async function reset() {
  await redis.cmd('FLUSHALL');
}

test('each comment enters the stream once; a deleted one becomes one event',
  async () => {
    await reset();
    await backfill(dump([line('a1', 'rust', 'first'), line('a2', 'rust', 'x'),
                         line('a1', 'rust', 'first again')]));
    await backfill(dump([line('a1', 'rust', '[deleted]'),
                         line('a2', 'rust', '[removed]'),
                         line('a3', 'rust', 'third'),
                         line('a4', 'rust', '[deleted]')]));
    await backfill(dump([line('a1', 'rust', '[deleted]'),
                         line('a3', 'rust', 'third')]));
    const e = await entries();
    assert.deepEqual(e.map((x) => `${x.type}:${x.id}`),
      ['comment:a1', 'comment:a2', 'delete:a1', 'delete:a2', 'comment:a3']);
    assert.equal(e[0].body, 'first');
    for (const f of ['id', 'subreddit', 'author', 'body', 'created_utc',
                     'permalink', 'link_id', 'link_title', 'score', 'source']) {
      assert.ok(f in e[0], `field ${f} present`);
    }
    // a deletion keeps the comment's creation time (enrich finds the
    // record by its hour)
    assert.deepEqual(Object.keys(e[2]).sort(),
      ['_id', 'created_utc', 'id', 'source', 'subreddit', 'type']);
    assert.equal(e[2].created_utc, '1732540000.000');
    assert.equal(e[3].created_utc, e[1].created_utc);
  });

test('a deletion carries the creation time the dump gives, if any',
  async () => {
    await reset();
    await backfill(dump([line('c1', 'rust', 'one'), line('c2', 'rust', 'two'),
                         line('c3', 'rust', 'three')]));
    await backfill(dump([
      line('c1', 'rust', '[deleted]', { created_utc: 1672531200.5 }),
      line('c2', 'rust', '[removed]', { created_utc: '1672531201' }),
      line('c3', 'rust', '[deleted]', { created_utc: 0 }),
    ]));
    const d = (await entries()).filter((x) => x.type === 'delete');
    assert.deepEqual(d.map((x) => [x.id, x.created_utc]),
      [['c1', '1672531200.500'], ['c2', '1672531201.000'], ['c3', undefined]]);
    assert.deepEqual(Object.keys(d[2]).sort(),
      ['_id', 'id', 'source', 'subreddit', 'type']);
  });

test('hostile ids and names are rejected with a log line; bad UTF-8 repaired',
  async () => {
    await reset();
    const bad = Buffer.concat([
      Buffer.from('{"id":"u1","subreddit":"rust","author":"x","body":"caf'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('!","created_utc":1}'),
    ]);
    const out = await backfill(dump([
      line('ABC', 'rust', 'upper-case id'),
      line('a{b}', 'rust', 'braces'),
      line('t1_zz', 'rust', 'prefixed id is fine'),
      line('b1', '../etc', 'path'),
      line('b2', 'r{x}', 'hash tag'),
      line('b3', 'x', 'one letter'),
      bad,
    ]));
    const e = await entries();
    assert.deepEqual(e.map((x) => x.id).sort(), ['u1', 'zz']);
    const u1 = e.find((x) => x.id === 'u1');
    assert.equal(u1.body, 'caf\ufffd(\ufffd!');
    assert.match(out, /invalid comment id/);
    assert.match(out, /invalid subreddit name/);
    const keys = await redis.cmd('KEYS', '*');
    assert.ok(keys.every((k) => k.startsWith('es:{ingest}:')), keys.join(' '));
  });

// a poll-mode ingest without Reddit credentials makes no requests but keeps
// its housekeeping (trimming) going
function idleIngest(env) {
  return startProc(bin('ingest'), [], {
    name: 'ingest-idle',
    env: { ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_REDDIT_CLIENT_ID: '',
           ECHOSTREAM_REDDIT_CLIENT_SECRET: '',
           ECHOSTREAM_REDDIT_API_URL: 'http://127.0.0.1:9',
           ECHOSTREAM_REDDIT_TOKEN_URL: 'http://127.0.0.1:9/token',
           ECHOSTREAM_STREAM_TRIM_INTERVAL: '0.1', ...env },
  });
}

const many = (prefix, k) => Array.from({ length: k },
  (_, i) => line(`${prefix}${i.toString(36)}`, 'rust', `c${i}`));

test('the stream is trimmed only below what every group acknowledged',
  async () => {
    await reset();
    await backfill(dump(many('t', 100)), { ECHOSTREAM_STREAM_GROUPS: 'g1,g2' });
    assert.equal(await redis.cmd('XLEN', STREAM), 100);
    const r1 = await redis.cmd('XREADGROUP', 'GROUP', 'g1', 'c', 'COUNT', 60,
                               'STREAMS', STREAM, '>');
    const ids1 = r1[0][1].map((x) => x[0]);
    await redis.cmd('XACK', STREAM, 'g1', ...ids1.slice(0, 50));
    const r2 = await redis.cmd('XREADGROUP', 'GROUP', 'g2', 'c', 'COUNT', 100,
                               'STREAMS', STREAM, '>');
    await redis.cmd('XACK', STREAM, 'g2', ...r2[0][1].map((x) => x[0]));

    const p = idleIngest({});
    // g1's oldest pending entry is the 51st: the 50 before it may go
    await waitFor(async () => (await redis.cmd('XLEN', STREAM)) === 50,
                  { timeout: 10000, what: 'trim to 50' });
    const first = await redis.cmd('XRANGE', STREAM, '-', '+', 'COUNT', 1);
    assert.equal(first[0][0], ids1[50]);
    await redis.cmd('XACK', STREAM, 'g1', ...ids1.slice(50));
    // now everything g1 was given is done; the 40 it never read stay
    await waitFor(async () => (await redis.cmd('XLEN', STREAM)) === 40,
                  { timeout: 10000, what: 'trim to 40' });
    p.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
  });

test('without consumer groups the newest stream.max_len entries are kept',
  async () => {
    await reset();
    await backfill(dump(many('m', 50)));
    const p = idleIngest({ ECHOSTREAM_STREAM_MAX_LEN: '20' });
    await waitFor(async () => (await redis.cmd('XLEN', STREAM)) === 20,
                  { timeout: 10000, what: 'trim to max_len' });
    const e = await entries();
    assert.equal(e[19].id, `m${(49).toString(36)}`);
    p.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
  });

test('a full stream makes ingest wait for consumers, losing nothing',
  async () => {
    await reset();
    await redis.cmd('XGROUP', 'CREATE', STREAM, 'g1', '0', 'MKSTREAM');
    const file = dump(many('p', 50));
    const p = startProc(bin('ingest'), ['--backfill', file, '--all'], {
      name: 'ingest-bp',
      env: { ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_STREAM_MAX_LEN: '30',
             ECHOSTREAM_INGEST_BATCH: '10',
             ECHOSTREAM_STREAM_TRIM_INTERVAL: '0.1' },
    });
    await p.waitForOutput(/stream full, waiting for consumers/, 10000);
    assert.equal(await redis.cmd('XLEN', STREAM), 30);
    assert.equal(p.child.exitCode, null, 'still waiting, not given up');
    // a consumer works through everything; ingest then finishes
    const seen = new Set();
    await waitFor(async () => {
      const r = await redis.cmd('XREADGROUP', 'GROUP', 'g1', 'c', 'COUNT', 10,
                                'STREAMS', STREAM, '>');
      if (r) {
        for (const [id, f] of r[0][1]) {
          seen.add(f[f.indexOf('id') + 1]);
          await redis.cmd('XACK', STREAM, 'g1', id);
        }
      }
      return seen.size === 50;
    }, { timeout: 20000, what: 'consumer saw all 50' });
    assert.equal((await p.exited).code, 0, p.output());
    assert.match(p.output(), /stream accepting again/);
  });
