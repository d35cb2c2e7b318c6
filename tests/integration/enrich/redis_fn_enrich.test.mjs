// redis_fn_enrich.test.mjs - the functions of lib/redis/enrich.lua (library
// "echostream_enrich": es_enrich_write, es_enrich_dlq) called one by one
// against a real redis-server, with the KEYS/ARGV protocol of the file's
// header: comments, replays, the live feed, usage, argument checks, and
// the dead-letter function. Deletions (and what es_enrich_write refuses of
// older protocols) have a suite of their own (redis_fn_enrich_delete), and
// so do the public parts and the reading of parts (es_enrich_public,
// es_enrich_parts: redis_fn_enrich_parts); the calls are built and the
// expected state derived by tests/lib/enrich_write.mjs, from the comments
// themselves.
//
// A call with missing or garbage arguments must answer an error and leave
// every key as it was (a snapshot of all of Redis before and after).
// Redis is emptied before every test, so tests do not depend on each
// other's leftovers.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  fcall, fcallError, hgetall, registeredFunctions, snapshot, xrange,
} from '../../lib/redis_fn.mjs';
import {
  D, ES, H, LIVE, META, PRE, assertRecord, buildWrite, comment, dv, enrichSuite,
  entriesOf, kit, liveEntry, liveIds, recordKey, recordPart, usageMonth, write,
  writeExpect,
} from '../../lib/enrich_write.mjs';
import { recentEntry } from '../../lib/records.mjs';

const STREAM = 'es:{ingest}:comments';
const DLQ = 'es:{ingest}:dlq';

let redis;
enrichSuite((r) => { redis = r; });

// es_enrich_write and es_enrich_dlq here, es_enrich_public and
// es_enrich_parts in redis_fn_enrich_parts, es_enrich_migrate in
// redis_fn_enrich_migrate
test('the suites cover every function the library registers', () => {
  assert.deepEqual(registeredFunctions('enrich.lua'),
    ['es_enrich_dlq', 'es_enrich_migrate', 'es_enrich_parts', 'es_enrich_public',
     'es_enrich_write']);
});

// --- es_enrich_write ---

test('es_enrich_write creates records and adds exactly what the new comments add',
  async () => {
    const c1 = comment('k2x9q1', { topics: ['rust', 'perf'], label: 'positive',
      cs: 6369, ago: 600, terms: ['borrow', 'checker'] });
    const c2 = comment('k2x9q2', { topics: ['rust'], label: 'negative',
      cs: -4404, ago: 600, terms: ['borrow', 'crash'] });
    const c3 = comment('k2x9q3', { topics: ['rust'], label: 'neutral', cs: 12,
      ago: 2 * H + 5 });
    const c4 = comment('k2x9q4', { topics: ['perf'], label: 'mixed', cs: 1,
      ago: 3 * D });
    await writeExpect([c1, c2, c3, c4], [4, 0, 0], [c1, c2, c3, c4], [],
      { units: 9, usd: 2700 });
    // one field checked by hand, so the expectation above is not only
    // agreeing with itself: c1 and c2 share the minute of topic rust
    const m = `${PRE}ts:rust:m:${c1.t.slice(0, 10)}`;
    const mm = c1.t.slice(10, 12);
    const h = await hgetall(redis, m);
    assert.equal(h[`${mm}:n`], '2');
    assert.equal(h[`${mm}:pos`], '1');
    assert.equal(h[`${mm}:neg`], '1');
    assert.equal(h[`${mm}:cs`], String(6369 - 4404));
    for (const c of [c1, c2, c3, c4]) await assertRecord(c, recordPart(c));
    // c1's tenant part and recent entries checked by hand too: topics,
    // VADER's letter, ms into the hour (base 36); one entry per topic
    const off = (c1.created % 3600000).toString(36);
    assert.equal(recordPart(c1), `rust,perf\x1fv\x1f${off}`);
    for (const topic of ['rust', 'perf']) {
      assert.ok(entriesOf(await redis.cmd('GET', `${PRE}rc:${topic}:${c1.hour}`))
        .includes(`k2x9q1:p${off};`), topic);
    }
    // each hour's split (1: a few records) and count, in its day's hash
    const days = {};
    for (const c of [c1, c2, c3, c4]) {
      const d = (days[c.hour.slice(0, 8)] ??= {});
      const hh = c.hour.slice(8, 10);
      d[hh] = '1';
      d[`${hh}:n`] = String(Number(d[`${hh}:n`] ?? 0) + 1);
    }
    for (const [day, want] of Object.entries(days)) {
      assert.deepEqual(await hgetall(redis, `${PRE}crs:${day}`), want, day);
    }
    // usage of the month: comments, Comprehend units and dollars, 400 days
    const uk = `${PRE}usage:${usageMonth()}`;
    assert.deepEqual(await hgetall(redis, uk),
      { comments: '4', comprehend_units: '9', comprehend_usd_micros: '2700' });
    const ttl = await redis.cmd('TTL', uk);
    assert.ok(ttl === ES.TTL_USAGE || ttl === ES.TTL_USAGE - 1, `usage TTL ${ttl}`);
    // one live entry, the new ids in the order written; the data version
    assert.deepEqual(await liveIds(), [liveEntry([c1, c2, c3, c4])]);
    assert.equal((await liveIds())[0][3].split(',').length, 4, 'hours of 3 hours');
    assert.equal(await dv(), '1');
    // a comment 3 days old is past its minute bucket: no minute key, and
    // no terms (they live as long as the minute buckets)
    assert.equal(await redis.cmd('EXISTS',
      `${PRE}ts:perf:m:${c4.t.slice(0, 10)}`), 0);
    // nothing outside the tenant's prefix, and KEYS[1] itself untouched
    const keys = Object.keys(await snapshot(redis));
    assert.ok(keys.every((k) => k.startsWith(PRE)), keys.join(' '));
    assert.ok(!keys.includes(META));
  });

