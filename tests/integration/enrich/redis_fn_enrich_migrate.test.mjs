// redis_fn_enrich_migrate.test.mjs - es_enrich_migrate of
// lib/redis/enrich.lua (library "echostream_enrich") called one by one
// against a real redis-server: the lock every operation checks and renews,
// the conversion of schema-1 records (es:{t:<T>}:c:<id>, one JSON string
// each) into the schema-2 buckets, and the arguments it refuses.
//
// enrich_migrate.test.mjs runs the whole migration through the worker;
// this suite holds the function to the contract of the file's header:
// a record converts only while its legacy key holds the text read, once;
// a tombstone is dropped; a lost lock writes nothing; an error reply
// means nothing was written. Redis is emptied before every test.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { fcall, fcallError, snapshot } from '../../lib/redis_fn.mjs';
import {
  D, PRE, RET, comment, enrichSuite, kit, recordPart,
} from '../../lib/enrich_write.mjs';
import { publicBucket, publicPart, recentEntry, titleRef, esc } from '../../lib/records.mjs';

let redis;
enrichSuite((r) => { redis = r; });

const LOCK = 'es:{schema}:migrating';
const TOKEN = 'tok-1';
const mig = (op, rest = []) => fcall(redis, 'es_enrich_migrate', [],
  [LOCK, TOKEN, '60000', op, ...rest]);
const migError = (args) => fcallError(redis, 'es_enrich_migrate', [], args);

// comment c of enrich_write.mjs as a record-like object (records.mjs)
const rec = (c) => ({
  id: c.id, topics: c.topics, label: c.label, compound: c.cs / 1e4, cs: c.cs,
  neg: 0.1, neu: 0.5, pos: 0.4, engine: 'vader', created: c.created,
  subreddit: 'rust', author: 'alice', body: `text of ${c.id}`,
  permalink: `/r/rust/comments/p1/a_post/${c.id}/`, link_title: 'A post',
  score: '7' });

// a legacy record's eight arguments, as workers/enrich/migrate.c sends them
const legacyArgs = (c, text) => [text, c.hour, c.id, recordPart(c),
  publicPart(rec(c)), titleRef('A post'), esc('A post'), recentEntry(rec(c))];
const legacyText = (c) => JSON.stringify({ id: c.id, v: 1 });
const records = (list, now = kit.now) => ['records', PRE, String(now), String(RET),
  '0', ...list.flat()];

test('es_enrich_migrate converts a record once, drops a tombstone, keeps a changed one',
  async () => {
    await redis.cmd('SET', LOCK, TOKEN);
    const a = comment('m1', { topics: ['rust'] });
    const old = comment('m2', { ago: 400 * D });
    const changed = comment('m3');
    for (const c of [a, old, changed]) {
      await redis.cmd('SET', `${PRE}c:${c.id}`, legacyText(c));
    }
    await redis.cmd('SET', `${PRE}c:m4`, '{"deleted":true}');
    // beyond the retention: no recent entry
    const oldArgs = legacyArgs(old, legacyText(old)).map((x, i) => (i === 7 ? '' : x));
    const args = records([legacyArgs(a, legacyText(a)), oldArgs,
      legacyArgs(changed, 'what the worker read before a write'),
      ['{"deleted":true}', '', 'm4', '', '', '', '', '']]);
    assert.deepEqual(await mig(args[0], args.slice(1)), [2, 0, 1, 1, 2, 0]);
    // the converted records are in their hour buckets, the legacy keys gone
    for (const c of [a, old]) {
      assert.equal(await redis.cmd('HGET', `${PRE}cr:${c.hour}`, c.id), recordPart(c));
      assert.equal(await redis.cmd('EXISTS', `${PRE}c:${c.id}`), 0);
      assert.equal(await redis.cmd('HGET', await publicBucket(redis, c.id, c.hour), c.id),
        publicPart(rec(c)));
    }
    assert.equal(await redis.cmd('GET', `${PRE}rc:rust:${a.hour}`), recentEntry(rec(a)));
    // the tombstone is dropped, the changed record left for the next pass
    assert.equal(await redis.cmd('EXISTS', `${PRE}c:m4`), 0);
    assert.equal(await redis.cmd('GET', `${PRE}c:m3`), legacyText(changed));
    // history beyond the window is noted for deletions without their hour
    assert.deepEqual(await redis.cmd('SMEMBERS', `${PRE}crh`), [old.hour]);
    assert.equal(await redis.cmd('GET', `${PRE}dv`), '1');
    // the same call again converts nothing: the legacy keys are gone
    const snap = await snapshot(redis);
    assert.deepEqual(await mig(args[0], args.slice(1)), [0, 0, 0, 4, 0, 0]);
    delete snap[LOCK];
    const after = await snapshot(redis);
    delete after[LOCK];
    assert.deepEqual(after, snap);
  });

