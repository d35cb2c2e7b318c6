#!/usr/bin/env node
// deploy/aws/measure.mjs - measures what the cost model (cost.py) needs
// from the real stack and writes deploy/aws/measured.json.
//
// The cost model must not guess the two figures that decide most of the
// bill: how much Redis memory a tenant's retention takes (it sizes the
// instance) and how many tokens a summary sends to Bedrock (it prices the
// summaries). Both are measured here on the real binaries, the way
// tests/bench/memory.sh and tests/bench/scale.sh measure memory
// (docs/scaling.md):
//
// 1. Memory. A private redis-server (no persistence, the listpack limits
//    of conf/redis.conf.in); `measure_tenants` tenants, each with `topics`
//    topics over subreddits of its own (so every stored comment belongs to
//    one tenant: the costliest case per tenant); echostream-ingest
//    --synthetic fills the stream with one day of the stated volume
//    (tenants × comments_per_day_per_tenant). The generator stamps every
//    comment with the second it made it, so its day would sit in one
//    minute and one hour, far fewer series, index and term buckets than a
//    real day fills: the entries are appended again with their creation
//    times spread evenly over the last 24 hours (every other field as the
//    generator wrote it), and echostream-enrich (VADER) consumes that day.
//    Bytes per stored comment are INFO memory's used_memory
//    after (stream and ingest state deleted) less before, over the
//    comments the tenants' usage counters say were stored (of which the
//    minute series and hourly terms, MEMORY USAGE of their keys, are kept
//    48 hours whatever the retention); a tenant's
//    configuration is MEMORY USAGE of its keys before any comment; a
//    stream entry's bytes are MEMORY USAGE of the stream over its length
//    (the backlog kept until trimmed); the raw archive's bytes per comment
//    are the lake directory's size over the comments streamed.
// 2. Tokens. echostream-summarize, pointed at the Bedrock test double
//    (tests/aws/bedrock_double.mjs), writes one brief per topic and one of
//    all topics for the first tenant from those enriched synthetic
//    comments: the real prompt at the real limits (summarize.max_comments,
//    summarize.max_chars). Input tokens are the double's count, which is
//    one token per four characters of the system and user text (the
//    double's countTokens; Claude's tokenizer gives about that for English
//    prose); the characters are recorded too. Output tokens are bounded by
//    bedrock.max_tokens (the double's answer length is not a real
//    summary's), so the model charges that bound.
//
// Usage: node deploy/aws/measure.mjs [--out FILE]   (after `make`)
// Takes under a minute on a 2-core machine.

import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import {
  ROOT, RedisClient, bin, freePort, startProc, tmpDir, waitFor,
} from '../../tests/lib/harness.mjs';
import { enrichEnv, startEnrich, waitDrained } from '../../tests/lib/enrich.mjs';
import {
  request, startSummarize, summarizeEnv, waitEnded,
} from '../../tests/lib/summarize.mjs';
import { startBedrockDouble } from '../../tests/aws/bedrock_double.mjs';

const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? process.argv[outArg + 1]
  : path.join(ROOT, 'deploy', 'aws', 'measured.json');
const volumes = JSON.parse(readFileSync(path.join(ROOT, 'deploy', 'aws', 'volumes.json')));
const V = volumes.volumes;
const TENANTS = V.measure_tenants;
const N = TENANTS * V.comments_per_day_per_tenant;
const MAX_TOKENS = 800; // bedrock.max_tokens's default (lib/es_config_keys.c)

function dirBytes(d) {
  let n = 0;
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

async function startPrivateRedis() {
  const dir = await tmpDir('es-measure-');
  const port = await freePort();
  // the listpack limits of the shipped configuration (conf/redis.conf.in)
  const proc = startProc('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', 'no', '--hash-max-listpack-entries', '512',
    '--hash-max-listpack-value', '1024'], { name: 'redis' });
  await waitFor(async () => {
    const c = new RedisClient(port);
    try { return (await c.cmd('PING')) === 'PONG'; } catch { return false; } finally { c.close(); }
  }, { timeout: 10000, what: 'redis' });
  const client = new RedisClient(port);
  return { port, dir, proc, url: `redis://127.0.0.1:${port}/0`, cmd: (...a) => client.cmd(...a),
           close: async () => { client.close(); proc.kill('SIGTERM'); await proc.exited; } };
}

