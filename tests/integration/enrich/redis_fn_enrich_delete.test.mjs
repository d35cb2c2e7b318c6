// redis_fn_enrich_delete.test.mjs - deletions through es_enrich_write
// (lib/redis/enrich.lua, protocol 4) called one by one against a real
// redis-server.
//
// The worker computes what a deletion takes out from the record it read
// (workers/enrich/deletion.c) and sends the deletion as "D", record key,
// that record's text and meta, with its decrements summed among the
// increments; the function only checks that the record is still that
// text and applies the numbers. tests/lib/enrich_write.mjs builds the
// calls the same way and derives the expected state from the comments, so
// these tests hold the function to its contract: a deletion takes out
// exactly what the comment added and leaves the tombstone; a deletion
// whose record changed after it was read applies nothing and is named in
// the reply; one finding the tombstone, or no record, changes nothing but
// the tombstone; a deletion of protocol 3 ("d", id) is refused with an
// error naming the protocols; malformed deletions are refused before any
// write.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { fcallError, hgetall, redisNow, snapshot } from '../../lib/redis_fn.mjs';
import {
  D, ES, LIVE, META, PRE, TOMBSTONE, assertRecord, buildWrite, comment, dv,
  enrichSuite, liveIds, recordJson, usageMonth, write, writeExpect,
} from '../../lib/enrich_write.mjs';

let redis;
enrichSuite((r) => { redis = r; });

test('es_enrich_write reverses a deleted comment exactly and leaves a tombstone',
  async () => {
    const a = comment('d1', { topics: ['rust', 'perf'], terms: ['borrow', 'fast'] });
    const b = comment('d2', { topics: ['rust'], label: 'negative', cs: -70,
      terms: ['borrow'] });
    const c = comment('d3', { topics: ['perf'], label: 'neutral', cs: 5, ago: 2 * D });
    await writeExpect([a, b, c], [3, 0, 0], [a, b, c], [], { units: 3, usd: 30 });
    const usage = await hgetall(redis, `${PRE}usage:${usageMonth()}`);
    const t0 = await redisNow(redis);
    const del = buildWrite([{ del: a }, { del: c }]);
    await writeExpect([{ del: a }, { del: c }], [0, 0, 2], [a, b, c], [a, c]);
    const t1 = await redisNow(redis);
    await assertRecord(a, TOMBSTONE, t0, t1);
    await assertRecord(c, TOMBSTONE, t0, t1);
    assert.equal(await redis.cmd('GET', `${PRE}c:d2`), recordJson(b));
    // a field a deletion brought to 0 stays, holding 0 (checked by hand)
    const h = await hgetall(redis, `${PRE}ts:perf:h:${a.t.slice(0, 8)}`);
    assert.equal(h[`${a.t.slice(8, 10)}:n`], '0');
    assert.equal(h[`${a.t.slice(8, 10)}:cs`], '0');
    // usage is not refunded; no live entry; the data version moved
    assert.deepEqual(await hgetall(redis, `${PRE}usage:${usageMonth()}`), usage);
    assert.equal((await liveIds()).length, 1);
    assert.equal(await dv(), '2');
    // the same call again (a retry), the deletions as a worker reading the
    // tombstones sends them, and a replay of the creations change nothing
    const snap = await snapshot(redis);
    assert.deepEqual(await redis.cmd('FCALL', 'es_enrich_write', 2, META, LIVE,
      ...del), [0, 0, 0]);
    assert.deepEqual(await write([{ del: a, stored: TOMBSTONE },
      { del: c, stored: TOMBSTONE }]), [0, 0, 0]);
    assert.deepEqual(await write([a, c]), [0, 2, 0]);
    assert.deepEqual(await snapshot(redis), snap);
  });

