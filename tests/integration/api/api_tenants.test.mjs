// api_tenants.test.mjs - two tenants: no request of one reads or changes
// the other's data, on every route of the API.
//
// Tenant "acme" (A) gets real data of every kind: topics, alert rules and
// members through the API, enriched comments through the real
// echostream-enrich binary (series, recent sets, terms, share of voice,
// usage, per-comment records, live stream entries), summaries and alert
// history as the later workers write them, settings and a pending invite.
// Tenant "globex" (B) gets data of its own under the SAME ids wherever an
// id is chosen (topic "shared", summary "sumshared", A's rule id, alert
// event ids, one comment matched by both tenants), so a key built without
// the tenant would show up as a wrong answer here.
//
// Then B's owner sends one request or more on every route of the module's
// route table (parsed from ngx_http_echostream_routes.c: a route without
// a case here fails the suite), aimed at A's ids and at the colliding
// ones: reads must answer only B's data and numbers (404 for ids only A
// has), writes on A's ids must answer 404, and writes on B's own ids must
// land in B only. Every key of A (its {t:acme} keys, its users' records,
// its invites, its place in the tenant set) is compared byte for byte
// before and after. No answer to B may contain A's markers (the string
// "acme", which every A name, e-mail, word and comment id carries, and
// A's user subs) unless B's own request carried them.
//
// The unsubscribe link needs no token: B holds a valid link for its own
// member only, and tries it (and B's signature) on A's tenant, member and
// list; only its own link works, on B's member.
//
// Tokens: the tenant comes only from a verified token. This suite runs
// with echostream_tenant_claim on (an operator who provisions tenants in
// the identity provider, keeping the attribute unwritable by app
// clients), so its tenants have fixed names. A token of B whose payload
// was edited to claim A's tenant (signature no longer matching) is
// answered 401. A validly signed token carrying custom:tenant_id = acme
// is, in that mode, acme's by the operator's word and not tested as an
// attack; with the default (claim ignored) api_tenancy shows that a user
// who sets the claim gains nothing.
//
// Real nginx with the module, real Redis, real cognito-local tokens.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';

import { createHash } from 'node:crypto';

import { acceptInvite, hostile, startApiStack } from '../../lib/api.mjs';
import { sleep, tmpDir, waitFor } from '../../lib/harness.mjs';
import { addComments, enrichEnv, startEnrich, waitDrained, waitStarted }
  from '../../lib/enrich.mjs';
import { moduleRoutes, openStream, pathMatches, scanKeys, snapshotKeys,
         snapshotTenant, streamComments } from '../../lib/tenants.mjs';
import { hourOf as hourOfMs, tenantBucket } from '../../lib/records.mjs';
import { ONE_CLICK, mailSecret, unsubPath, unsubSig }
  from '../../lib/unsub.mjs';

const A = 'acme';
const B = 'globex';
const V1 = '/api/v1';
const NOW_S = Math.floor(Date.now() / 1000);

// Comments of the last minutes (so every default range holds them). A
// watches r/rust ("shared") and fast things in r/rust and r/golang
// ("solo"); B watches r/golang ("shared") and r/python ("bonly"), so
// "bothc1" is a comment of both tenants, under different topics.
const COMMENTS = [
  ['acmec1', 'rust', 'acmeword borrow checker great release'],
  ['acmec2', 'rust', 'acmeword compiler terrible crash bug'],
  ['acmec3', 'rust', 'acmeword docs are fine'],
  ['acmec4', 'rust', 'fast acmeword compiler love it'],
  ['globc1', 'golang', 'globexword lovely docs'],
  ['globc2', 'golang', 'globexword awful broken modules'],
  ['bothc1', 'golang', 'fast globexword runtime'],
  ['globp1', 'python', 'globexword python snake'],
].map(([id, subreddit, body], i) => ({ id, subreddit, body,
  author: `${id}-author`, created: NOW_S - (i + 1) }));

// the creation hour of one of the comments, and those of a live entry's
// ids as enrich writes them (one for all when they share it)
const hourOf = (id) => hourOfMs(COMMENTS.find((c) => c.id === id).created * 1000);
const liveHours = (ids) => {
  const h = ids.map(hourOf);
  return h.every((x) => x === h[0]) ? h[0] : h.join(',');
};

// what each tenant's topics hold after enrich
const HOLDS = {
  [A]: { shared: ['acmec1', 'acmec2', 'acmec3', 'acmec4'],
         solo: ['acmec4', 'bothc1'] },
  [B]: { shared: ['globc1', 'globc2', 'bothc1'], bonly: ['globp1'] },
};
const USAGE = { [A]: 5, [B]: 4 };
// every comment a tenant holds
const held = (t) => [...new Set(Object.values(HOLDS[t]).flat())].sort();

// A's strings that no answer to B may carry (more are added in before())
const MARKERS = ['acme'];

const EV_OLD = '1763999000000-0'; // B only
const EV_1 = '1764000000000-0'; // A and B, different events
const EV_2 = '1764000100000-0'; // A only

let s;
let secret; // the mail secret nginx checks unsubscribe links with
let u; // users: a (A's owner), m (A's member), b (B's owner)
let d; // ids learned while seeding: rules, cursors

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sorted = (a) => [...a].sort();
const sumN = (series) => series.points.reduce((n, p) => n + p.n, 0);
const csvIds = (text) => text.split('\r\n').slice(1, -1)
  .map((line) => line.split(',')[0]);

function crashed() {
  return /exited on signal|\[alert\]/.test(s.nginx.errorLog());
}

async function call(token, method, path, opts = {}) {
  return s.api(method, `${V1}${path}`, { token, ...opts });
}

// A request that must succeed (setup): its answer's JSON.
async function ok(token, method, path, body, status = 200) {
  const r = await call(token, method, path, { body });
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  return r.json;
}

function summary(id, topic, text) {
  return JSON.stringify({ id, topic, date: '2026-11-24',
                          created: iso(Date.now() - 3600000), source: 'local',
                          text, figures: { comments: text.length } });
}

