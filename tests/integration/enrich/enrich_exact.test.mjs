// enrich_exact.test.mjs - the enrich worker's counts are exact after
// crashes, deletions and a full replay.
//
// A known set of comments (several tenants whose topics overlap: shared
// subreddits, "all", keyword queries) goes into the stream the way ingest
// writes it, in waves; after each wave the real echostream-enrich binary is
// started and killed with SIGKILL at a random point, so batches die half
// written (some tenants' calls done, others not, nothing acknowledged).
// A last run drains the group. The ground truth is computed here: matching
// re-implemented for the test's simple queries, labels and compounds from
// the real echostream-sentiment binary. Every series field at every
// resolution, every recent set's size, share of voice, trending terms and
// usage must equal it exactly. Then deletion events must take exactly those
// comments out, and replaying the whole stream from the start must change
// nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, tmpDir, sleep } from '../../lib/harness.mjs';
import {
  GROUP, STREAM, actual, addComments, addDeletions, enrichEnv, matches, prng,
  setTenant, startEnrich, truth, vaderScores, waitDrained, waitStarted,
} from '../../lib/enrich.mjs';
import { STOP, SUBS, TENANTS, VOCAB } from '../../lib/exact_fixture.mjs';
import { GONE, TOMBSTONE, publicBucket, readRecords } from '../../lib/records.mjs';
import { hgetall } from '../../lib/redis_fn.mjs';

const SEED = Number(process.env.ES_TEST_SEED || 20241125);
const rnd = prng(SEED);
const pick = (a) => a[Math.floor(rnd() * a.length)];

const N = 2400;
const WAVES = 6;

let redis;
let lake;

before(async () => {
  redis = await startRedis();
  lake = await tmpDir('es-lake-');
});

after(async () => {
  await redis?.close();
});

function makeComments() {
  const now = Math.floor(Date.now() / 1000);
  const out = [];
  for (let i = 0; i < N; i++) {
    const n = 3 + Math.floor(rnd() * 10);
    const body = Array.from({ length: n }, () => pick(VOCAB)).join(' ') +
      (rnd() < 0.3 ? '!' : '.');
    out.push({
      id: (1000000 + i).toString(36),
      subreddit: pick(SUBS),
      author: `user${Math.floor(rnd() * 50)}`,
      body,
      // within the last 3 hours: every resolution's bucket is alive
      created: now - Math.floor(rnd() * 3 * 3600) + 0.25,
    });
  }
  return out;
}

async function expectExact(comments, what) {
  for (const [tenant, topics] of Object.entries(TENANTS)) {
    const want = truth(topics, comments, STOP);
    const got = await actual(redis, tenant);
    assert.ok(want.usage > 0, `${tenant} matches something`);
    assert.deepEqual(got.series, want.series, `${what}: ${tenant} series`);
    assert.deepEqual(got.recent, want.recent, `${what}: ${tenant} recent`);
    assert.deepEqual(got.sov, want.sov, `${what}: ${tenant} share of voice`);
    assert.deepEqual(got.terms, want.terms, `${what}: ${tenant} terms`);
    assert.equal(got.usage, want.usage, `${what}: ${tenant} usage comments`);
  }
}

// The aggregates are exactly those of the comments not in goneIds; usage
// is what was processed (and spent): deletions do not refund it.
async function expectDeleted(comments, goneIds, what) {
  const kept = comments.filter((c) => !goneIds.has(c.id));
  for (const [tenant, topics] of Object.entries(TENANTS)) {
    const want = truth(topics, kept, STOP);
    const got = await actual(redis, tenant);
    assert.deepEqual(got.series, want.series, `${what}: ${tenant} series`);
    assert.deepEqual(got.recent, want.recent, `${what}: ${tenant} recent`);
    assert.deepEqual(got.sov, want.sov, `${what}: ${tenant} sov`);
    assert.deepEqual(got.terms, want.terms, `${what}: ${tenant} terms`);
    assert.equal(got.usage, truth(topics, comments, STOP).usage,
      `${what}: ${tenant} usage stays`);
  }
}

