// ingest_backfill.test.mjs - `echostream-ingest --backfill` black-box: a
// generated million-line dump (zstd, long window) and smaller plain ones go
// through the real worker into a real Redis. The stream is checked in Redis
// itself (one Lua script walks it: entry count, duplicate ids, subreddits
// outside the watchlist, and a checksum over the ids), so a million-entry
// check costs one round trip. Reruns must change nothing (de-duplication),
// stdin must work, and a truncated file must fail loudly after writing
// every comment that precedes the damage. Exactly-once must also hold when
// the worker is killed mid-way and run again, when Redis restarts under it,
// when another writer (the poller's es_ingest_add) streams the same
// comments at the same time, and when a transaction the writer sent ahead
// of its peek's answer proves to rest on a wrong guess.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, writeFileSync, statSync }
  from 'node:fs';

import { startRedis, startProc, bin, tmpDir, waitFor, sleep }
  from '../../lib/harness.mjs';
import { writeDump, idChecksum, WATCHED, CHECK_MOD } from '../../lib/dumpgen.mjs';
import { loadLibrary } from '../../lib/redis_fn.mjs';

const STREAM = 'es:{ingest}:comments';

// Walks the stream entries whose numeric id lies in [ARGV[1], ARGV[2]] and
// returns {count, duplicates, outside watchlist, id checksum, deletes}.
// ARGV[3] is a comma list of watched subreddits ('' = any).
const CHECK_LUA = `
local lo, hi, mod = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
local watched = {}
local anysub = ARGV[3] == ''
for s in string.gmatch(ARGV[3], '[^,]+') do watched[s] = true end
local seen, count, dups, outside, sum, deletes = {}, 0, 0, 0, 0, 0
local start = '-'
while true do
  local batch = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 5000)
  if #batch == 0 then break end
  for _, e in ipairs(batch) do
    local f = e[2]
    local id, sub, typ
    for i = 1, #f, 2 do
      if f[i] == 'id' then id = f[i + 1]
      elseif f[i] == 'subreddit' then sub = f[i + 1]
      elseif f[i] == 'type' then typ = f[i + 1] end
    end
    local n = tonumber(id, 36)
    if n and n >= lo and n <= hi then
      if typ ~= 'comment' then deletes = deletes + 1
      else
        count = count + 1
        if seen[id] then dups = dups + 1 end
        seen[id] = true
        if not anysub and not watched[sub] then outside = outside + 1 end
        sum = (sum + n % mod) % mod
      end
    end
  end
  local last = batch[#batch][1]
  local ms, sq = string.match(last, '(%d+)-(%d+)')
  start = ms .. '-' .. (tonumber(sq) + 1)
end
return {count, dups, outside, sum, deletes}
`;

let redis;
let dir;
let big;      // the million-line dump and what it must produce
let bigZst;

function env(extra = {}) {
  return {
    ECHOSTREAM_REDIS: redis.url,
    ECHOSTREAM_LOG_LEVEL: 'info',
    ECHOSTREAM_STREAM_MAX_LEN: '0',
    ECHOSTREAM_WORKER_HEARTBEAT: '0.5',
    ...extra,
  };
}

async function runBackfill(args, opts = {}) {
  const p = startProc(bin('ingest'), args, { env: env(opts.env),
    name: 'ingest', stdin: opts.stdin });
  if (opts.stdin) createReadStream(opts.stdin).pipe(p.child.stdin);
  const res = await p.exited;
  return { ...res, out: p.output() };
}

function summary(out) {
  const line = out.split('\n').find((l) => l.includes('backfill done'));
  assert.ok(line, `no summary line in:\n${out.slice(-2000)}`);
  const get = (k) => Number((line.match(new RegExp(`\\b${k}=([\\d.]+)`)) ||
    [])[1]);
  return { lines: get('lines'), kept: get('kept'), added: get('added'),
           duplicates: get('duplicates'), malformed: get('malformed'),
           restarts: get('restarts'), missed: get('missed') };
}