before(async () => {
  // generous enough for every test but the last, which exceeds it on
  // purpose as B
  // tenants named through the claim (echostream_tenant_claim on); the
  // member joins the one way there is, by accepting an invite
  secret = await mailSecret();
  s = await startApiStack({
    extraConf: `    echostream_rate_limit 100r/s burst=200;\n${secret.conf}`,
    tenantClaim: true });
  u = {
    a: await s.cognito.user('owner@acme.test', { tenant: A }),
    b: await s.cognito.user('owner@globex.test', { tenant: B }),
  };
  assert.equal((await ok(u.a.idToken, 'GET', '/me')).tenant, A);
  assert.equal((await ok(u.b.idToken, 'GET', '/me')).tenant, B);

  // members: one who joins through an invite, one invite left pending
  await ok(u.a.idToken, 'POST', '/members', { email: 'member@acme.test' },
    201);
  await ok(u.a.idToken, 'POST', '/members', { email: 'pending@acme.test' },
    201);
  await ok(u.b.idToken, 'POST', '/members', { email: 'friend@globex.test' },
    201);
  u.m = await s.cognito.user('member@acme.test');
  await acceptInvite(s, u.m.idToken, A);
  const me = await ok(u.m.idToken, 'GET', '/me');
  assert.deepEqual([me.tenant, me.role], [A, 'member']);
  // the pending invite's id, which B must not be able to use
  d = {};
  d.pendingInvite = JSON.parse(await s.redis.cmd('HGET',
    `es:{invites}:${createHash('sha256').update('pending@acme.test')
      .digest('hex')}`, A)).id;
  MARKERS.push(u.a.sub, u.m.sub);

  // topics through the API, the same id "shared" in both tenants
  const topic = (id, name, subreddits, query = '') => ({ id, name,
                                                         subreddits, query });
  for (const t of [topic('shared', 'Acme shared', ['rust']),
    topic('solo', 'Acme solo', ['rust', 'golang'], 'fast')]) {
    await ok(u.a.idToken, 'POST', '/topics', t, 201);
  }
  for (const t of [topic('shared', 'Globex shared', ['golang']),
    topic('bonly', 'Globex only', ['python'])]) {
    await ok(u.b.idToken, 'POST', '/topics', t, 201);
  }

  // alert rules; B holds a rule under A's "shared" rule id too
  d.ruleShared = (await ok(u.a.idToken, 'POST', '/alerts/rules', {
    topic: 'shared', min_volume: 5, email: ['oncall@acme.test'],
    webhook: 'https://hooks.acme.test/x' }, 201)).id;
  d.ruleSolo = (await ok(u.a.idToken, 'POST', '/alerts/rules', {
    topic: 'solo', sensitivity: 2.5 }, 201)).id;
  d.ruleB = (await ok(u.b.idToken, 'POST', '/alerts/rules', {
    topic: 'bonly', email: ['ops@globex.test'] }, 201)).id;
  await s.redis.cmd('HSET', `es:{t:${B}}:alerts:rules`, d.ruleShared,
    JSON.stringify({ id: d.ruleShared, topic: 'shared', enabled: true,
                     min_volume: 7, sensitivity: 2, cooldown_minutes: 30,
                     email: ['ops@globex.test'], webhook: null }));

  // summaries and alert history as the later workers write them
  await s.redis.cmd('HSET', `es:{t:${A}}:summaries`,
    'sumshared', summary('sumshared', 'shared', 'Acme summary of shared'),
    'sumsolo', summary('sumsolo', 'solo', 'Acme summary of solo'));
  await s.redis.cmd('HSET', `es:{t:${B}}:summaries`,
    'sumshared', summary('sumshared', 'shared', 'Globex summary of shared'),
    'sumglobex', summary('sumglobex', null, 'Globex summary of all'));
  const event = (rule, topic, note) => JSON.stringify({
    rule, topic, fired: iso(Date.now() - 7200000), note });
  await s.redis.cmd('XADD', `es:{t:${A}}:alerts:history`, EV_1, 'event',
    event(d.ruleShared, 'shared', 'acme-event-1'));
  await s.redis.cmd('XADD', `es:{t:${A}}:alerts:history`, EV_2, 'event',
    event(d.ruleSolo, 'solo', 'acme-event-2'));
  await s.redis.cmd('XADD', `es:{t:${B}}:alerts:history`, EV_OLD, 'event',
    event(d.ruleB, 'bonly', 'globex-event-0'));
  await s.redis.cmd('XADD', `es:{t:${B}}:alerts:history`, EV_1, 'event',
    event(d.ruleShared, 'shared', 'globex-event-1'));

  // series, records, terms, share of voice, usage: the real enrich worker
  await addComments(s.redis, COMMENTS);
  const p = startEnrich(enrichEnv(s.redis, await tmpDir('es-lake-'),
    { ECHOSTREAM_LOG_LEVEL: 'warn' }));
  await waitStarted(s.redis, p);
  await waitDrained(s.redis);
  p.kill('SIGTERM');
  assert.equal((await p.exited).code, 0, p.output());

  // settings after enrich, so the comments were scored with VADER
  await ok(u.a.idToken, 'PATCH', '/settings', { engine: 'comprehend',
    comprehend_budget_usd: 12.5, retention_days: 90, summary_hour: 5,
    time_zone: 'Asia/Tokyo', bedrock_budget_usd: 3.5 });
  // A's webhook secret, opt-ins, Bedrock usage and a summary request in
  // flight; B holds a request record under the same id
  d.secretA = (await ok(u.a.idToken, 'GET', '/settings/webhook-secret'))
    .secret;
  await ok(u.a.idToken, 'PATCH', '/me', { digest: true, alert_email: true });
  await ok(u.m.idToken, 'PATCH', '/me', { digest: true });
  const month = new Date().toISOString().slice(0, 7).replace('-', '');
  await s.redis.cmd('HSET', `es:{t:${A}}:usage:${month}`,
    'bedrock_input_tokens', '777', 'bedrock_usd_micros', '4200',
    'summaries', '3');
  d.requestA = (await ok(u.a.idToken, 'POST', '/summaries',
    { topic: 'shared' }, 202)).request.id;
  await s.redis.cmd('HSET', `es:{t:${B}}:summary_requests`, d.requestA,
    JSON.stringify({ id: d.requestA, status: 'done', topic: 'bonly',
      requested: iso(Date.now() - 60000), summary: 'sumglobex' }));

  // the live entries enrich appended for each tenant's new records
  d.live = {};
  for (const t of [A, B]) {
    const entries = await s.redis.cmd('XRANGE', `es:{t:${t}}:live`, '-',
                                      '+');
    assert.deepEqual(sorted(entries.flatMap((e) => e[1][1].split(','))),
      held(t), `${t}'s live entries`);
    d.live[t] = entries.map((e) => e[0]);
  }

  // a comments cursor of A's, for B to replay
  const page = await ok(u.a.idToken, 'GET', '/topics/shared/comments?limit=2');
  assert.ok(page.next_cursor, 'A has a second page');
  d.cursorA = page.next_cursor;
});