test('es_enrich_migrate renews, finishes and releases the lock; a lost lock writes nothing',
  async () => {
    await redis.cmd('SET', LOCK, TOKEN, 'PX', '1000');
    assert.equal(await mig('lock'), 1);
    assert.ok(await redis.cmd('PTTL', LOCK) > 50000, 'renewed for the lifetime');
    const a = comment('n1');
    await redis.cmd('SET', `${PRE}c:n1`, legacyText(a));
    await redis.cmd('SET', LOCK, 'another worker');
    const snap = await snapshot(redis);
    assert.match(await migError([LOCK, TOKEN, '60000', ...records([legacyArgs(a, legacyText(a))])]),
      /migration lock lost/);
    assert.match(await migError([LOCK, TOKEN, '60000', 'lock']), /migration lock lost/);
    assert.deepEqual(await snapshot(redis), snap);
    await redis.cmd('SET', LOCK, TOKEN);
    assert.equal(await mig('done', ['es:{schema}:version', '2']), 1);
    assert.equal(await redis.cmd('GET', 'es:{schema}:version'), '2');
    assert.equal(await redis.cmd('EXISTS', LOCK), 0);
    await redis.cmd('SET', LOCK, TOKEN);
    assert.equal(await mig('release'), 1);
    assert.equal(await redis.cmd('EXISTS', LOCK), 0);
  });

test('es_enrich_migrate refuses bad arguments without writing anything', async () => {
  const a = comment('q1');
  const good = legacyArgs(a, legacyText(a));
  const head = [LOCK, TOKEN, '60000'];
  const cases = [
    { what: 'no operation', args: head },
    { what: 'an unknown operation', args: [...head, 'convert'] },
    { what: 'a lifetime too short', args: [LOCK, TOKEN, '5', 'lock'] },
    { what: 'done without a version', args: [...head, 'done', 'es:{schema}:version'] },
    { what: 'a foreign prefix', args: [...head, 'records', 'es:{c}:', String(kit.now),
      String(RET), '0', ...good] },
    { what: 'a record cut short', args: [...head, ...records([good]).slice(0, -1)] },
    { what: 'a bad hour estimate', args: [...head, 'records', PRE, String(kit.now),
      String(RET), '1', '2024133100', '1', '1', ...good] },
    { what: 'a bad id', args: [...head, ...records([good.map((x, i) => (i === 2 ? 'Q 1' : x))])] },
    { what: 'a record without its part', args: [...head,
      ...records([good.map((x, i) => (i === 3 ? '' : x))])] },
    { what: 'a bad recent entry', args: [...head,
      ...records([good.map((x, i) => (i === 7 ? 'q1;' : x))])] },
  ];
  for (const c of cases) {
    await redis.cmd('FLUSHALL');
    await redis.cmd('SET', LOCK, TOKEN);
    await redis.cmd('SET', `${PRE}c:q1`, legacyText(a));
    const snap = await snapshot(redis);
    assert.match(await migError(c.args), /^ERR /, c.what);
    assert.deepEqual(await snapshot(redis), snap, `${c.what}: nothing written`);
  }
});
