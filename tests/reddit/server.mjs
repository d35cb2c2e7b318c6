// server.mjs - a Reddit API test server for EchoStream's ingest tests and
// demos: the parts of Reddit the poller uses, with Reddit's real shapes.
//
//   POST /api/v1/access_token   OAuth2 client credentials (HTTP Basic)
//   GET  /r/{sub}/comments      Listing of t1 comments, newest first,
//                               limit/before/after as Reddit pages them,
//                               ~1,000 item listing cap, bearer token
//                               required, X-Ratelimit-* headers
//   GET  /r/{a}+{b}+.../comments  the same over several subreddits at
//                               once (Reddit's combined listing); 403/404
//                               when any of them is private/banned
//
// Every request is logged with its time, so a test can ask for the most
// requests any window of a minute held (maxInWindow), and comments can be
// scheduled into chosen subreddits at chosen times (schedule), each with
// the time it was created, to measure how long they take to arrive.
//
// Tests drive it through the returned object (import { startRedditServer })
// or, standalone (`node tests/reddit/server.mjs --port N`), through JSON
// POSTs to /_test/... (see the control routes at the bottom). Comment ids
// are sequential base-36 across all subreddits, as on Reddit; texts are
// generated here. Faults can be queued for the next N API requests: 429
// with and without retry-after, 500, 503, truncated or malformed JSON, a
// huge body, invalid UTF-8 in a body, a slow answer, a hang.

import http from 'node:http';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const LISTING_CAP = 1000;
const WORDS = ['river', 'quiet', 'engine', 'blue', 'market', 'paper', 'storm',
  'garden', 'signal', 'winter', 'coffee', 'lamp', 'orbit', 'maple', 'harbor',
  'pixel', 'canyon', 'violet', 'thunder', 'meadow'];

function sentence(seq) {
  const out = [];
  for (let i = 0; i < 6; i++) {
    out.push(WORDS[(seq * 7 + i * 13) % WORDS.length]);
  }
  return `comment ${seq}: ${out.join(' ')}`;
}