async function check(lo, hi, watched) {
  const [count, dups, outside, sum, deletes] = await redis.cmd('EVAL',
    CHECK_LUA, 1, STREAM, lo, hi, watched.join(','), CHECK_MOD);
  return { count, dups, outside, sum, deletes };
}

// ids of one generated dump are consecutive
function range(ids) {
  return [parseInt(ids[0], 36), parseInt(ids[ids.length - 1], 36)];
}

async function setWatchlist(subs) {
  await redis.cmd('DEL', 'es:{watch}:subs');
  for (const [s, n] of Object.entries(subs)) {
    await redis.cmd('HSET', 'es:{watch}:subs', s, n);
  }
  await redis.cmd('INCR', 'es:{watch}:version');
}

const lowerWatched = WATCHED.map((s) => s.toLowerCase());

before(async () => {
  redis = await startRedis();
  dir = await tmpDir('es-backfill-');
  const plain = path.join(dir, 'big.ndjson');
  big = writeDump(plain, { lines: 1000000, seed: 11, malformedEvery: 200000,
                           duplicateEvery: 50000 });
  bigZst = path.join(dir, 'RC_2023-01.data'); // no .zst name on purpose
  const z = spawnSync('zstd', ['-q', '-1', '--long=27', '--rm', plain, '-o',
    bigZst]);
  assert.equal(z.status, 0, z.stderr?.toString());
  // watched as counts > 0; a zero count and a bad name are not watched
  const wl = Object.fromEntries(lowerWatched.map((s, i) => [s, i + 1]));
  await setWatchlist({ ...wl, datascience: 0, 'not a sub!': 3 });
});

after(async () => {
  await redis?.close();
});

test('a zstd dump keeps each watched comment exactly once', async () => {
  const res = await runBackfill(['--backfill', bigZst]);
  assert.equal(res.code, 0, res.out.slice(-3000));
  const s = summary(res.out);
  assert.equal(s.lines, big.lines);
  assert.equal(s.malformed, big.malformed);
  assert.equal(s.kept, big.watchedLines);
  assert.equal(s.added, big.watchedIds.length);
  assert.equal(s.duplicates, big.watchedLines - big.watchedIds.length);

  const [lo, hi] = range(big.allIds);
  const c = await check(lo, hi, lowerWatched);
  assert.equal(c.count, big.watchedIds.length);
  assert.equal(c.dups, 0);
  assert.equal(c.outside, 0, 'unwatched subreddits reached the stream');
  assert.equal(c.sum, idChecksum(big.watchedIds));
  assert.match(res.out, /watchlist entry skipped/);

  // one entry in full: fields decoded, permalink present
  const first = await redis.cmd('XRANGE', STREAM, '-', '+', 'COUNT', 1);
  const f = Object.fromEntries(first[0][1].reduce((a, v, i, arr) =>
    (i % 2 ? a : [...a, [v, arr[i + 1]]]), []));
  assert.equal(f.source, 'backfill');
  assert.ok(lowerWatched.includes(f.subreddit));
  assert.match(f.permalink, new RegExp(`^/r/[^/]+/comments/[0-9a-z]+/[^/]+/${f.id}/$`));
  assert.ok(Number(f.created_utc) >= 1672531200);
});

test('running the same backfill again changes nothing', async () => {
  const before = await redis.cmd('XLEN', STREAM);
  const res = await runBackfill(['--backfill', bigZst]);
  assert.equal(res.code, 0, res.out.slice(-3000));
  const s = summary(res.out);
  assert.equal(s.added, 0);
  assert.equal(s.duplicates, big.watchedLines);
  assert.equal(await redis.cmd('XLEN', STREAM), before);
});

