#!/usr/bin/env node
// deploy/aws/measure.mjs - measures what the cost model (cost.py) needs
// from the real stack and writes deploy/aws/measured.json.
//
// The cost model must not guess the two figures that decide most of the
// bill: how much Redis memory a tenant's retention takes (it sizes the
// instance) and how many tokens a summary sends to Bedrock (it prices the
// summaries). Both are measured on the real binaries:
//
// 1. Memory: tests/bench/scale.sh (docs/scaling.md) in the cost model's
//    mode, one of each worker: `measure_tenants` tenants with
//    `topics_per_tenant` topics over subreddits of their own
//    (BENCH_SCALE_OWN_TOPICS), one day of the stated volume (tenants ×
//    comments_per_day_per_tenant) from echostream-ingest --synthetic,
//    its creation times spread over the last 24 hours
//    (BENCH_SCALE_SPREAD), consumed by echostream-enrich (VADER). scale.sh
//    writes the memory figures (BENCH_SCALE_JSON) and saves the Redis it
//    ran (BENCH_SCALE_SAVE).
// 2. Tokens: a redis-server loaded with that save, and
//    echostream-summarize pointed at the Bedrock test double
//    (tests/aws/bedrock_double.mjs) writes one brief per topic and one of
//    all topics for the first tenant from its day of enriched comments:
//    the real prompt at the real limits (summarize.max_comments,
//    summarize.max_chars). Input tokens are the double's count, one token
//    per four characters of the system and user text (its countTokens;
//    Claude's tokenizer gives about that for English prose); the
//    characters are recorded beside them. Output tokens are bounded by
//    bedrock.max_tokens (the double's answer is not a real summary's
//    length), so the model charges that bound.
//
// Usage: node deploy/aws/measure.mjs [--out FILE]   (after `make`)
// Takes under a minute on a 2-core machine.

import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import {
  ROOT, RedisClient, freePort, startProc, tmpDir, waitFor,
} from '../../tests/lib/harness.mjs';
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

// a redis-server on the RDB scale.sh saved
async function startSavedRedis(rdb) {
  const dir = await tmpDir('es-measure-');
  copyFileSync(rdb, path.join(dir, 'dump.rdb'));
  const port = await freePort();
  const proc = startProc('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb',
    '--save', '', '--appendonly', 'no'], { name: 'redis' });
  await waitFor(async () => {
    const c = new RedisClient(port);
    try { return (await c.cmd('PING')) === 'PONG'; } catch { return false; } finally { c.close(); }
  }, { timeout: 10000, what: 'redis' });
  const client = new RedisClient(port);
  return { url: `redis://127.0.0.1:${port}/0`, cmd: (...a) => client.cmd(...a),
           close: async () => { client.close(); proc.kill('SIGTERM'); await proc.exited; } };
}

async function main() {
  const started = Date.now();
  const work = await tmpDir('es-measure-scale-');
  const json = path.join(work, 'scale.json');
  const rdb = path.join(work, 'scale.rdb');
  const bench = spawnSync('bash', [path.join(ROOT, 'tests', 'bench', 'scale.sh')], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_SCALE_K: '1', BENCH_SCALE_TENANTS: String(TENANTS),
           BENCH_SCALE_N: String(N), BENCH_SCALE_OWN_TOPICS: String(V.topics_per_tenant),
           BENCH_SCALE_SPREAD: '86400', BENCH_SCALE_JSON: json, BENCH_SCALE_SAVE: rdb },
  });
  process.stderr.write(bench.stdout + bench.stderr);
  if (bench.status !== 0) throw new Error(`tests/bench/scale.sh failed (${bench.status})`);
  const mem = JSON.parse(readFileSync(json, 'utf8'));

  const r = await startSavedRedis(rdb);
  const bd = await startBedrockDouble({ accessKeyId: 'AKIDMEASURE000000001',
                                        secretAccessKey: 'measure/secret/key/0123456789abcdef' });
  await r.cmd('HSET', 'es:{t:tenant1}:meta', 'bedrock_budget_usd', '100');
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
  await r.close();

  const avg = (f) => Math.round(briefs.reduce((s, b) => s + f(b), 0) / briefs.length);
  const out = {
    measured: new Date().toISOString().slice(0, 10),
    how: 'node deploy/aws/measure.mjs (after make; runs tests/bench/scale.sh); see docs/cost.md',
    machine: `${os.arch()}, ${os.cpus().length} cores`,
    volumes: { tenants: TENANTS, topics_per_tenant: V.topics_per_tenant,
               comments_streamed: mem.comments_streamed, comments_stored: mem.comments_stored,
               created_over_s: mem.spread_s },
    redis: {
      baseline_bytes: mem.baseline_bytes,
      bytes_per_comment_stored: mem.bytes_per_comment_stored,
      of_which_48h_bytes_per_comment: mem.of_which_48h_bytes_per_comment,
      tenant_config_bytes: mem.tenant_config_bytes,
      stream_entry_bytes: mem.stream_entry_bytes,
    },
    archive: { bytes_per_comment_zstd: mem.archive_bytes_per_comment_zstd },
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