test('es_enrich_write is replay-safe: the same call again changes no count',
  async () => {
    const cs = [
      comment('a1', { topics: ['rust', 'perf'], terms: ['fast'] }),
      comment('a2', { topics: ['rust'], label: 'negative', cs: -300, terms: ['fast', 'slow'] }),
      comment('a3', { topics: ['perf'], label: 'mixed', cs: 20, ago: 5 * H }),
    ];
    await writeExpect(cs, [3, 0, 0], cs, [], { units: 3, usd: 900 });
    const snap1 = await snapshot(redis);
    await writeExpect(cs, [0, 3, 0], cs, [], { units: 3, usd: 900 });
    await writeExpect(cs, [0, 3, 0], cs, []);
    const snap2 = await snapshot(redis);
    // Comprehend's answers were paid again (units and dollars add up), the
    // comments are counted once; no live entry, no data version change
    const uk = `${PRE}usage:${usageMonth()}`;
    assert.deepEqual(snap2[uk].value,
      { comments: '3', comprehend_units: '6', comprehend_usd_micros: '1800' });
    delete snap1[uk];
    delete snap2[uk];
    // records are HSETNX: the replay leaves them and their expiry alone
    assert.deepEqual(snap2, snap1);
    assert.equal((await liveIds()).length, 1);
    assert.equal(await dv(), '1');
  });

test('es_enrich_write counts only the new comments of a partly replayed batch',
  async () => {
    const a = comment('b1', { topics: ['rust'], terms: ['docs'] });
    const b = comment('b2', { topics: ['rust', 'perf'], label: 'negative', cs: -10,
      terms: ['docs', 'team'] });
    const c = comment('b3', { topics: ['rust'], label: 'neutral', cs: 3, terms: ['team'] });
    await writeExpect([a, b], [2, 0, 0], [a, b]);
    // the worker sums all three as new; a and b are taken back out
    await writeExpect([a, b, c], [1, 2, 0], [a, b, c]);
    await writeExpect([c, a], [0, 2, 0], [a, b, c]);
    assert.deepEqual(await liveIds(), [liveEntry([a, b]), liveEntry([c])]);
    assert.equal(await dv(), '2');
    assert.equal(await redis.cmd('HGET', `${PRE}usage:${usageMonth()}`, 'comments'), '3');
  });

test('es_enrich_write counts an id repeated inside one batch once', async () => {
  const a = comment('c1', { topics: ['rust'], terms: ['fast'] });
  await writeExpect([a, a, a], [1, 2, 0], [a]);
  assert.deepEqual(await liveIds(), [liveEntry([a])]);
  // and its recent entry once
  assert.equal(await redis.cmd('GET', `${PRE}rc:rust:${a.hour}`), recentEntry(a));
  // the repeated copies travel with the meta "cs||"
  const args = buildWrite([a, a]);
  assert.equal(args.at(-1), `${a.cs}||`);
});