test('--all keeps every subreddit of a plain dump', async () => {
  const file = path.join(dir, 'small.ndjson');
  const d = writeDump(file, { lines: 20000, seed: 12, idBase: 36 ** 6 * 25 });
  const res = await runBackfill(['--backfill', file, '--all']);
  assert.equal(res.code, 0, res.out.slice(-3000));
  const [lo, hi] = range(d.allIds);
  const c = await check(lo, hi, []);
  assert.equal(c.count, d.allIds.length);
  assert.equal(c.dups, 0);
  assert.equal(c.sum, idChecksum(d.allIds));
});

test('a dump on stdin is read like a file', async () => {
  const file = path.join(dir, 'stdin.ndjson');
  const d = writeDump(file, { lines: 20000, seed: 13, idBase: 36 ** 6 * 26,
                              malformedEvery: 5000 });
  const res = await runBackfill(['--backfill', '-'], { stdin: file });
  assert.equal(res.code, 0, res.out.slice(-3000));
  assert.equal(summary(res.out).malformed, d.malformed);
  const [lo, hi] = range(d.allIds);
  const c = await check(lo, hi, lowerWatched);
  assert.equal(c.count, d.watchedIds.length);
  assert.equal(c.outside, 0);
  assert.equal(c.sum, idChecksum(d.watchedIds));
});

test('a truncated zstd file fails after writing what precedes the cut',
  async () => {
    const file = path.join(dir, 'cut.ndjson');
    const d = writeDump(file, { lines: 100000, seed: 14,
                                idBase: 36 ** 6 * 27 });
    const z = spawnSync('zstd', ['-q', '-1', '--long=27', '--rm', file]);
    assert.equal(z.status, 0);
    const whole = readFileSync(`${file}.zst`);
    const cut = path.join(dir, 'cut.zst');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    // what any zstd decoder recovers from the cut file
    const dec = spawnSync('zstd', ['-dc', '--long=31', cut],
      { maxBuffer: 1 << 30 });
    assert.notEqual(dec.status, 0);
    let complete = 0;
    for (const b of dec.stdout) if (b === 10) complete++;
    assert.ok(complete > 1000 && complete < d.allIds.length);

    const res = await runBackfill(['--backfill', cut, '--all']);
    assert.notEqual(res.code, 0);
    assert.match(res.out, /truncated zstd data/);
    const [lo, hi] = range(d.allIds);
    const c = await check(lo, hi, []);
    assert.equal(c.count, complete);
    assert.equal(c.sum, idChecksum(d.allIds.slice(0, complete)));
  });

// progress of a running backfill: entries added to the stream since base
// (XLEN; the full check walks the whole stream and, polled, stalls Redis)
const xlen = () => redis.cmd('XLEN', STREAM);

test('SIGTERM flushes the queued comments and exits 0', async () => {
  const file = path.join(dir, 'term.ndjson');
  const d = writeDump(file, { lines: 250, seed: 15, idBase: 36 ** 6 * 28 });
  const p = startProc(bin('ingest'), ['--backfill', '-', '--all'],
    { env: env({ ECHOSTREAM_INGEST_BATCH: '100' }), name: 'ingest',
      stdin: true });
  // the pipe stays open: the worker waits for more input
  const base = await xlen();
  p.child.stdin.write(readFileSync(file));
  const [lo, hi] = range(d.allIds);
  await waitFor(async () => (await xlen()) - base >= 200,
    { timeout: 20000, what: 'two full batches written' });
  p.kill('SIGTERM');
  const res = await p.exited;
  p.child.stdin.destroy();
  assert.equal(res.code, 0, p.output().slice(-2000));
  const c = await check(lo, hi, []);
  assert.equal(c.count, 250);
  assert.match(p.output(), /de-duplicated/);
});