const usedMemory = async (r) => Number(/used_memory:(\d+)/.exec(await r.cmd('INFO', 'memory'))[1]);

async function scanAll(r, pattern) {
  const out = [];
  let cur = '0';
  do {
    const [next, keys] = await r.cmd('SCAN', cur, 'MATCH', pattern, 'COUNT', '1000');
    out.push(...keys);
    cur = next;
  } while (cur !== '0');
  return out;
}

async function memoryUsage(r, keys) {
  let n = 0;
  for (const k of keys) n += Number(await r.cmd('MEMORY', 'USAGE', k, 'SAMPLES', '0')) || 0;
  return n;
}

async function main() {
  const started = Date.now();
  const r = await startPrivateRedis();
  const lake = await tmpDir('es-measure-lake-');
  const subs = [];
  for (let t = 1; t <= TENANTS; t++) {
    const topics = {};
    for (let j = 1; j <= V.topics_per_tenant; j++) {
      const sub = `t${t}sub${j}`;
      subs.push(sub);
      topics[`topic${j}`] = JSON.stringify({ id: `topic${j}`, name: `Topic ${j}`,
                                             subreddits: [sub], query: '' });
    }
    await r.cmd('SADD', 'es:{tenants}:all', `tenant${t}`);
    await r.cmd('HSET', `es:{t:tenant${t}}:meta`, 'owner', 'measure', 'created_ms', '1',
                'bedrock_budget_usd', '100');
    await r.cmd('HSET', `es:{t:tenant${t}}:topics`, ...Object.entries(topics).flat());
  }
  await r.cmd('HSET', 'es:{watch}:subs', ...subs.flatMap((s) => [s, '1']));
  await r.cmd('INCR', 'es:{watch}:version');
  await r.cmd('INCR', 'es:{topics}:version');
  const configBytes = await memoryUsage(r, await scanAll(r, 'es:{t:*')) / TENANTS;
  const before = await usedMemory(r);

  const env = { ECHOSTREAM_CONFIG: '', ECHOSTREAM_LOG_LEVEL: 'warn', ECHOSTREAM_REDIS: r.url,
                ECHOSTREAM_STREAM_GROUPS: 'enrich', ECHOSTREAM_AWS_IMDS: 'false',
                ECHOSTREAM_STREAM_TRIM_INTERVAL: '86400' };
  const ingest = startProc(bin('ingest'), ['--synthetic', '20000'], { env, name: 'ingest' });
  await waitFor(async () => Number(await r.cmd('XLEN', 'es:{ingest}:comments')) >= N,
                { timeout: 120000, interval: 100, what: `${N} comments streamed` });
  ingest.kill('SIGTERM');
  await ingest.exited;
  const streamed = Number(await r.cmd('XLEN', 'es:{ingest}:comments'));
  const streamBytes = Number(await r.cmd('MEMORY', 'USAGE', 'es:{ingest}:comments',
                                         'SAMPLES', '0')) / streamed;
  // the same entries, their creation times spread over the last day
  const STREAM = 'es:{ingest}:comments';
  const entries = [];
  for (let from = '-'; ;) {
    const page = await r.cmd('XRANGE', STREAM, from, '+', 'COUNT', '1000');
    for (const e of page) if (e[0] !== from) entries.push(e[1]);
    if (page.length < 1000) break;
    from = page.at(-1)[0];
  }
  await r.cmd('DEL', STREAM);
  const end = Date.now() / 1000 - 120;
  for (let i = 0; i < entries.length; i += 500) {
    await Promise.all(entries.slice(i, i + 500).map((f, j) => {
      const k = f.indexOf('created_utc');
      const g = [...f];
      g[k + 1] = (end - 86400 + ((i + j) * 86400) / entries.length).toFixed(3);
      return r.cmd('XADD', STREAM, '*', ...g);
    }));
  }
  await r.cmd('XGROUP', 'CREATE', STREAM, 'enrich', '0');
  const enrich = startEnrich(enrichEnv(r, lake, env));
  await waitDrained(r, 'enrich group drained', 180000);
  enrich.kill('SIGTERM');
  await enrich.exited;
  const lakeBytes = dirBytes(lake) / streamed;

  // 2. tokens: the real summarizer over tenant1's enriched comments (a
  // requested brief covers the 24 hours to the last whole minute: the day
  // the comments were spread over)
  const bd = await startBedrockDouble({ accessKeyId: 'AKIDMEASURE000000001',
                                        secretAccessKey: 'measure/secret/key/0123456789abcdef' });
  await r.cmd('SET', 'es:{t:tenant1}:summary_sched', '2999-01-01');
  const sum = startSummarize(summarizeEnv(r, {
    AWS_ACCESS_KEY_ID: 'AKIDMEASURE000000001',
    AWS_SECRET_ACCESS_KEY: 'measure/secret/key/0123456789abcdef',
    ECHOSTREAM_BEDROCK_ENDPOINT: bd.endpoint, ECHOSTREAM_LOG_LEVEL: 'warn',
  }));
  const briefs = [];
  for (const topic of ['', ...Array.from({ length: V.topics_per_tenant }, (_, j) => `topic${j + 1}`)]) {
    const id = await request(r, 'tenant1', topic);
    const rec = await waitEnded(r, 'tenant1', id, 60000);
    if (rec.source !== 'bedrock') throw new Error(`brief ${topic || '*'} was ${rec.source}`);
    const q = bd.requests.filter((x) => x.status === 200).at(-1);
    briefs.push({ topic: topic || '*', input_tokens: q.inputTokens,
                  prompt_chars: [...String(q.system)].length + [...String(q.user)].length });
  }
  sum.kill('SIGTERM');
  await sum.exited;
  await bd.stop();

  // what stays for the retention: not the stream, ingest's or the workers' state
  for (const k of await scanAll(r, 'es:{ingest}:*')) await r.cmd('DEL', k);
  await r.cmd('DEL', 'es:workers');
  for (const k of await scanAll(r, 'es:{summaries}:*')) await r.cmd('DEL', k);
  for (const k of await scanAll(r, 'es:{t:tenant1}:summar*')) await r.cmd('DEL', k);
  await r.cmd('MEMORY', 'PURGE');
  const after = await usedMemory(r);
  // of which kept 48 hours whatever the retention: minute series and terms
  const short = await memoryUsage(r, [...await scanAll(r, 'es:{t:*:ts:*:m:*'),
                                      ...await scanAll(r, 'es:{t:*:terms:*')]);
  let stored = 0;
  for (const k of await scanAll(r, 'es:{t:*}:usage:*')) {
    stored += Number(await r.cmd('HGET', k, 'comments')) || 0;
  }
  await r.close();

  const avg = (f) => Math.round(briefs.reduce((s, b) => s + f(b), 0) / briefs.length);
  const out = {
    measured: new Date().toISOString().slice(0, 10),
    how: 'node deploy/aws/measure.mjs (after make); see docs/cost.md',
    machine: `${os.arch()}, ${os.cpus().length} cores`,
    volumes: { tenants: TENANTS, topics_per_tenant: V.topics_per_tenant,
               comments_streamed: streamed, comments_stored: stored },
    redis: {
      baseline_bytes: before,
      bytes_per_comment_stored: Math.round((after - before) / stored),
      of_which_48h_bytes_per_comment: Math.round(short / stored),
      tenant_config_bytes: Math.round(configBytes),
      stream_entry_bytes: Math.round(streamBytes),
    },
    archive: { bytes_per_comment_zstd: Math.round(lakeBytes * 10) / 10 },
    summary: {
      briefs,
      input_tokens_per_brief: avg((b) => b.input_tokens),
      prompt_chars_per_brief: avg((b) => b.prompt_chars),
      output_tokens_per_brief: MAX_TOKENS,
      token_rule: 'input tokens as the Bedrock test double counts them: ceil(characters / 4) ' +
        'of the system and user text the real summarizer sent; output tokens at ' +
        'bedrock.max_tokens (an upper bound)',
    },
    seconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(OUT, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.exit(0);
}

main().catch((e) => { console.error(`measure: ${e.stack || e}`); process.exit(1); });
