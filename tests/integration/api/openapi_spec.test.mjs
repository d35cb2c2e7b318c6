// openapi_spec.test.mjs - docs/openapi.yaml itself: it parses, every $ref
// resolves, every operation documents its answers with schemas, every
// route of the API contract is there with its success status, every
// example satisfies its own schema, and the response validator of
// tests/lib/openapi.mjs really rejects what breaks the document (so the
// API tests that rely on it can fail).
//
// No server is started: this checks the document and the checker.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  OpenApiValidator, loadSpec, resolvePointer, validateResponse,
} from '../../lib/openapi.mjs';

const doc = loadSpec();
const v = new OpenApiValidator(doc);

// The contract's routes (docs: the API issue) with the success status of
// each; the document must describe exactly these (and CORS preflights).
const CONTRACT = [
  ['GET', '/api/v1/me', 200],
  ['PATCH', '/api/v1/me', 200],
  ['GET', '/api/v1/topics', 200],
  ['POST', '/api/v1/topics', 201],
  ['GET', '/api/v1/topics/{id}', 200],
  ['PUT', '/api/v1/topics/{id}', 200],
  ['PATCH', '/api/v1/topics/{id}', 200],
  ['DELETE', '/api/v1/topics/{id}', 204],
  ['GET', '/api/v1/topics/{id}/series', 200],
  ['GET', '/api/v1/topics/{id}/comments', 200],
  ['GET', '/api/v1/topics/{id}/terms', 200],
  ['GET', '/api/v1/share-of-voice', 200],
  ['GET', '/api/v1/usage', 200],
  ['GET', '/api/v1/settings', 200],
  ['PATCH', '/api/v1/settings', 200],
  ['GET', '/api/v1/settings/webhook-secret', 200],
  ['POST', '/api/v1/settings/webhook-secret', 200],
  ['GET', '/api/v1/summaries', 200],
  ['POST', '/api/v1/summaries', 202],
  ['GET', '/api/v1/summaries/{id}', 200],
  ['GET', '/api/v1/summaries/requests/{id}', 200],
  ['GET', '/api/v1/alerts', 200],
  ['GET', '/api/v1/alerts/rules', 200],
  ['POST', '/api/v1/alerts/rules', 201],
  ['GET', '/api/v1/alerts/rules/{id}', 200],
  ['PUT', '/api/v1/alerts/rules/{id}', 200],
  ['PATCH', '/api/v1/alerts/rules/{id}', 200],
  ['DELETE', '/api/v1/alerts/rules/{id}', 204],
  ['GET', '/api/v1/alerts/history', 200],
  ['GET', '/api/v1/members', 200],
  ['POST', '/api/v1/members', 201],
  ['DELETE', '/api/v1/members/{sub}', 204],
  ['DELETE', '/api/v1/members/invites/{email}', 204],
  ['GET', '/api/v1/invites', 200],
  ['POST', '/api/v1/invites/{id}/accept', 200],
  ['POST', '/api/v1/invites/{id}/decline', 204],
  ['GET', '/api/v1/export.csv', 200],
  ['GET', '/api/v1/stream', 200],
  ['GET', '/api/v1/unsubscribe', 200],
  ['POST', '/api/v1/unsubscribe', 200],
  ['GET', '/healthz', 200],
  ['GET', '/livez', 200],
  ['GET', '/readyz', 200],
  ['GET', '/metrics', 200],
];
// open to a user without a tenant: the invitee's side of invites
const NO_TENANT = CONTRACT.filter(([, p]) => p.startsWith('/api/v1/invites'))
  .map(([m, p]) => `${m} ${p}`);
// no token at all: the link in a mail, whose signature is the proof
const PUBLIC = CONTRACT.filter(([, p]) => p === '/api/v1/unsubscribe')
  .map(([m, p]) => `${m} ${p}`);
// a member may remove themself (leave) and change their own opt-ins: the
// handler decides, not the role; the webhook secret is the owners' even
// to read
const OWNER_ONLY = CONTRACT.filter(([m, p]) => p.startsWith('/api/v1/') &&
  (m !== 'GET' || p === '/api/v1/settings/webhook-secret') &&
  !p.startsWith('/api/v1/invites') && p !== '/api/v1/members/{sub}' &&
  p !== '/api/v1/me' && p !== '/api/v1/unsubscribe')
  .map(([m, p]) => `${m} ${p}`);

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch',
                 'trace'];

