// enrich.test.mjs - echostream-enrich against real Redis and the AWS
// doubles: dead letters, topic changes without a restart, Comprehend with
// budgets, cost sharing and fallback, the raw archive and its S3 upload,
// SIGTERM and the heartbeat.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { startRedis, tmpDir, waitFor } from '../../lib/harness.mjs';
import {
  DLQ, GROUP, STREAM, addComments, addDeletions, enrichEnv, setTenant,
  startEnrich, vaderScores, waitDrained, waitStarted,
} from '../../lib/enrich.mjs';
import {
  LETTER, LONG, esc, hourOf, publicBucket, publicPart, readRecord, recentEntries,
  recentEntry, tenantBucket, tenantPart, titleRef,
} from '../../lib/records.mjs';
import { startComprehendDouble, scoreText } from '../../aws/comprehend_double.mjs';
import { startS3Double } from '../../aws/s3_double.mjs';

const KEY = { accessKeyId: 'AKIAENRICHTEST0001',
              secretAccessKey: 'eNrIcH/Secret+Key0123456789abcdefGHIJ' };
const awsEnv = { AWS_ACCESS_KEY_ID: KEY.accessKeyId,
                 AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey };

let redis;
let seq = 0;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

async function fresh() {
  await redis.cmd('FLUSHALL');
}

function comments(n, { subreddit = 'rust', body = (i) => `comment ${i} is great` } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => ({
    id: (5000000 + ++seq).toString(36), subreddit, author: `u${i}`,
    body: body(i), created: now - i,
  }));
}

async function usage(tenant) {
  const keys = await redis.cmd('KEYS', `es:{t:${tenant}}:usage:*`);
  const out = { comments: 0, comprehend_units: 0, comprehend_usd_micros: 0 };
  for (const k of keys) {
    const h = await redis.cmd('HGETALL', k);
    for (let i = 0; i < h.length; i += 2) out[h[i]] += Number(h[i + 1]);
  }
  return out;
}

// the record of comment c as the API reads it (es_records)
async function record(tenant, c) {
  return readRecord(redis, tenant, c.id, c.created * 1000);
}

async function stop(p) {
  p.kill('SIGTERM');
  const ex = await p.exited;
  assert.equal(ex.code, 0, `exit ${JSON.stringify(ex)}: ${p.output()}`);
}

test('a poison entry goes to the dead-letter stream after N deliveries', async () => {
  await fresh();
  await setTenant(redis, 'acme', [{ id: 'rust', subreddits: ['rust'], query: '' }]);
  const lake = await tmpDir('es-lake-');
  const good = comments(20);
  await addComments(redis, good.slice(0, 10));
  const poisonId = await redis.cmd('XADD', STREAM, '*', 'type', 'comment', 'id', 'NOT-AN-ID!',
                                   'subreddit', 'rust', 'body', 'x', 'created_utc', '1');
  await addComments(redis, good.slice(10));
  const p = startEnrich(enrichEnv(redis, lake, { ECHOSTREAM_ENRICH_MAX_DELIVERIES: '3',
                                                 ECHOSTREAM_ENRICH_CLAIM_IDLE_MS: '200' }));
  await waitDrained(redis, 'poison dead-lettered and the rest acked');
  const dlq = await redis.cmd('XRANGE', DLQ, '-', '+');
  assert.equal(dlq.length, 1);
  const f = {};
  for (let i = 0; i < dlq[0][1].length; i += 2) f[dlq[0][1][i]] = dlq[0][1][i + 1];
  assert.equal(f.id, 'NOT-AN-ID!');
  assert.equal(f.stream_id, poisonId);
  assert.equal(f.deliveries, '3');
  assert.match(f.error, /comment id/);
  assert.equal((await usage('acme')).comments, 20, 'healthy entries unaffected');
  assert.match(p.output(), /dead-letter/);
  await stop(p);
});

test('topic changes apply without a restart', async () => {
  await fresh();
  const lake = await tmpDir('es-lake-');
  await setTenant(redis, 'acme', [{ id: 'rust', subreddits: ['rust'], query: 'great' }]);
  const p = startEnrich(enrichEnv(redis, lake));
  await waitStarted(redis, p);
  await addComments(redis, comments(5, { subreddit: 'golang' }));
  await addComments(redis, comments(4));
  await waitDrained(redis);
  assert.equal((await usage('acme')).comments, 4);

  // golang joins the topic, a new tenant appears
  await setTenant(redis, 'acme', [{ id: 'rust', subreddits: ['rust', 'golang'],
                                    query: 'great' }]);
  await setTenant(redis, 'beta', [{ id: 'go', subreddits: ['golang'], query: '' }]);
  await waitFor(() => /topics loaded.*version=3/.test(p.output()),
                { what: 'reload of version 3' });
  await addComments(redis, comments(6, { subreddit: 'golang' }));
  await waitDrained(redis);
  assert.equal((await usage('acme')).comments, 10);
  assert.equal((await usage('beta')).comments, 6);
  await stop(p);
});

