// ingest_synthetic.test.mjs - `echostream-ingest --synthetic RATE` black-box:
// generated comments reach the real stream with ids from the reserved
// synthetic range, subreddits from the watchlist (or the fallback list when
// it is empty), and SIGTERM loses nothing that was given an id.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startRedis, startProc, bin, waitFor } from '../../lib/harness.mjs';

const STREAM = 'es:{ingest}:comments';
const SEQ = 'es:{ingest}:synthetic:seq';

let redis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

function fieldsOf(entry) {
  const f = {};
  for (let i = 0; i < entry[1].length; i += 2) f[entry[1][i]] = entry[1][i + 1];
  return f;
}

async function runFor(count) {
  const before = await redis.cmd('XLEN', STREAM);
  const p = startProc(bin('ingest'), ['--synthetic', '400'], {
    env: { ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_INGEST_WATCH_REFRESH: '0.2',
           ECHOSTREAM_WORKER_HEARTBEAT: '0.5' },
    name: 'ingest' });
  await waitFor(async () => (await redis.cmd('XLEN', STREAM)) >= before + count,
    { timeout: 20000, what: `${count} synthetic comments` });
  p.kill('SIGTERM');
  const res = await p.exited;
  assert.equal(res.code, 0, p.output().slice(-2000));
  const entries = await redis.cmd('XRANGE', STREAM, '-', '+');
  return { entries: entries.slice(before).map(fieldsOf), out: p.output() };
}

test('synthetic comments use watched subreddits and reserved ids',
  async () => {
    await redis.cmd('HSET', 'es:{watch}:subs', 'python', 1, 'golang', 2,
      'rust', 0);
    await redis.cmd('INCR', 'es:{watch}:version');
    const { entries } = await runFor(300);
    const ids = new Set();
    for (const f of entries) {
      assert.equal(f.type, 'comment');
      assert.equal(f.source, 'synthetic');
      assert.match(f.id, /^z[0-9a-z]{11}$/);
      assert.ok(['python', 'golang'].includes(f.subreddit), f.subreddit);
      assert.ok(f.body.length > 0);
      assert.ok(f.author.length > 0);
      assert.match(f.link_id, /^t3_z[0-9a-z]{11}$/);
      assert.equal(f.permalink,
        `/r/${f.subreddit}/comments/${f.link_id.slice(3)}/_/${f.id}/`);
      assert.ok(Math.abs(Number(f.created_utc) - Date.now() / 1000) < 120);
      ids.add(f.id);
    }
    assert.equal(ids.size, entries.length);
    // every id handed out by the counter reached the stream (flush on stop)
    assert.equal(Number(await redis.cmd('GET', SEQ)), entries.length);
  });

test('an empty watchlist falls back to common subreddits', async () => {
  await redis.cmd('DEL', 'es:{watch}:subs');
  await redis.cmd('INCR', 'es:{watch}:version');
  const { entries } = await runFor(200);
  const subs = new Set(entries.map((f) => f.subreddit));
  assert.ok(subs.size >= 3, [...subs].join(','));
  assert.ok(!subs.has('python') && !subs.has('golang'));
  const all = await redis.cmd('XLEN', STREAM);
  assert.equal(Number(await redis.cmd('GET', SEQ)), all);
});
