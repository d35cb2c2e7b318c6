#!lua name=echostream_summarize
-- version: 3
--
-- lib/redis/summarize.lua - the Redis function library
-- "echostream_summarize", loaded by echostream-summarize: every write the
-- summarizer makes to a request's life, each one atomic with the others it
-- belongs with, so a summarizer killed anywhere leaves either the old state
-- or the new one.
--
-- es_summary_schedule(KEYS = es:{t:T}:summary_sched, es:{summaries}:requests,
--                     es:{t:T}:summary_requests;
--                     ARGV = tenant, date YYYY-MM-DD, requested_ms,
--                     requested (RFC 3339), stream MAXLEN, requests kept,
--                     then pairs (request id, topic id or "" = whole tenant))
--   Queues the tenant's daily summaries of date once: returns 0 when
--   summary_sched already holds date or a later one, else records date,
--   XADDs one request per pair (fields tenant, id, topic, requested_by =
--   "schedule", requested_ms, kind = "daily", date), records each one's
--   JSON (status "queued") and keeps the newest requests. Returns the
--   number queued. Several summarizers may tick at once; one queues.
--
-- es_summary_start(KEYS = es:{t:T}:summary_requests, es:{t:T}:summary_lock,
--                  es:workers;
--                  ARGV = request id, instance, now_ms, stale_ms,
--                  started (RFC 3339))
--   "ENDED" when the request is already done or failed (a redelivery);
--   "BUSY" when another summarizer instance whose heartbeat in es:workers
--   is younger than stale_ms holds the tenant's lock (one running job per
--   tenant); else takes the lock (value: instance), marks the request
--   running and answers "OK". A dead holder's lock is taken over.
--
-- es_summary_finish(KEYS = es:{t:T}:summaries, es:{t:T}:summary_requests,
--                   es:{t:T}:summary_pending, es:{t:T}:summary_lock,
--                   es:{t:T}:usage:<YYYYMM>, es:{summaries}:requests;
--                   ARGV = summary id, summary JSON, request id, pending
--                   field (topic id or "*"), finished (RFC 3339), source,
--                   instance, group, stream entry id, oldest date kept
--                   (YYYY-MM-DD), usage TTL (s), then pairs (usage field,
--                   increment))
--   Writes the summary, deletes the tenant's summaries dated before the
--   oldest date kept, marks the request done (with summary, source and
--   finished), clears its pending field and the lock when they are its
--   own, adds the usage and acknowledges the entry: all or nothing. A
--   request already done only gets its entry acknowledged (returns 0), so
--   a redelivered job ends "done" once and is counted once. Returns 1.
--
-- es_summary_fail(KEYS = es:{t:T}:summary_requests, es:{t:T}:summary_pending,
--                 es:{t:T}:summary_lock, es:{summaries}:requests;
--                 ARGV = request id, pending field, reason, finished,
--                 instance, group, stream entry id)
--   Marks the request failed with reason (unless it already ended), clears
--   its pending field and lock like es_summary_finish and acknowledges the
--   entry. Returns 1.
--
-- es_summary_ack(KEYS = es:{summaries}:requests; ARGV = group, entry id)
--   Acknowledges an entry that names no valid tenant or request: the
--   worker logged why. Returns XACK's answer.

local whole, bad = ES.whole, ES.bad