after(async () => {
  await s?.stop();
});

// --- B's requests -----------------------------------------------------

// Reads a stream from its start (Last-Event-ID 0-0) for a while: the
// comment events it delivered.
async function replayStream(token, want) {
  const st = await openStream(s.base, token, { lastEventId: '0-0' });
  try {
    assert.equal(st.status, 200, st.text);
    await waitFor(() => streamComments(st).length >= want,
      { timeout: 5000, what: `${want} stream events` });
    await sleep(700); // nothing more comes
    return { st, events: streamComments(st) };
  } finally {
    st.close();
  }
}

function assertComments(list, tenant, topic) {
  const own = Object.keys(HOLDS[tenant]);
  for (const c of list) {
    assert.ok(HOLDS[tenant][topic].includes(c.id), `${c.id} is not ${
      tenant}'s ${topic}`);
    assert.ok(c.topics.every((t) => own.includes(t)), `${c.id} topics ${
      c.topics}`);
  }
}

// The cases. Each: route (a row of the route table), path (under /api/v1),
// body, tok (which token; default B's id token), status (one or a list),
// check(answer), both (also sent with B's access token: reads whose
// answer does not depend on the kind of token), run (own request logic).
// A case without "tok" is one of B's owner.
function cases(x) {
  const bShared = (r) => {
    assert.equal(r.json.id, 'shared');
    assert.match(r.json.name, /^Globex/);
  };
  const noPoints = (r) => assert.equal(sumN(r.json), 0);
  return [
    { route: 'GET /me', path: '/me', status: 200, both: true, check: (r) => {
      assert.deepEqual([r.json.sub, r.json.tenant, r.json.role,
        r.json.digest, r.json.alert_email], [u.b.sub, B, 'owner', false,
        false]);
    } },
    { route: 'GET /topics', path: '/topics', status: 200, both: true,
      check: (r) => {
        assert.deepEqual(r.json.topics.map((t) => t.id), ['bonly', 'shared']);
        assert.deepEqual(r.json.topics[1].subreddits, ['golang']);
      } },
    { route: 'GET /topics/{id}', path: '/topics/shared', status: 200,
      both: true, check: bShared },
    { route: 'GET /topics/{id}', path: '/topics/solo', status: 404,
      both: true },
    { route: 'GET /topics/{id}/series', path: '/topics/shared/series',
      status: 200, both: true, check: (r) => {
        assert.equal(sumN(r.json), HOLDS[B].shared.length);
      } },
    { route: 'GET /topics/{id}/series',
      path: '/topics/shared/series?step=minute', status: 200, check: (r) => {
        assert.equal(sumN(r.json), HOLDS[B].shared.length);
        const neg = r.json.points.reduce((n, p) => n + p.negative, 0);
        assert.ok(neg <= HOLDS[B].shared.length);
      } },
    { route: 'GET /topics/{id}/series', path: '/topics/solo/series',
      status: 404, both: true },
    { route: 'GET /topics/{id}/comments', path: '/topics/shared/comments',
      status: 200, both: true, check: (r) => {
        assert.deepEqual(sorted(r.json.comments.map((c) => c.id)),
          sorted(HOLDS[B].shared));
        assertComments(r.json.comments, B, 'shared');
        const both = r.json.comments.find((c) => c.id === 'bothc1');
        assert.deepEqual(both.topics, ['shared'], 'B\'s record of bothc1');
      } },
    { route: 'GET /topics/{id}/comments',
      path: `/topics/shared/comments?limit=100&cursor=${x.cursorA}`,
      status: 200, check: (r) => assertComments(r.json.comments, B,
        'shared') },
    { route: 'GET /topics/{id}/comments',
      path: '/topics/shared/comments?sentiment=negative', status: 200,
      check: (r) => assertComments(r.json.comments, B, 'shared') },
    { route: 'GET /topics/{id}/comments', path: '/topics/solo/comments',
      status: 404, both: true },
    { route: 'GET /topics/{id}/terms', path: '/topics/shared/terms',
      status: 200, both: true, check: (r) => {
        const t = r.json.terms.find((x) => x.term === 'globexword');
        assert.equal(t?.count, HOLDS[B].shared.length, r.text);
      } },
    { route: 'GET /topics/{id}/terms', path: '/topics/solo/terms',
      status: 404 },
    { route: 'GET /share-of-voice', path: '/share-of-voice', status: 200,
      both: true, check: (r) => {
        assert.equal(r.json.total, USAGE[B]);
        assert.deepEqual(Object.fromEntries(r.json.topics.map((t) =>
          [t.id, t.count])), { bonly: 1, shared: 3 });
      } },
    { route: 'GET /usage', path: '/usage', status: 200, both: true,
      check: (r) => {
        assert.equal(r.json.comments, USAGE[B]);
        assert.equal(r.json.budget_usd, null);
        assert.equal(r.json.engine, 'vader');
        assert.deepEqual([r.json.bedrock_input_tokens, r.json.bedrock_usd,
          r.json.bedrock_budget_usd, r.json.summaries], [0, 0, 1, 0]);
      } },
    { route: 'GET /settings', path: '/settings', status: 200, both: true,
      check: (r) => assert.deepEqual(r.json, { engine: 'vader',
        comprehend_budget_usd: null, retention_days: 30, summary_hour: 7,
        time_zone: 'UTC', bedrock_budget_usd: 1 }) },
    // B's own secret, made now: never A's
    { route: 'GET /settings/webhook-secret', path: '/settings/webhook-secret',
      status: 200, check: (r) => {
        assert.match(r.json.secret, /^[0-9a-f]{64}$/);
        assert.notEqual(r.json.secret, x.secretA);
      } },
    { route: 'GET /summaries/requests/{id}',
      path: `/summaries/requests/${x.requestA}`, status: 200, both: true,
      check: (r) => assert.deepEqual([r.json.request.topic,
        r.json.request.status], ['bonly', 'done'], 'B\'s record') },
    { route: 'GET /summaries/requests/{id}', path: '/summaries/requests/none',
      status: 404 },
    { route: 'GET /summaries', path: '/summaries', status: 200, both: true,
      check: (r) => {
        assert.deepEqual(sorted(r.json.summaries.map((x) => x.id)),
          ['sumglobex', 'sumshared']);
      } },
    { route: 'GET /summaries/{id}', path: '/summaries/sumshared',
      status: 200, both: true, check: (r) => {
        assert.equal(r.json.text, 'Globex summary of shared');
      } },
    { route: 'GET /summaries/{id}', path: '/summaries/sumsolo', status: 404,
      both: true },
    { route: 'GET /alerts', path: '/alerts', status: 200, both: true,
      check: (r) => {
        assert.deepEqual(sorted(r.json.rules.map((x) => x.id)),
          sorted([x.ruleShared, x.ruleB]));
        assert.deepEqual(r.json.history.map((e) => [e.id, e.note]),
          [[EV_1, 'globex-event-1'], [EV_OLD, 'globex-event-0']]);
      } },
    { route: 'GET /alerts/rules', path: '/alerts/rules', status: 200,
      both: true, check: (r) => {
        assert.deepEqual(sorted(r.json.rules.map((x) => x.id)),
          sorted([x.ruleShared, x.ruleB]));
      } },
    { route: 'GET /alerts/rules/{id}', path: `/alerts/rules/${x.ruleShared}`,
      status: 200, both: true, check: (r) => {
        assert.equal(r.json.min_volume, 7, 'B\'s rule under A\'s id');
        assert.deepEqual(r.json.email, ['ops@globex.test']);
      } },
    { route: 'GET /alerts/rules/{id}', path: `/alerts/rules/${x.ruleSolo}`,
      status: 404, both: true },
    { route: 'GET /alerts/history', path: '/alerts/history', status: 200,
      both: true, check: (r) => {
        assert.deepEqual(r.json.history.map((e) => e.note),
          ['globex-event-1', 'globex-event-0']);
      } },
    { route: 'GET /alerts/history', path: `/alerts/history?cursor=${EV_1}`,
      status: 200, check: (r) => {
        assert.deepEqual(r.json.history.map((e) => [e.id, e.note]),
          [[EV_OLD, 'globex-event-0']]);
      } },
    { route: 'GET /alerts/history', path: `/alerts/history?cursor=${EV_2}`,
      status: 200, check: (r) => {
        assert.deepEqual(r.json.history.map((e) => e.note),
          ['globex-event-1', 'globex-event-0']);
      } },
    { route: 'GET /members', path: '/members', status: 200, both: true,
      check: (r) => {
        assert.deepEqual(r.json.members.map((m) => [m.sub, m.role]),
          [[u.b.sub, 'owner']]);
        assert.deepEqual(r.json.invites.map((i) => i.email),
          ['friend@globex.test']);
      } },
    { route: 'GET /export.csv', path: '/export.csv?topic=shared', status: 200,
      both: true, check: (r) => {
        assert.deepEqual(sorted(csvIds(r.text)), sorted(HOLDS[B].shared));
      } },
    { route: 'GET /export.csv', path: '/export.csv?topic=solo', status: 404,
      both: true },
    { route: 'GET /stream', path: '/stream', run: async () => {
      const { st, events } = await replayStream(u.b.idToken, held(B).length);
      assert.deepEqual(sorted(events.map((e) => e.comment.id)), held(B));
      for (const e of events) {
        assert.ok(e.id === undefined || x.live[B].includes(e.id), e.id);
        assert.ok(e.comment.topics.every((t) => t in HOLDS[B]));
      }
      return { status: 200, text: st.text };
    } },

    // tokens that claim A's tenant without a valid signature
    { route: 'GET /topics', path: '/topics', status: 401,
      tok: () => hostile.tamperPayload(u.b.idToken,
        { 'custom:tenant_id': A }) },
    { route: 'GET /members', path: '/members', status: 401,
      tok: () => hostile.tamperPayload(u.b.idToken,
        { sub: u.a.sub, email: u.a.email, 'custom:tenant_id': A }) },
    { route: 'DELETE /topics/{id}', path: '/topics/solo', status: 401,
      tok: () => hostile.tamperPayload(u.b.accessToken, { sub: u.a.sub }) },

    // writes on ids only A has: 404, nothing changes
    { route: 'PUT /topics/{id}', path: '/topics/solo', status: 404,
      body: { name: 'Taken', subreddits: ['python'] } },
    { route: 'PATCH /topics/{id}', path: '/topics/solo', status: 404,
      body: { name: 'Taken' } },
    { route: 'DELETE /topics/{id}', path: '/topics/solo', status: 404 },
    { route: 'PUT /alerts/rules/{id}', path: `/alerts/rules/${x.ruleSolo}`,
      status: 404, body: { topic: 'shared' } },
    { route: 'PATCH /alerts/rules/{id}', path: `/alerts/rules/${x.ruleSolo}`,
      status: 404, body: { min_volume: 1 } },
    { route: 'DELETE /alerts/rules/{id}',
      path: `/alerts/rules/${x.ruleSolo}`, status: 404 },
    { route: 'POST /alerts/rules', path: '/alerts/rules', status: 422,
      body: { topic: 'solo' } },
    { route: 'POST /summaries', path: '/summaries', status: 422,
      body: { topic: 'solo' } },
    { route: 'DELETE /members/{sub}', path: `/members/${u.m.sub}`,
      status: 404 },
    { route: 'DELETE /members/{sub}', path: `/members/${u.a.sub}`,
      status: 404 },
    { route: 'DELETE /members/invites/{email}',
      path: '/members/invites/pending@acme.test', status: 404 },
    // invites: B sees only those addressed to B; A's invite ids are not
    // B's to take or to decline
    { route: 'GET /invites', path: '/invites', status: 200, both: false,
      check: (r) => assert.deepEqual(r.json, { invites: [] }) },
    { route: 'POST /invites/{id}/accept',
      path: `/invites/${x.pendingInvite}/accept`, status: 404,
      body: { confirm: true } },
    { route: 'POST /invites/{id}/decline',
      path: `/invites/${x.pendingInvite}/decline`, status: 404 },
    // an address another tenant invited: B's own invite, A's untouched,
    // and nothing tells B about A's
    { route: 'POST /members', path: '/members', status: 201,
      body: { email: 'pending@acme.test' } },
    // A's member may be invited by B: an invite of B's, A keeps the member
    { route: 'POST /members', path: '/members', status: 201,
      body: { email: 'member@acme.test' } },

    // unsubscribe links of A's, signed with B's signature or for another
    // member or list: refused, whatever token comes along
    { route: 'GET /unsubscribe',
      path: unsubPath(secret.key, A, u.a.sub, 'digest',
        { sig: unsubSig(secret.key, B, u.b.sub, 'digest') }).slice(7),
      status: 403 },
    { route: 'POST /unsubscribe',
      path: unsubPath(secret.key, A, u.m.sub, 'digest',
        { sig: unsubSig(secret.key, B, u.b.sub, 'digest') }).slice(7),
      status: 403 },
    { route: 'POST /unsubscribe',
      path: unsubPath(secret.key, A, u.b.sub, 'alerts',
        { sig: unsubSig(secret.key, B, u.b.sub, 'alerts') }).slice(7),
      status: 403 },
    { route: 'POST /unsubscribe',
      path: unsubPath(secret.key, B, u.a.sub, 'digest',
        { sig: unsubSig(secret.key, B, u.b.sub, 'digest') }).slice(7),
      status: 403 },
    // A's member is no member of B: the answer of any unknown member
    { route: 'POST /unsubscribe',
      path: unsubPath(secret.key, B, u.m.sub, 'digest').slice(7),
      status: 200 },

    // writes on B's own ids, some of them A's ids too: B's data only
    { route: 'PATCH /settings', path: '/settings', status: 200,
      body: { comprehend_budget_usd: 3, summary_hour: 5,
        time_zone: 'Asia/Tokyo', bedrock_budget_usd: 0 }, check: (r) => {
        assert.deepEqual(r.json, { engine: 'vader',
          comprehend_budget_usd: 3, retention_days: 30, summary_hour: 5,
          time_zone: 'Asia/Tokyo', bedrock_budget_usd: 0 });
      } },
    { route: 'PATCH /me', path: '/me', status: 200,
      body: { digest: true, alert_email: true }, check: (r) => {
        assert.deepEqual([r.json.sub, r.json.tenant, r.json.digest,
          r.json.alert_email], [u.b.sub, B, true, true]);
      } },
    // B's own link: B's member only
    { route: 'GET /unsubscribe',
      path: unsubPath(secret.key, B, u.b.sub, 'digest').slice(7),
      status: 200, check: (r) => assert.match(r.text, /daily digest/) },
    { route: 'POST /unsubscribe',
      path: unsubPath(secret.key, B, u.b.sub, 'digest').slice(7),
      body: ONE_CLICK.body, headers: ONE_CLICK.headers, status: 200 },
    { route: 'GET /me', path: '/me', status: 200, check: (r) => {
      assert.deepEqual([r.json.digest, r.json.alert_email], [false, true]);
    } },
    { route: 'POST /settings/webhook-secret',
      path: '/settings/webhook-secret', status: 200, check: (r) => {
        assert.match(r.json.secret, /^[0-9a-f]{64}$/);
        assert.notEqual(r.json.secret, x.secretA);
      } },
    { route: 'PUT /topics/{id}', path: '/topics/shared', status: 200,
      body: { name: 'Globex shared 2', subreddits: ['golang', 'rust'] },
      check: (r) => assert.deepEqual(r.json, { id: 'shared',
        name: 'Globex shared 2', subreddits: ['golang', 'rust'],
        query: '' }) },
    { route: 'PATCH /topics/{id}', path: '/topics/shared', status: 200,
      body: { query: 'globexword OR fast' }, check: (r) => {
        assert.equal(r.json.name, 'Globex shared 2');
        assert.equal(r.json.query, 'globexword OR fast');
      } },
    { route: 'PUT /alerts/rules/{id}', path: `/alerts/rules/${x.ruleShared}`,
      status: 200, body: { topic: 'shared', min_volume: 8 }, check: (r) => {
        assert.equal(r.json.min_volume, 8);
        assert.deepEqual(r.json.email, []);
      } },
    { route: 'PATCH /alerts/rules/{id}',
      path: `/alerts/rules/${x.ruleShared}`, status: 200,
      body: { min_volume: 9 }, check: (r) => {
        assert.equal(r.json.min_volume, 9);
      } },
    { route: 'POST /alerts/rules', path: '/alerts/rules', status: 201,
      body: { topic: 'shared', email: ['ops@globex.test'] } },
    { route: 'POST /summaries', path: '/summaries', status: 202,
      body: { topic: 'shared' }, check: (r) => {
        assert.equal(r.json.request.topic, 'shared');
        assert.equal(r.json.request.status, 'queued', 'not A\'s in flight');
        assert.notEqual(r.json.request.id, x.requestA);
      } },
    // A's topic id is free in B: created empty, none of A's data under it
    { route: 'POST /topics', path: '/topics', status: 201,
      body: { id: 'solo', name: 'Globex solo', subreddits: ['python'] } },
    { route: 'GET /topics/{id}', path: '/topics/solo', status: 200,
      check: (r) => assert.equal(r.json.name, 'Globex solo') },
    { route: 'GET /topics/{id}/series', path: '/topics/solo/series',
      status: 200, check: noPoints },
    { route: 'GET /topics/{id}/series', path: '/topics/solo/series?step=day',
      status: 200, check: noPoints },
    { route: 'GET /topics/{id}/comments', path: '/topics/solo/comments',
      status: 200, check: (r) => assert.deepEqual(r.json.comments, []) },
    { route: 'GET /topics/{id}/terms', path: '/topics/solo/terms',
      status: 200, check: (r) => assert.deepEqual(r.json.terms, []) },
    { route: 'GET /export.csv', path: '/export.csv?topic=solo', status: 200,
      check: (r) => assert.deepEqual(csvIds(r.text), []) },
    { route: 'GET /share-of-voice', path: '/share-of-voice', status: 200,
      check: (r) => {
        assert.equal(r.json.total, USAGE[B]);
        assert.deepEqual(Object.fromEntries(r.json.topics.map((t) =>
          [t.id, t.count])), { bonly: 1, shared: 3, solo: 0 });
      } },
    { route: 'DELETE /topics/{id}', path: '/topics/solo', status: 204 },
    { route: 'DELETE /alerts/rules/{id}',
      path: `/alerts/rules/${x.ruleShared}`, status: 204 },
    { route: 'GET /alerts/rules/{id}', path: `/alerts/rules/${x.ruleShared}`,
      status: 404 },
    { route: 'DELETE /topics/{id}', path: '/topics/shared', status: 204 },
    { route: 'GET /topics', path: '/topics', status: 200, check: (r) => {
      assert.deepEqual(r.json.topics.map((t) => t.id), ['bonly']);
    } },
    { route: 'GET /summaries', path: '/summaries', status: 200, check: (r) => {
      assert.ok(r.json.summaries.every((x) => !/acme/i.test(x.text)));
    } },
  ];
}

