// redis_fn_enrich_parts.test.mjs - the public parts of lib/redis/enrich.lua
// (library "echostream_enrich"): es_enrich_public, which stores the part
// of a comment every tenant shares (once, in its creation hour's bucket
// es:{c}:<YYYYMMDDHH>[:<k>], a long one in the hour's :l, post titles in
// the hour's :t) and tombstones a deleted comment's; and es_enrich_parts,
// which reads a tenant's part and the public part back for the worker's
// deletions, finding the hour within the retention when the deletion does
// not carry it. Called one by one against a real redis-server with the
// KEYS/ARGV protocol of the file's header; the texts are the worker's
// (tests/lib/records.mjs writes them as workers/enrich/record.c does).
//
// A call with bad arguments must answer an error and leave every key as it
// was. Redis is emptied before every test.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { fcall, fcallError, hgetall, snapshot } from '../../lib/redis_fn.mjs';
import {
  D, ES, GONE, H, META, PRE, RET, comment, enrichSuite, kit, recordPart, write,
} from '../../lib/enrich_write.mjs';
import {
  LONG, esc, publicBucket, publicPart, titleRef,
} from '../../lib/records.mjs';

let redis;
enrichSuite((r) => { redis = r; });

// comment c of enrich_write.mjs as a record-like object (records.mjs)
const rec = (c, extra = {}) => ({
  id: c.id, topics: c.topics, label: c.label, compound: c.cs / 1e4, cs: c.cs,
  neg: 0.1, neu: 0.5, pos: 0.4, engine: 'vader', created: c.created,
  subreddit: 'rust', author: 'alice', body: `text of ${c.id} "quoted"\n`,
  permalink: `/r/rust/comments/p1/a_post/${c.id}/`, link_title: 'A "post" ✓',
  score: '7', ...extra });

// when the public parts of c expire: a retention after the hour, or after
// now when later (the worker sends it)
const pexp = (c, ret = 30 * D) =>
  Math.max(Math.floor(c.created / 3600000) * 3600 + H, kit.now) + ret;

const P = (c, r = rec(c), exp = pexp(c)) => ['P', c.hour, String(exp), c.id, publicPart(r)];
const T = (c, r = rec(c), exp = pexp(c)) =>
  ['T', c.hour, String(exp), titleRef(r.link_title), esc(r.link_title)];
const pub = (args) => fcall(redis, 'es_enrich_public', [], args);

test('es_enrich_public stores each public part once, in its hour, titles in the hour\'s table',
  async () => {
    const a = comment('q1');
    const b = comment('q2', { label: 'negative', cs: -3000 });
    const c = comment('q3', { ago: 3 * H });
    const args = [...P(a), ...T(a), ...P(b), ...T(b), ...P(c)];
    assert.equal(await pub(args), 3);
    assert.deepEqual(await hgetall(redis, `es:{c}:${a.hour}`),
      { q1: publicPart(rec(a)), q2: publicPart(rec(b)) });
    assert.deepEqual(await hgetall(redis, `es:{c}:${c.hour}`), { q3: publicPart(rec(c)) });
    // one title for the two comments of the post
    assert.deepEqual(await hgetall(redis, `es:{c}:${a.hour}:t`),
      { [titleRef(rec(a).link_title)]: 'A \\"post\\" ✓' });
    // the part by hand: subreddit, author, score, title reference, the
    // link's post and slug, VADER's label, cs, compound (= cs: empty),
    // neg, neu, pos, the body escaped
    assert.equal(publicPart(rec(a)), ['rust', 'alice', '7',
      `#${titleRef('A "post" ✓')}`, '~p1/a_post', 'p', '5000', '', '1000',
      '5000', '4000', 'text of q1 \\"quoted\\"\\n'].join('\x1f'));
    // the hours' splits (1: a few parts) and counts
    const split = {};
    for (const x of [a, b, c]) {
      const d = (split[x.hour.slice(0, 8)] ??= {});
      const hh = x.hour.slice(8, 10);
      d[hh] = '1';
      d[`${hh}:n`] = String(Number(d[`${hh}:n`] ?? 0) + 1);
    }
    for (const [day, want] of Object.entries(split)) {
      assert.deepEqual(await hgetall(redis, `es:{c}:s:${day}`), want, day);
    }
    for (const k of [`es:{c}:${a.hour}`, `es:{c}:${a.hour}:t`]) {
      assert.equal(await redis.cmd('EXPIRETIME', k), pexp(a), k);
    }
    // nothing of any tenant
    const snap = await snapshot(redis);
    assert.ok(Object.keys(snap).every((k) => k.startsWith('es:{c}:')), Object.keys(snap));
    // a replay writes nothing; another text for the same id does not
    // replace the first
    assert.equal(await pub(args), 0);
    assert.equal(await pub(P(a, rec(a, { body: 'edited' }))), 0);
    assert.deepEqual(await snapshot(redis), snap);
  });