// runs the worker and kills it with SIGKILL after a random moment
async function crashRun(env) {
  const p = startEnrich(env);
  await sleep(5 + Math.floor(rnd() * 120));
  p.kill('SIGKILL');
  await p.exited;
}

async function drainRun(env) {
  const p = startEnrich(env);
  await waitStarted(redis, p);
  await waitDrained(redis);
  p.kill('SIGTERM');
  const ex = await p.exited;
  assert.equal(ex.code, 0, `exit ${JSON.stringify(ex)}: ${p.output()}`);
  return p;
}

test('counts equal the ground truth after kill -9, deletions and a replay', async () => {
  for (const [t, topics] of Object.entries(TENANTS)) await setTenant(redis, t, topics);
  const comments = makeComments();
  const scores = await vaderScores(comments.map((c) => c.body));
  comments.forEach((c, i) => { c.score = scores[i]; });
  // small batches so a kill lands inside the work of a wave
  const env = enrichEnv(redis, lake, { ECHOSTREAM_ENRICH_BATCH: '50',
                                       ECHOSTREAM_LOG_LEVEL: process.env.ES_ENRICH_LOG || 'warn' });

  const per = Math.ceil(N / WAVES);
  for (let w = 0; w < WAVES; w++) {
    await addComments(redis, comments.slice(w * per, (w + 1) * per));
    await crashRun(env);
  }
  const p = await drainRun(env);
  assert.doesNotMatch(p.output(), /error/i);
  await expectExact(comments, 'after crashes');

  // deletions: a tenth of the comments, with crashes on the way
  const gone = comments.filter(() => rnd() < 0.1);
  const goneIds = new Set(gone.map((c) => c.id));
  await addDeletions(redis, gone);
  await crashRun(env);
  await drainRun(env);
  await expectDeleted(comments, goneIds, 'after deletions');
  // the text of a deleted comment is gone for every tenant: its shared
  // public part is the tombstone (written after every tenant took it out)
  for (const c of gone) {
    const v = await redis.cmd('HGET', await publicBucket(redis, c.id, c.created * 1000), c.id);
    assert.ok(v === GONE || v === null, `public part of ${c.id}: ${v}`);
    const matched = Object.values(TENANTS).some((ts) => ts.some((tp) => matches(tp, c)));
    if (matched) assert.equal(v, GONE, `public part of ${c.id}`);
  }
  const snapshot = {};
  for (const t of Object.keys(TENANTS)) snapshot[t] = await actual(redis, t);

  // the whole stream once more, from the start, with a crash in between
  await redis.cmd('XGROUP', 'SETID', STREAM, GROUP, '0');
  await crashRun(env);
  await redis.cmd('XGROUP', 'SETID', STREAM, GROUP, '0');
  await drainRun(env);
  for (const t of Object.keys(TENANTS)) {
    assert.deepEqual(await actual(redis, t), snapshot[t], `replay changed ${t}`);
  }
});

