// alert.mjs - helpers of the alert worker's suites: tenants, topics,
// rules and members as the API stores them, series buckets and comment
// records written in the documented key format (docs/redis-keys.md) as
// enrich writes them (records.mjs), the worker's environment and process,
// and an SMTP sink (npm smtp-server) that records each message it
// accepted.

import { SMTPServer } from 'smtp-server';
import { bin, startProc, waitFor } from './harness.mjs';
import { tombstone, writeRecord } from './records.mjs';

export const QUEUE = 'es:{deliver}:queue';
export const MIN = 60000;
export const HOUR = 3600000;

export const tkey = (tenant, suffix) => `es:{t:${tenant}}:${suffix}`;

const pad = (n, w = 2) => String(n).padStart(w, '0');
const ymd = (d) => `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}` +
  `${pad(d.getUTCDate())}`;

// ts:<topic>:m:<YYYYMMDDHH> and field MM of minute m (since the epoch)
export function minuteKey(tenant, topic, m) {
  const d = new Date(m * MIN);
  return [tkey(tenant, `ts:${topic}:m:${ymd(d)}${pad(d.getUTCHours())}`),
          pad(d.getUTCMinutes())];
}

// ts:<topic>:h:<YYYYMMDD> and field HH of hour h (since the epoch)
export function hourKey(tenant, topic, h) {
  const d = new Date(h * HOUR);
  return [tkey(tenant, `ts:${topic}:h:${ymd(d)}`), pad(d.getUTCHours())];
}

// a tenant with its topics ({id, name}), members ({sub, email, alert_email})
// and rules (stored as given: the test decides which members they have)
export async function setTenant(redis, tenant, { topics = [], members = [],
                                                 rules = [] } = {}) {
  await redis.cmd('SADD', 'es:{tenants}:all', tenant);
  for (const t of topics) {
    await redis.cmd('HSET', tkey(tenant, 'topics'), t.id, JSON.stringify({
      id: t.id, name: t.name || t.id, subreddits: ['rust'], query: '' }));
  }
  for (const m of members) {
    await redis.cmd('HSET', tkey(tenant, 'members'), m.sub, JSON.stringify({
      sub: m.sub, email: m.email, role: m.role || 'member', joined_ms: 1,
      ...(m.alert_email === undefined ? {} : { alert_email: m.alert_email }),
    }));
  }
  for (const r of rules) {
    await redis.cmd('HSET', tkey(tenant, 'alerts:rules'), r.id,
      typeof r.text === 'string' ? r.text : JSON.stringify(r));
  }
}

// per-hour buckets [fromHour, toHour): n comments, neg negative, cs sum
export async function writeHours(redis, tenant, topic, fromHour, toHour,
                                 { n, neg = 0, cs = 0 }) {
  const cmds = [];
  for (let h = fromHour; h < toHour; h++) {
    const [key, f] = hourKey(tenant, topic, h);
    cmds.push(redis.cmd('HSET', key, `${f}:n`, n, `${f}:neg`, neg,
                        `${f}:cs`, cs));
  }
  await Promise.all(cmds);
}

// per-minute buckets [fromMin, toMin)
export async function writeMinutes(redis, tenant, topic, fromMin, toMin,
                                   { n, neg = 0, cs = 0 }) {
  const cmds = [];
  for (let m = fromMin; m < toMin; m++) {
    const [key, f] = minuteKey(tenant, topic, m);
    cmds.push(redis.cmd('HSET', key, `${f}:n`, n, `${f}:neg`, neg,
                        `${f}:cs`, cs));
  }
  await Promise.all(cmds);
}

// comment records and recent entries, as enrich stores them (records.mjs):
// {id, ms, label, compound, body, author}; {deleted: true} leaves the
// tombstone with the recent entries still naming it (a reader must skip it)
export async function addComments(redis, tenant, topic, comments) {
  for (const c of comments) {
    const rec = {
      id: c.id, topics: [topic], label: c.label, compound: c.compound ?? 0,
      neg: 0, neu: 0, pos: 0, engine: 'vader', created: c.ms,
      subreddit: 'rust', author: c.author || 'someone', body: c.body ?? '',
      permalink: `/r/rust/comments/p1/post/${c.id}/`, link_title: 'A post',
      score: '1' };
    await writeRecord(redis, tenant, rec);
    if (c.deleted) await tombstone(redis, tenant, c.id, c.ms);
  }
}

export function alertEnv(redis, extra = {}) {
  return {
    AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ECHOSTREAM_AWS_IMDS: 'false',
    ECHOSTREAM_REDIS: redis.url,
    ECHOSTREAM_ALERT_INTERVAL: '0.2',
    ECHOSTREAM_ALERT_CLAIM_IDLE_MS: '300',
    ECHOSTREAM_WORKER_HEARTBEAT: '0.1',
    ECHOSTREAM_MAIL_TRANSPORT: 'none',
    ECHOSTREAM_MAIL_BASE_URL: 'https://echostream.example/',
    ...extra,
  };
}