// Placeholder ids, for the checks that need the cases but no data.
const SHAPE = { ruleShared: 'r1', ruleSolo: 'r2', ruleB: 'r3',
                cursorA: 'c1', live: {}, pendingInvite: 'i1', secretA: 's1',
                requestA: 'q1' };

test('every route of the module has an isolation case', () => {
  const routes = moduleRoutes();
  assert.ok(routes.length >= 30, `${routes.length} routes parsed`);
  const list = cases(SHAPE);
  const covered = new Set(list.map((c) => c.route));
  const missing = routes.filter((r) => !covered.has(r));
  assert.deepEqual(missing, [], 'routes without a cross-tenant case');
  const stale = [...covered].filter((r) => !routes.includes(r));
  assert.deepEqual(stale, [], 'cases of routes the module does not have');
  for (const c of list) {
    assert.ok(pathMatches(c.route.split(' ')[1], c.path),
      `${c.path} is not ${c.route}`);
  }
});

test('A reads its own data (the control for what B must not see)',
  async () => {
    const t = u.a.idToken;
    const topics = await ok(t, 'GET', '/topics');
    assert.deepEqual(topics.topics.map((x) => x.id), ['shared', 'solo']);
    for (const [topic, ids] of Object.entries(HOLDS[A])) {
      const series = await ok(t, 'GET', `/topics/${topic}/series`);
      assert.equal(sumN(series), ids.length, topic);
      const page = await ok(t, 'GET', `/topics/${topic}/comments?limit=100`);
      assert.deepEqual(sorted(page.comments.map((c) => c.id)), sorted(ids));
      const csv = await call(t, 'GET', `/export.csv?topic=${topic}`);
      assert.deepEqual(sorted(csvIds(csv.text)), sorted(ids));
    }
    const both = (await ok(t, 'GET', '/topics/solo/comments')).comments
      .find((c) => c.id === 'bothc1');
    assert.deepEqual(both.topics, ['solo'], 'A\'s record of bothc1');
    const terms = await ok(t, 'GET', '/topics/shared/terms');
    assert.equal(terms.terms.find((x) => x.term === 'acmeword')?.count, 4);
    const sov = await ok(t, 'GET', '/share-of-voice');
    assert.deepEqual(Object.fromEntries(sov.topics.map((x) =>
      [x.id, x.count])), { shared: 4, solo: 2 });
    const usage = await ok(t, 'GET', '/usage');
    assert.deepEqual([usage.comments, usage.budget_usd, usage.engine],
      [USAGE[A], 12.5, 'comprehend']);
    assert.deepEqual([usage.bedrock_input_tokens, usage.bedrock_usd,
      usage.bedrock_budget_usd, usage.summaries], [777, 0.0042, 3.5, 3]);
    assert.deepEqual(await ok(t, 'GET', '/settings'), { engine: 'comprehend',
      comprehend_budget_usd: 12.5, retention_days: 90, summary_hour: 5,
      time_zone: 'Asia/Tokyo', bedrock_budget_usd: 3.5 });
    assert.equal((await ok(t, 'GET', '/settings/webhook-secret')).secret,
      d.secretA);
    assert.deepEqual((await ok(t, 'GET',
      `/summaries/requests/${d.requestA}`)).request.topic, 'shared');
    const me = await ok(u.m.idToken, 'GET', '/me');
    assert.deepEqual([me.digest, me.alert_email], [true, false]);
    assert.equal((await ok(t, 'GET', '/summaries/sumshared')).text,
      'Acme summary of shared');
    const alerts = await ok(t, 'GET', '/alerts');
    assert.deepEqual(sorted(alerts.rules.map((x) => x.id)),
      sorted([d.ruleShared, d.ruleSolo]));
    assert.deepEqual(alerts.history.map((e) => e.note),
      ['acme-event-2', 'acme-event-1']);
    const members = await ok(t, 'GET', '/members');
    assert.deepEqual(sorted(members.members.map((m) => m.sub)),
      sorted([u.a.sub, u.m.sub]));
    assert.deepEqual(members.invites.map((i) => i.email),
      ['pending@acme.test']);
    const { events } = await replayStream(t, held(A).length);
    assert.deepEqual(sorted(events.map((e) => e.comment.id)), held(A));
    assert.ok(events.every((e) => e.id === undefined ||
      d.live[A].includes(e.id)));
  });