test('es_enrich_write keeps a comment deleted before it arrives out', async () => {
  const a = comment('e1', { topics: ['rust'], terms: ['slow'] });
  const t0 = await redisNow(redis);
  // the worker read no record: nothing to take out, only the tombstone
  assert.deepEqual(buildWrite([{ del: a, stored: '' }]).slice(-3),
    [`${PRE}c:e1`, '', '']);
  assert.deepEqual(await write([{ del: a, stored: '' }]), [0, 0, 0]);
  const t1 = await redisNow(redis);
  await assertRecord(a, TOMBSTONE, t0, t1);
  // nothing was created or deleted: no data version, no usage
  assert.equal(await dv(), null);
  await writeExpect([a], [0, 1, 0], []);
  assert.equal(await redis.cmd('EXISTS', LIVE), 0);
  assert.equal(await redis.cmd('EXISTS', `${PRE}usage:${usageMonth()}`), 0);
});

test('es_enrich_write ends at zero for a comment created and deleted in one batch',
  async () => {
    const a = comment('f1', { topics: ['rust'], terms: ['memory'] });
    const b = comment('f2', { topics: ['rust'], label: 'negative', cs: -1 });
    // the deletion expects the record the creation before it stores
    await writeExpect([a, b, { del: a }], [2, 0, 1], [a, b], [a]);
    assert.equal(await redis.cmd('GET', `${PRE}c:f1`), TOMBSTONE);
    // both were created by this call: both ids are in its live entry
    assert.deepEqual(await liveIds(), [['ids', 'f1,f2']]);
    assert.equal(await dv(), '1');
  });

test('es_enrich_write leaves a bucket key that expired alone when deleting',
  async () => {
    const a = comment('g1', { topics: ['rust'], terms: ['bug'] });
    await writeExpect([a], [1, 0, 0], [a]);
    // the hour bucket expired meanwhile (a key only decremented must exist)
    const hk = `${PRE}ts:rust:h:${a.t.slice(0, 8)}`;
    await redis.cmd('DEL', hk);
    assert.deepEqual(await write([{ del: a }]), [0, 0, 1]);
    assert.equal(await redis.cmd('EXISTS', hk), 0, 'not recreated below zero');
    const m = await hgetall(redis, `${PRE}ts:rust:m:${a.t.slice(0, 10)}`);
    assert.equal(m[`${a.t.slice(10, 12)}:n`], '0');
    assert.equal(await redis.cmd('EXISTS', `${PRE}terms:rust:${a.t.slice(0, 10)}`), 0);
    assert.equal(await redis.cmd('EXISTS', `${PRE}recent:rust`), 0);
  });

// Between the worker's read and its call another consumer may have written
// the record (a creation racing the deletion), deleted it, or it may have
// expired: a deletion computed from what is no longer stored must change
// nothing, and the reply names it so the worker tries again.
test('es_enrich_write applies nothing for a deletion whose record changed since it was read',
  async () => {
    const a = comment('s1', { topics: ['rust'], terms: ['race'] });
    const b = comment('s2', { topics: ['rust'], label: 'negative', cs: -30,
      terms: ['race'] });
    await writeExpect([a, b], [2, 0, 0], [a, b]);
    // another consumer stored a's record anew (same comment, other text)
    const other = recordJson({ ...a, topics: ['rust'], terms: ['race', 'again'] })
      .replace('"engine":"vader"', '"engine":"comprehend"');
    await redis.cmd('SET', `${PRE}c:s1`, other, 'KEEPTTL');
    // a and b share every bucket: b's decrements go in, a's share comes out
    await writeExpect([{ del: a }, { del: b }], [0, 0, 1, ['s1']], [a, b], [b]);
    assert.equal(await redis.cmd('GET', `${PRE}c:s1`), other);
    assert.equal(await redis.cmd('GET', `${PRE}c:s2`), TOMBSTONE);
    assert.equal(await dv(), '2');
    // the retry, computed from what is stored now, takes a out exactly
    await writeExpect([{ del: a, stored: other }], [0, 0, 1], [a, b], [a, b]);
    assert.equal(await redis.cmd('GET', `${PRE}c:s1`), TOMBSTONE);
  });

