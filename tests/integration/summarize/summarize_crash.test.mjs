// summarize_crash.test.mjs - the summarizer killed with SIGKILL at random
// points, again and again, while requests of two tenants wait: in the end
// every request is "done" exactly once (one summary each, counted once in
// the tenant's usage, nothing left pending). And two live summarizers
// never run two jobs of one tenant at once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startRedis, waitFor } from '../../lib/harness.mjs';
import { replyText, startBedrockDouble } from '../../aws/bedrock_double.mjs';
import {
  REQUESTS, T, loadTenant, makeComments, record, request, startSummarize, summarizeEnv,
} from '../../lib/summarize.mjs';

let redis;
let bd;
const KEY = 'AKIDCRASH00000000001';
const SECRET = 'crash/secret/0123456789abcdefghijklmnopq';

before(async () => {
  redis = await startRedis();
  // a Bedrock that takes its time, so kills land inside jobs
  bd = await startBedrockDouble({ accessKeyId: KEY, secretAccessKey: SECRET,
    reply: async (req) => { await sleep(60); return replyText(req); } });
  const now = Math.floor(Date.now() / 1000);
  const topics = [{ id: 'rust', name: 'Rust', subreddits: ['rust'], query: '' },
                  { id: 'go', name: 'Go', subreddits: ['golang'], query: '' }];
  await loadTenant(redis, 'acme', topics, makeComments({ now, days: [0, 1] }));
  await loadTenant(redis, 'beta', topics, []);
  for (const t of ['acme', 'beta']) await redis.cmd('SET', T(t, 'summary_sched'), '2999-01-01');
});

after(async () => {
  await bd?.stop();
  await redis?.close();
});

test('SIGKILL at random points: every request done exactly once', async () => {
  const ids = [];
  for (let i = 0; i < 12; i++) {
    ids.push(['acme', await request(redis, 'acme', ['rust', 'go', ''][i % 3])]);
    ids.push(['beta', await request(redis, 'beta', ['rust', 'go', ''][i % 3])]);
  }
  // a seeded sequence of kill delays, so a failure replays
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const env = summarizeEnv(redis, {
    ECHOSTREAM_SUMMARIZE_CLAIM_IDLE_MS: '500', AWS_ACCESS_KEY_ID: KEY,
    AWS_SECRET_ACCESS_KEY: SECRET, ECHOSTREAM_BEDROCK_ENDPOINT: bd.endpoint,
  });
  let interrupted = 0;
  for (let round = 0; round < 15; round++) {
    const p = startSummarize(env);
    await sleep(40 + Math.floor(rnd() * 120));
    p.kill('SIGKILL');
    await p.exited;
    const running = (await redis.cmd('HVALS', T('acme', 'summary_requests')))
      .concat(await redis.cmd('HVALS', T('beta', 'summary_requests')))
      .map(JSON.parse).filter((r) => r.status === 'running');
    interrupted += running.length;
  }
  const p = startSummarize(env);
  await waitFor(async () => {
    const recs = await Promise.all(ids.map(([t, id]) => record(redis, t, id)));
    return recs.every((r) => r.status === 'done');
  }, { timeout: 60000, what: 'every request done' });
  p.kill('SIGTERM');
  await p.exited;
  assert.ok(interrupted > 0, 'some kills landed inside a job');
  const month = new Date().toISOString().slice(0, 7).replace('-', '');
  for (const t of ['acme', 'beta']) {
    const mine = ids.filter(([x]) => x === t).map(([, id]) => id);
    for (const id of mine) {
      assert.ok(await redis.cmd('HGET', T(t, 'summaries'), id), `summary ${id}`);
    }
    assert.equal(Number(await redis.cmd('HGET', T(t, `usage:${month}`), 'summaries')),
                 mine.length, `${t}: each summary counted once`);
    assert.equal(await redis.cmd('HLEN', T(t, 'summary_pending')), 0);
  }
  assert.equal(Number((await redis.cmd('XPENDING', REQUESTS, 'summarize'))[0]), 0);
});

test('two live summarizers never run two jobs of one tenant at once', async () => {
  const ids = [];
  for (let i = 0; i < 8; i++) ids.push(await request(redis, 'acme', ['rust', 'go'][i % 2]));
  const env = summarizeEnv(redis, { ECHOSTREAM_SUMMARIZE_CLAIM_IDLE_MS: '300' });
  const ps = [startSummarize(env), startSummarize(env)];
  let overlap = 0;
  let stop = false;
  const watch = (async () => {
    while (!stop) {
      const all = (await redis.cmd('HVALS', T('acme', 'summary_requests'))).map(JSON.parse);
      if (all.filter((r) => r.status === 'running').length > 1) overlap++;
      await sleep(5);
    }
  })();
  await waitFor(async () => {
    const recs = await Promise.all(ids.map((id) => record(redis, 'acme', id)));
    return recs.every((r) => r.status === 'done');
  }, { timeout: 60000, what: 'every request done' });
  stop = true;
  await watch;
  for (const p of ps) p.kill('SIGTERM');
  await Promise.all(ps.map((p) => p.exited));
  assert.equal(overlap, 0, 'at most one running job of the tenant');
});