// Runs one case; returns the answer.
async function runCase(c, token) {
  if (c.run) return c.run();
  const r = await s.api(c.route.split(' ')[0], `${V1}${c.path}`,
    { token, body: c.body, headers: c.headers });
  const want = [c.status].flat();
  assert.ok(want.includes(r.status), `${c.route} ${c.path}: got ${
    r.status}, want ${want.join('|')}: ${r.text}`);
  if (r.status >= 400) assert.ok(r.json?.error?.code, r.text);
  if (c.check) c.check(r);
  return r;
}

// No marker of A in an answer to B, unless B's request carried it.
function assertNoMarkers(c, r) {
  const asked = `${c.path} ${JSON.stringify(c.body ?? '')}`.toLowerCase();
  for (const m of MARKERS) {
    if (asked.includes(m.toLowerCase())) continue;
    assert.ok(!r.text.toLowerCase().includes(m.toLowerCase()),
      `${c.route} ${c.path}: the answer carries A's "${m}": ${r.text}`);
  }
}

// The watch union must be the sum over every tenant's topics.
async function assertWatchUnion() {
  const want = {};
  for (const t of await s.redis.cmd('SMEMBERS', 'es:{tenants}:all')) {
    const raw = await s.redis.cmd('HVALS', `es:{t:${t}}:topics`);
    for (const topic of raw.map((x) => JSON.parse(x))) {
      for (const sub of topic.subreddits) want[sub] = (want[sub] || 0) + 1;
    }
  }
  const flat = await s.redis.cmd('HGETALL', 'es:{watch}:subs');
  const got = {};
  for (let i = 0; i < flat.length; i += 2) {
    if (Number(flat[i + 1]) !== 0) got[flat[i]] = Number(flat[i + 1]);
  }
  assert.deepEqual(got, want, 'es:{watch}:subs');
}

