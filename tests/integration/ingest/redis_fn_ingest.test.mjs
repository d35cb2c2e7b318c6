// redis_fn_ingest.test.mjs - the functions of lib/redis/ingest.lua (library
// "echostream": es_ingest_add, es_ingest_peek, es_ingest_mark,
// es_stream_trim, es_ingest_lease) called one by one against a real
// redis-server, with the KEYS/ARGV protocol of the file's header.
//
// The ingest worker's own tests see these functions only through what a
// whole run leaves behind; here every promise of the header is checked on
// its own and on the exact keys: the stream entries (field order
// included), the "seen" and "gone" bits, their TTL, the BACKPRESSURE
// refusal at exactly max_len, and what trimming keeps for every kind of
// consumer group. A replay must change nothing (exactly-once), and a call
// with missing or garbage arguments must answer an error and leave every
// key as it was: each such test takes a snapshot of all of Redis before
// and compares it after. Redis is emptied (data and functions) before
// every test, so tests do not depend on each other's leftovers.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { RedisClient, startRedis } from '../../lib/harness.mjs';
import {
  fcall, fcallError, redisNow, registeredFunctions, resetRedis, snapshot,
  xrange,
} from '../../lib/redis_fn.mjs';

const STREAM = 'es:{ingest}:comments';
const CHUNK_BITS = 20; // lib/es_keys.h: 2^20 ids per bitmap chunk
const TTL = 2592000; // ingest.dedup_ttl's default, 30 days

let redis;
let raw; // a second connection answering bulk strings as bytes (bitmaps)

before(async () => {
  redis = await startRedis();
  raw = new RedisClient(redis.port, '127.0.0.1', { binary: true });
});

after(async () => {
  raw?.close();
  await redis?.close();
});

beforeEach(async () => {
  await resetRedis(redis, 'ingest.lua');
});

// One comment as ingest queues it: its two bitmap keys and its arguments
// (bit offset, deleted flag, field count, field/value pairs). A deletion
// carries only id, subreddit, creation time and source (docs/redis-keys.md).
function item(id36, { deleted = false, sub = 'rust', body = `body ${id36}` } = {}) {
  const n = parseInt(id36, 36);
  const chunk = Math.floor(n / 2 ** CHUNK_BITS);
  const offset = n % 2 ** CHUNK_BITS;
  const fields = deleted
    ? ['id', id36, 'subreddit', sub, 'created_utc', '1732543261.250',
       'source', 'reddit']
    : ['id', id36, 'subreddit', sub, 'author', 'alice', 'body', body,
       'created_utc', '1732543261.250', 'permalink',
       `/r/${sub}/comments/p1/x/${id36}/`, 'link_id', 't3_p1',
       'link_title', 'A post', 'score', '7', 'source', 'reddit'];
  return {
    id36, chunk, offset, fields,
    seen: `es:{ingest}:seen:${chunk}`,
    gone: `es:{ingest}:gone:${chunk}`,
    args: [String(offset), deleted ? '1' : '0', String(fields.length / 2),
           ...fields],
  };
}

// KEYS and ARGV of one es_ingest_add call over items.
function batch(items, { maxLen = 0, ttl = TTL } = {}) {
  return {
    keys: [STREAM, ...items.flatMap((i) => [i.seen, i.gone])],
    args: [String(maxLen), String(ttl), ...items.flatMap((i) => i.args)],
  };
}

const add = (items, opts) => {
  const b = batch(items, opts);
  return fcall(redis, 'es_ingest_add', b.keys, b.args);
};

const bit = (key, offset) => redis.cmd('GETBIT', key, offset);

// TTL right after a write is the ttl given, or one second less when the
// clock ticked in between: this checks the value set, not any timing.
async function assertTtl(key, ttl) {
  const t = await redis.cmd('TTL', key);
  assert.ok(t === ttl || t === ttl - 1, `TTL of ${key} is ${t}, not ${ttl}`);
}

// Appends n plain entries (not through the function) and returns their ids.
async function fill(n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    ids.push(await redis.cmd('XADD', STREAM, '*', 'n', String(i)));
  }
  return ids;
}

const streamIds = async () => (await xrange(redis, STREAM)).map((e) => e.id);

test('the suite covers every function the library registers', () => {
  assert.deepEqual(registeredFunctions('ingest.lua'),
    ['es_ingest_add', 'es_ingest_lease', 'es_ingest_mark', 'es_ingest_peek',
     'es_stream_trim']);
});