test('es_enrich_write applies nothing for a deletion whose record vanished or appeared',
  async () => {
    const a = comment('v1', { topics: ['rust'], terms: ['gone'] });
    const b = comment('v2', { topics: ['perf'] });
    await writeExpect([a, b], [2, 0, 0], [a, b]);
    // a's record expired after the worker read it: no tombstone, nothing
    await redis.cmd('DEL', `${PRE}c:v1`);
    let snap = await snapshot(redis);
    assert.deepEqual(await write([{ del: a }]), [0, 0, 0, ['v1']]);
    assert.deepEqual(await snapshot(redis), snap);
    // b's record was written after the worker found none
    snap = await snapshot(redis);
    assert.deepEqual(await write([{ del: b, stored: '' }]), [0, 0, 0, ['v2']]);
    assert.deepEqual(await snapshot(redis), snap);
  });

test('es_enrich_write takes a comment out once for two deletions of it in a call',
  async () => {
    const a = comment('w1', { topics: ['rust', 'perf'], terms: ['twice'] });
    const b = comment('w2', { topics: ['rust'], label: 'mixed', cs: 1 });
    await writeExpect([a, b], [2, 0, 0], [a, b]);
    // the second finds the tombstone the first left: its share comes out
    await writeExpect([{ del: a }, { del: a }], [0, 0, 1], [a, b], [a]);
    assert.equal(await dv(), '2');
  });

test('es_enrich_write leaves only the tombstone for a record it cannot have written',
  async () => {
    const a = comment('u1', { topics: ['rust'] });
    await writeExpect([a], [1, 0, 0], [a]);
    await redis.cmd('SET', `${PRE}c:u1`, '{"id":"u1"}', 'KEEPTTL');
    const t0 = await redisNow(redis);
    await writeExpect([{ del: a, stored: '{"id":"u1"}', unreadable: true }],
      [0, 0, 0], [a]);
    await assertRecord(a, TOMBSTONE, t0, await redisNow(redis));
    assert.equal(await dv(), '1');
  });

// A worker of protocol 3 sent a deletion as "d", id and let the function
// derive what to take out; the function no longer does that arithmetic,
// and must not guess: the call is refused, nothing written.
test('es_enrich_write refuses a protocol 3 deletion with an error naming the protocols',
  async () => {
    const a = comment('p1');
    const args = [...buildWrite([a]), 'd', 'p0'];
    const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], args);
    assert.equal(ES.ENRICH_PROTOCOL, 4);
    assert.match(msg, /^ERR es_enrich_write speaks protocol 4: argument \d+ is a deletion \("d", id\) of protocol 3/);
    assert.equal(Number(/argument (\d+)/.exec(msg)[1]), args.length - 1);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write refuses malformed deletions without writing anything',
  async () => {
    const a = comment('m1');
    const b = comment('m2');
    const good = buildWrite([a, { del: b }]);
    const at = good.lastIndexOf('D');
    const hk = good.indexOf('H');
    const with_ = (i, v) => good.map((x, k) => (k === i ? v : x));
    const cases = [
      { what: 'truncated', args: good.slice(0, -1) },
      { what: 'another tenant\'s record', args: with_(at + 1, 'es:{t:beta}:c:m2') },
      { what: 'not a record key', args: with_(at + 1, `${PRE}meta`) },
      { what: 'a bad id', args: with_(at + 1, `${PRE}c:M2`) },
      { what: 'garbage meta', args: with_(at + 3, 'all of it') },
      { what: 'a garbage decrement', args: with_(hk + 5, '-x') },
      { what: 'an unknown kind', args: with_(hk, 'Q') },
    ];
    assert.ok(at > 0 && hk > 0, 'the call has a deletion and decrements');
    for (const c of cases) {
      await redis.cmd('FLUSHALL');
      const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], c.args);
      assert.match(msg, /^ERR /, c.what);
      assert.deepEqual(await snapshot(redis), {}, `${c.what}: nothing written`);
    }
  });