// A comment older than the retention is counted in the series but is no
// recent comment: no entry. The recent entries of an hour live a
// retention after it, or after the write when that is later (readers go
// no further back than the retention either).
test('es_enrich_write keeps recent entries to the retention', async () => {
  const ret = 7 * D;
  // exactly at the retention's edge: still recent
  const edge = comment('h1', { ago: ret });
  // a second older: counted in the series, not a recent comment
  const old = comment('h2', { ago: ret + 1, label: 'negative', cs: -2 });
  const fresh = comment('h3', { ago: 60, label: 'negative', cs: -3 });
  await writeExpect([edge, old, fresh], [3, 0, 0], [edge, old, fresh], [], { ret });
  assert.equal(edge.created, (kit.now - ret) * 1000 + 250);
  const all = {};
  for (const k of await redis.cmd('KEYS', `${PRE}rc:*`)) {
    all[k] = [await redis.cmd('GET', k), await redis.cmd('EXPIRETIME', k)];
  }
  const end = (c) => Math.floor(c.created / 3600000) * 3600 + H;
  assert.deepEqual(all, {
    [`${PRE}rc:rust:${edge.hour}`]: [recentEntry(edge), kit.now + ret],
    [`${PRE}rc:rust:${fresh.hour}`]: [recentEntry(fresh),
      Math.max(end(fresh), kit.now) + ret],
  });
  // the records of all three are kept, a retention after the write
  for (const c of [edge, old, fresh]) await assertRecord(c, recordPart(c), { ret });
});

// Many comments of one hour in one call: the hour's records are split
// into sub-buckets (chosen at its first write, for eight times the
// call's records, ES.BUCKET_TARGET a bucket), and the recent index of a
// topic's hour is one text of all its entries; on every path (all new,
// partly replayed, all deleted).
test('es_enrich_write handles batches larger than one command\'s chunk', async () => {
  const all = Array.from({ length: 1201 }, (_, i) => comment(`n${i.toString(36)}`, {
    topics: ['rust'], label: i % 3 ? 'positive' : 'negative', cs: 100 + (i % 50),
    ago: 60 + (i % 7) * 60, terms: i % 2 ? ['fast'] : ['slow', 'docs'],
  }));
  await writeExpect(all.slice(0, 600), [600, 0, 0], all.slice(0, 600));
  await writeExpect(all, [601, 600, 0], all);
  let n = 0;
  for (const k of await redis.cmd('KEYS', `${PRE}rc:rust:*`)) {
    n += entriesOf(await redis.cmd('GET', k)).length;
  }
  assert.equal(n, 1201);
  // the split of the first call's hour(s): a power of two holding them
  const h0 = all[0].hour;
  const split = Number(await redis.cmd('HGET', `${PRE}crs:${h0.slice(0, 8)}`,
    h0.slice(8, 10)));
  const first = all.slice(0, 600).filter((c) => c.hour === h0).length;
  let want = 1;
  while (want * ES.BUCKET_TARGET < 8 * first && want < ES.BUCKET_SPLIT_MAX) want *= 2;
  assert.equal(split, want);
  assert.ok(split > 1, `split ${split}`);
  const keys = new Set();
  for (const c of all) {
    const k = await recordKey(c);
    keys.add(k);
    assert.equal(await redis.cmd('HGET', k, c.id), recordPart(c), c.id);
  }
  assert.ok(keys.size > 2, `${keys.size} buckets`);
  await writeExpect(all.map((c) => ({ del: c })), [0, 0, 1201], all, all);
  assert.deepEqual(await redis.cmd('KEYS', `${PRE}rc:*`), []);
  assert.equal(await dv(), '3');
});

test('es_enrich_write caps the live stream near LIVE_MAXLEN entries', async () => {
  // enough whole stream nodes (100 entries each by default) above the cap
  // that an approximate trim has something to cut
  const n = ES.LIVE_MAXLEN + 300;
  for (let i = 0; i < n; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, n - i) }, () =>
      redis.cmd('XADD', LIVE, '*', 'ids', 'old')));
  }
  await write([comment('i1')]);
  const len = await redis.cmd('XLEN', LIVE);
  assert.ok(len >= ES.LIVE_MAXLEN && len <= ES.LIVE_MAXLEN + 100, `XLEN ${len}`);
  const [last] = await redis.cmd('XREVRANGE', LIVE, '+', '-', 'COUNT', 1);
  assert.deepEqual(last[1], liveEntry([comment('i1')]));
});