// --- es_ingest_add ---

test('es_ingest_add appends new comments with type first and sets their seen bits',
  async () => {
    const a = item('k2x9q1');
    const b = item('k2x9q2', { sub: 'golang' });
    assert.deepEqual(await add([a, b]), [1, 1]);
    const entries = await xrange(redis, STREAM);
    assert.equal(entries.length, 2);
    // "type" first, then the fields exactly in the order given
    assert.deepEqual(entries[0].list, ['type', 'comment', ...a.fields]);
    assert.deepEqual(entries[1].list, ['type', 'comment', ...b.fields]);
    assert.equal(a.seen, b.seen, 'consecutive ids share a chunk');
    assert.equal(await bit(a.seen, a.offset), 1);
    assert.equal(await bit(b.seen, b.offset), 1);
    // the bitmap holds exactly those two bits
    assert.equal(await redis.cmd('BITCOUNT', a.seen), 2);
    await assertTtl(a.seen, TTL);
    // nothing was deleted: the gone chunk is not even created
    assert.equal(await redis.cmd('EXISTS', a.gone), 0);
  });

test('es_ingest_add is exactly-once: a replayed batch adds nothing', async () => {
  const items = [item('k2x9q1'), item('k2x9q2')];
  assert.deepEqual(await add(items), [1, 1]);
  const before1 = await xrange(redis, STREAM);
  assert.deepEqual(await add(items), [0, 0]);
  assert.deepEqual(await add(items), [0, 0]);
  assert.deepEqual(await xrange(redis, STREAM), before1);
  // a batch mixing one known and one new comment adds only the new one
  const c = item('k2x9q3');
  assert.deepEqual(await add([items[0], c]), [0, 1]);
  const ids = (await xrange(redis, STREAM)).map((e) => e.fields.id);
  assert.deepEqual(ids, ['k2x9q1', 'k2x9q2', 'k2x9q3']);
});

test('es_ingest_add adds an id repeated inside one batch once', async () => {
  const a = item('abc123');
  assert.deepEqual(await add([a, a, a]), [1, 0, 0]);
  assert.equal(await redis.cmd('XLEN', STREAM), 1);
});

test('es_ingest_add turns a streamed comment that comes back deleted into one deletion event',
  async () => {
    const a = item('k2x9q1');
    assert.deepEqual(await add([a]), [1]);
    const d = item('k2x9q1', { deleted: true });
    assert.deepEqual(await add([d]), [2]);
    const entries = await xrange(redis, STREAM);
    assert.equal(entries.length, 2);
    // a delete entry carries only type, id, subreddit, creation time and
    // source, as the worker sent them
    assert.deepEqual(entries[1].list,
      ['type', 'delete', 'id', 'k2x9q1', 'subreddit', 'rust',
       'created_utc', '1732543261.250', 'source', 'reddit']);
    assert.equal(await bit(d.gone, d.offset), 1);
    assert.equal(await redis.cmd('BITCOUNT', d.gone), 1);
    await assertTtl(d.seen, TTL);
    await assertTtl(d.gone, TTL);
    // the deletion event is sent once, however often it is seen again
    assert.deepEqual(await add([d, d]), [0, 0]);
    // and the comment never re-enters the stream
    assert.deepEqual(await add([a]), [0]);
    assert.equal(await redis.cmd('XLEN', STREAM), 2);
  });

test('es_ingest_add streams nothing for a comment first seen already deleted',
  async () => {
    const d = item('zz0001', { deleted: true });
    assert.deepEqual(await add([d]), [0]);
    assert.equal(await redis.cmd('EXISTS', STREAM), 0);
    // both bits are set: a later copy of the comment stays out, and no
    // deletion event is ever sent for what was never streamed
    assert.equal(await bit(d.seen, d.offset), 1);
    assert.equal(await bit(d.gone, d.offset), 1);
    assert.deepEqual(await add([item('zz0001')]), [0]);
    assert.deepEqual(await add([d]), [0]);
    assert.equal(await redis.cmd('EXISTS', STREAM), 0);
  });