function* operations() {
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      if (item[m]) yield { path: p, method: m, item, op: item[m] };
    }
  }
}

// Every {$ref} anywhere in the document, with where it was found.
function* refs(node, where = '#') {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) yield* refs(node[i], `${where}/${i}`);
  } else if (node && typeof node === 'object') {
    for (const [k, val] of Object.entries(node)) {
      if (k === '$ref') yield { ref: val, where };
      else yield* refs(val, `${where}/${k}`);
    }
  }
}

const deref = (o) => (o && o.$ref ? deref(resolvePointer(doc, o.$ref)) : o);

const JSON_HDRS = { 'content-type': 'application/json',
                    'cache-control': 'no-store' };
const json = (status, body, headers = {}) => ({
  status, headers: { ...JSON_HDRS, ...headers }, body: JSON.stringify(body),
});
const err = (code, extra = {}) => ({ error: { code, message: 'x', ...extra } });

test('the document parses as OpenAPI 3.0 with its metadata', () => {
  assert.match(doc.openapi, /^3\.0\.\d+$/);
  assert.ok(doc.info.title && doc.info.version && doc.info.description);
  assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
  assert.equal(doc.components.securitySchemes.bearerAuth.bearerFormat, 'JWT');
  assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
});

test('every $ref is local and resolves', () => {
  let n = 0;
  for (const { ref, where } of refs(doc)) {
    assert.ok(ref.startsWith('#/'), `${where}: non-local $ref ${ref}`);
    assert.doesNotThrow(() => resolvePointer(doc, ref), `${where}: ${ref}`);
    n++;
  }
  assert.ok(n > 100, `only ${n} refs found`);
});

test('every component schema compiles, is used, and its example conforms',
  () => {
    const used = new Set([...refs(doc)].map(({ ref }) => ref));
    let examples = 0;
    for (const [name, s] of Object.entries(doc.components.schemas)) {
      assert.doesNotThrow(() => v.schema(name), name);
      assert.ok(used.has(`#/components/schemas/${name}`),
                `schema ${name} is never referenced`);
      if (s.example !== undefined) {
        assert.deepEqual(v.check(name, s.example), [], `example of ${name}`);
        examples++;
      }
    }
    assert.ok(examples >= 20, `only ${examples} schema examples`);
    // MethodNotAllowed answers methods the document does not list, so no
    // operation names it; the validator applies it to those
    used.add('#/components/responses/MethodNotAllowed');
    for (const name of Object.keys(doc.components.responses)) {
      assert.ok(used.has(`#/components/responses/${name}`),
                `response ${name} is never referenced`);
    }
  });

test('every operation documents its responses with schemas', () => {
  const ids = new Set();
  for (const { path: p, method, item, op } of operations()) {
    const what = `${method.toUpperCase()} ${p}`;
    assert.ok(op.summary, `${what}: no summary`);
    if (op.operationId) {
      assert.ok(!ids.has(op.operationId), `${what}: duplicate operationId`);
      ids.add(op.operationId);
    }
    const codes = Object.keys(op.responses ?? {});
    assert.ok(codes.some((c) => /^2/.test(c)), `${what}: no 2xx response`);
    for (const c of codes) {
      assert.match(c, /^([1-5][0-9][0-9]|default)$/, `${what}: status ${c}`);
      const r = deref(op.responses[c]);
      assert.ok(r.description, `${what} ${c}: no description`);
      if (c === '204') {
        assert.equal(r.content, undefined, `${what} 204 has content`);
        continue;
      }
      assert.ok(r.content && Object.keys(r.content).length,
                `${what} ${c}: no content`);
      for (const [mt, media] of Object.entries(r.content)) {
        assert.ok(media.schema, `${what} ${c} ${mt}: no schema`);
      }
      if (/^[45]/.test(c) && p.startsWith('/api/v1/')) {
        const s = deref(r.content['application/json'].schema);
        const base = s.allOf ? deref(s.allOf[0]) : s;
        assert.equal(base, doc.components.schemas.Error,
                     `${what} ${c}: error body is not an Error`);
      }
    }
    // path parameters: exactly the template's names, required
    const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])]
      .map(deref);
    const inPath = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(declared.filter((x) => x.in === 'path')
      .map((x) => x.name).sort(), inPath, `${what}: path parameters`);
    for (const prm of declared) {
      assert.ok(prm.schema, `${what}: parameter ${prm.name} has no schema`);
      assert.ok(prm.description, `${what}: parameter ${prm.name} undescribed`);
      if (prm.in === 'path') assert.equal(prm.required, true);
    }
    if (PUBLIC.includes(what)) {
      // no token, so no 401; the signature's 403, the per-address 429
      assert.equal(op['x-role'], 'public', `${what}: x-role`);
      assert.deepEqual(op.security, [], `${what}: must need no token`);
      assert.equal(op.responses['401'], undefined, `${what}: a 401`);
      for (const c of ['400', '403', '429', '503']) {
        assert.ok(op.responses[c], `${what}: no ${c}`);
      }
    } else if (p.startsWith('/api/v1/') && method !== 'options') {
      assert.ok(op.responses['401'], `${what}: no 401`);
      assert.ok(op.responses['429'], `${what}: no 429`);
      assert.ok(op.responses['503'], `${what}: no 503`);
      assert.equal(op.security, undefined, `${what}: needs a token`);
      const owner = OWNER_ONLY.includes(what);
      const none = NO_TENANT.includes(what);
      assert.equal(op['x-role'], owner ? 'owner' : none ? 'none' : 'any',
        `${what}: x-role`);
      // owner-only, and no_tenant for a user without a tenant
      assert.ok(op.responses['403'], `${what}: no 403`);
      if (op.requestBody) {
        for (const c of ['400', '413', '415', '422']) {
          assert.ok(op.responses[c], `${what}: body but no ${c}`);
        }
        assert.ok(op.requestBody.content['application/json'].schema);
      }
    }
    if (method === 'options' || !p.startsWith('/api/v1/')) {
      assert.deepEqual(op.security, [], `${what}: must need no token`);
    }
  }
});

