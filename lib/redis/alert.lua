#!lua name=echostream_alert
-- version: 3
--
-- lib/redis/alert.lua - the Redis function library "echostream_alert",
-- loaded by the alert worker (echostream-alert): an alert's event, the
-- rule's new state and the deliveries of its e-mails and webhook, and the
-- progress of each delivery, each written in one atomic step.
--
-- The worker decides in C (workers/alert/spike.c) whether a rule fires;
-- these functions only make that decision durable, and refuse it when
-- the rule's stored state moved since the worker read it (another copy of
-- the worker fired first, or re-armed it): every write is a
-- compare-and-set on the text the worker read, so several workers can run
-- and a rule still fires once. The deliver queue (es:{deliver}:queue) is
-- a global key beside the tenant's {t:<T>} keys: one Redis, where a
-- function may touch any key it is given, as tenant.lua's do.
--
-- Stored JSON is decoded with pcall; a value that does not decode counts
-- as absent. Arguments are checked before the first write, so an error
-- reply ("ERR …") means nothing was written.
--
-- es_alert_fire(KEYS = es:{t:T}:alerts:state, es:{t:T}:alerts:history,
--               es:{t:T}:deliveries, es:{deliver}:queue;
--               ARGV = tenant, rule id, expected state ("" = none stored),
--               now (ms), cool-down (ms), history max length, event JSON,
--               n, then n pairs (channel "email"|"webhook", to: the JSON
--               text of the address array, or of the URL string))
--   Re-checks the rule's state: it must still be the expected text, and
--   the rule armed and past its quiet time; else nothing is written and
--   the reply is {0, reason}. Otherwise, in one step: appends the event
--   to the history (field "event", MAXLEN ~ max length), stores the new
--   state {"armed":false,"fired_ms","quiet_until_ms","event"}, creates one
--   delivery record per pair, id "<event id>:<channel>",
--   {"id","kind":"alert","channel","to","ref":<event id>,
--    "status":"pending","attempts":0,"created_ms"}, and appends
--   {tenant, id} to the deliver queue for each. A crash can never leave
--   an event without its deliveries, or deliveries without their event.
--   Returns {1, event id, delivery id...}.
--
-- es_alert_arm(KEYS = es:{t:T}:alerts:state; ARGV = rule id, expected
--              state)
--   Sets "armed" true in the rule's state when it is still the expected
--   (non-empty) text. Returns 1, or 0 when the state moved.
--
-- es_delivery_add(KEYS = es:{t:T}:deliveries, es:{deliver}:queue;
--                 ARGV = tenant, delivery id, record JSON)
--   A delivery made elsewhere (the daily digest: kind "digest", its
--   message in the record): stored and queued when the id is new, so a
--   producer that retries never queues it twice. Returns 1 when added,
--   0 when the id existed.
--
-- es_delivery_update(KEYS = es:{t:T}:deliveries, es:{deliver}:queue;
--                    ARGV = group, queue entry id ("" = none), delivery
--                    id, expected record, new record, settled "1"|"0")
--   Replaces the record when it is still the expected text; when settled
--   (sent, or failed for good), acknowledges the queue entry and deletes
--   it in the same step, so a delivery marked sent is never offered
--   again and the queue holds only unfinished work. Returns 1, or 0 when
--   the record moved (nothing written).
--
-- es_delivery_lease(KEYS = es:{deliver}:queue; ARGV = group, consumer,
--                   queue entry id)
--   When the entry is pending with this consumer, resets its idle time
--   (XCLAIM … JUSTID), so the claim sweep of another worker does not take
--   it while this one sends. Returns 1, or 0 when the entry is no longer
--   this consumer's (acknowledged, or claimed by another).

local bad, whole = ES.bad, ES.whole

local function decode(text)
  if text == nil or text == false or text == '' then return nil end
  local ok, v = pcall(cjson.decode, text)
  if ok and type(v) == 'table' then return v end
  return nil
end

local CHANNELS = {email = true, webhook = true}