test('es_enrich_write charges Comprehend usage without new comments, and nothing else',
  async () => {
    const uk = `${PRE}usage:202401`;
    assert.deepEqual(await write([], { units: 5, usd: 1500, month: '202401' }), [0, 0, 0]);
    assert.deepEqual(await hgetall(redis, uk),
      { comprehend_units: '5', comprehend_usd_micros: '1500' });
    const ttl = await redis.cmd('TTL', uk);
    assert.ok(ttl === ES.TTL_USAGE || ttl === ES.TTL_USAGE - 1);
    // a call with nothing to do writes nothing at all
    await redis.cmd('FLUSHALL');
    assert.deepEqual(await write([]), [0, 0, 0]);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write refuses a truncated record with the argument it stopped at',
  async () => {
    const a = comment('j1');
    const args = buildWrite([a]);
    // the record's meta is missing
    const cut = args.slice(0, -1);
    const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], cut);
    // hour, id and tenant part are there: the record starts 3 from the end
    assert.equal(msg, `ERR truncated record at argument ${cut.length - 2}`);
    assert.deepEqual(await snapshot(redis), {});
  });

// The HSETNX of a record decides once and for all that the comment counts:
// a record written by a call that then fails never gets its increments
// (every retry sees it as a replay). A call must refuse bad arguments
// before its first write.
test('es_enrich_write refuses a truncated record after complete ones without writing any',
  async () => {
    const a = comment('j1');
    const b = comment('j2');
    const args = buildWrite([a, b]).slice(0, -1);
    const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], args);
    assert.match(msg, /^ERR truncated record at argument \d+$/);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write refuses a garbage increment without writing any record',
  async () => {
    const args = buildWrite([comment('k1')]);
    // the first slot value of the first "h" key
    const i = args.indexOf('h');
    args[i + 5] = 'x';
    await fcallError(redis, 'es_enrich_write', [META, LIVE], args);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write refuses a garbage now without writing any record',
  async () => {
    const args = buildWrite([comment('k1')]);
    args[1] = 'noon';
    await fcallError(redis, 'es_enrich_write', [META, LIVE], args);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write answers an error and writes nothing without its arguments',
  async () => {
    const a = comment('l1');
    const good = buildWrite([a]);
    const cases = [
      { what: 'no ARGV', keys: [META, LIVE], args: [] },
      { what: 'head only', keys: [META, LIVE], args: good.slice(0, 6) },
      { what: 'garbage record index', keys: [META, LIVE],
        args: [...good.slice(0, 6), 'first', ...good.slice(7)] },
      { what: 'garbage retention', keys: [META, LIVE],
        args: [good[0], good[1], 'month', ...good.slice(3)] },
      { what: 'zero retention', keys: [META, LIVE],
        args: [good[0], good[1], '0', ...good.slice(3)] },
    ];
    for (const c of cases) {
      await redis.cmd('FLUSHALL');
      const msg = await fcallError(redis, 'es_enrich_write', c.keys, c.args);
      assert.match(msg, /^ERR /, c.what);
      assert.deepEqual(await snapshot(redis), {}, `${c.what}: nothing written`);
    }
  });

// KEYS[2] names the live stream every call that created records appends
// to; a call without it loses the feed's entry for good (a retry is a
// replay and adds none), and one without KEYS at all writes keys it never
// declared.
test('es_enrich_write refuses a call without its two KEYS, writing nothing',
  async () => {
    const good = buildWrite([comment('m1')]);
    for (const keys of [[], [META]]) {
      await redis.cmd('FLUSHALL');
      await fcallError(redis, 'es_enrich_write', keys, good);
      assert.deepEqual(await snapshot(redis), {}, `${keys.length} keys`);
    }
  });

// --- es_enrich_dlq ---

async function pendingEntries(n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    ids.push(await redis.cmd('XADD', STREAM, '*', 'type', 'comment', 'id', `x${i}`,
                             'subreddit', 'rust', 'body', `b${i}`));
  }
  await redis.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
  await redis.cmd('XREADGROUP', 'GROUP', 'enrich', 'w1', 'COUNT', n,
                  'STREAMS', STREAM, '>');
  return ids;
}