test('es_ingest_add handles the first and last bit of a chunk and ids of other chunks',
  async () => {
    // ids 2^20 * 5 and 2^20 * 5 + 2^20 - 1: offsets 0 and 1048575 of chunk 5
    const first = item((5 * 2 ** CHUNK_BITS).toString(36));
    const last = item((6 * 2 ** CHUNK_BITS - 1).toString(36));
    const other = item((6 * 2 ** CHUNK_BITS).toString(36));
    assert.equal(first.offset, 0);
    assert.equal(last.offset, 2 ** CHUNK_BITS - 1);
    assert.equal(first.seen, 'es:{ingest}:seen:5');
    assert.equal(last.seen, 'es:{ingest}:seen:5');
    assert.equal(other.seen, 'es:{ingest}:seen:6');
    assert.deepEqual(await add([first, last, other]), [1, 1, 1]);
    assert.equal(await bit(first.seen, 0), 1);
    assert.equal(await bit(last.seen, 2 ** CHUNK_BITS - 1), 1);
    // a chunk is at most 128 KiB
    assert.equal(await redis.cmd('STRLEN', 'es:{ingest}:seen:5'), 128 * 1024);
    assert.equal(await redis.cmd('BITCOUNT', 'es:{ingest}:seen:5'), 2);
    assert.equal(await bit(other.seen, 0), 1);
    await assertTtl('es:{ingest}:seen:5', TTL);
    await assertTtl('es:{ingest}:seen:6', TTL);
    assert.deepEqual(await add([last, first, other]), [0, 0, 0]);
  });

test('es_ingest_add with an empty batch writes nothing and answers an empty list',
  async () => {
    assert.deepEqual(await add([]), []);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_ingest_add refreshes the TTL of the chunks a replay touches', async () => {
  const a = item('k2x9q1');
  await add([a], { ttl: 100 });
  await assertTtl(a.seen, 100);
  assert.deepEqual(await add([a], { ttl: 5000 }), [0]);
  await assertTtl(a.seen, 5000);
});

test('es_ingest_add refuses a batch with BACKPRESSURE once the stream holds max_len entries and a group exists',
  async () => {
    await fill(3);
    await redis.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
    const before1 = await snapshot(redis);
    const a = item('k2x9q1');
    const msg = await fcallError(redis, 'es_ingest_add', ...Object.values(
      batch([a], { maxLen: 3 })));
    assert.equal(msg, 'BACKPRESSURE stream holds 3 entries not yet processed');
    // refused means refused: no bit set, so the retry adds the comment
    assert.deepEqual(await snapshot(redis), before1);
    // one entry below the limit the batch is taken (and may pass it)
    assert.deepEqual(await add([a, item('k2x9q2')], { maxLen: 4 }), [1, 1]);
    assert.equal(await redis.cmd('XLEN', STREAM), 5);
    // max_len 0 is no limit at all
    assert.deepEqual(await add([item('k2x9q3')], { maxLen: 0 }), [1]);
  });

test('es_ingest_add ignores max_len when no consumer group exists', async () => {
  await fill(5);
  assert.deepEqual(await add([item('k2x9q1')], { maxLen: 2 }), [1]);
  assert.equal(await redis.cmd('XLEN', STREAM), 6);
});

test('es_ingest_add answers an error and writes nothing without its arguments',
  async () => {
    const a = item('k2x9q1');
    const cases = [
      { what: 'no ARGV', keys: [STREAM, a.seen, a.gone], args: [] },
      { what: 'no KEYS', keys: [], args: ['0', String(TTL), ...a.args] },
      { what: 'no bitmap keys', keys: [STREAM], args: ['0', String(TTL), ...a.args] },
      { what: 'garbage max_len', keys: [STREAM, a.seen, a.gone],
        args: ['lots', String(TTL), ...a.args] },
      { what: 'garbage offset', keys: [STREAM, a.seen, a.gone],
        args: ['0', String(TTL), 'x1', '0', '1', 'id', 'k2x9q1'] },
      { what: 'negative offset', keys: [STREAM, a.seen, a.gone],
        args: ['0', String(TTL), '-1', '0', '1', 'id', 'k2x9q1'] },
      { what: 'offset past 2^32', keys: [STREAM, a.seen, a.gone],
        args: ['0', String(TTL), String(2 ** 32), '0', '1', 'id', 'k2x9q1'] },
      { what: 'garbage field count', keys: [STREAM, a.seen, a.gone],
        args: ['0', String(TTL), String(a.offset), '0', 'two', 'id', 'k2x9q1'] },
    ];
    for (const c of cases) {
      await resetRedis(redis, 'ingest.lua');
      const msg = await fcallError(redis, 'es_ingest_add', c.keys, c.args);
      assert.match(msg, /^ERR /, c.what);
      assert.deepEqual(await snapshot(redis), {}, `${c.what}: nothing written`);
    }
  });