function escapeHtml(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function startRedditServer(opts = {}) {
  const st = {
    clientId: opts.clientId ?? 'test-client',
    clientSecret: opts.clientSecret ?? 'test-secret',
    expiresIn: opts.expiresIn ?? 86400,
    // Reddit: 1,000 requests per 600 s window for an OAuth client
    rateLimit: opts.rateLimit ?? 100000,
    rateWindow: opts.rateWindow ?? 600,
    windowStart: Date.now(),
    used: 0,
    nextId: opts.firstId ?? parseInt('k3v0000', 36),
    subs: new Map(), // lower name -> {name, items: [] oldest first}
    byId: new Map(),
    tokens: new Map(), // token -> expiry ms
    faults: [],
    forbidden: new Set(),
    banned: new Set(),
    log: [],
    issued: [], // every token handed out (tests check logs for them)
    pending: new Set(),
  };

  function sub(name) {
    const key = name.toLowerCase();
    let s = st.subs.get(key);
    if (!s) {
      s = { name, items: [], sid: `t5_${(st.subs.size + 1000).toString(36)}` };
      st.subs.set(key, s);
    }
    return s;
  }

  function addComments(subName, n = 1, fields = {}) {
    const s = sub(subName);
    const ids = [];
    const now = Date.now() / 1000;
    for (let i = 0; i < n; i++) {
      const num = st.nextId++;
      const id = num.toString(36);
      const link = `${(num % 97 + 1000).toString(36)}`;
      const c = {
        id, num, sub: s, link,
        author: fields.author ?? `user_${num % 50}`,
        body: fields.body ?? sentence(num),
        created: fields.created ?? now + i * 0.001,
        score: fields.score ?? (num % 11) - 2,
        title: fields.title ?? `Thread ${link} about ${WORDS[num % 20]}`,
        gone: false,
      };
      s.items.push(c);
      st.byId.set(id, c);
      ids.push(id);
    }
    return ids;
  }

  function deleteComment(id, kind = 'deleted') {
    const c = st.byId.get(id.replace(/^t1_/, ''));
    if (!c) return false;
    c.body = kind === 'removed' ? '[removed]' : '[deleted]';
    if (kind !== 'removed') c.author = '[deleted]';
    return true;
  }

  // Takes a comment out of every listing (as spam removal does): a poller
  // whose cursor pointed at it gets nothing for ?before= from then on.
  function vanishComment(id) {
    const c = st.byId.get(id.replace(/^t1_/, ''));
    if (!c) return false;
    c.sub.items = c.sub.items.filter((x) => x !== c);
    return true;
  }

  function commentData(c) {
    const s = c.sub;
    const thread = `/r/${s.name}/comments/${c.link}/thread_${c.link}/`;
    const permalink = `${thread}${c.id}/`;
    const html = `<div class="md"><p>${escapeHtml(c.body)}</p>\n</div>`;
    return {
      subreddit_id: s.sid, approved_at_utc: null, author_is_blocked: false,
      comment_type: null, awarders: [], mod_reason_by: null, banned_by: null,
      author_flair_type: 'text', total_awards_received: 0,
      subreddit: s.name, author_flair_template_id: null, likes: null,
      replies: '', user_reports: [], saved: false, id: c.id,
      banned_at_utc: null, mod_reason_title: null, gilded: 0, archived: false,
      collapsed_reason_code: null, no_follow: true, author: c.author,
      num_comments: 3, edited: false, can_mod_post: false,
      created_utc: c.created, send_replies: true, parent_id: `t3_${c.link}`,
      score: c.score, author_fullname: `t2_${(c.num % 5000).toString(36)}`,
      over_18: false, report_reasons: null, removal_reason: null,
      approved_by: null, controversiality: 0, body: c.body,
      link_title: c.title, top_awarded_type: null, downs: 0,
      author_flair_css_class: null, name: `t1_${c.id}`, is_submitter: false,
      collapsed: false, body_html: html,
      stickied: false, can_gild: false, link_id: `t3_${c.link}`,
      link_author: `op_${c.link}`,
      link_permalink: `https://www.reddit.com${thread}`,
      subreddit_name_prefixed: `r/${s.name}`, author_flair_text: null,
      treatment_tags: [], created: c.created, subreddit_type: 'public',
      locked: false, quarantine: false, ups: c.score, permalink,
      link_url: `https://www.reddit.com${thread}`,
      score_hidden: false, distinguished: null, mod_reports: [],
      num_reports: null,
    };
  }

  // Reddit's paging: newest first; ?after=X the items right below X,
  // ?before=X the `limit` items right above X (still newest first); an
  // unknown X gives an empty page. before/after name the page's edges when
  // more items lie beyond them.
  // the items of one subreddit, or of several ("a+b"), oldest first
  function itemsOf(subName) {
    const names = subName.toLowerCase().split('+');
    if (names.length === 1) return st.subs.get(names[0])?.items ?? [];
    const out = [];
    for (const n of new Set(names)) out.push(...(st.subs.get(n)?.items ?? []));
    return out.sort((a, b) => a.num - b.num);
  }

  function listing(subName, q) {
    const all = itemsOf(subName).slice(-LISTING_CAP).reverse();
    let limit = parseInt(q.get('limit') ?? '25', 10);
    if (!(limit > 0)) limit = 25;
    if (limit > 100) limit = 100;
    const pos = (name) => all.findIndex((c) => `t1_${c.id}` === name);
    let start = 0;
    let end = Math.min(limit, all.length);
    if (q.get('after')) {
      const i = pos(q.get('after'));
      if (i < 0) {
        end = 0;
      } else {
        start = i + 1;
        end = Math.min(start + limit, all.length);
      }
    } else if (q.get('before')) {
      const i = pos(q.get('before'));
      if (i < 0) {
        end = 0;
      } else {
        end = i;
        start = Math.max(0, i - limit);
      }
    }
    const items = all.slice(start, end);
    return {
      kind: 'Listing',
      data: {
        after: items.length && end < all.length
          ? `t1_${items[items.length - 1].id}` : null,
        dist: items.length,
        modhash: '',
        geo_filter: '',
        children: items.map((c) => ({ kind: 't1', data: commentData(c) })),
        before: items.length && start > 0 ? `t1_${items[0].id}` : null,
      },
    };
  }

  function rateHeaders() {
    const now = Date.now();
    if (now - st.windowStart >= st.rateWindow * 1000) {
      st.windowStart = now;
      st.used = 0;
    }
    const left = st.rateWindow - (now - st.windowStart) / 1000;
    const reset = Math.max(0, Math.ceil(left));
    return {
      'x-ratelimit-remaining': `${Math.max(0, st.rateLimit - st.used)}.0`,
      'x-ratelimit-used': `${st.used}`,
      'x-ratelimit-reset': `${reset}`,
    };
  }

  function send(res, status, body, headers = {}) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(
      typeof body === 'string' ? body : JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8',
      'content-length': buf.length, ...headers });
    res.end(buf);
  }

  function takeFault() {
    const f = st.faults[0];
    if (!f) return null;
    if (--f.count <= 0) st.faults.shift();
    return f;
  }

  function handleToken(req, res, body, entry) {
    const auth = req.headers.authorization || '';
    const m = /^Basic (.+)$/i.exec(auth);
    let ok = false;
    if (m) {
      const dec = Buffer.from(m[1], 'base64').toString('utf8');
      const i = dec.indexOf(':');
      ok = i > 0 && dec.slice(0, i) === st.clientId &&
        dec.slice(i + 1) === st.clientSecret;
    }
    entry.basic = !!m;
    if (!ok) return send(res, 401, { message: 'Unauthorized', error: 401 });
    if (!/(^|&)grant_type=client_credentials(&|$)/.test(body)) {
      return send(res, 200, { error: 'unsupported_grant_type' });
    }
    const token = `${crypto.randomBytes(4).toString('hex')}-` +
      crypto.randomBytes(12).toString('base64url');
    st.tokens.set(token, Date.now() + st.expiresIn * 1000);
    entry.issued = true;
    st.issued.push(token);
    return send(res, 200, { access_token: token, token_type: 'bearer',
      expires_in: st.expiresIn, scope: '*' });
  }

  function handleComments(req, res, subName, q, entry) {
    const m = /^bearer (.+)$/i.exec(req.headers.authorization || '');
    const exp = m ? st.tokens.get(m[1]) : undefined;
    entry.token = m ? m[1] : null;
    if (!exp || exp < Date.now()) {
      entry.status = 401;
      return send(res, 401, { message: 'Unauthorized', error: 401 },
        { 'www-authenticate': 'Bearer realm="reddit", error="invalid_token"' });
    }
    st.used++;
    const rh = rateHeaders();
    if (st.used > st.rateLimit) {
      entry.status = 429;
      return send(res, 429, { message: 'Too Many Requests', error: 429 }, rh);
    }
    const keys = subName.toLowerCase().split('+');
    if (keys.some((k) => st.forbidden.has(k))) {
      entry.status = 403;
      return send(res, 403,
        { reason: 'private', message: 'Forbidden', error: 403 }, rh);
    }
    if (keys.some((k) => st.banned.has(k))) {
      entry.status = 404;
      return send(res, 404,
        { reason: 'banned', message: 'Not Found', error: 404 }, rh);
    }
    const f = takeFault();
    entry.fault = f ? f.kind : null;
    const doc = () => {
      const l = listing(subName, q);
      entry.items = l.data.children.length; // full pages mean paging
      return Buffer.from(JSON.stringify(l));
    };
    entry.status = 200;
    switch (f?.kind) {
      case '429':
        entry.status = 429;
        return send(res, 429, { message: 'Too Many Requests', error: 429 },
          { ...rh, 'retry-after': String(f.retryAfter ?? 1) });
      case '429-bare':
        entry.status = 429;
        return send(res, 429, '<html><body>Too Many Requests</body></html>',
          { 'content-type': 'text/html' });
      case '500':
      case '503':
        entry.status = Number(f.kind);
        return send(res, entry.status,
          `<html><body>${f.kind} error</body></html>`,
          { 'content-type': 'text/html' });
      case 'truncated': {
        const b = doc();
        const cut = Math.max(1, Math.floor(b.length / 2));
        return send(res, 200, b.subarray(0, cut), rh);
      }
      case 'malformed':
        return send(res, 200,
          '{"kind": "Listing", "data": {"children": [}, "after": nul', rh);
      case 'wrongkind':
        return send(res, 200, { kind: 't3', data: { children: 'no' } }, rh);
      case 'huge': {
        const n = f.bytes ?? 9 * 1024 * 1024;
        const pad = Buffer.alloc(n, 0x61);
        return send(res, 200, Buffer.concat([
          Buffer.from('{"kind":"Listing","data":{"pad":"'), pad,
          Buffer.from('","children":[],"after":null,"before":null}}')]), rh);
      }
      case 'badutf8': {
        // raw bytes that are not UTF-8 inside a comment body
        const s = doc().toString('latin1');
        const i = s.indexOf('"body":');
        if (i < 0) return send(res, 200, doc(), rh);
        const at = s.indexOf('"', s.indexOf(':', i) + 1) + 1;
        const b = doc();
        return send(res, 200, Buffer.concat([b.subarray(0, at),
          Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x20]), b.subarray(at)]), rh);
      }
      case 'slow':
      case 'hang': {
        const ms = f.ms ?? (f.kind === 'hang' ? 60000 : 1000);
        const t = setTimeout(() => {
          st.pending.delete(t);
          if (!res.destroyed) send(res, 200, doc(), rh);
        }, ms);
        st.pending.add(t);
        res.on('close', () => { clearTimeout(t); st.pending.delete(t); });
        return undefined;
      }
      default:
        return send(res, 200, doc(), rh);
    }
  }

  async function handleControl(req, res, p, body) {
    let j = {};
    try {
      j = body ? JSON.parse(body) : {};
    } catch {
      return send(res, 400, { error: 'bad json' });
    }
    const ok = (v = true) => send(res, 200, { ok: v });
    switch (p) {
      case '/_test/comments':
        return send(res, 200,
          { ids: addComments(j.sub, j.n ?? 1, j.fields ?? {}) });
      case '/_test/delete': return ok(deleteComment(j.id, j.kind));
      case '/_test/vanish': return ok(vanishComment(j.id));
      case '/_test/fault': api.fault(j.kind, j.count ?? 1, j); return ok();
      case '/_test/config': api.configure(j); return ok();
      case '/_test/log': return send(res, 200, { log: st.log });
      case '/_test/schedule':
        api.schedule(j.plan ?? []);
        return ok();
      case '/_test/stats': return send(res, 200, api.stats(j.windowMs));
      case '/_test/clear-log': st.log.length = 0; return ok();
      default: return send(res, 404, { error: 'no such control route' });
    }
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url, 'http://x');
      const p = url.pathname;
      if (p.startsWith('/_test/')) return handleControl(req, res, p, body);
      const entry = {
        t: Date.now(), method: req.method, path: p,
        query: Object.fromEntries(url.searchParams),
        ua: req.headers['user-agent'] || '',
        authScheme: (req.headers.authorization || '').split(' ')[0] || null,
        status: null,
      };
      st.log.push(entry);
      const cm = /^\/r\/([A-Za-z0-9_]+(?:\+[A-Za-z0-9_]+)*)\/comments\/?$/.exec(p);
      if (req.method === 'POST' && p === '/api/v1/access_token') {
        entry.kind = 'token';
        return handleToken(req, res, body, entry);
      }
      if (req.method === 'GET' && cm) {
        entry.kind = 'comments';
        entry.sub = cm[1].toLowerCase();
        return handleComments(req, res, cm[1], url.searchParams, entry);
      }
      entry.status = 404;
      return send(res, 404, { message: 'Not Found', error: 404 });
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  const api = {
    port,
    url: `http://127.0.0.1:${port}`,
    tokenUrl: `http://127.0.0.1:${port}/api/v1/access_token`,
    clientId: st.clientId,
    clientSecret: st.clientSecret,
    addComments,
    deleteComment,
    vanishComment,
    // kind: 429 | 429-bare | 500 | 503 | truncated | malformed | wrongkind
    //       | huge | badutf8 | slow | hang; extra: {retryAfter, bytes, ms}
    fault(kind, count = 1, extra = {}) {
      st.faults.push({ ...extra, kind, count });
    },
    configure(c) {
      if (c.expiresIn !== undefined) st.expiresIn = c.expiresIn;
      if (c.rateLimit !== undefined) st.rateLimit = c.rateLimit;
      if (c.rateWindow !== undefined) {
        st.rateWindow = c.rateWindow;
        st.windowStart = Date.now();
        st.used = 0;
      }
      if (c.forbidden) st.forbidden.add(c.forbidden.toLowerCase());
      if (c.banned) st.banned.add(c.banned.toLowerCase());
      if (c.revokeTokens) st.tokens.clear();
    },
    revokeTokens() { st.tokens.clear(); },
    ids(subName) {
      const s = st.subs.get(subName.toLowerCase());
      return s ? s.items.map((c) => c.id) : [];
    },
    issuedTokens() { return [...st.issued]; },
    // The most requests (token and API alike, as Reddit counts them) that
    // any span of windowMs held, and when that span began (ms).
    maxInWindow(windowMs = 60000, filter = () => true) {
      const ts = st.log.filter(filter).map((e) => e.t).sort((a, b) => a - b);
      let best = 0;
      let at = ts[0] ?? null;
      for (let i = 0, j = 0; j < ts.length; j++) {
        while (ts[j] - ts[i] >= windowMs) i++;
        if (j - i + 1 > best) { best = j - i + 1; at = ts[i]; }
      }
      return { max: best, at };
    },
    // Counts of the log and the busiest minute, for standalone use.
    stats(windowMs = 60000) {
      const tokens = st.log.filter((e) => e.kind === 'token').length;
      return { requests: st.log.length, tokenRequests: tokens,
               windowMs, ...api.maxInWindow(windowMs) };
    },
    // Adds comments later: plan = [{at (ms from now), sub, n, fields}].
    // Resolves, once all are in, to [{id, sub, created (ms)}] in order.
    schedule(plan) {
      const out = [];
      return Promise.all(plan.map((x) => new Promise((resolve) => {
        const t = setTimeout(() => {
          st.pending.delete(t);
          const created = Date.now();
          for (const id of addComments(x.sub, x.n ?? 1, x.fields ?? {})) {
            out.push({ id, sub: x.sub.toLowerCase(), created });
          }
          resolve();
        }, Math.max(0, x.at));
        st.pending.add(t);
      }))).then(() => out.sort((a, b) => a.created - b.created));
    },
    get log() { return st.log; },
    clearLog() { st.log.length = 0; },
    pendingFaults() { return st.faults.reduce((n, f) => n + f.count, 0); },
    async close() {
      for (const t of st.pending) clearTimeout(t);
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
  return api;
}

// Standalone: node tests/reddit/server.mjs [--port N] [--client-id X]
//   [--client-secret Y] [--expires-in S] [--seed sub:n ...]
//   [--rate sub:per_second ...]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const o = { seed: [], rate: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    if (a === '--port') { o.port = Number(v); i++; }
    else if (a === '--client-id') { o.clientId = v; i++; }
    else if (a === '--client-secret') { o.clientSecret = v; i++; }
    else if (a === '--expires-in') { o.expiresIn = Number(v); i++; }
    else if (a === '--seed') { o.seed.push(v); i++; }
    else if (a === '--rate') { o.rate.push(v); i++; }
    else {
      process.stderr.write('usage: server.mjs [--port N] [--client-id X] ' +
        '[--client-secret Y] [--expires-in S] [--seed sub:n] ' +
        '[--rate sub:per_s]\n');
      process.exit(2);
    }
  }
  const srv = await startRedditServer(o);
  for (const s of o.seed) {
    const [sub, n] = s.split(':');
    srv.addComments(sub, Number(n || 100));
  }
  for (const r of o.rate) {
    const [sub, per] = r.split(':');
    let acc = 0;
    setInterval(() => {
      acc += Number(per) / 10;
      const n = Math.floor(acc);
      acc -= n;
      if (n > 0) srv.addComments(sub, n);
    }, 100);
  }
  process.stdout.write(`reddit test server on ${srv.url} (port ${srv.port})\n`);
  process.stdout.write(`  ECHOSTREAM_REDDIT_API_URL=${srv.url}\n`);
  process.stdout.write(`  ECHOSTREAM_REDDIT_TOKEN_URL=${srv.tokenUrl}\n`);
}