test('every route of the contract is documented, and nothing else', () => {
  const documented = [];
  for (const { path: p, method } of operations()) {
    if (method !== 'options') documented.push(`${method.toUpperCase()} ${p}`);
  }
  const want = CONTRACT.map(([m, p]) => `${m} ${p}`);
  assert.deepEqual(documented.sort(), [...want].sort());
  for (const [m, p, status] of CONTRACT) {
    const op = doc.paths[p][m.toLowerCase()];
    assert.ok(op.responses[String(status)], `${m} ${p}: no ${status}`);
    if (p.startsWith('/api/v1/')) {
      assert.ok(doc.paths[p].options, `${p}: no CORS preflight`);
    }
  }
});

test('limits of the contract are in the document', () => {
  const s = doc.components.schemas;
  const topic = s.Topic.properties;
  assert.equal(deref(topic.name).maxLength, 100);
  assert.equal(topic.subreddits.maxItems, 20);
  assert.equal(deref(topic.query).maxLength, 1024);
  assert.equal(s.TopicList.properties.topics.maxItems, 100);
  assert.equal(s.Series.properties.points.maxItems, 1500);
  assert.equal(s.AlertRule.properties.email.maxItems, 10);
  assert.equal(s.AlertsOverview.properties.history.maxItems, 50);
  assert.deepEqual(s.Settings.properties.retention_days,
                   { type: 'integer', minimum: 1, maximum: 365 });
  const q = (p, name) => doc.paths[p].get.parameters.map(deref)
    .find((x) => x.name === name).schema;
  assert.deepEqual(q('/api/v1/topics/{id}/comments', 'limit'),
                   { type: 'integer', minimum: 1, maximum: 100, default: 25 });
  assert.deepEqual(q('/api/v1/topics/{id}/terms', 'hours'),
                   { type: 'integer', minimum: 1, maximum: 24, default: 24 });
  assert.deepEqual(q('/api/v1/topics/{id}/series', 'step').enum,
                   ['minute', 'hour', 'day']);
  assert.equal(deref(doc.components.parameters.TopicIdPath).schema.$ref,
               '#/components/schemas/Id');
  assert.equal(s.Id.pattern, '^[A-Za-z0-9_-]{1,64}$');
});