test('es_enrich_public only ever makes a bucket live longer', async () => {
  const a = comment('r1');
  const b = comment('r2');
  const k = `es:{c}:${a.hour}`;
  await pub(P(a, rec(a), pexp(a)));
  // a tenant of a longer retention stores another comment of the hour
  await pub(P(b, rec(b), pexp(b, 90 * D)));
  assert.equal(await redis.cmd('EXPIRETIME', k), pexp(b, 90 * D));
  // one of a shorter one: the bucket keeps the later time
  await pub([...P(comment('r3'), rec(comment('r3')), pexp(a, 7 * D))]);
  assert.equal(await redis.cmd('EXPIRETIME', k), pexp(b, 90 * D));
  assert.equal(await redis.cmd('HLEN', k), 3);
});

test('es_enrich_public keeps a long part in the hour\'s :l; a deletion tombstones it for good',
  async () => {
    const a = comment('s1');
    const b = comment('s2');
    const long = rec(a, { body: 'x'.repeat(ES.PUBLIC_INLINE_MAX) });
    assert.ok(Buffer.byteLength(publicPart(long)) > ES.PUBLIC_INLINE_MAX);
    assert.equal(await pub([...P(a, long), ...P(b)]), 2);
    const k = `es:{c}:${a.hour}`;
    assert.deepEqual(await hgetall(redis, k), { s1: LONG, s2: publicPart(rec(b)) });
    assert.deepEqual(await hgetall(redis, `${k}:l`), { s1: publicPart(long) });
    assert.equal(await redis.cmd('EXPIRETIME', `${k}:l`), pexp(a));
    // deletions: the parts become the tombstone, the long text goes
    assert.equal(await pub(['X', a.hour, 's1', 'X', b.hour, 's2']), 2);
    assert.deepEqual(await hgetall(redis, k), { s1: GONE, s2: GONE });
    assert.equal(await redis.cmd('EXISTS', `${k}:l`), 0);
    const snap = await snapshot(redis);
    // again, and a replay of the comments: nothing changes
    assert.equal(await pub(['X', a.hour, 's1']), 0);
    assert.equal(await pub([...P(a, long), ...P(b)]), 0);
    assert.deepEqual(await snapshot(redis), snap);
  });

test('es_enrich_public writes nothing for the deletion of a part it does not hold',
  async () => {
    const a = comment('t1');
    assert.equal(await pub(['X', a.hour, 't1']), 0);
    assert.deepEqual(await snapshot(redis), {});
  });

test('es_enrich_public splits a busy hour into sub-buckets', async () => {
  const all = Array.from({ length: 40 }, (_, i) => comment(`u${i.toString(36)}x`));
  const h = all[0].hour;
  assert.ok(all.every((c) => c.hour === h));
  assert.equal(await pub(all.flatMap((c) => P(c))), 40);
  // for eight times the first call's parts, ES.BUCKET_TARGET a bucket
  let want = 1;
  while (want * ES.BUCKET_TARGET < 8 * 40) want *= 2;
  const day = await hgetall(redis, `es:{c}:s:${h.slice(0, 8)}`);
  assert.deepEqual(day, { [h.slice(8, 10)]: String(want), [`${h.slice(8, 10)}:n`]: '40' });
  const keys = new Set();
  for (const c of all) {
    const k = await publicBucket(redis, c.id, c.hour);
    keys.add(k);
    assert.equal(await redis.cmd('HGET', k, c.id), publicPart(rec(c)), c.id);
  }
  assert.ok(keys.size > 1 && [...keys].every((k) => k.startsWith(`es:{c}:${h}:`)),
    [...keys].join(' '));
  // a deletion finds its part in its sub-bucket
  assert.equal(await pub(['X', h, all[7].id]), 1);
  assert.equal(await redis.cmd('HGET', await publicBucket(redis, all[7].id, h), all[7].id),
    GONE);
});

test('es_enrich_public refuses bad operations without writing anything', async () => {
  const a = comment('v1');
  const good = [...P(a), ...T(a), 'X', a.hour, 'v2'];
  const with_ = (i, v) => good.map((x, k) => (k === i ? v : x));
  const cases = [
    { what: 'an unknown operation', args: with_(0, 'Q') },
    { what: 'truncated', args: good.slice(0, -1) },
    { what: 'a part without its text', args: good.slice(0, 4) },
    { what: 'no hour', args: with_(1, 'today') },
    { what: 'hour 24', args: with_(1, `${a.hour.slice(0, 8)}24`) },
    { what: 'a garbage expiry', args: with_(2, 'soon') },
    { what: 'a bad id', args: with_(3, 'V1') },
    { what: 'a title reference that is no hex', args: with_(8, 'not-hex') },
    { what: 'a deletion\'s bad id', args: with_(12, 'v 2') },
  ];
  for (const c of cases) {
    const msg = await fcallError(redis, 'es_enrich_public', [], c.args);
    assert.match(msg, /^ERR public part operation at argument \d+$/, c.what);
    assert.deepEqual(await snapshot(redis), {}, `${c.what}: nothing written`);
  }
});