test('Comprehend until the budget is spent, cost shared, scored once', async () => {
  await fresh();
  const lake = await tmpDir('es-lake-');
  const cd = await startComprehendDouble({ ...KEY });
  try {
    // price 0.0001 USD a unit; 3 units a short comment = 300 micro-USD,
    // shared by ca and cb (150 each) while ca's 0.003 USD last: 20 comments
    await setTenant(redis, 'ca', [{ id: 't', subreddits: ['rust'], query: '' }],
                    { engine: 'comprehend', comprehend_budget_usd: '0.003' });
    await setTenant(redis, 'cb', [{ id: 't', subreddits: ['rust'], query: '' }],
                    { engine: 'comprehend', comprehend_budget_usd: '1' });
    await setTenant(redis, 'va', [{ id: 't', subreddits: ['all'], query: '' }]);
    const list = comments(40, { body: (i) => (i % 2 ? `bad awful thing ${i}`
                                                    : `good great thing ${i}`) });
    await addComments(redis, list);
    const p = startEnrich(enrichEnv(redis, lake, {
      ...awsEnv, ECHOSTREAM_COMPREHEND_ENDPOINT: cd.endpoint }));
    await waitDrained(redis);
    await stop(p);

    const texts = cd.answered().flatMap((r) => r.texts || []);
    assert.equal(texts.length, 40, 'each comment sent to Comprehend once');
    assert.equal(cd.badSignatures, 0);
    const ua = await usage('ca');
    const ub = await usage('cb');
    assert.equal(ua.comprehend_usd_micros, 3000, 'ca spent exactly its budget');
    assert.equal(ua.comprehend_usd_micros + ub.comprehend_usd_micros,
                 cd.billedUnits * 100, 'shares add up to the bill');
    assert.equal(ua.comprehend_units + ub.comprehend_units, cd.billedUnits);
    assert.equal(ub.comprehend_usd_micros, 20 * 150 + 20 * 300);
    assert.equal((await usage('va')).comprehend_usd_micros, 0);
    let caComprehend = 0;
    for (const c of list) {
      const a = await record('ca', c);
      const b = await record('cb', c);
      const v = await record('va', c);
      assert.equal(b.engine, 'comprehend');
      assert.equal(b.label, scoreText(c.body).Sentiment.toLowerCase());
      assert.equal(v.engine, 'vader');
      caComprehend += a.engine === 'comprehend';
    }
    assert.equal(caComprehend, 20, 'ca falls back to VADER once spent');
  } finally {
    await cd.stop();
  }
});

test('a throttling storm falls back to VADER; nothing lost, spend right', async () => {
  await fresh();
  const lake = await tmpDir('es-lake-');
  const cd = await startComprehendDouble({ ...KEY });
  try {
    await setTenant(redis, 'cmp', [{ id: 't', subreddits: ['rust'], query: '' }],
                    { engine: 'comprehend', comprehend_budget_usd: '10' });
    cd.failNext(40, 'throttle');
    const list = comments(120, { body: (i) => `pretty good ${i}` });
    const p = startEnrich(enrichEnv(redis, lake, {
      ...awsEnv, ECHOSTREAM_COMPREHEND_ENDPOINT: cd.endpoint,
      ECHOSTREAM_COMPREHEND_BACKOFF_CAP_MS: '20', ECHOSTREAM_COMPREHEND_BREAKER_FAILURES: '2',
      ECHOSTREAM_COMPREHEND_BREAKER_COOLDOWN: '1', ECHOSTREAM_ENRICH_BATCH: '30' }));
    await waitStarted(redis, p);
    await addComments(redis, list);
    await waitDrained(redis, 'all comments processed during the storm', 60000);
    await stop(p);
    const u = await usage('cmp');
    assert.equal(u.comments, 120, 'nothing lost');
    assert.equal(u.comprehend_units, cd.billedUnits, 'units as billed');
    assert.equal(u.comprehend_usd_micros, cd.billedUnits * 100, 'spend as billed');
    let vader = 0;
    for (const c of list) {
      const r = await record('cmp', c);
      assert.ok(r.engine === 'vader' || r.engine === 'comprehend');
      vader += r.engine === 'vader';
    }
    assert.ok(vader > 0, 'fallback happened');
  } finally {
    await cd.stop();
  }
});

function lakeFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

test('raw archive files hold every entry; uploaded to S3 with retries', async () => {
  await fresh();
  const lake = await tmpDir('es-lake-');
  const s3 = await startS3Double({ ...KEY, buckets: ['lake'] });
  try {
    await setTenant(redis, 'acme', [{ id: 'rust', subreddits: ['rust'], query: '' }]);
    const list = comments(30, { body: (i) => `line ${i} "quoted" naïve ✓\nnext` });
    await addComments(redis, list);
    await addDeletions(redis, list.slice(0, 2));
    s3.failNext(3, '500'); // the first upload fails after its retries
    const p = startEnrich(enrichEnv(redis, lake, {
      ...awsEnv, ECHOSTREAM_S3_BUCKET: 'lake', ECHOSTREAM_S3_PREFIX: 'raw/',
      ECHOSTREAM_S3_ENDPOINT: s3.endpoint, ECHOSTREAM_S3_PATH_STYLE: 'true',
      ECHOSTREAM_LAKE_UPLOAD_RETRY_MS: '200' }));
    await waitDrained(redis);
    const files = lakeFiles(lake).filter((f) => f.endsWith('.jsonl.zst') &&
                                              !f.includes('.s3-pending'));
    assert.ok(files.length >= 1);
    const lines = [];
    for (const f of files) {
      assert.match(path.relative(lake, f),
        /^source=reddit\/dt=\d{4}-\d\d-\d\d\/hour=\d\d\/\d+-\d+_\d+-\d+\.jsonl\.zst$/);
      const text = execFileSync('zstd', ['-dc', f]).toString('utf8');
      lines.push(...text.trim().split('\n').map((l) => JSON.parse(l)));
    }
    const ids = await redis.cmd('XRANGE', STREAM, '-', '+');
    assert.equal(lines.length, ids.length, 'one line per entry');
    assert.deepEqual(lines.map((l) => l.stream_id).sort(), ids.map((e) => e[0]).sort());
    const one = lines.find((l) => l.id === list[3].id);
    assert.equal(one.body, list[3].body);
    assert.equal(one.type, 'comment');
    assert.equal(lines.filter((l) => l.type === 'delete').length, 2);

    // every file reaches S3 (after the failed first attempt), then the
    // pending markers are gone
    await waitFor(() => s3.keys('lake').length === files.length,
                  { timeout: 20000, what: 'every archive file uploaded' });
    for (const f of files) {
      const key = `raw/${path.relative(lake, f)}`;
      assert.deepEqual(s3.object('lake', key), readFileSync(f), key);
    }
    assert.equal(s3.badSignatures, 0);
    await waitFor(() => lakeFiles(lake).every((f) => !f.includes('.s3-pending/')),
                  { what: 'markers removed' });
    assert.ok(!p.output().includes(KEY.secretAccessKey), 'secret in logs');
    await stop(p);
    assert.ok(statSync(lake).isDirectory());
  } finally {
    await s3.stop();
  }
});

test('SIGTERM acknowledges the batch in hand and exits 0; heartbeat', async () => {
  await fresh();
  const lake = await tmpDir('es-lake-');
  await setTenant(redis, 'acme', [{ id: 'rust', subreddits: ['all'], query: '' }]);
  const p = startEnrich(enrichEnv(redis, lake, { ECHOSTREAM_ENRICH_BATCH: '20' }));
  const field = await waitStarted(redis, p);
  const hb = JSON.parse(await redis.cmd('HGET', 'es:workers', field));
  assert.equal(hb.worker, 'enrich');
  assert.equal(hb.status.group, GROUP);
  assert.equal(hb.status.tenants, 1);
  await addComments(redis, comments(2000));
  await waitFor(async () => (await usage('acme')).comments > 0, { what: 'work started' });
  p.kill('SIGTERM');
  const ex = await p.exited;
  assert.equal(ex.code, 0, p.output());
  const pend = await redis.cmd('XPENDING', STREAM, GROUP);
  assert.equal(Number(pend[0]), 0, 'nothing left pending');
  assert.equal(await redis.cmd('HGET', 'es:workers', field), null, 'heartbeat removed');
  // what was acknowledged was written: counts match the acked entries
  const groups = await redis.cmd('XINFO', 'GROUPS', STREAM);
  const g = groups.find((x) => x[1] === GROUP);
  const last = g[g.indexOf('last-delivered-id') + 1];
  const done = await redis.cmd('XRANGE', STREAM, '-', last);
  assert.equal((await usage('acme')).comments, done.length);
});