test('the validator accepts conforming responses', () => {
  const me = { sub: 'abc-1', email: null, tenant: 'acme', role: 'member',
               token_use: 'access', digest: false, alert_email: true };
  assert.deepEqual(validateResponse('GET', '/api/v1/me', json(200, me)), me);
  validateResponse('GET', '/api/v1/topics', json(200, { topics: [
    { id: 'a1', name: 'Rust', subreddits: ['rust', 'all'], query: '' }] }));
  validateResponse('GET', '/api/v1/topics/a1/series?step=day', json(200, {
    topic: 'a1', step: 'day', from: '2026-11-01T00:00:00Z',
    to: '2026-11-02T00:00:00Z', points: [{ t: '2026-11-01T00:00:00Z', n: 0,
      positive: 0, negative: 0, neutral: 0, mixed: 0, compound: 0 }] }));
  validateResponse('GET', '/api/v1/me', json(401, err('unauthorized'),
    { 'www-authenticate': 'Bearer error="invalid_token"' }));
  validateResponse('POST', '/api/v1/topics', json(422,
    err('invalid_query', { position: 3, column: 4, field: 'query' })));
  validateResponse('DELETE', '/api/v1/topics/a1',
                   { status: 204, headers: {}, body: '' });
  validateResponse('GET', '/api/v1/export.csv?topic=a1', { status: 200,
    headers: { 'content-type': 'text/csv; charset=utf-8',
               'content-disposition': 'attachment; filename="a1.csv"' },
    body: 'id,created_utc\n' });
  validateResponse('HEAD', '/healthz', { status: 503,
    headers: { 'content-type': 'application/json',
               'cache-control': 'no-store' }, body: '' });
  // requests outside the documented routes get the promised answers
  validateResponse('GET', '/api/v1/nothing/here', json(404, err('not_found')));
  validateResponse('DELETE', '/api/v1/me', json(405,
    err('method_not_allowed'), { allow: 'GET, OPTIONS' }));
  validateResponse('GET', '/api/v1/usage', json(429, err('rate_limited'),
    { 'retry-after': '2' }));
  validateResponse('OPTIONS', '/api/v1/topics', { status: 204, headers: {
    'access-control-allow-origin': 'https://app.example' }, body: '' });
  validateResponse('GET', '/api/v1/unsubscribe?t=a&s=b&l=digest&sig=c', {
    status: 200, headers: { 'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'" }, body: '<p>' });
  validateResponse('POST', '/api/v1/summaries', json(202, { request: {
    id: 'r1', status: 'running', topic: null,
    requested: '2026-11-01T00:00:00Z', started: '2026-11-01T00:00:01Z' } }));
  validateResponse('GET', '/api/v1/settings/webhook-secret', json(200, {
    secret: 'ab'.repeat(32) }));
});

test('the validator rejects responses that break the document', () => {
  const bad = [
    ['unknown member', 'GET', '/api/v1/me', json(200, { sub: 's', email: null,
      tenant: 't', role: 'owner', token_use: 'id', admin: true }),
     /unknown member "admin"/],
    ['wrong role', 'GET', '/api/v1/me', json(200, { sub: 's', email: null,
      tenant: 't', role: 'root', token_use: 'id' }), /\/role must be one of/],
    ['upper-case subreddit', 'GET', '/api/v1/topics/a1', json(200, { id: 'a1',
      name: 'n', subreddits: ['Rust'], query: '' }), /\/subreddits\/0/],
    ['missing bucket label', 'GET', '/api/v1/topics/a1/series', json(200, {
      topic: 'a1', step: 'hour', from: '2026-11-01T00:00:00Z',
      to: '2026-11-01T01:00:00Z', points: [{ t: '2026-11-01T00:00:00Z', n: 0,
        positive: 0, negative: 0, neutral: 0, compound: 0 }] }),
     /lacks required member "mixed"/],
    ['non-UTC time', 'GET', '/api/v1/topics/a1/series', json(200, {
      topic: 'a1', step: 'hour', from: '2026-11-01T00:00:00+01:00',
      to: '2026-11-01T01:00:00Z', points: [] }), /\/from/],
    ['unknown sentiment', 'GET', '/api/v1/topics/a1/comments', json(200, {
      comments: [{ id: 'k1', created: '2026-11-01T00:00:00Z',
        subreddit: 'rust', author: 'a', body: 'b', permalink: '/r/x',
        link_title: 't', score: 1, sentiment: { label: 'happy',
          compound: 0.5, pos: 0.5, neg: 0, neu: 0.5 }, engine: 'vader',
        topics: ['a1'] }], next_cursor: null }), /label must be one of/],
    ['no WWW-Authenticate', 'GET', '/api/v1/me', json(401,
      err('unauthorized')), /header WWW-Authenticate is missing/],
    ['wrong error code', 'GET', '/api/v1/me', json(401, err('forbidden'),
      { 'www-authenticate': 'Bearer' }),
     /code must be one of \["unauthorized"\]/],
    ['error with data', 'GET', '/api/v1/me', json(401, { ...err('unauthorized'),
      sub: 's' }, { 'www-authenticate': 'Bearer' }), /unknown member "sub"/],
    ['no Cache-Control', 'GET', '/api/v1/usage', { status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ month: '2026-11', comments: 0,
        comprehend_units: 0, comprehend_usd: 0, budget_usd: null,
        engine: 'vader' }) }, /Cache-Control is missing/],
    ['html body', 'GET', '/api/v1/me', { status: 200, headers: {
      'content-type': 'text/html', 'cache-control': 'no-store' },
    body: '<html></html>' }, /Content-Type "text\/html" is not one of/],
    ['not JSON', 'GET', '/api/v1/me', { status: 200, headers: JSON_HDRS,
      body: '{"sub":' }, /body is not JSON/],
    ['undocumented status', 'GET', '/api/v1/me', json(418, err('internal')),
     /status 418 is not documented/],
    ['404 where no id is taken', 'GET', '/api/v1/usage',
     json(404, err('not_found')), /status 404 is not documented/],
    ['body on 204', 'DELETE', '/api/v1/topics/a1', { status: 204,
      headers: {}, body: '{}' }, /a body was sent/],
    ['429 without Retry-After', 'GET', '/api/v1/me',
     json(429, err('rate_limited')), /Retry-After is missing/],
    ['csv without attachment', 'GET', '/api/v1/export.csv', { status: 200,
      headers: { 'content-type': 'text/csv' }, body: '' },
     /Content-Disposition is missing/],
    ['200 for an undocumented method', 'POST', '/api/v1/me', json(200, {}),
     /may only be answered/],
    ['405 without Allow', 'DELETE', '/api/v1/me',
     json(405, err('method_not_allowed')), /header Allow is missing/],
    ['a path outside the API', 'GET', '/elsewhere', json(200, {}),
     /no path of the document matches/],
    ['negative count', 'GET', '/api/v1/share-of-voice', json(200, {
      from: '2026-11-01', to: '2026-11-07', total: -1, topics: [] }),
     /\/total must be >= 0/],
    ['share above 1', 'GET', '/api/v1/share-of-voice', json(200, {
      from: '2026-11-01', to: '2026-11-07', total: 1, topics: [
        { id: 'a', name: 'A', count: 2, share: 2 }] }), /share must be <= 1/],
    ['webhook not an http(s) URL', 'GET', '/api/v1/alerts/rules/r1', json(200, {
      id: 'r1', topic: 'a1', enabled: true, min_volume: 20, sensitivity: 3,
      cooldown_minutes: 60, email: [], webhook: 'ftp://x' }), /\/webhook/],
    ['summary request not queued', 'POST', '/api/v1/summaries', json(202, {
      request: { id: 'r1', status: 'done', topic: null,
                 requested: '2026-11-01T00:00:00Z' } }), /\/request\/status/],
    ['me without opt-ins', 'GET', '/api/v1/me', json(200, { sub: 's',
      email: null, tenant: 't', role: 'owner', token_use: 'id' }),
     /lacks required member "digest"/],
    ['rule of an unknown metric', 'GET', '/api/v1/alerts/rules/r1', json(200, {
      id: 'r1', topic: 'a1', enabled: true, min_volume: 20, sensitivity: 3,
      cooldown_minutes: 60, email: [], webhook: null, metric: 'mood',
      window_minutes: 60 }), /\/metric must be one of/],
    ['upper-case secret', 'GET', '/api/v1/settings/webhook-secret', json(200, {
      secret: 'AB'.repeat(32) }), /\/secret/],
    ['unsubscribe page without its policy', 'GET',
     '/api/v1/unsubscribe?t=a', { status: 200, headers: {
       'content-type': 'text/html', 'cache-control': 'no-store' },
     body: '<p>' }, /Content-Security-Policy is missing/],
    ['unsubscribe needs no token', 'POST', '/api/v1/unsubscribe',
     json(401, err('unauthorized'), { 'www-authenticate': 'Bearer' }),
     /status 401 is not documented/],
  ];
  for (const [name, method, p, res, re] of bad) {
    assert.throws(() => validateResponse(method, p, res), re, name);
  }
});
