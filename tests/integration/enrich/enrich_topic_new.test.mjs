// enrich_topic_new.test.mjs - a topic counts every comment that enters the
// stream after the API answered its creation, not only what enrich sees
// after its next periodic topics check.
//
// The whole path is real: topics are created with POST /api/v1/topics on
// nginx with the module (which bumps es:{topics}:version in the same
// function call that stores the topic, before it answers 201), and the
// real echostream-enrich binary runs with the default
// enrich.topics_refresh_ms (1000) while a steady stream of other comments
// keeps it reading batch after batch. Right after each 201 a burst of
// comments on the new topic's subreddit is appended; every one of them must
// be in the topic's comments (GET /topics/{id}/comments) and its series
// (GET /topics/{id}/series). Comments appended before the 201 may or may
// not count (the topic did not exist when they were sent), so the test
// only says nothing about them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { signToken, startApiStack } from '../../lib/api.mjs';
import { sleep, tmpDir, waitFor } from '../../lib/harness.mjs';
import {
  addComments, enrichEnv, startEnrich, waitDrained, waitStarted,
} from '../../lib/enrich.mjs';

let s;

before(async () => {
  s = await startApiStack();
});

after(async () => {
  await s?.stop();
});

let seq = 0;
function comment(subreddit, body) {
  seq++;
  return { id: (500000000 + seq).toString(36), subreddit, author: `u${seq % 7}`,
           body, created: Date.now() / 1000 };
}

// every comment id of a topic, through the cursor
async function topicIds(token, id) {
  const ids = [];
  let cursor = null;
  do {
    const q = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const r = await s.api('GET', `/api/v1/topics/${id}/comments?limit=100${q}`,
                          { token });
    assert.equal(r.status, 200, r.text);
    ids.push(...r.json.comments.map((c) => c.id));
    cursor = r.json.next_cursor;
  } while (cursor);
  return ids;
}

async function seriesTotal(token, id) {
  const r = await s.api('GET', `/api/v1/topics/${id}/series?step=minute`, { token });
  assert.equal(r.status, 200, r.text);
  return r.json.points.reduce((n, p) => n + p.n, 0);
}

test('a new topic counts every comment appended after its 201', async () => {
  const sub = `own-${randomBytes(6).toString('hex')}`;
  const token = signToken(s.cognito.idClaims({ sub }));
  const me = await s.api('GET', '/api/v1/me', { token });
  assert.equal(me.status, 200, me.text);
  const lake = await tmpDir('es-lake-');
  const p = startEnrich(enrichEnv(s.redis, lake, {
    ECHOSTREAM_ENRICH_TOPICS_REFRESH_MS: '1000', // the default
    ECHOSTREAM_ENRICH_BLOCK_MS: '1000',
    ECHOSTREAM_ENRICH_CLAIM_IDLE_MS: '60000',
    ECHOSTREAM_LOG_LEVEL: 'warn',
  }));
  // background traffic: enrich reads batch after batch all along
  let running = true;
  const noise = (async () => {
    while (running) {
      await addComments(s.redis, [comment('elsewhere', 'background chatter'),
                                  comment('elsewhere', 'more chatter')]);
      await sleep(5);
    }
  })();
  const rounds = [];
  try {
    await waitStarted(s.redis, p);
    for (let round = 0; round < 4; round++) {
      const name = `fresh${round}${randomBytes(3).toString('hex')}`;
      // comments sent before the topic exists: may count or not
      await addComments(s.redis, [comment(name, 'before the topic')]);
      const r = await s.api('POST', '/api/v1/topics', { token, body: {
        name: `Fresh ${round}`, subreddits: [name], query: '' } });
      assert.equal(r.status, 201, r.text);
      const after201 = Array.from({ length: 30 }, (_, i) =>
        comment(name, `right after the answer ${i}`));
      await addComments(s.redis, after201);
      rounds.push({ id: r.json.id, ids: after201.map((c) => c.id) });
      await sleep(300);
    }
  } finally {
    running = false;
    await noise;
  }
  await waitDrained(s.redis);
  for (const { id, ids } of rounds) {
    const got = new Set(await topicIds(token, id));
    const missing = ids.filter((x) => !got.has(x));
    assert.deepEqual(missing, [], `topic ${id}: comments after its 201 not counted`);
    // the series counted the same comments as the list holds
    await waitFor(async () => (await seriesTotal(token, id)) === got.size,
                  { what: `series of ${id} equal to its ${got.size} comments` });
  }
  p.kill('SIGTERM');
  assert.equal((await p.exited).code, 0, p.output());
});