// The header promises "the whole batch runs atomically ... all of it or
// none of it"; Redis does not undo a function's writes when it raises an
// error, so a bad argument in the middle of a batch must be caught before
// the first write.
test('es_ingest_add refuses a batch with a bad comment in the middle without writing its head',
  async () => {
    const good = item('k2x9q1');
    const keys = [STREAM, good.seen, good.gone, good.seen, good.gone];
    const args = ['0', String(TTL), ...good.args, 'bad', '0', '1', 'id', 'k2x9q2'];
    const msg = await fcallError(redis, 'es_ingest_add', keys, args);
    assert.match(msg, /^ERR /);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_ingest_add refuses a batch with fewer bitmap keys than comments without writing',
  async () => {
    const a = item('k2x9q1');
    const b = item('k2x9q2');
    const msg = await fcallError(redis, 'es_ingest_add', [STREAM, a.seen, a.gone],
      ['0', String(TTL), ...a.args, ...b.args]);
    assert.match(msg, /^ERR /);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_ingest_add refuses a ttl that is not a positive number without writing',
  async () => {
    for (const ttl of ['soon', '0', '-5']) {
      await resetRedis(redis, 'ingest.lua');
      const a = item('k2x9q1');
      let reply;
      try {
        reply = await fcall(redis, 'es_ingest_add', [STREAM, a.seen, a.gone],
          ['0', ttl, ...a.args]);
      } catch (e) {
        reply = e;
      }
      assert.ok(reply instanceof Error, `ttl ${ttl}: refused, got ${JSON.stringify(reply)}`);
      assert.deepEqual(await snapshot(redis), {}, `ttl ${ttl}: nothing written`);
    }
  });

test('es_ingest_add refuses a comment whose field count exceeds the arguments given',
  async () => {
    const a = item('k2x9q1');
    const msg = await fcallError(redis, 'es_ingest_add', [STREAM, a.seen, a.gone],
      ['0', String(TTL), String(a.offset), '0', '3', 'id', 'k2x9q1']);
    assert.match(msg, /^ERR /);
    assert.deepEqual(await snapshot(redis), {});
  });

// --- es_ingest_peek and es_ingest_mark (the bulk path) ---

const seen = (chunk) => `es:{ingest}:seen:${chunk}`;
const gone = (chunk) => `es:{ingest}:gone:${chunk}`;

// bytes of a key, as GETRANGE answers them
const bytesOf = (key, first, count) =>
  raw.cmd('GETRANGE', key, first, first + count - 1);

const peek = (ranges, maxLen = 0) => raw.cmd('FCALL_RO', 'es_ingest_peek',
  1 + ranges.length, STREAM, ...ranges.map((r) => r.key), String(maxLen),
  ...ranges.flatMap((r) => [String(r.first), String(r.count)]));

// ranges: {key, first, old, now} with old/now as Buffers
const mark = (ranges, { appended = 0, ttl = TTL, client = redis } = {}) =>
  client.cmd('FCALL', 'es_ingest_mark', 1 + ranges.length, STREAM,
    ...ranges.map((r) => r.key), String(ttl), String(appended),
    ...ranges.flatMap((r) => [String(r.first), r.old, r.now]));

test('es_ingest_peek answers the bytes of each range, short or empty where a chunk ends or is absent',
  async () => {
    const a = item('k2x9q1');
    await add([a]);
    const byte = Math.floor(a.offset / 8);
    const got = await peek([
      // the chunk ends at the comment's byte: 2 of the 3 bytes asked
      { key: a.seen, first: byte - 1, count: 3 },
      { key: a.seen, first: 128 * 1024 - 1, count: 1 }, // past the string
      { key: seen(999), first: 0, count: 8 }, // absent chunk
    ]);
    assert.equal(got.length, 3);
    assert.deepEqual(got[0], Buffer.from([0, 0x80 >> (a.offset % 8)]));
    assert.equal(got[1].length, 0);
    assert.equal(got[2].length, 0);
    // a read: nothing created, nothing changed
    assert.equal(await redis.cmd('EXISTS', seen(999)), 0);
    assert.deepEqual(await peek([]), []);
  });

test('es_ingest_peek refuses with BACKPRESSURE exactly as es_ingest_add does',
  async () => {
    await fill(3);
    assert.deepEqual(await peek([{ key: seen(1), first: 0, count: 1 }], 3),
      [Buffer.alloc(0)]);
    await redis.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
    const msg = await redis.cmd('FCALL_RO', 'es_ingest_peek', 2, STREAM,
      seen(1), '3', '0', '1').then(() => null, (e) => e.message);
    assert.equal(msg, 'BACKPRESSURE stream holds 3 entries not yet processed');
    assert.deepEqual(await peek([{ key: seen(1), first: 0, count: 1 }], 4),
      [Buffer.alloc(0)]);
  });

test('es_ingest_peek refuses wrong types and bad ranges', async () => {
  const err = (keys, args) => redis.cmd('FCALL_RO', 'es_ingest_peek',
    keys.length, ...keys, ...args).then(() => null, (e) => e.message);
  await redis.cmd('SET', seen(3), 'x');
  await redis.cmd('HSET', seen(4), 'a', '1');
  assert.match(await err([STREAM, seen(4)], ['0', '0', '1']), /^WRONGTYPE/);
  assert.match(await err([], ['0']), /^ERR es_ingest_peek: no stream key/);
  assert.match(await err([STREAM, seen(3)], ['0', '0']), /^ERR /);
  assert.match(await err([STREAM, seen(3)], ['0', '-1', '1']), /^ERR /);
  assert.match(await err([STREAM, seen(3)], ['0', '131072', '1']), /^ERR /);
  assert.match(await err([STREAM, seen(3)], ['0', '131071', '2']), /^ERR /);
  assert.match(await err([STREAM, seen(3)], ['0', '0', '0']), /^ERR /);
  assert.match(await err([STREAM, seen(3)], ['many', '0', '1']), /^ERR /);
  await redis.cmd('SET', STREAM, 'not a stream');
  assert.match(await err([STREAM, seen(3)], ['0', '0', '1']), /^WRONGTYPE/);
});

test('es_ingest_mark stores the new bytes and sets the TTL of every chunk it names',
  async () => {
    const r1 = { key: seen(7), first: 10, old: Buffer.from([0, 0]),
                 now: Buffer.from([0x81, 0x40]) };
    const r2 = { key: gone(7), first: 0, old: Buffer.from([0]),
                 now: Buffer.from([0x01]) };
    assert.equal(await mark([r1, r2], { ttl: 500 }), 0);
    assert.deepEqual(await bytesOf(seen(7), 10, 2), r1.now);
    assert.equal(await redis.cmd('STRLEN', seen(7)), 12);
    assert.equal(await redis.cmd('BITCOUNT', seen(7)), 3);
    assert.deepEqual(await bytesOf(gone(7), 0, 1), r2.now);
    await assertTtl(seen(7), 500);
    await assertTtl(gone(7), 500);
    // as SETBIT numbers bits: byte 10's first bit is bit 80
    assert.equal(await redis.cmd('GETBIT', seen(7), 80), 1);
    assert.equal(await redis.cmd('GETBIT', seen(7), 87), 1);
    assert.equal(await redis.cmd('GETBIT', seen(7), 89), 1);
    // unchanged bytes (a replay) only refresh the TTL
    assert.equal(await mark([{ ...r1, old: r1.now }], { ttl: 900 }), 0);
    await assertTtl(seen(7), 900);
    assert.deepEqual(await bytesOf(seen(7), 10, 2), r1.now);
  });

test('es_ingest_mark never clears a bit: bytes that changed since the peek are merged and counted',
  async () => {
    await redis.cmd('SETBIT', seen(2), 3, 1); // set by another writer
    const r = { key: seen(2), first: 0, old: Buffer.from([0]),
                now: Buffer.from([0x80]) };
    assert.equal(await mark([r]), 1);
    assert.deepEqual(await bytesOf(seen(2), 0, 1), Buffer.from([0x90]));
  });

test('es_ingest_mark marks nothing when the stream it appended to is not a stream',
  async () => {
    const r = { key: seen(2), first: 0, old: Buffer.from([0]),
                now: Buffer.from([0x80]) };
    // appended entries need a stream: absent means the appends failed
    assert.match(await mark([r], { appended: 2 }).then(() => '',
      (e) => e.message), /^WRONGTYPE/);
    await redis.cmd('SET', STREAM, 'not a stream');
    assert.match(await mark([r], { appended: 2 }).then(() => '',
      (e) => e.message), /^WRONGTYPE/);
    assert.equal(await redis.cmd('EXISTS', seen(2)), 0);
  });

test('es_ingest_mark answers an error and writes nothing with bad arguments',
  async () => {
    const good = { key: seen(1), first: 0, old: Buffer.from([0]),
                   now: Buffer.from([1]) };
    const cases = [
      { what: 'no ttl', keys: [STREAM, seen(1)], args: [] },
      { what: 'ttl 0', keys: [STREAM, seen(1)], args: ['0', '0', '0', good.old, good.now] },
      { what: 'appended -1', keys: [STREAM, seen(1)], args: [String(TTL), '-1', '0', good.old, good.now] },
      { what: 'missing bytes', keys: [STREAM, seen(1)], args: [String(TTL), '0', '0', good.old] },
      { what: 'lengths differ', keys: [STREAM, seen(1)], args: [String(TTL), '0', '0', good.old, Buffer.from([1, 2])] },
      { what: 'empty range', keys: [STREAM, seen(1)], args: [String(TTL), '0', '0', '', ''] },
      { what: 'past the chunk', keys: [STREAM, seen(1)], args: [String(TTL), '0', '131071', Buffer.from([0, 0]), Buffer.from([1, 1])] },
      // a good range first: nothing may be written before the bad one
      { what: 'bad second range', keys: [STREAM, seen(1), seen(2)],
        args: [String(TTL), '0', '0', good.old, good.now, 'x', good.old, good.now] },
    ];
    for (const c of cases) {
      await resetRedis(redis, 'ingest.lua');
      const msg = await fcallError(redis, 'es_ingest_mark', c.keys, c.args);
      assert.match(msg, /^ERR es_ingest_mark: /, c.what);
      assert.deepEqual(await snapshot(redis), {}, `${c.what}: nothing written`);
    }
  });

// The bulk path's transaction (workers/ingest/stream_writer.c), by hand:
// a chunk changed by another writer between the peek and EXEC makes EXEC
// fail as a whole, so nothing of the batch lands.
test('a transaction of peek, XADDs and mark does nothing when another writer touched a chunk',
  async () => {
    const a = item('k2x9q1');
    const byte = Math.floor(a.offset / 8);
    const tx = new RedisClient(redis.port, '127.0.0.1', { binary: true });
    try {
      const run = async (interfere) => {
        await tx.cmd('WATCH', a.seen);
        const [old] = await tx.cmd('FCALL_RO', 'es_ingest_peek', 2, STREAM,
          a.seen, '0', String(byte), '1');
        const before1 = Buffer.concat([old, Buffer.alloc(1)]).subarray(0, 1);
        const now = Buffer.from([before1[0] | (0x80 >> (a.offset % 8))]);
        if (interfere) await add([a]); // the poller, say
        await tx.cmd('MULTI');
        if (before1[0] === now[0]) {
          await tx.cmd('FCALL', 'es_ingest_mark', 2, STREAM, a.seen,
            String(TTL), '0', String(byte), before1, now);
        } else {
          await tx.cmd('XADD', STREAM, '*', 'type', 'comment', ...a.fields);
          await tx.cmd('FCALL', 'es_ingest_mark', 2, STREAM, a.seen,
            String(TTL), '1', String(byte), before1, now);
        }
        return tx.cmd('EXEC');
      };
      // the poller appends the comment meanwhile: EXEC refuses
      assert.equal(await run(true), null);
      assert.equal(await redis.cmd('XLEN', STREAM), 1);
      // started over, the peek sees the bit: nothing appended, TTL kept up
      const res = await run(false);
      assert.deepEqual(res, [0]);
      assert.equal(await redis.cmd('XLEN', STREAM), 1);
    } finally {
      tx.close();
    }
  });

// --- es_stream_trim ---

const trim = (maxLen) => fcall(redis, 'es_stream_trim', [STREAM], [String(maxLen)]);

test('es_stream_trim on a missing stream removes nothing and creates nothing',
  async () => {
    assert.equal(await trim(10), 0);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_stream_trim without a group keeps the newest max_len entries', async () => {
  const ids = await fill(5);
  assert.equal(await trim(10), 0, 'shorter than max_len: nothing removed');
  assert.equal(await trim(5), 0, 'exactly max_len: nothing removed');
  assert.equal(await trim(3), 2);
  assert.deepEqual(await streamIds(), ids.slice(2));
  assert.equal(await trim(3), 0, 'a replay removes nothing more');
  assert.equal(await trim(0), 3, 'max_len 0 keeps none');
  assert.equal(await redis.cmd('XLEN', STREAM), 0);
});

test('es_stream_trim keeps everything a group has not yet been delivered', async () => {
  await fill(4);
  // created from the start, nothing read: last-delivered-id is 0-0
  await redis.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
  assert.equal(await trim(1), 0, 'max_len does not apply when a group exists');
  assert.equal(await redis.cmd('XLEN', STREAM), 4);
});

test('es_stream_trim removes up to the last-delivered id of a group with nothing pending',
  async () => {
    const ids = await fill(5);
    await redis.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
    await redis.cmd('XREADGROUP', 'GROUP', 'enrich', 'c1', 'COUNT', 3,
                    'STREAMS', STREAM, '>');
    await redis.cmd('XACK', STREAM, 'enrich', ...ids.slice(0, 3));
    assert.equal(await trim(100), 3);
    assert.deepEqual(await streamIds(), ids.slice(3));
    assert.equal(await trim(100), 0, 'a replay removes nothing more');
  });

test('es_stream_trim keeps a group\'s oldest pending entry and everything after it',
  async () => {
    const ids = await fill(6);
    await redis.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
    await redis.cmd('XREADGROUP', 'GROUP', 'enrich', 'c1', 'COUNT', 4,
                    'STREAMS', STREAM, '>');
    // acknowledged out of order: 0 and 2 done, 1 and 3 pending
    await redis.cmd('XACK', STREAM, 'enrich', ids[0], ids[2]);
    assert.equal(await trim(1), 1);
    assert.deepEqual(await streamIds(), ids.slice(1));
  });

test('es_stream_trim keeps what the slowest of several groups needs', async () => {
  const ids = await fill(6);
  await redis.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
  await redis.cmd('XGROUP', 'CREATE', STREAM, 'mirror', '0');
  // enrich: read and acknowledged all six; mirror: read 3, acked 2
  await redis.cmd('XREADGROUP', 'GROUP', 'enrich', 'c', 'COUNT', 6, 'STREAMS', STREAM, '>');
  await redis.cmd('XACK', STREAM, 'enrich', ...ids);
  await redis.cmd('XREADGROUP', 'GROUP', 'mirror', 'c', 'COUNT', 3, 'STREAMS', STREAM, '>');
  await redis.cmd('XACK', STREAM, 'mirror', ids[0], ids[1]);
  assert.equal(await trim(1), 2);
  assert.deepEqual(await streamIds(), ids.slice(2));
  // a third group created at the end ("$") waits for nothing older
  await redis.cmd('XGROUP', 'CREATE', STREAM, 'late', '$');
  assert.equal(await trim(1), 0);
  // mirror catches up: only then does the rest go
  await redis.cmd('XACK', STREAM, 'mirror', ids[2]);
  await redis.cmd('XREADGROUP', 'GROUP', 'mirror', 'c', 'COUNT', 10, 'STREAMS', STREAM, '>');
  await redis.cmd('XACK', STREAM, 'mirror', ...ids.slice(3));
  assert.equal(await trim(1), 4);
  assert.equal(await redis.cmd('XLEN', STREAM), 0);
});

test('es_stream_trim compares ids numerically, not as text', async () => {
  // "9-0" < "10-0" as ids though not as strings
  await redis.cmd('XADD', STREAM, '9-0', 'n', '0');
  await redis.cmd('XADD', STREAM, '10-0', 'n', '1');
  await redis.cmd('XADD', STREAM, '10-9', 'n', '2');
  await redis.cmd('XADD', STREAM, '10-10', 'n', '3');
  await redis.cmd('XGROUP', 'CREATE', STREAM, 'a', '0');
  await redis.cmd('XGROUP', 'CREATE', STREAM, 'b', '0');
  await redis.cmd('XREADGROUP', 'GROUP', 'a', 'c', 'COUNT', 3, 'STREAMS', STREAM, '>');
  await redis.cmd('XACK', STREAM, 'a', '9-0', '10-0', '10-9');
  await redis.cmd('XREADGROUP', 'GROUP', 'b', 'c', 'COUNT', 1, 'STREAMS', STREAM, '>');
  await redis.cmd('XACK', STREAM, 'b', '9-0');
  // a keeps 10-10, b keeps 10-0 (after its last-delivered 9-0): 10-0 wins
  assert.equal(await trim(1), 1);
  assert.deepEqual(await streamIds(), ['10-0', '10-9', '10-10']);
});

test('es_stream_trim removes an acknowledged entry whose id has the largest sequence number',
  async () => {
    await redis.cmd('XADD', STREAM, '5-18446744073709551615', 'n', '0');
    await redis.cmd('XADD', STREAM, '6-0', 'n', '1');
    await redis.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
    await redis.cmd('XREADGROUP', 'GROUP', 'enrich', 'c', 'COUNT', 1, 'STREAMS', STREAM, '>');
    await redis.cmd('XACK', STREAM, 'enrich', '5-18446744073709551615');
    assert.equal(await trim(10), 1);
    assert.deepEqual(await streamIds(), ['6-0']);
  });

test('es_stream_trim answers an error and removes nothing without its arguments',
  async () => {
    await fill(3);
    const before1 = await snapshot(redis);
    assert.match(await fcallError(redis, 'es_stream_trim', [], ['1']), /^ERR /);
    assert.match(await fcallError(redis, 'es_stream_trim', [STREAM], []), /^ERR /);
    assert.match(await fcallError(redis, 'es_stream_trim', [STREAM], ['many']),
      /^ERR /);
    assert.match(await fcallError(redis, 'es_stream_trim', [STREAM], ['-1']),
      /^ERR /);
    assert.deepEqual(await snapshot(redis), before1);
  });

test('es_stream_trim refuses a wrong key type without touching it', async () => {
  await redis.cmd('SET', STREAM, 'not a stream');
  const msg = await fcallError(redis, 'es_stream_trim', [STREAM], ['1']);
  assert.match(msg, /^WRONGTYPE /);
  assert.equal(await redis.cmd('GET', STREAM), 'not a stream');
});

// docs/redis-keys.md: "a crash can never leave it marked but not
// appended". An append that fails must not leave the bit set either, or
// the comment is lost: every retry finds it "seen" and skips it.
test('es_ingest_add marks nothing seen when the append fails',
  async () => {
    await redis.cmd('SET', STREAM, 'not a stream');
    const a = item('k2x9q1');
    const msg = await fcallError(redis, 'es_ingest_add', ...Object.values(batch([a])));
    assert.match(msg, /^WRONGTYPE /);
    assert.equal(await redis.cmd('EXISTS', a.seen), 0);
  });

// The poller's lease (docs/scaling.md): one holder at a time, renewed
// only by its holder, released only by its holder, and what a call
// answers is always who holds it afterwards.
const LEASE = 'es:{ingest}:poller';

test('es_ingest_lease: taken when free, renewed by its holder only', async () => {
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-1', '5000', 'hold']),
    'host-1');
  const ttl1 = await redis.cmd('PTTL', LEASE);
  assert.ok(ttl1 > 4000 && ttl1 <= 5000, `ttl ${ttl1}`);
  // another process is told who holds it and changes nothing
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-2', '9000', 'hold']),
    'host-1');
  assert.ok(await redis.cmd('PTTL', LEASE) <= 5000);
  // the holder renews to its TTL
  await redis.cmd('PEXPIRE', LEASE, 100);
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-1', '5000', 'hold']),
    'host-1');
  assert.ok(await redis.cmd('PTTL', LEASE) > 4000);
  // a release by another is refused; the holder's frees it at once
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-2', '5000', 'release']),
    'host-1');
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-1', '5000', 'release']),
    '');
  assert.equal(await redis.cmd('EXISTS', LEASE), 0);
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-2', '5000', 'release']),
    '');
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-2', '5000', 'hold']),
    'host-2');
});

test('es_ingest_lease: an expired lease goes to the next process that asks', async () => {
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-1', '50', 'hold']),
    'host-1');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-2', '5000', 'hold']),
    'host-2');
  // the old holder, back from a stall, learns it lost it
  assert.equal(await fcall(redis, 'es_ingest_lease', [LEASE], ['host-1', '5000', 'hold']),
    'host-2');
});

test('es_ingest_lease refuses bad arguments and changes nothing', async () => {
  await fcall(redis, 'es_ingest_lease', [LEASE], ['host-1', '5000', 'hold']);
  const snap = await snapshot(redis);
  for (const args of [[], ['', '5000', 'hold'], ['host-2', '0', 'hold'],
                      ['host-2', 'x', 'hold'], ['host-2', '5000', 'grab'],
                      ['host-1', '5000']]) {
    assert.match(await fcallError(redis, 'es_ingest_lease', [LEASE], args),
      /es_ingest_lease/, JSON.stringify(args));
  }
  assert.match(await fcallError(redis, 'es_ingest_lease', [], ['h', '5', 'hold']),
    /es_ingest_lease/);
  assert.deepEqual(await snapshot(redis), snap);
});