local function arity(name, fn, nkeys, nargs)
  return function(keys, args)
    if #keys < nkeys or #args < nargs then
      return bad(string.format('%s needs %d keys and %d arguments, got ' ..
        '%d and %d', name, nkeys, nargs, #keys, #args))
    end
    return fn(keys, args)
  end
end

-- a stored JSON object, or nil: stored values are never trusted
local function decode(raw)
  if type(raw) ~= 'string' then return nil end
  local ok, v = pcall(cjson.decode, raw)
  if ok and type(v) == 'table' then return v end
  return nil
end

local function keep_newest(key, keep)
  local n = redis.call('HLEN', key)
  if n > keep then
    local ids = redis.call('HKEYS', key)
    table.sort(ids)
    for i = 1, n - keep do redis.call('HDEL', key, ids[i]) end
  end
end

local function ended(rec)
  return rec ~= nil and (rec.status == 'done' or rec.status == 'failed')
end

local function schedule(keys, args)
  local tenant, date = args[1], args[2]
  local maxlen, keep = whole(args[5], 1, 2 ^ 31), whole(args[6], 1, 1000000)
  if maxlen == nil or keep == nil or not date:match('^%d%d%d%d%-%d%d%-%d%d$')
      or (#args - 6) % 2 ~= 0 then
    return bad('date, stream length, requests kept or pairs')
  end
  local last = redis.call('GET', keys[1])
  if last and last >= date then return 0 end
  redis.call('SET', keys[1], date)
  local n = 0
  for i = 7, #args, 2 do
    local id, topic = args[i], args[i + 1]
    redis.call('XADD', keys[2], 'MAXLEN', '~', maxlen, '*',
               'tenant', tenant, 'id', id, 'topic', topic,
               'requested_by', 'schedule', 'requested_ms', args[3],
               'kind', 'daily', 'date', date)
    redis.call('HSET', keys[3], id, cjson.encode({
      id = id, status = 'queued',
      topic = topic ~= '' and topic or cjson.null,
      requested = args[4], requested_by = 'schedule',
      kind = 'daily', date = date}))
    n = n + 1
  end
  keep_newest(keys[3], keep)
  return n
end

local function start(keys, args)
  local id, instance = args[1], args[2]
  local now, stale = whole(args[3], 0, 2 ^ 53), whole(args[4], 1, 2 ^ 40)
  if now == nil or stale == nil then return bad('now or stale time') end
  local raw = redis.call('HGET', keys[1], id)
  local rec = decode(raw)
  if ended(rec) then return 'ENDED' end
  local holder = redis.call('GET', keys[2])
  if holder and holder ~= instance then
    local beat = decode(redis.call('HGET', keys[3], 'summarize:' .. holder))
    local at = beat and tonumber(beat.beat_ms)
    if at and now - at < stale then return 'BUSY' end
  end
  -- the lock outlives a lost holder by at most a day, whatever happens
  redis.call('SET', keys[2], instance, 'EX', 86400)
  if rec then
    rec.status = 'running'
    rec.started = args[5]
    redis.call('HSET', keys[1], id, cjson.encode(rec))
  end
  return 'OK'
end

-- clears the request's pending field and the tenant's lock if its own
local function release(pending, lock, field, id, instance)
  if redis.call('HGET', pending, field) == id then
    redis.call('HDEL', pending, field)
  end
  if redis.call('GET', lock) == instance then redis.call('DEL', lock) end
end

local function finish(keys, args)
  local sid, json, id, field = args[1], args[2], args[3], args[4]
  local ttl = whole(args[11], 1, 2 ^ 31)
  if ttl == nil or (#args - 11) % 2 ~= 0 or decode(json) == nil then
    return bad('usage TTL, usage pairs or summary JSON')
  end
  local rec = decode(redis.call('HGET', keys[2], id))
  local old = decode(redis.call('HGET', keys[1], sid))
  if (rec and rec.status == 'done') or (old and old.request == id) then
    redis.call('XACK', keys[6], args[8], args[9])
    return 0
  end
  redis.call('HSET', keys[1], sid, json)
  local all = redis.call('HGETALL', keys[1])
  for i = 1, #all, 2 do
    local s = decode(all[i + 1])
    if s == nil or type(s.date) ~= 'string' or s.date < args[10] then
      redis.call('HDEL', keys[1], all[i])
    end
  end
  if rec then
    rec.status = 'done'
    rec.summary = sid
    rec.source = args[6]
    rec.finished = args[5]
    rec.reason = nil
    redis.call('HSET', keys[2], id, cjson.encode(rec))
  end
  release(keys[3], keys[4], field, id, args[7])
  for i = 12, #args, 2 do
    local by = whole(args[i + 1], 0, 2 ^ 53)
    if by == nil then return bad('usage increment') end
    redis.call('HINCRBY', keys[5], args[i], by)
  end
  redis.call('EXPIRE', keys[5], ttl)
  redis.call('XACK', keys[6], args[8], args[9])
  return 1
end

local function fail(keys, args)
  local id, field = args[1], args[2]
  local rec = decode(redis.call('HGET', keys[1], id))
  if rec and not ended(rec) then
    rec.status = 'failed'
    rec.reason = args[3]
    rec.finished = args[4]
    redis.call('HSET', keys[1], id, cjson.encode(rec))
  end
  release(keys[2], keys[3], field, id, args[5])
  redis.call('XACK', keys[4], args[6], args[7])
  return 1
end

local function ack(keys, args)
  return redis.call('XACK', keys[1], args[1], args[2])
end

redis.register_function('es_summary_schedule',
  arity('es_summary_schedule', schedule, 3, 6))
redis.register_function('es_summary_start',
  arity('es_summary_start', start, 3, 5))
redis.register_function('es_summary_finish',
  arity('es_summary_finish', finish, 6, 11))
redis.register_function('es_summary_fail', arity('es_summary_fail', fail, 4, 7))
redis.register_function('es_summary_ack', arity('es_summary_ack', ack, 1, 2))
