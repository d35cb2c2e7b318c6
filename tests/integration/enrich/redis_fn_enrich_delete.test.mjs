// redis_fn_enrich_delete.test.mjs - deletions through es_enrich_write
// (lib/redis/enrich.lua, protocol 5) called one by one against a real
// redis-server, and the calls of older protocols it refuses.
//
// The worker computes what a deletion takes out from the parts it read
// (workers/enrich/deletion.c) and sends the deletion as "D", creation
// hour, id, the tenant part it read and meta, with its decrements summed
// among the increments; the function only checks that the tenant part is
// still that text and applies the numbers. tests/lib/enrich_write.mjs
// builds the calls the same way and derives the expected state from the
// comments, so these tests hold the function to its contract: a deletion
// takes out exactly what the comment added and leaves the tombstone; a
// deletion whose record changed after it was read applies nothing and is
// named in the reply; one finding the tombstone, or no record, changes
// nothing but the tombstone; a call of protocol 3 ("d", id) or 4 (a record
// as its own key es:{t:<T>}:c:<id>) is refused with an error naming the
// protocols; malformed deletions are refused before any write.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { fcallError, hgetall, snapshot } from '../../lib/redis_fn.mjs';
import {
  D, ES, GONE, LIVE, META, PRE, RET, assertRecord, buildWrite, comment, dv,
  enrichSuite, liveEntry, liveIds, recordKey, recordPart, usageMonth, write,
  writeExpect,
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
    const del = buildWrite([{ del: a }, { del: c }]);
    await writeExpect([{ del: a }, { del: c }], [0, 0, 2], [a, b, c], [a, c]);
    await assertRecord(a, GONE);
    await assertRecord(c, GONE);
    await assertRecord(b, recordPart(b));
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
    assert.deepEqual(await write([{ del: a, stored: GONE },
      { del: c, stored: GONE }]), [0, 0, 0]);
    assert.deepEqual(await write([a, c]), [0, 2, 0]);
    assert.deepEqual(await snapshot(redis), snap);
  });

test('es_enrich_write keeps a comment deleted before it arrives out', async () => {
  const a = comment('e1', { topics: ['rust'], terms: ['slow'] });
  // the worker read no record: nothing to take out, only the tombstone
  assert.deepEqual(buildWrite([{ del: a, stored: '' }]).slice(-5),
    ['D', a.hour, 'e1', '', '']);
  assert.deepEqual(await write([{ del: a, stored: '' }]), [0, 0, 0]);
  await assertRecord(a, GONE);
  // nothing was created or deleted: no data version, no usage
  assert.equal(await dv(), null);
  await writeExpect([a], [0, 1, 0], []);
  assert.equal(await redis.cmd('EXISTS', LIVE), 0);
  assert.equal(await redis.cmd('EXISTS', `${PRE}usage:${usageMonth()}`), 0);
});

// A deletion entry without its comment's creation time, for a comment no
// bucket of the retention holds yet: its tombstone waits in the tenant's
// early hash, and the comment, when it comes, stores the tombstone.
test('es_enrich_write keeps a comment deleted before it arrives out, without its hour',
  async () => {
    const a = comment('e2', { topics: ['rust'], terms: ['late'] });
    const b = comment('e3', { topics: ['rust'], label: 'negative', cs: -40 });
    const early = `${PRE}cg`;
    assert.deepEqual(buildWrite([{ del: a, stored: '', hourless: true }]).slice(-5),
      ['D', '', 'e2', '', '']);
    assert.deepEqual(await write([{ del: a, stored: '', hourless: true }]), [0, 0, 0]);
    assert.equal(await redis.cmd('HGET', early, 'e2'), '1');
    const ttl = await redis.cmd('TTL', early);
    assert.ok(ttl > RET - 60 && ttl <= RET, `the early hash lives a retention: ${ttl}`);
    assert.equal(await dv(), null);
    // the comment comes (beside another): a replay that stores the tombstone
    await writeExpect([a, b], [1, 1, 0], [b]);
    await assertRecord(a, GONE);
    await assertRecord(b, recordPart(b));
    assert.equal(await redis.cmd('EXISTS', early), 0, 'taken out of the hash');
    assert.deepEqual(await liveIds(), [liveEntry([b])]);
    // a replay of either changes nothing
    const snap = await snapshot(redis);
    assert.deepEqual(await write([a, b]), [0, 2, 0]);
    assert.deepEqual(await snapshot(redis), snap);
  });

