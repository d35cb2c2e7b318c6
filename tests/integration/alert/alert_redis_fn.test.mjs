// alert_redis_fn.test.mjs - the functions of lib/redis/alert.lua (library
// "echostream_alert") called one by one against a real redis-server, with
// the KEYS/ARGV protocol of the file's header: an alert's event, state and
// deliveries in one step, refused when the stored state moved, the rule
// re-armed only from the state read, deliveries added once, updated only
// from the record read (acknowledged and dropped from the queue when
// closed), and the lease of a queue entry.
//
// A call with bad arguments must answer an error and leave every key as
// it was. Redis is emptied and the built library loaded before each test.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { startRedis } from '../../lib/harness.mjs';
import {
  fcall, fcallError, registeredFunctions, resetRedis, snapshot, xrange,
} from '../../lib/redis_fn.mjs';

const T = 'acme';
const STATE = `es:{t:${T}}:alerts:state`;
const HIST = `es:{t:${T}}:alerts:history`;
const DELIV = `es:{t:${T}}:deliveries`;
const QUEUE = 'es:{deliver}:queue';
const FIRE_KEYS = [STATE, HIST, DELIV, QUEUE];
const EVENT = JSON.stringify({ rule: 'r1', topic: 'rust', observed: 0.6,
                               samples: [] });
const NOW = 1795530920000;

let redis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

beforeEach(async () => {
  await resetRedis(redis, 'alert.lua');
});

const fire = (expected, deliveries = [], { now = NOW, cooldown = 3600000,
                                           rule = 'r1', event = EVENT } = {}) =>
  fcall(redis, 'es_alert_fire', FIRE_KEYS, [T, rule, expected, now, cooldown,
    1000, event, deliveries.length / 2, ...deliveries]);

test('the suite covers every function the library registers', () => {
  assert.deepEqual(registeredFunctions('alert.lua'),
    ['es_alert_arm', 'es_alert_fire', 'es_delivery_add', 'es_delivery_lease',
     'es_delivery_update']);
});

test('es_alert_fire writes the event, the state and the deliveries in one ' +
     'step', async () => {
  const r = await fire('', ['email', '["a@x.io","b@x.io"]',
                            'webhook', '"https://hooks.example.com/a/b"']);
  assert.equal(r[0], 1);
  const id = r[1];
  assert.deepEqual(r.slice(2), [`${id}:email`, `${id}:webhook`]);
  const h = await xrange(redis, HIST);
  assert.equal(h.length, 1);
  assert.equal(h[0].id, id);
  assert.deepEqual(h[0].list, ['event', EVENT]);
  assert.deepEqual(JSON.parse(await redis.cmd('HGET', STATE, 'r1')),
    { armed: false, fired_ms: NOW, quiet_until_ms: NOW + 3600000, event: id });
  const mail = JSON.parse(await redis.cmd('HGET', DELIV, `${id}:email`));
  assert.deepEqual(mail, { id: `${id}:email`, kind: 'alert', channel: 'email',
    to: ['a@x.io', 'b@x.io'], ref: id, status: 'pending', attempts: 0,
    created_ms: NOW });
  const hook = JSON.parse(await redis.cmd('HGET', DELIV, `${id}:webhook`));
  assert.equal(hook.to, 'https://hooks.example.com/a/b');
  const q = await xrange(redis, QUEUE);
  assert.deepEqual(q.map((e) => e.fields),
    [{ tenant: T, id: `${id}:email` }, { tenant: T, id: `${id}:webhook` }]);
});

test('es_alert_fire refuses a moved state, a disarmed rule and a cool-down',
  async () => {
    const first = await fire('');
    const state = await redis.cmd('HGET', STATE, 'r1');
    const before1 = await snapshot(redis);
    // another worker fired first: the state is no longer "none"
    assert.deepEqual(await fire(''), [0, 'state changed']);
    // read the state now, but the rule is disarmed
    assert.deepEqual(await fire(state, [], { now: NOW + 7200000 }),
      [0, 'not armed']);
    assert.deepEqual(await snapshot(redis), before1);
    // armed again, but still quiet
    assert.equal(await fcall(redis, 'es_alert_arm', [STATE], ['r1', state]),
      1);
    const armed = await redis.cmd('HGET', STATE, 'r1');
    assert.deepEqual(JSON.parse(armed), { ...JSON.parse(state), armed: true });
    assert.deepEqual(await fire(armed, [], { now: NOW + 60000 }),
      [0, 'cooling down']);
    // past the cool-down it fires again
    const again = await fire(armed, ['email', '["a@x.io"]'],
                             { now: NOW + 3600000 });
    assert.equal(again[0], 1);
    assert.notEqual(again[1], first[1]);
    assert.equal((await xrange(redis, HIST)).length, 2);
  });

test('es_alert_arm re-arms only the state it was given', async () => {
  assert.equal(await fcall(redis, 'es_alert_arm', [STATE], ['r1', '']), 0);
  await fire('');
  assert.equal(await fcall(redis, 'es_alert_arm', [STATE], ['r1', '{"x":1}']),
    0);
  assert.equal(JSON.parse(await redis.cmd('HGET', STATE, 'r1')).armed, false);
});