const dlq = (id, { group = 'enrich', error = 'bad created_utc', deliveries = '5',
                   maxLen = '100000' } = {}) =>
  fcall(redis, 'es_enrich_dlq', [STREAM, DLQ], [group, id, error, deliveries, maxLen]);

const pendingIds = async () => (await redis.cmd('XPENDING', STREAM, 'enrich',
  '-', '+', 100)).map((p) => p[0]);

test('es_enrich_dlq copies a pending entry with error, deliveries and stream_id and acknowledges it',
  async () => {
    const ids = await pendingEntries(3);
    assert.equal(await dlq(ids[1]), 1);
    const [e] = await xrange(redis, DLQ);
    assert.deepEqual(e.list, ['type', 'comment', 'id', 'x1', 'subreddit', 'rust',
      'body', 'b1', 'error', 'bad created_utc', 'deliveries', '5',
      'stream_id', ids[1]]);
    assert.deepEqual(await pendingIds(), [ids[0], ids[2]]);
    // the stream entry itself stays (trimming removes it later)
    assert.equal(await redis.cmd('XLEN', STREAM), 3);
    // never dead-lettered twice: the replay finds it no longer pending
    assert.equal(await dlq(ids[1]), 0);
    assert.equal(await redis.cmd('XLEN', DLQ), 1);
  });

test('es_enrich_dlq does nothing for an entry that is not pending', async () => {
  const ids = await pendingEntries(1);
  const undelivered = await redis.cmd('XADD', STREAM, '*', 'type', 'comment');
  await redis.cmd('XACK', STREAM, 'enrich', ids[0]);
  const snap = await snapshot(redis);
  assert.equal(await dlq(ids[0]), 0, 'acknowledged');
  assert.equal(await dlq(undelivered), 0, 'never delivered');
  assert.equal(await dlq('1-1'), 0, 'no such entry');
  assert.deepEqual(await snapshot(redis), snap);
});

test('es_enrich_dlq dead-letters a pending entry whose stream entry was trimmed',
  async () => {
    const ids = await pendingEntries(2);
    await redis.cmd('XDEL', STREAM, ids[0]);
    assert.equal(await dlq(ids[0], { error: 'gone', deliveries: '9' }), 1);
    const [e] = await xrange(redis, DLQ);
    assert.deepEqual(e.list, ['error', 'gone', 'deliveries', '9', 'stream_id', ids[0]]);
    assert.deepEqual(await pendingIds(), [ids[1]]);
  });

test('es_enrich_dlq caps the dead-letter stream near its max length', async () => {
  const ids = await pendingEntries(1);
  await Promise.all(Array.from({ length: 350 }, (_, i) =>
    redis.cmd('XADD', DLQ, '*', 'n', String(i))));
  assert.equal(await dlq(ids[0], { maxLen: '100' }), 1);
  const len = await redis.cmd('XLEN', DLQ);
  assert.ok(len >= 100 && len <= 200, `XLEN ${len}`);
  const [last] = await redis.cmd('XREVRANGE', DLQ, '+', '-', 'COUNT', 1);
  assert.equal(last[1].at(-1), ids[0]);
});

test('es_enrich_dlq answers an error and moves nothing with bad arguments', async () => {
  const ids = await pendingEntries(2);
  const snap = await snapshot(redis);
  const cases = [
    { what: 'unknown group', keys: [STREAM, DLQ],
      args: ['nogroup', ids[0], 'e', '5', '100'], re: /^NOGROUP / },
    { what: 'garbage id', keys: [STREAM, DLQ],
      args: ['enrich', 'first', 'e', '5', '100'], re: /^ERR / },
    { what: 'garbage max length', keys: [STREAM, DLQ],
      args: ['enrich', ids[0], 'e', '5', 'many'], re: /^ERR / },
    { what: 'no dead-letter key', keys: [STREAM],
      args: ['enrich', ids[0], 'e', '5', '100'], re: /^ERR / },
    { what: 'no ARGV', keys: [STREAM, DLQ], args: [], re: /^ERR / },
    { what: 'error text missing', keys: [STREAM, DLQ],
      args: ['enrich', ids[0]], re: /^ERR / },
  ];
  for (const c of cases) {
    const msg = await fcallError(redis, 'es_enrich_dlq', c.keys, c.args);
    assert.match(msg, c.re, c.what);
    assert.deepEqual(await snapshot(redis), snap, `${c.what}: nothing moved`);
  }
});
