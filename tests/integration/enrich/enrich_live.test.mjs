// enrich_live.test.mjs - the per-tenant live feed es:{t:<tenant>}:live
// that echostream-enrich fills for the API's /api/v1/stream: one entry per
// write that created records, with field "ids" = their ids in the order
// written; nothing for a replay, a deletion or a tenant with no match.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  RedisClient, sleep, startRedis, tmpDir, waitFor,
} from '../../lib/harness.mjs';
import {
  GROUP, STREAM, addComments, addDeletions, enrichEnv, setTenant, startEnrich,
  waitDrained, waitStarted,
} from '../../lib/enrich.mjs';

let redis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

const live = (tenant) => `es:{t:${tenant}}:live`;

// every entry of a tenant's feed: [{id, fields}]
async function feed(tenant) {
  const entries = await redis.cmd('XRANGE', live(tenant), '-', '+');
  return entries.map(([id, kv]) => ({ id, kv }));
}

// the ids of a feed, entry after entry
function ids(entries) {
  return entries.flatMap((e) => {
    assert.deepEqual(e.kv.length, 2, `one field per entry: ${JSON.stringify(e.kv)}`);
    assert.equal(e.kv[0], 'ids');
    return e.kv[1].split(',');
  });
}

async function heartbeat() {
  const h = await redis.cmd('HGETALL', 'es:workers');
  for (let i = 0; i < h.length; i += 2) {
    if (h[i].startsWith('enrich:')) return JSON.parse(h[i + 1]).status;
  }
  return null;
}

test('new comments appear in the live feed once, in order; replays add nothing', async () => {
  await redis.cmd('FLUSHALL');
  await setTenant(redis, 'acme', [{ id: 'rust', subreddits: ['rust'], query: '' },
                                  { id: 'great', subreddits: ['all'], query: 'great' }]);
  await setTenant(redis, 'beta', [{ id: 'go', subreddits: ['golang'], query: '' }]);
  await setTenant(redis, 'idle', [{ id: 'py', subreddits: ['python'], query: '' }]);
  const now = Math.floor(Date.now() / 1000);
  let seq = 0;
  const mk = (subreddit, body) => ({
    id: (7000000 + ++seq).toString(36), subreddit, author: `u${seq}`, body,
    created: now - 100 + seq,
  });
  const first = [];
  for (let i = 0; i < 30; i++) {
    first.push(mk(['rust', 'golang', 'java'][i % 3], i % 4 === 0 ? 'great stuff' : 'ok'));
  }
  await addComments(redis, first);
  const lake = await tmpDir('es-lake-');
  // small batches: the feed spans several writes
  const p = startEnrich(enrichEnv(redis, lake, { ECHOSTREAM_ENRICH_BATCH: '7' }));
  await waitDrained(redis);

  const want = (tenant) => first.filter((c) => (tenant === 'acme'
    ? c.subreddit === 'rust' || c.body.includes('great')
    : c.subreddit === 'golang')).map((c) => c.id);
  const acme = await feed('acme');
  const beta = await feed('beta');
  assert.ok(acme.length >= 2, `several writes: ${acme.length}`);
  assert.deepEqual(ids(acme), want('acme'), 'each new acme comment once, in order');
  assert.deepEqual(ids(beta), want('beta'));
  assert.equal(await redis.cmd('EXISTS', live('idle')), 0, 'no match, no feed');
  // the data version moved with every write that created something
  const dv = async (t) => Number(await redis.cmd('GET', `es:{t:${t}}:dv`));
  const dvAcme = await dv('acme');
  assert.ok(dvAcme >= acme.length, `data version ${dvAcme}`);
  assert.equal(await dv('idle'), 0);

  // the whole stream again: every record exists, so nothing is new
  await redis.cmd('XGROUP', 'SETID', STREAM, GROUP, '0');
  await waitFor(async () => (await heartbeat())?.records_replayed >= want('acme').length
                + want('beta').length, { what: 'replay seen by the worker' });
  await waitDrained(redis);
  assert.deepEqual(await feed('acme'), acme, 'a replay adds no entry');
  assert.deepEqual(await feed('beta'), beta);
  assert.equal(await dv('acme'), dvAcme, 'a replay changes no data');

  // a deletion reverses a comment but writes nothing new
  await addDeletions(redis, [first[0]]);
  await waitDrained(redis);
  assert.deepEqual(await feed('acme'), acme, 'a deletion adds no entry');
  assert.equal(await dv('acme'), dvAcme + 1, 'a deletion is a change');

  // one more comment: exactly one entry with its id
  const late = mk('rust', 'late but great');
  await addComments(redis, [late]);
  await waitDrained(redis);
  const after = await feed('acme');
  assert.equal(after.length, acme.length + 1);
  assert.deepEqual(after.at(-1).kv, ['ids', late.id]);
  assert.deepEqual(await feed('beta'), beta);
  p.kill('SIGTERM');
  assert.equal((await p.exited).code, 0, p.output());
});

// A lone comment (a quiet subreddit's) is written as soon as it is built:
// the read ahead started with its batch finds the stream drained, so the
// batch does not wait for the next read, which blocks for enrich.block_ms.
test('a lone comment reaches the live feed long before enrich.block_ms', async () => {
  await redis.cmd('FLUSHALL');
  await setTenant(redis, 'solo', [{ id: 'quiet', subreddits: ['quietsub'], query: '' }]);
  const lake = await tmpDir('es-lake-');
  const BLOCK = 5000;
  const p = startEnrich(enrichEnv(redis, lake, {
    ECHOSTREAM_ENRICH_BLOCK_MS: String(BLOCK),
    // the defaults' order: no claim sweep or topics check cuts a read short
    ECHOSTREAM_ENRICH_CLAIM_IDLE_MS: '60000',
    ECHOSTREAM_ENRICH_TOPICS_REFRESH_MS: '60000',
  }));
  await waitStarted(redis, p);
  await waitFor(async () => (await heartbeat())?.topics === 1, { what: 'topics loaded' });
  // a connection of its own, blocked on the feed while the comment goes in
  const watcher = new RedisClient(redis.port);
  const now = Math.floor(Date.now() / 1000);
  let last = '$';
  const took = [];
  try {
    for (let i = 0; i < 5; i++) {
      await sleep(200); // the worker is back in its blocking read
      const c = { id: (8000000 + i).toString(36), subreddit: 'quietsub', author: 'u',
                  body: 'just one comment', created: now + i };
      const seen = watcher.cmd('XREAD', 'BLOCK', String(2 * BLOCK), 'STREAMS', live('solo'),
                               last);
      const t0 = Date.now();
      await addComments(redis, [c]);
      const got = await seen;
      took.push(Date.now() - t0);
      assert.ok(got, `comment ${i} not in the feed within ${2 * BLOCK} ms`);
      const [entryId, kv] = got[0][1][0];
      assert.deepEqual(kv, ['ids', c.id]);
      last = entryId;
    }
  } finally {
    watcher.close();
    p.kill('SIGTERM');
  }
  assert.equal((await p.exited).code, 0, p.output());
  // a mechanism, not a benchmark: the block is 5 s, the write comes at once
  for (const ms of took) assert.ok(ms < BLOCK / 4, `lone comment took ${ms} ms: ${took}`);
});