test('es_alert_fire checks its arguments before writing', async () => {
  const before1 = await snapshot(redis);
  const bad = [
    [FIRE_KEYS.slice(0, 3), [T, 'r1', '', NOW, 1, 1000, EVENT, 0]],
    [FIRE_KEYS, ['bad tenant', 'r1', '', NOW, 1, 1000, EVENT, 0]],
    [FIRE_KEYS, [T, '', '', NOW, 1, 1000, EVENT, 0]],
    [FIRE_KEYS, [T, 'r1', '', 'soon', 1, 1000, EVENT, 0]],
    [FIRE_KEYS, [T, 'r1', '', NOW, -1, 1000, EVENT, 0]],
    [FIRE_KEYS, [T, 'r1', '', NOW, 1, 0, EVENT, 0]],
    [FIRE_KEYS, [T, 'r1', '', NOW, 1, 1000, '{broken', 0]],
    [FIRE_KEYS, [T, 'r1', '', NOW, 1, 1000, EVENT, 1]],
    [FIRE_KEYS, [T, 'r1', '', NOW, 1, 1000, EVENT, 1, 'sms', '"x"']],
    [FIRE_KEYS, [T, 'r1', '', NOW, 1, 1000, EVENT, 1, 'email', 'a@x.io']],
  ];
  for (const [keys, args] of bad) {
    assert.match(await fcallError(redis, 'es_alert_fire', keys, args), /^ERR /,
      JSON.stringify(args));
  }
  assert.deepEqual(await snapshot(redis), before1);
});

test('es_delivery_add stores and queues a delivery once', async () => {
  const rec = JSON.stringify({ id: 'digest:2026-11-25:u1', kind: 'digest',
    channel: 'email', to: ['a@x.io'], ref: '2026-11-25', status: 'pending',
    attempts: 0, created_ms: NOW, subject: 'Your day', text: 'hello' });
  const keys = [DELIV, QUEUE];
  assert.equal(await fcall(redis, 'es_delivery_add', keys,
    [T, 'digest:2026-11-25:u1', rec]), 1);
  assert.equal(await fcall(redis, 'es_delivery_add', keys,
    [T, 'digest:2026-11-25:u1', rec]), 0);
  assert.equal(await redis.cmd('HGET', DELIV, 'digest:2026-11-25:u1'), rec);
  assert.deepEqual((await xrange(redis, QUEUE)).map((e) => e.fields),
    [{ tenant: T, id: 'digest:2026-11-25:u1' }]);
  assert.match(await fcallError(redis, 'es_delivery_add', keys,
    [T, 'x', 'not json']), /^ERR /);
});

test('es_delivery_update replaces only the record read, and a closed ' +
     'record leaves the queue', async () => {
  const r = await fire('', ['email', '["a@x.io","b@x.io"]']);
  const did = r[2];
  await redis.cmd('XGROUP', 'CREATE', QUEUE, 'deliver', '0');
  const read = await redis.cmd('XREADGROUP', 'GROUP', 'deliver', 'w1',
    'COUNT', 1, 'STREAMS', QUEUE, '>');
  const entry = read[0][1][0][0];
  const v0 = await redis.cmd('HGET', DELIV, did);
  const v1 = JSON.stringify({ ...JSON.parse(v0), results: { 'a@x.io': 'sent' } });
  const keys = [DELIV, QUEUE];
  // a stale expected text changes nothing
  assert.equal(await fcall(redis, 'es_delivery_update', keys,
    ['deliver', entry, did, v1, v1, '0']), 0);
  assert.equal(await redis.cmd('HGET', DELIV, did), v0);
  assert.equal(await fcall(redis, 'es_delivery_update', keys,
    ['deliver', entry, did, v0, v1, '0']), 1);
  assert.equal(await redis.cmd('HGET', DELIV, did), v1);
  assert.equal((await redis.cmd('XPENDING', QUEUE, 'deliver'))[0], 1);
  const v2 = JSON.stringify({ ...JSON.parse(v1), status: 'sent',
                              results: { 'a@x.io': 'sent', 'b@x.io': 'sent' } });
  assert.equal(await fcall(redis, 'es_delivery_update', keys,
    ['deliver', entry, did, v1, v2, '1']), 1);
  assert.equal((await redis.cmd('XPENDING', QUEUE, 'deliver'))[0], 0);
  assert.equal(await redis.cmd('XLEN', QUEUE), 0);
  // a retried call whose first copy landed: refused, nothing changes
  assert.equal(await fcall(redis, 'es_delivery_update', keys,
    ['deliver', entry, did, v1, v2, '1']), 0);
  assert.match(await fcallError(redis, 'es_delivery_update', keys,
    ['deliver', entry, did, v2, '{', '1']), /^ERR /);
});

test('es_delivery_lease keeps an entry with its consumer only', async () => {
  await fire('', ['email', '["a@x.io"]']);
  await redis.cmd('XGROUP', 'CREATE', QUEUE, 'deliver', '0');
  const read = await redis.cmd('XREADGROUP', 'GROUP', 'deliver', 'w1',
    'COUNT', 1, 'STREAMS', QUEUE, '>');
  const entry = read[0][1][0][0];
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await fcall(redis, 'es_delivery_lease', [QUEUE],
    ['deliver', 'w1', entry]), 1);
  const p = await redis.cmd('XPENDING', QUEUE, 'deliver', '-', '+', 1);
  assert.equal(p[0][1], 'w1');
  assert.ok(p[0][2] < 50, `idle ${p[0][2]} ms after the lease`);
  assert.equal(p[0][3], 1, 'a lease is not a delivery');
  // another consumer, or an entry no longer pending: no lease
  assert.equal(await fcall(redis, 'es_delivery_lease', [QUEUE],
    ['deliver', 'w2', entry]), 0);
  await redis.cmd('XACK', QUEUE, 'deliver', entry);
  assert.equal(await fcall(redis, 'es_delivery_lease', [QUEUE],
    ['deliver', 'w1', entry]), 0);
});