local function check_fire(keys, args)
  if #keys < 4 then return bad('es_alert_fire needs 4 keys') end
  if #args < 8 then return bad('es_alert_fire needs 8 arguments') end
  if not string.match(args[1], '^[%w_%-]+$') then return bad('tenant') end
  if args[2] == '' then return bad('rule id') end
  if whole(args[4], 1, 2 ^ 50) == nil then return bad('now') end
  if whole(args[5], 0, 2 ^ 40) == nil then return bad('cool-down') end
  if whole(args[6], 1, 10 ^ 7) == nil then return bad('history length') end
  if decode(args[7]) == nil then return bad('event JSON') end
  local n = whole(args[8], 0, 16)
  if n == nil or #args ~= 8 + 2 * n then return bad('deliveries') end
  for i = 9, #args, 2 do
    if not CHANNELS[args[i]] or not string.match(args[i + 1], '^[%["]') then
      return bad('delivery at argument ' .. i)
    end
  end
  return nil
end

local function alert_fire(keys, args)
  local err = check_fire(keys, args)
  if err then return err end
  local state, history, deliveries, queue = keys[1], keys[2], keys[3],
    keys[4]
  local tenant, rule, expected = args[1], args[2], args[3]
  local now, cooldown = tonumber(args[4]), tonumber(args[5])
  local cur = redis.call('HGET', state, rule) or ''
  if cur ~= expected then return {0, 'state changed'} end
  local st = decode(cur)
  if st ~= nil then
    if st.armed == false then return {0, 'not armed'} end
    if tonumber(st.quiet_until_ms or 0) > now then
      return {0, 'cooling down'}
    end
  end
  local id = redis.call('XADD', history, 'MAXLEN', '~', args[6], '*',
    'event', args[7])
  redis.call('HSET', state, rule, string.format(
    '{"armed":false,"fired_ms":%d,"quiet_until_ms":%d,"event":"%s"}',
    now, now + cooldown, id))
  local out = {1, id}
  for i = 9, #args, 2 do
    local channel, to = args[i], args[i + 1]
    local did = id .. ':' .. channel
    redis.call('HSET', deliveries, did, string.format(
      '{"id":"%s","kind":"alert","channel":"%s","to":%s,"ref":"%s",' ..
      '"status":"pending","attempts":0,"created_ms":%d}',
      did, channel, to, id, now))
    redis.call('XADD', queue, '*', 'tenant', tenant, 'id', did)
    out[#out + 1] = did
  end
  return out
end

local function alert_arm(keys, args)
  if #keys < 1 or #args < 2 then
    return bad('es_alert_arm needs 1 key and 2 arguments')
  end
  local cur = redis.call('HGET', keys[1], args[1]) or ''
  if args[2] == '' or cur ~= args[2] then return 0 end
  local st = decode(cur) or {}
  st.armed = true
  redis.call('HSET', keys[1], args[1], cjson.encode(st))
  return 1
end

local function delivery_add(keys, args)
  if #keys < 2 or #args < 3 then
    return bad('es_delivery_add needs 2 keys and 3 arguments')
  end
  if not string.match(args[1], '^[%w_%-]+$') then return bad('tenant') end
  if args[2] == '' or decode(args[3]) == nil then
    return bad('delivery id or record')
  end
  if redis.call('HSETNX', keys[1], args[2], args[3]) == 0 then return 0 end
  redis.call('XADD', keys[2], '*', 'tenant', args[1], 'id', args[2])
  return 1
end

local function delivery_update(keys, args)
  if #keys < 2 or #args < 6 then
    return bad('es_delivery_update needs 2 keys and 6 arguments')
  end
  local group, entry, id = args[1], args[2], args[3]
  if decode(args[5]) == nil then return bad('record') end
  local cur = redis.call('HGET', keys[1], id) or ''
  if cur ~= args[4] then return 0 end
  redis.call('HSET', keys[1], id, args[5])
  if args[6] == '1' and entry ~= '' then
    redis.call('XACK', keys[2], group, entry)
    redis.call('XDEL', keys[2], entry)
  end
  return 1
end

local function delivery_lease(keys, args)
  if #keys < 1 or #args < 3 then
    return bad('es_delivery_lease needs 1 key and 3 arguments')
  end
  local group, consumer, entry = args[1], args[2], args[3]
  local p = redis.call('XPENDING', keys[1], group, entry, entry, 1)
  if #p == 0 or p[1][2] ~= consumer then return 0 end
  redis.call('XCLAIM', keys[1], group, consumer, 0, entry, 'JUSTID')
  return 1
end

redis.register_function('es_alert_fire', alert_fire)
redis.register_function('es_alert_arm', alert_arm)
redis.register_function('es_delivery_add', delivery_add)
redis.register_function('es_delivery_update', delivery_update)
redis.register_function('es_delivery_lease', delivery_lease)