test('es_enrich_write holds an hourless deletion and its comment in one call apart',
  async () => {
    const a = comment('e4', { topics: ['rust', 'perf'] });
    await writeExpect([{ del: a, stored: '', hourless: true }, a], [0, 1, 0], []);
    await assertRecord(a, GONE);
    assert.equal(await redis.cmd('EXISTS', `${PRE}cg`), 0);
  });

test('es_enrich_write reports an hourless deletion whose record appeared meanwhile',
  async () => {
    const a = comment('e5', { topics: ['rust'] });
    await writeExpect([a], [1, 0, 0], [a]);
    // the worker found no record, then another consumer stored it
    const snap = await snapshot(redis);
    assert.deepEqual(await write([{ del: a, stored: '', hourless: true }]),
      [0, 0, 0, ['e5']]);
    assert.deepEqual(await snapshot(redis), snap);
  });

test('es_enrich_write ends at zero for a comment created and deleted in one batch',
  async () => {
    const a = comment('f1', { topics: ['rust'], terms: ['memory'] });
    const b = comment('f2', { topics: ['rust'], label: 'negative', cs: -1 });
    // the deletion expects the record the creation before it stores
    await writeExpect([a, b, { del: a }], [2, 0, 1], [a, b], [a]);
    await assertRecord(a, GONE);
    await assertRecord(b, recordPart(b));
    // both were created by this call: both ids are in its live entry
    assert.deepEqual(await liveIds(), [liveEntry([a, b])]);
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
    assert.equal(await redis.cmd('EXISTS', `${PRE}rc:rust:${a.hour}`), 0);
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
    // another consumer stored a's record anew (same comment, other text:
    // scored by Comprehend, with the same label and compound)
    const other = recordPart(a).replace('\x1fv\x1f', '\x1fc\x1f') +
      ['', 'p', a.cs, '', 0, 4000, 6000].join('\x1f');
    await redis.cmd('HSET', await recordKey(a), 's1', other);
    // a and b share every bucket: b's decrements go in, a's share comes out
    await writeExpect([{ del: a }, { del: b }], [0, 0, 1, ['s1']], [a, b], [b]);
    await assertRecord(a, other);
    await assertRecord(b, GONE);
    assert.equal(await dv(), '2');
    // the retry, computed from what is stored now, takes a out exactly
    await writeExpect([{ del: a, stored: other }], [0, 0, 1], [a, b], [a, b]);
    await assertRecord(a, GONE);
  });

test('es_enrich_write applies nothing for a deletion whose record vanished or appeared',
  async () => {
    const a = comment('v1', { topics: ['rust'], terms: ['gone'] });
    const b = comment('v2', { topics: ['perf'] });
    await writeExpect([a, b], [2, 0, 0], [a, b]);
    // a's record expired after the worker read it: no tombstone, nothing
    await redis.cmd('HDEL', await recordKey(a), 'v1');
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
    await redis.cmd('HSET', await recordKey(a), 'u1', '{"id":"u1"}');
    await writeExpect([{ del: a, stored: '{"id":"u1"}', unreadable: true }],
      [0, 0, 0], [a]);
    await assertRecord(a, GONE);
    assert.equal(await dv(), '1');
  });

// Workers of protocols 3 and 4 sent a record as its own key
// es:{t:<T>}:c:<id> (then the record's JSON and meta), and protocol 3 a
// deletion as "d", id, letting the function derive what to take out. A
// function of protocol 5 reads every such argument differently and must
// not guess: the call is refused with an error naming the protocols, at
// the first such argument, nothing written.
const PROTOCOLS = new RegExp(`^ERR es_enrich_write speaks protocol ${ES.ENRICH_PROTOCOL}: ` +
  'argument (\\d+) is a record key of protocol 3 or 4 ');