// The members of two key -> value maps that differ, as "key: before ->
// after" lines. The failure message names them itself: Node versions
// differ in whether an assertion's own message also carries the diff.
function changedKeys(before, after) {
  const lines = [];
  const show = (v) => (v === undefined ? '(none)'
    : JSON.stringify(v).slice(0, 400));
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!isDeepStrictEqual(before[k], after[k])) {
      lines.push(`${k}: ${show(before[k])} -> ${show(after[k])}`);
    }
  }
  return lines;
}

function assertSame(before, after, what) {
  for (const [part, label] of [['readable', "A's keys"],
    ['dumps', "A's keys (bytes)"], ['invites', "A's invites"]]) {
    const diff = changedKeys(before[part], after[part]);
    assert.deepEqual(diff, [], `${what}: ${label}:\n${diff.join('\n')}`);
  }
  assert.equal(after.listed, before.listed, `${what}: A's tenant entry`);
}

test('B reads none of A\'s data and changes none of it, on every route',
  async (t) => {
    const subs = [u.a.sub, u.m.sub];
    const snapBefore = await snapshotTenant(s.redis, A, subs);
    // (schema 2 keeps a tenant's records and recent entries in a few keys
    // per hour, not one key per comment and per topic and label)
    assert.ok(Object.keys(snapBefore.readable).length > 24,
      `A has data of every kind: ${Object.keys(snapBefore.readable).join(' ')}`);
    for (const part of ['topics', 'members', 'invites', 'meta', 'summaries',
      'alerts:rules', 'alerts:history', 'live', `rc:shared:${hourOf('acmec1')}`,
      `rc:solo:${hourOf('bothc1')}`]) {
      assert.ok(snapBefore.readable[`es:{t:${A}}:${part}`], part);
    }
    // A's records (tenant parts) are A's keys too; the public parts of
    // the comments are shared by design (Reddit published them)
    for (const id of ['acmec1', 'bothc1']) {
      const k = await tenantBucket(s.redis, A, id, hourOf(id));
      assert.ok(snapBefore.readable[k]?.value[id], `${k} ${id}`);
    }
    const publicBefore = await snapshotKeys(s.redis,
      await scanKeys(s.redis, 'es:{c}:*'));
    for (const kind of ['ts', 'terms', 'sov', 'usage']) {
      assert.ok(Object.keys(snapBefore.readable).some((k) =>
        k.startsWith(`es:{t:${A}}:${kind}:`)), kind);
    }
    assert.equal(snapBefore.listed, 1);
    const requestsBefore = await s.redis.cmd('XRANGE',
      'es:{summaries}:requests', '-', '+');

    for (const c of cases(d)) {
      const tokens = c.tok ? [['tampered', c.tok()]]
        : [['id', u.b.idToken],
          ...(c.both ? [['access', u.b.accessToken]] : [])];
      const body = c.body ? ` ${JSON.stringify(c.body)}` : '';
      const name = `${c.route.split(' ')[0]} ${c.path}${body}`;
      for (const [kind, token] of tokens) {
        await t.test(`${name} (${kind} token)`, async () => {
          const r = await runCase(c, token);
          assertNoMarkers(c, r);
        });
      }
    }

    const snapAfter = await snapshotTenant(s.redis, A, subs);
    assertSame(snapBefore, snapAfter, 'after B\'s requests');
    // nor did B change the comments' shared public parts
    const publicAfter = await snapshotKeys(s.redis,
      await scanKeys(s.redis, 'es:{c}:*'));
    assert.deepEqual(publicAfter.dumps, publicBefore.dumps, 'public parts');

    // B's summary requests are B's on the shared queue
    const requests = await s.redis.cmd('XRANGE', 'es:{summaries}:requests',
      '-', '+');
    const added = requests.slice(requestsBefore.length);
    assert.equal(added.length, 1, JSON.stringify(added));
    const f = added[0][1];
    assert.equal(f[f.indexOf('tenant') + 1], B);
    assert.equal(f[f.indexOf('requested_by') + 1], u.b.sub);
    await assertWatchUnion();

    // A's users still sign in to A, with the roles they had
    for (const [user, role] of [[u.a, 'owner'], [u.m, 'member']]) {
      const me = await ok(user.idToken, 'GET', '/me');
      assert.deepEqual([me.tenant, me.role], [A, role]);
    }
    assert.ok(!crashed(), 'no worker crashed');
  });