export function startAlert(env, args = [], name = 'alert') {
  return startProc(bin('alert'), args, { env, name });
}

// the worker's heartbeat status once it has ticked at least `ticks` times
export async function waitTicks(redis, p, ticks = 3, timeout = 20000) {
  return waitFor(async () => {
    const all = await redis.cmd('HGETALL', 'es:workers');
    for (let i = 0; i < all.length; i += 2) {
      if (all[i].startsWith('alert:') && all[i].endsWith(`-${p.pid}`)) {
        const st = JSON.parse(all[i + 1]).status;
        if (st.ticks >= ticks) return st;
      }
    }
    return null;
  }, { timeout, interval: 50, what: `alert ${p.pid}: ${ticks} ticks` });
}

// runs the worker until it ticked `ticks` times, then stops it (SIGTERM);
// resolves {status, output, exit}
export async function runTicks(redis, env, args = [], ticks = 3) {
  const p = startAlert(env, args);
  let status;
  try {
    status = await waitTicks(redis, p, ticks);
  } finally {
    p.kill('SIGTERM');
  }
  const exit = await p.exited;
  return { status, output: p.output(), exit };
}

// the history stream: [{id, event}]
export async function history(redis, tenant) {
  const r = await redis.cmd('XRANGE', tkey(tenant, 'alerts:history'), '-',
                            '+');
  return r.map(([id, f]) => ({ id, event: JSON.parse(f[f.indexOf('event') + 1]) }));
}

// the deliveries hash: {id: record}
export async function deliveries(redis, tenant) {
  const a = await redis.cmd('HGETALL', tkey(tenant, 'deliveries'));
  const o = {};
  for (let i = 0; i < a.length; i += 2) o[a[i]] = JSON.parse(a[i + 1]);
  return o;
}

export async function ruleState(redis, tenant, rule) {
  const s = await redis.cmd('HGET', tkey(tenant, 'alerts:state'), rule);
  return s === null ? null : JSON.parse(s);
}

// An SMTP sink on loopback, no STARTTLS, no AUTH. Each message accepted is
// recorded with its envelope, Message-ID, Subject and the time the 250
// was sent ({at}). tempFail: {address: n} answers 451 to the first n
// RCPT TOs of that address; refuse: {address: code} always refuses it;
// delayMs delays every acceptance (so kills land inside transactions);
// a message whose sender went away meanwhile is not taken ({dropped}).
export async function smtpSink({ tempFail = {}, refuse = {},
                                 delayMs = 0 } = {}) {
  const rec = { mails: [], tempFailed: {}, refused: [], dropped: 0 };
  const server = new SMTPServer({
    logger: false,
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onRcptTo(addr, session, cb) {
      const a = addr.address.toLowerCase();
      if (refuse[a]) {
        rec.refused.push(a);
        const e = new Error(`mailbox ${a} unavailable`);
        e.responseCode = refuse[a];
        return cb(e);
      }
      if ((rec.tempFailed[a] || 0) < (tempFail[a] || 0)) {
        rec.tempFailed[a] = (rec.tempFailed[a] || 0) + 1;
        const e = new Error(`try ${a} again later`);
        e.responseCode = 451;
        return cb(e);
      }
      return cb();
    },
    onData(stream, session, cb) {
      const chunks = [];
      let closed = false;
      session.closedBy = () => { closed = true; };
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const accept = () => {
          if (closed) {
            rec.dropped++; // the sender died before the 250: not taken
            return cb(new Error('client went away'));
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
          const unfold = head.replace(/\r\n[ \t]+/g, ' ');
          const hdr = (name) => {
            const m = new RegExp(`^${name}: (.*)$`, 'mi').exec(unfold);
            return m ? m[1] : null;
          };
          rec.mails.push({
            at: Date.now(), raw,
            from: session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            messageId: hdr('Message-ID'), subject: hdr('Subject'),
            toHeader: hdr('To'), unsubscribe: hdr('List-Unsubscribe'),
          });
          return cb(null, 'queued');
        };
        if (delayMs > 0) setTimeout(accept, delayMs); else accept();
      });
    },
    onClose(session) {
      if (session.closedBy) session.closedBy();
    },
  });
  server.on('error', () => {});
  await new Promise((res, rej) => {
    server.server.once('error', rej);
    server.listen(0, '127.0.0.1', res);
  });
  const port = server.server.address().port;
  return { rec, port, url: `smtp://127.0.0.1:${port}`,
           close: () => new Promise((r) => server.close(r)) };
}