test('es_enrich_write refuses a call of protocol 4 with an error naming the protocols',
  async () => {
    assert.equal(ES.ENRICH_PROTOCOL, 5);
    const a = comment('p1');
    const b = comment('p2');
    const args = buildWrite([a]);
    // the records as protocol 4 sent them: key, JSON record, meta
    const rec0 = Number(args[6]);
    const old = [...args.slice(0, rec0 - 1),
      `${PRE}c:p1`, JSON.stringify({ id: 'p1', topics: ['rust'] }), `${a.cs}||`,
      `${PRE}c:p2`, JSON.stringify({ id: 'p2', topics: ['rust'] }), `${b.cs}||`];
    const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], old);
    assert.match(msg, PROTOCOLS);
    assert.equal(Number(PROTOCOLS.exec(msg)[1]), rec0);
    assert.deepEqual(await snapshot(redis), {});
    // after records of protocol 5 too
    const mixed = [...args, `${PRE}c:p2`, '{}', `${b.cs}||`];
    const m2 = await fcallError(redis, 'es_enrich_write', [META, LIVE], mixed);
    assert.equal(Number(PROTOCOLS.exec(m2)[1]), args.length + 1);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_write refuses a protocol 3 deletion with an error naming the protocols',
  async () => {
    const a = comment('p1');
    const args = [...buildWrite([a]), 'd', 'p0'];
    const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], args);
    assert.match(msg, PROTOCOLS);
    assert.equal(Number(PROTOCOLS.exec(msg)[1]), args.length - 1);
    assert.deepEqual(await snapshot(redis), {});
  });

// A deletion of protocol 4 was "D", record key, stored record, meta: one
// argument fewer than protocol 5's, and the key where the hour goes.
test('es_enrich_write refuses a protocol 4 deletion with an error naming the protocols',
  async () => {
    const a = comment('p1');
    const b = comment('p2');
    const head = buildWrite([a]);
    for (const args of [
      [...head, 'D', `${PRE}c:p2`, '{"id":"p2"}', `${-b.cs}||`],
      [...head, 'D', `${PRE}c:p2`, '{"id":"p2"}', `${-b.cs}||`,
        'D', `${PRE}c:p0`, '', ''],
    ]) {
      const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], args);
      assert.match(msg, PROTOCOLS, JSON.stringify(args.slice(head.length)));
      assert.deepEqual(await snapshot(redis), {});
    }
  });

test('es_enrich_write refuses malformed deletions without writing anything',
  async () => {
    const a = comment('m1');
    const b = comment('m2');
    const good = buildWrite([a, { del: b }]);
    const at = good.lastIndexOf('D');
    const hk = good.indexOf('H');
    const with_ = (i, v) => good.map((x, k) => (k === i ? v : x));
    const ak = good.indexOf('A');
    const cases = [
      { what: 'truncated', args: good.slice(0, -1) },
      { what: 'another tenant\'s key for the hour', args: with_(at + 1, 'es:{t:beta}:cr:x') },
      { what: 'a key for the hour', args: with_(at + 1, `${PRE}meta`) },
      { what: 'no hour with the part it expects', args: with_(at + 1, '') },
      { what: 'no hour with meta',
        args: good.map((x, k) => (k === at + 1 || k === at + 3 ? '' : x)) },
      { what: 'an hour that is no hour', args: with_(at + 1, b.hour.slice(0, 8) + '24') },
      { what: 'a month 13', args: with_(at + 1, `${b.hour.slice(0, 4)}13${b.hour.slice(6)}`) },
      { what: 'a bad id', args: with_(at + 2, 'M2') },
      { what: 'an empty id', args: with_(at + 2, '') },
      { what: 'garbage meta', args: with_(at + 4, 'all of it') },
      { what: 'a garbage decrement', args: with_(hk + 5, '-x') },
      { what: 'an unknown kind', args: with_(hk, 'Q') },
      { what: 'a malformed recent entry', args: with_(ak + 4, 'm2:p;') },
      { what: 'a recent entry of two', args: with_(ak + 4, `${good[ak + 4]}x:p1;`) },
    ];
    assert.ok(at > 0 && hk > 0 && ak > 0, 'the call has a deletion and decrements');
    for (const c of cases) {
      await redis.cmd('FLUSHALL');
      const msg = await fcallError(redis, 'es_enrich_write', [META, LIVE], c.args);
      assert.match(msg, /^ERR /, c.what);
      assert.deepEqual(await snapshot(redis), {}, `${c.what}: nothing written`);
    }
  });