test('a member of A reads A\'s data but cannot change it', async () => {
  const t = u.m.idToken;
  const topics = await ok(t, 'GET', '/topics');
  assert.deepEqual(topics.topics.map((x) => x.id), ['shared', 'solo']);
  assert.equal(sumN(await ok(t, 'GET', '/topics/shared/series')), 4);
  assert.equal((await ok(t, 'GET', '/settings')).engine, 'comprehend');
  assert.equal((await ok(t, 'GET', `/alerts/rules/${d.ruleSolo}`)).topic,
    'solo');
  assert.equal((await ok(t, 'GET', '/summaries/sumsolo')).topic, 'solo');
  assert.equal((await ok(t, 'GET', '/usage')).comments, USAGE[A]);

  const subs = [u.a.sub, u.m.sub];
  const snapBefore = await snapshotTenant(s.redis, A, subs);
  const writes = [
    ['POST', '/topics', { name: 'New', subreddits: ['rust'] }],
    ['PUT', '/topics/solo', { name: 'New', subreddits: ['rust'] }],
    ['PATCH', '/topics/solo', { name: 'New' }],
    ['DELETE', '/topics/solo'],
    ['PATCH', '/settings', { retention_days: 1 }],
    ['PATCH', '/settings', { summary_hour: 1, time_zone: 'UTC' }],
    ['GET', '/settings/webhook-secret'],
    ['POST', '/settings/webhook-secret'],
    ['POST', '/alerts/rules', { topic: 'solo' }],
    ['PUT', `/alerts/rules/${d.ruleSolo}`, { topic: 'solo' }],
    ['PATCH', `/alerts/rules/${d.ruleSolo}`, { enabled: false }],
    ['DELETE', `/alerts/rules/${d.ruleSolo}`],
    ['POST', '/summaries', {}],
    ['POST', '/members', { email: 'intruder@example.test' }],
    ['DELETE', `/members/${u.a.sub}`],
    ['DELETE', '/members/invites/pending@acme.test'],
  ];
  for (const [method, path, body] of writes) {
    const r = await call(t, method, path, { body });
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
    assert.equal(r.json.error.code, 'forbidden');
  }
  assertSame(snapBefore, await snapshotTenant(s.redis, A, subs),
    'after the member\'s writes');
});