test('a backfill killed mid-way and run again ends with every comment once',
  async () => {
    const file = path.join(dir, 'kill.ndjson');
    const d = writeDump(file, { lines: 400000, seed: 16, idBase: 36 ** 6 * 29,
                                duplicateEvery: 1000, rich: true });
    const [lo, hi] = range(d.allIds);
    const base = await xlen();
    for (const at of [20000, 150000]) {
      const p = startProc(bin('ingest'), ['--backfill', file, '--all'],
        { env: env(), name: 'ingest' });
      await waitFor(async () => (await xlen()) - base >= at,
        { timeout: 60000, interval: 20, what: `${at} comments streamed` });
      p.kill('SIGKILL');
      const ex = await p.exited;
      assert.equal(ex.signal, 'SIGKILL', 'killed before it finished');
      const c = await check(lo, hi, []);
      assert.ok(c.count >= at && c.count < d.allIds.length,
        `stopped mid-way (${c.count})`);
      assert.equal(c.dups, 0);
    }
    const res = await runBackfill(['--backfill', file, '--all']);
    assert.equal(res.code, 0, res.out.slice(-3000));
    const s = summary(res.out);
    const c = await check(lo, hi, []);
    assert.equal(c.count, d.allIds.length);
    assert.equal(c.dups, 0);
    assert.equal(c.sum, idChecksum(d.allIds));
    assert.equal(s.added + s.duplicates, d.lines);
    assert.ok(s.duplicates >= d.lines - d.allIds.length);
  });

test('a Redis restart under a running backfill loses nothing and doubles nothing',
  async () => {
    const file = path.join(dir, 'restart.ndjson');
    const d = writeDump(file, { lines: 400000, seed: 17, idBase: 36 ** 6 * 30,
                                rich: true });
    const [lo, hi] = range(d.allIds);
    const base = await xlen();
    // every acknowledged write on disk before the kill: with everysec a
    // Redis whose fsync falls behind (a busy disk) answers writes it has
    // not yet written, and loses them to SIGKILL, whatever the worker does
    await redis.cmd('CONFIG', 'SET', 'appendfsync', 'always');
    const p = startProc(bin('ingest'), ['--backfill', file, '--all'],
      { env: env(), name: 'ingest' });
    await waitFor(async () => (await xlen()) - base >= 50000,
      { timeout: 60000, interval: 20, what: '50000 comments streamed' });
    await redis.kill9();
    await sleep(300);
    await redis.start();
    const ex = await p.exited;
    assert.equal(ex.code, 0, p.output().slice(-3000));
    assert.match(p.output(), /redis connection lost/);
    const c = await check(lo, hi, []);
    assert.equal(c.count, d.allIds.length);
    assert.equal(c.dups, 0);
    assert.equal(c.sum, idChecksum(d.allIds));
  });

// es_ingest_add's arguments for the comment with numeric id n (as the
// poller sends them, source "reddit")
function pollerItem(n) {
  const id = n.toString(36);
  const chunk = Math.floor(n / 2 ** 20);
  const fields = ['id', id, 'subreddit', 'rust', 'author', 'poller',
    'body', `polled ${id}`, 'created_utc', '1672531200.000', 'permalink',
    `/r/rust/comments/p1/_/${id}/`, 'link_id', 't3_p1', 'link_title', '',
    'score', '1', 'source', 'reddit'];
  return { keys: [`es:{ingest}:seen:${chunk}`, `es:{ingest}:gone:${chunk}`],
           args: [String(n % 2 ** 20), '0', String(fields.length / 2),
                  ...fields] };
}