// The suites that seed comments without the worker write them with
// tests/lib/records.mjs: here the worker's own writes must be exactly
// those texts (tenant part, public part, title, recent entries), for
// bodies, authors, links and titles that need escaping or none.
test('the worker stores exactly the parts tests/lib/records.mjs writes', async () => {
  await fresh();
  const lake = await tmpDir('es-lake-');
  await setTenant(redis, 'acme', [{ id: 'rust', subreddits: ['rust'], query: '' },
                                  { id: 'good', subreddits: ['all'], query: 'good' }]);
  const now = Math.floor(Date.now() / 1000);
  const base = 5100000 + ++seq * 100;
  const list = [
    { body: 'plain good words', author: 'alice', title: 'A post' },
    { body: 'a "quoted" good\nline\twith tab \\ and \u0001 control',
      author: 'bob "b"', title: 'Title "q" \\ ✓', permalink: 'odd' },
    { body: 'naïve café ✓ 日本 🚀 not good', author: 'ünï', title: '',
      permalink: '~tilde/first' },
    { body: `good ${'x'.repeat(700)}`, author: 'long', title: 'A post', sub: 'golang' },
    { body: 'terrible and awful', author: 'c', title: 'A post',
      permalink: (id) => `/r/rust/comments/p1/slug.with.dots/${id}/` },
  ].map((x, i) => {
    const id = (base + i).toString(36);
    const subreddit = x.sub || 'rust';
    return { id, subreddit, author: x.author, body: x.body, title: x.title,
      created: now - 30 - i, permalink: typeof x.permalink === 'function'
        ? x.permalink(id) : x.permalink ?? `/r/${subreddit}/comments/p1/a_post/${id}/` };
  });
  for (const c of list) {
    await redis.cmd('XADD', STREAM, '*', 'type', 'comment', 'id', c.id, 'subreddit',
      c.subreddit, 'author', c.author, 'body', c.body, 'created_utc', c.created.toFixed(3),
      'permalink', c.permalink, 'link_id', 't3_p1', 'link_title', c.title, 'score', '3',
      'source', 'synthetic');
  }
  const scores = await vaderScores(list.map((c) => c.body));
  const p = startEnrich(enrichEnv(redis, lake));
  await waitDrained(redis);
  await stop(p);
  const topicsOf = (c) => [...(c.subreddit === 'rust' ? ['rust'] : []),
    ...(/\bgood\b/.test(c.body) ? ['good'] : [])];
  const want = [];
  for (const [i, c] of list.entries()) {
    const r = { id: c.id, topics: topicsOf(c), ...scores[i], engine: 'vader',
      created: c.created * 1000, subreddit: c.subreddit, author: c.author, body: c.body,
      permalink: c.permalink, link_title: c.title, score: '3' };
    if (r.topics.length === 0) continue;
    const tk = await tenantBucket(redis, 'acme', c.id, r.created);
    assert.equal(await redis.cmd('HGET', tk, c.id), tenantPart(r), `${c.id} tenant part`);
    const pk = await publicBucket(redis, c.id, r.created);
    let pub = await redis.cmd('HGET', pk, c.id);
    if (pub === LONG) pub = await redis.cmd('HGET', `es:{c}:${hourOf(r.created)}:l`, c.id);
    assert.equal(pub, publicPart(r), `${c.id} public part`);
    if (c.title) {
      assert.equal(await redis.cmd('HGET', `es:{c}:${hourOf(r.created)}:t`,
        titleRef(c.title)), esc(c.title), `${c.id} title`);
    }
    for (const topic of r.topics) want.push(`${topic} ${c.id} ${recentEntry(r)}`);
    // and the record readers get holds what the comment held
    const got = await readRecord(redis, 'acme', c.id, r.created);
    assert.deepEqual([got.body, got.author, got.permalink, got.link_title, got.label],
      [c.body, c.author, c.permalink, c.title, scores[i].label], c.id);
  }
  assert.ok(want.length >= 6, `${want.length} entries`);
  const entries = await recentEntries(redis, 'acme');
  assert.deepEqual(entries.map((e) => `${e.topic} ${e.id} ${e.id}:${LETTER[e.label]}${
    (e.ms % 3600000).toString(36)};`).sort(), want.sort());
});