test('/stream: A\'s new comments reach A\'s client and never B\'s',
  async () => {
    const a = await openStream(s.base, u.a.idToken);
    const m = await openStream(s.base, u.m.accessToken);
    const b = await openStream(s.base, u.b.idToken);
    try {
      for (const st of [a, m, b]) assert.equal(st.status, 200, st.text);
      // bothc1 has a record in both tenants: still A's entry only
      const entry = await s.redis.cmd('XADD', `es:{t:${A}}:live`, '*', 'ids',
        'acmec3,bothc1', 'hours', liveHours(['acmec3', 'bothc1']));
      const idsOf = (st) => streamComments(st).map((e) => e.comment.id);
      await waitFor(() => idsOf(a).length >= 2 && idsOf(m).length >= 2,
        { timeout: 5000, what: 'A\'s events at A\'s clients' });
      await sleep(2000); // B's stream polls every 500 ms: several polls
      assert.deepEqual(idsOf(a), ['acmec3', 'bothc1']);
      assert.deepEqual(idsOf(m), ['acmec3', 'bothc1']);
      assert.equal(streamComments(a)[1].id, entry);
      assert.deepEqual(streamComments(a)[1].comment.topics, ['solo']);
      assert.deepEqual(idsOf(b), [], 'B got A\'s live entry');

      // B's own entry reaches B (the stream works) and not A; an entry of
      // B's naming A's comments (their public parts are there for every
      // tenant) shows B nothing of them: B holds no record of them
      await s.redis.cmd('XADD', `es:{t:${B}}:live`, '*', 'ids',
        'globc2,acmec1,acmec4', 'hours', liveHours(['globc2', 'acmec1', 'acmec4']));
      await waitFor(() => idsOf(b).length >= 1,
        { timeout: 5000, what: 'B\'s event' });
      await sleep(700);
      assert.deepEqual(idsOf(b), ['globc2']);
      assert.deepEqual(idsOf(a), ['acmec3', 'bothc1']);
      for (const mk of MARKERS) {
        assert.ok(!b.text.toLowerCase().includes(mk.toLowerCase()), mk);
      }
    } finally {
      for (const st of [a, m, b]) st.close();
    }
    assert.ok(!crashed(), 'no worker crashed');
  });

test('a snapshot of A notices a one-byte change (the check can fail)',
  async () => {
    const subs = [u.a.sub, u.m.sub];
    const snap = await snapshotTenant(s.redis, A, subs);
    // acmec1's tenant part: its topics, engine, time in the hour
    const key = await tenantBucket(s.redis, A, 'acmec1', hourOf('acmec1'));
    const raw = await s.redis.cmd('HGET', key, 'acmec1');
    assert.ok(raw.startsWith('shared\x1fv\x1f'), JSON.stringify(raw));
    await s.redis.cmd('HSET', key, 'acmec1', raw.replace('shared', 'sharee'));
    try {
      const changed = await snapshotTenant(s.redis, A, subs);
      assert.throws(() => assertSame(snap, changed, 'changed'),
        /sharee/);
      assert.notEqual(changed.dumps[key], snap.dumps[key]);
    } finally {
      await s.redis.cmd('HSET', key, 'acmec1', raw);
    }
    assertSame(snap, await snapshotTenant(s.redis, A, subs), 'restored');
  });

test('B at its rate limit does not slow A down', async () => {
  // bursts of 100 until the limiter refuses some (a slow machine only
  // needs more of them)
  const answers = [];
  for (let i = 0; i < 20 && !answers.some((r) => r.status === 429); i++) {
    answers.push(...await Promise.all(Array.from({ length: 100 }, () =>
      call(u.b.accessToken, 'GET', '/me'))));
  }
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(limited.length > 0, 'B reached its limit');
  assert.ok(answers.every((r) => r.status === 200 || r.status === 429));
  assert.ok(Number(limited[0].headers['retry-after']) >= 1);
  const me = await call(u.a.idToken, 'GET', '/me');
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.tenant, A);
  assert.ok(!crashed(), 'no worker crashed');
});