// A deletion reverses the record its comment's creation stored, read by
// the worker before it builds the batch. Here deletions follow their
// comments closely (in the same batch, or one of the next few, read ahead
// while the previous batch's writes are still in flight): the worker must
// read each record only after the writes that create it were answered,
// so every deletion applies at once (none is reported changed and retried)
// and the counts are exact.
test('deletions right behind their comments take out exactly what they added', async () => {
  await redis.cmd('FLUSHALL');
  for (const [t, topics] of Object.entries(TENANTS)) await setTenant(redis, t, topics);
  const comments = makeComments().slice(0, 600);
  const scores = await vaderScores(comments.map((c) => c.body));
  comments.forEach((c, i) => { c.score = scores[i]; });
  const gone = new Set();
  const due = []; // [entries to wait, comment]
  for (const c of comments) {
    await addComments(redis, [c]);
    if (rnd() < 0.3) due.push([Math.floor(rnd() * 40), c]);
    for (const d of due) {
      if (d[0]-- === 0) {
        await addDeletions(redis, [d[1]]);
        gone.add(d[1].id);
      }
    }
  }
  for (const [, c] of due.filter((d) => d[0] >= 0)) {
    await addDeletions(redis, [c]);
    gone.add(c.id);
  }
  const env = enrichEnv(redis, lake, { ECHOSTREAM_ENRICH_BATCH: '16',
                                       ECHOSTREAM_LOG_LEVEL: 'warn' });
  const p = await drainRun(env);
  assert.doesNotMatch(p.output(), /changed after it was read|left pending/);
  await expectDeleted(comments, gone, 'deleted right behind');
  // the records as readers see them (es_records): every deleted comment is
  // the tombstone for each tenant that stored it, and nothing else for
  // the others; every comment kept is a live record where it matched
  for (const [t, topics] of Object.entries(TENANTS)) {
    const list = comments.filter((c, i) => gone.has(c.id) || i % 10 === 0);
    const got = await readRecords(redis, t, list.map((c) => [c.id, c.created * 1000]));
    list.forEach((c, i) => {
      const matched = topics.some((tp) => matches(tp, c));
      const what = `${t} ${c.id} (${gone.has(c.id) ? 'deleted' : 'kept'}, ${
        matched ? '' : 'not '}matched): ${got[i]}`;
      if (gone.has(c.id)) {
        assert.ok(matched ? got[i] === TOMBSTONE
          : got[i] === null || got[i] === TOMBSTONE, what);
      } else if (matched) {
        const r = JSON.parse(got[i]);
        assert.deepEqual([r.id, r.body, r.created], [c.id, c.body, c.created * 1000], what);
      } else {
        assert.equal(got[i], null, what);
      }
    });
  }
});

// A deletion entry may come before its comment (another consumer, a
// backfilled dump in another order) and may carry no creation time, so no
// hour bucket can hold its tombstone: the tombstone waits in the tenant's
// early hash, and the comment, when it comes, is never counted, not even
// in usage; a replay of everything changes nothing.
test('deletions without creation times ahead of their comments keep them out', async () => {
  await redis.cmd('FLUSHALL');
  for (const [t, topics] of Object.entries(TENANTS)) await setTenant(redis, t, topics);
  const comments = makeComments().slice(0, 400);
  const scores = await vaderScores(comments.map((c) => c.body));
  comments.forEach((c, i) => { c.score = scores[i]; });
  const ahead = comments.filter(() => rnd() < 0.2);
  const goneIds = new Set(ahead.map((c) => c.id));
  await addDeletions(redis, ahead, { withCreated: () => false });
  await addComments(redis, comments);
  const env = enrichEnv(redis, lake, { ECHOSTREAM_ENRICH_BATCH: '32',
                                       ECHOSTREAM_LOG_LEVEL: 'warn' });
  await drainRun(env);
  const kept = comments.filter((c) => !goneIds.has(c.id));
  const check = async (what) => {
    // as if the comments deleted ahead had never come, usage included
    await expectExact(kept, what);
    for (const [tenant, topics] of Object.entries(TENANTS)) {
      // what waits still: deletions of comments the tenant does not match
      // (a deletion goes to every tenant watching its subreddit)
      const waiting = Object.keys(await hgetall(redis, `es:{t:${tenant}}:cg`)).sort();
      assert.deepEqual(waiting, ahead.filter((c) => !topics.some((tp) => matches(tp, c)))
        .filter((c) => waiting.includes(c.id)).map((c) => c.id).sort(),
      `${what}: ${tenant}: only deletions of comments it does not match wait`);
      assert.ok(what !== 'deleted ahead' || tenant !== 'gamma' || waiting.length === 0,
        'gamma matches everything: nothing of it waits');
      const got2 = await readRecords(redis, tenant,
        ahead.map((c) => [c.id, c.created * 1000]));
      ahead.forEach((c, i) => {
        assert.ok(got2[i] === null || got2[i] === TOMBSTONE, `${tenant} ${c.id}: ${got2[i]}`);
        if (topics.some((tp) => matches(tp, c))) assert.equal(got2[i], TOMBSTONE);
      });
    }
  };
  await check('deleted ahead');
  await redis.cmd('XGROUP', 'SETID', STREAM, GROUP, '0');
  await drainRun(env);
  await check('replayed');
});
