// summarize.mjs - helpers for the summarizer's tests: one tenant's week of
// real enriched data (comments through the real enrich worker), requests
// queued the way the API queues them, the worker's environment, and
// readers of what it wrote.

import { bin, startProc, tmpDir, waitFor } from './harness.mjs';
import {
  addComments, enrichEnv, setTenant, startEnrich, waitDrained,
} from './enrich.mjs';

export const REQUESTS = 'es:{summaries}:requests';
export const T = (tenant, k) => `es:{t:${tenant}}:${k}`;
export const DAY = 86400;

const POSITIVE = [
  'I love the new release, it is great and fast',
  'Fantastic work by the team, really happy with tokio',
  'The borrow checker finally clicked, wonderful experience',
];
const NEGATIVE = [
  'This update is terrible, tokio broke my build again',
  'Awful regression, I hate how slow compile times are',
  'Horrible docs, the borrow checker makes me angry',
];
const NEUTRAL = ['Does anyone know which crate handles tokio timers', 'Released version 1.2 today'];

// UTC midnight of the day of t (s)
export const utcDay = (t) => t - (t % DAY);

// A deterministic set of comments: `perDay` per subreddit over the given
// day offsets (0 = today UTC), at hours 9-14, negative-heavy on `badDay`.
export function makeComments({ now, subs = ['rust', 'golang'], days = [1, 2],
                               perDay = 12, badDay = 1, extra = [] }) {
  const out = [];
  let seq = 0;
  for (const sub of subs) {
    for (const d of days) {
      for (let i = 0; i < perDay; i++) {
        const neg = d === badDay ? i % 2 === 0 : i % 4 === 0;
        const pool = neg ? NEGATIVE : i % 3 === 0 ? NEUTRAL : POSITIVE;
        out.push({
          id: (9000000 + ++seq).toString(36), subreddit: sub, author: `user${seq}`,
          body: pool[i % pool.length], created: utcDay(now) - d * DAY + 9 * 3600 + i * 1200,
        });
      }
    }
  }
  for (const c of extra) out.push({ id: (9000000 + ++seq).toString(36), author: `user${seq}`, ...c });
  return out;
}

// Writes tenant, its topics and comments, and runs the real enrich worker.
export async function loadTenant(redis, tenant, topics, comments, meta = {}) {
  await setTenant(redis, tenant, topics, { created_ms: '1', ...meta });
  await addComments(redis, comments);
  const lake = await tmpDir('es-lake-');
  const p = startEnrich(enrichEnv(redis, lake));
  await waitDrained(redis, 'enrich group drained', 60000);
  p.kill('SIGTERM');
  await p.exited;
}

let reqSeq = 0;
// Queues a request as POST /api/v1/summaries does (record, then entry).
export async function request(redis, tenant, topic = '') {
  const id = `r${Date.now().toString(36)}${(++reqSeq).toString(36).padStart(4, '0')}`;
  const rec = { id, status: 'queued', topic: topic || null,
                requested: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
  await redis.cmd('HSET', T(tenant, 'summary_requests'), id, JSON.stringify(rec));
  await redis.cmd('HSET', T(tenant, 'summary_pending'), topic || '*', id);
  await redis.cmd('XADD', REQUESTS, '*', 'tenant', tenant, 'id', id, 'topic', topic,
                  'requested_by', 'user-1', 'requested_ms', String(Date.now()));
  return id;
}

export function summarizeEnv(redis, extra = {}) {
  return {
    AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ECHOSTREAM_AWS_IMDS: 'false',
    ECHOSTREAM_REDIS: redis.url,
    ECHOSTREAM_SUMMARIZE_INTERVAL: '1',
    ECHOSTREAM_SUMMARIZE_CLAIM_IDLE_MS: '1000',
    ECHOSTREAM_WORKER_HEARTBEAT: '0.5',
    ...extra,
  };
}

export function startSummarize(env) {
  return startProc(bin('summarize'), [], { env, name: 'summarize' });
}

export async function record(redis, tenant, id) {
  const raw = await redis.cmd('HGET', T(tenant, 'summary_requests'), id);
  return raw ? JSON.parse(raw) : null;
}

export async function waitEnded(redis, tenant, id, timeout = 30000) {
  return waitFor(async () => {
    const r = await record(redis, tenant, id);
    return r && (r.status === 'done' || r.status === 'failed') ? r : null;
  }, { timeout, what: `request ${id} ended` });
}

export async function summary(redis, tenant, id) {
  const raw = await redis.cmd('HGET', T(tenant, 'summaries'), id);
  return raw ? JSON.parse(raw) : null;
}

// the truth: counts of comments of subs created in [a, b)
export function countIn(comments, subs, a, b) {
  return comments.filter((c) => subs.includes(c.subreddit) && c.created >= a && c.created < b)
    .length;
}