test('comments the poller streams during a backfill are neither lost nor doubled',
  async () => {
    const file = path.join(dir, 'race.ndjson');
    const base = 36 ** 6 * 31;
    const d = writeDump(file, { lines: 200000, seed: 18, idBase: base,
                                rich: true });
    const [lo, hi] = range(d.allIds);
    // the "poller" may call before the backfill has loaded the library
    await loadLibrary(redis, 'ingest.lua');
    const p = startProc(bin('ingest'), ['--backfill', file, '--all'],
      { env: env({ ECHOSTREAM_INGEST_BATCH: '200' }), name: 'ingest' });
    let done = false;
    p.exited.then(() => { done = true; });
    // the "poller": batches of 20 comments of the same id range (every
    // 10th id, sweeping up and down) until the backfill ends
    let polled = 0;
    for (let k = 0; !done; k++) {
      const start = lo + ((k * 2000) % (hi - lo - 400));
      const items = Array.from({ length: 20 }, (_, i) =>
        pollerItem(start + i * 10));
      await redis.cmd('FCALL', 'es_ingest_add', 1 + 2 * items.length,
        'es:{ingest}:comments', ...items.flatMap((x) => x.keys), '0',
        '2592000', ...items.flatMap((x) => x.args));
      polled += items.length;
    }
    const ex = await p.exited;
    assert.equal(ex.code, 0, p.output().slice(-3000));
    assert.ok(polled > 0);
    const s = summary(p.output());
    const c = await check(lo, hi, []);
    assert.equal(c.count, d.allIds.length);
    assert.equal(c.dups, 0);
    assert.equal(c.sum, idChecksum(d.allIds));
    // what the poller streamed first, the backfill counted as duplicates
    const fromPoller = d.allIds.length - s.added;
    assert.ok(fromPoller >= 0 && fromPoller <= polled, `${fromPoller}`);
    assert.ok(s.restarts >= 0);
  });

test('comments already streamed after new ones: the transaction sent ahead ' +
  'on a wrong guess is discarded, nothing doubled', async () => {
    // the writer sends a batch's transaction before the peek answers,
    // guessing every bit new, while its guesses keep proving right; a
    // block of known comments after new ones proves one wrong (four such
    // blocks: the guess is sent ahead only when the reader is ahead)
    const base = 36 ** 6 * 32;
    const parts = [];
    const known = [];
    const fresh = [];
    for (let i = 0; i < 9; i++) {
      const f = path.join(dir, `mixed${i}.ndjson`);
      const old = i % 2 === 1;
      const d = writeDump(f, { lines: old ? 2000 : 8000, seed: 19 + i,
                               idBase: base + i * 10000 });
      parts.push(f);
      (old ? known : fresh).push(...d.allIds);
      if (old) {
        const res = await runBackfill(['--backfill', f, '--all']);
        assert.equal(res.code, 0, res.out.slice(-3000));
      }
    }
    const mixed = path.join(dir, 'mixed.ndjson');
    writeFileSync(mixed, Buffer.concat(parts.map((f) => readFileSync(f))));
    const env200 = { env: { ECHOSTREAM_INGEST_BATCH: '200' } };
    let res = await runBackfill(['--backfill', mixed, '--all'], env200);
    assert.equal(res.code, 0, res.out.slice(-3000));
    const s = summary(res.out);
    assert.equal(s.added, fresh.length);
    assert.equal(s.duplicates, known.length);
    assert.ok(s.missed >= 1, `a guess proved wrong (missed=${s.missed})`);
    const c = await check(base, base + 90000, []);
    const all = [...fresh, ...known];
    assert.equal(c.count, all.length);
    assert.equal(c.dups, 0);
    assert.equal(c.sum, idChecksum(all));
    // a replay sends nothing ahead: the first batch's peek shows its
    // comments known, and the guess is not trusted again while it is wrong
    res = await runBackfill(['--backfill', mixed, '--all'], env200);
    assert.equal(res.code, 0, res.out.slice(-3000));
    assert.equal(summary(res.out).added, 0);
    assert.equal(summary(res.out).missed, 0);
  });

test('a missing file is a clear error', async () => {
  const res = await runBackfill(['--backfill', path.join(dir, 'nope.zst')]);
  assert.notEqual(res.code, 0);
  assert.match(res.out, /cannot open .*nope\.zst/);
  assert.ok(statSync(dir).isDirectory());
});