// --- es_enrich_parts ---

const parts = (args, { now = kit.now, hours = 721 } = {}) =>
  fcall(redis, 'es_enrich_parts', [META], [PRE, String(now), String(hours), ...args]);

test('es_enrich_parts answers the tenant and public parts of each comment, finding the hour',
  async () => {
    const a = comment('w1', { topics: ['rust', 'perf'] });
    const b = comment('w2', { ago: 2 * D, label: 'negative', cs: -20 });
    const c = comment('w3');
    const long = rec(b, { body: 'y'.repeat(ES.PUBLIC_INLINE_MAX + 1) });
    assert.deepEqual(await write([a, b]), [2, 0, 0]);
    assert.equal(await pub([...P(a), ...P(b, long)]), 2);
    const snap = await snapshot(redis);
    assert.deepEqual(await parts(['w1', a.hour, 'w2', '', 'w3', '', 'w3', c.hour]), [
      a.hour, recordPart(a), publicPart(rec(a)),
      // found within the retention; the long part's text, not its mark
      b.hour, recordPart(b), publicPart(long),
      // nothing stored: no hour found, or none at the hour given
      '', null, null,
      c.hour, null, null,
    ]);
    // looked for no further back than the hours given
    assert.deepEqual(await parts(['w2', ''], { hours: 24 }), ['', null, null]);
    assert.deepEqual(await parts(['w2', ''], { hours: 49 }),
      [b.hour, recordPart(b), publicPart(long)]);
    // a tenant part without its public part, and tombstones
    await redis.cmd('DEL', `es:{c}:${a.hour}`);
    await pub(['X', b.hour, 'w2']);
    assert.deepEqual(await parts(['w1', a.hour, 'w2', b.hour]),
      [a.hour, recordPart(a), null, b.hour, recordPart(b), GONE]);
    // read only
    delete snap[`es:{c}:${a.hour}`];
    const after = await snapshot(redis);
    for (const k of Object.keys(after)) {
      if (k.startsWith('es:{c}:')) delete after[k];
    }
    for (const k of Object.keys(snap)) {
      if (k.startsWith('es:{c}:')) delete snap[k];
    }
    assert.deepEqual(after, snap);
  });

// A backfill writes records into hours long past the retention window:
// es_enrich_write notes those hours in es:{t:<T>}:crh, so a deletion
// without creation time still finds such a record.
test('es_enrich_parts finds a record of backfilled history outside the window',
  async () => {
    const old = comment('b1', { ago: 400 * D, topics: ['rust'] });
    const recent = comment('b2', { ago: 3 * H });
    assert.deepEqual(await write([old, recent]), [2, 0, 0]);
    assert.deepEqual(await redis.cmd('SMEMBERS', `${PRE}crh`), [old.hour],
      'only the hour outside the window is noted');
    const ttl = await redis.cmd('TTL', `${PRE}crh`);
    assert.ok(ttl > RET - 60 && ttl <= RET, `lives a retention: ${ttl}`);
    assert.deepEqual(await parts(['b1', '', 'b2', '']), [
      old.hour, recordPart(old), null,
      recent.hour, recordPart(recent), null,
    ]);
    // an hourless deletion the worker computed before the record was found
    // is reported, so the worker computes it again from the record
    assert.deepEqual(await write([{ del: old, stored: '', hourless: true }]),
      [0, 0, 0, ['b1']]);
    assert.equal(await redis.cmd('EXISTS', `${PRE}cg`), 0);
  });

test('es_enrich_parts refuses bad arguments', async () => {
  const a = comment('x1');
  const cases = [
    { what: 'no meta key', keys: [], args: [PRE, String(kit.now), '24', 'x1', a.hour] },
    { what: 'a bad prefix', args: ['es:{c}:', String(kit.now), '24', 'x1', a.hour] },
    { what: 'a garbage now', args: [PRE, 'now', '24', 'x1', a.hour] },
    { what: 'too many hours', args: [PRE, String(kit.now), String(25 * 3660), 'x1', a.hour] },
    { what: 'an id without its hour', args: [PRE, String(kit.now), '24', 'x1'] },
    { what: 'a bad id', args: [PRE, String(kit.now), '24', 'X1', a.hour] },
    { what: 'a bad hour', args: [PRE, String(kit.now), '24', 'x1', 'yesterday'] },
  ];
  for (const c of cases) {
    const msg = await fcallError(redis, 'es_enrich_parts', c.keys ?? [META], c.args);
    assert.match(msg, /^ERR /, c.what);
  }
  assert.deepEqual(await snapshot(redis), {});
});
