// enrich_mixed.test.mjs - one tenant's function call holding comments that
// are new and comments that are not, and the counts stay exact.
//
// The worker sums a tenant's increments over the whole batch as if every
// comment were new; inside the same atomic call the function takes out the
// share of each record that already existed. This test makes batches where
// that correction is partial: a stream re-read from the start while new
// comments follow (old and new records of one tenant in one call), the same
// comment id twice in one batch, and deletions in the same batch as the
// creations they reverse. Every aggregate must equal the ground truth.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, tmpDir } from '../../lib/harness.mjs';
import {
  GROUP, STREAM, actual, addComments, addDeletions, enrichEnv, prng, setTenant,
  startEnrich, truth, vaderScores, waitDrained, waitStarted,
} from '../../lib/enrich.mjs';

const rnd = prng(Number(process.env.ES_TEST_SEED || 7));
const pick = (a) => a[Math.floor(rnd() * a.length)];
const TOPICS = [
  { id: 'rust', name: 'Rust', subreddits: ['rust'], query: '' },
  { id: 'love', name: 'Love', subreddits: ['all'], query: 'love OR great' },
];
const VOCAB = ['love', 'great', 'hate', 'slow', 'fast', 'borrow', 'checker',
  'async', 'crash', 'docs', 'the', 'and'];
const STOP = new Set(['the', 'and']);

let redis;
let lake;

before(async () => {
  redis = await startRedis();
  lake = await tmpDir('es-lake-');
});

after(async () => {
  await redis?.close();
});

function makeComments(from, n) {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => ({
    id: (2000000 + from + i).toString(36),
    subreddit: pick(['rust', 'golang']),
    author: `user${i % 7}`,
    body: Array.from({ length: 3 + Math.floor(rnd() * 8) }, () => pick(VOCAB)).join(' '),
    created: now - Math.floor(rnd() * 2 * 3600) + 0.5,
  }));
}

async function drain(env) {
  const p = startEnrich(env);
  await waitStarted(redis, p);
  await waitDrained(redis);
  p.kill('SIGTERM');
  const ex = await p.exited;
  assert.equal(ex.code, 0, `exit ${JSON.stringify(ex)}: ${p.output()}`);
  assert.doesNotMatch(p.output(), /error/i);
}

async function expectExact(comments, what) {
  const want = truth(TOPICS, comments, STOP);
  const got = await actual(redis, 'mix');
  assert.ok(want.usage > 0, 'the tenant matches something');
  assert.deepEqual(got.series, want.series, `${what}: series`);
  assert.deepEqual(got.recent, want.recent, `${what}: recent`);
  assert.deepEqual(got.sov, want.sov, `${what}: share of voice`);
  assert.deepEqual(got.terms, want.terms, `${what}: terms`);
  return got;
}

test('calls mixing new and existing records count each comment once', async () => {
  await setTenant(redis, 'mix', TOPICS);
  const a = makeComments(0, 300);
  const b = makeComments(300, 300);
  const c = makeComments(600, 200);
  const all = [...a, ...b, ...c];
  const scores = await vaderScores(all.map((x) => x.body));
  all.forEach((x, i) => { x.score = scores[i]; });
  // one batch holds everything below, so corrections are partial
  const env = enrichEnv(redis, lake, { ECHOSTREAM_ENRICH_BATCH: '5000' });

  await addComments(redis, a);
  await drain(env);
  await expectExact(a, 'first part');

  // re-read from the start with new comments behind: old and new records
  // of the tenant in one call; some ids twice in the batch
  await redis.cmd('XGROUP', 'SETID', STREAM, GROUP, '0');
  await addComments(redis, [...b, ...b.slice(0, 40), ...a.slice(0, 40)]);
  await drain(env);
  let got = await expectExact([...a, ...b], 'old and new in one call');
  assert.equal(got.usage, truth(TOPICS, [...a, ...b], STOP).usage,
               'usage counts new comments only');

  // creations and their deletions in one batch, then all of it again
  const gone = c.filter(() => rnd() < 0.3);
  const goneIds = new Set(gone.map((x) => x.id));
  await addComments(redis, c);
  await addDeletions(redis, gone);
  await drain(env);
  const kept = [...a, ...b, ...c.filter((x) => !goneIds.has(x.id))];
  got = await expectExact(kept, 'deleted in the batch that created them');
  assert.equal(got.usage, truth(TOPICS, all, STOP).usage, 'usage is not refunded');
  await redis.cmd('XGROUP', 'SETID', STREAM, GROUP, '0');
  await drain(env);
  assert.deepEqual(await actual(redis, 'mix'), got, 'a full replay changed nothing');
});
