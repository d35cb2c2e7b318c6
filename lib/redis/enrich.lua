#!lua name=echostream_enrich
-- version: 3
--
-- lib/redis/enrich.lua - the Redis function library "echostream_enrich", the
-- only code that writes tenant data for the enrich worker.
--
-- A library of its own (not "echostream"), because ingest loads its library
-- with FUNCTION LOAD REPLACE and would otherwise drop these functions.
--
-- es_enrich_write(KEYS[1] = any key of the tenant, e.g. es:{t:<T>}:meta,
--                 KEYS[2] = the tenant's live stream es:{t:<T>}:live;
--                 ARGV = prefix "es:{t:<T>}:", now (s), retention (s),
--                 usage month YYYYMM, Comprehend units, USD in micro-dollars,
--                 index of the first record argument, then the summed
--                 increments, then the records)
--   The increments are the worker's sums over the batch of every comment of
--   the tenant, as if all were new: per key, a kind ("h" HINCRBY fields,
--   "z" ZINCRBY members, "r" ZADD recent members), the key, its EXPIREAT
--   time, a count n and n pairs (field, increment) or, for "r", (score,
--   member). Slots (pairs) are numbered from 1 in this order.
--   A record is either a comment's three arguments
--     record key, the record's JSON, meta "cs|p p …|p p …" (its compound
--     in 1e-4 units, the slots the comment added 1 to, then those it
--     added its compound to; "cs||" for a repeated id)
--   or a deletion's two
--     "d", id
--   (a key never is "d"; two arguments fewer per comment than with a
--   marker and the compound apart: each argument costs Redis a string)
--   The per-comment record es:{t:<T>}:c:<id> (a JSON string built by the
--   worker, see docs/redis-keys.md) is the idempotence test: SET NX decides
--   in one command whether a comment's record is new. For every record that is
--   not (a replay, a tombstone, an id seen earlier in the batch), its share
--   is subtracted from its slots before any increment is issued, and its
--   recent members are left out; so the call adds exactly what the new
--   comments add, atomically with creating their records, and a replay
--   changes nothing. A "d" record reverses exactly what the stored record
--   added (read back with cjson, keys derived here the same way the worker
--   derives them), and leaves a tombstone {"deleted":true} so a later
--   replay of the comment, or a creation racing the deletion through
--   another consumer, stays a no-op; the summed increments go first, so a
--   comment created and deleted in one batch ends at zero. Commands inside
--   a function cost a few microseconds each, and building strings and
--   tables in Lua about as much again, so the common path does nothing
--   per comment but the SET and nothing per increment but its command.
--   A trending term is a sorted-set member per topic and hour, one
--   ZINCRBY per member and call (the increments already summed over the
--   batch; a ZMSCORE + ZADD per key measured no cheaper). When the call
--   created or deleted anything, the tenant's data version
--   es:{t:<T>}:dv is incremented, so the API can tell a cached answer is
--   still current with one GET. When the call created
--   records, one entry with their ids (comma-separated, in order) goes to
--   the live stream (capped near ES_LIVE_MAXLEN entries) for the API's
--   /api/v1/stream; a replay creates nothing and adds no entry. Every key
--   carries the prefix, so all share the tenant's hash tag and the call
--   stays in KEYS[1]'s cluster slot. Bucket keys expire at a time
--   fixed by their bucket (EXPIREAT), so a bucket already past its lifetime
--   is neither written nor decremented. Usage (comments, Comprehend units
--   and dollars of the month) is added for new comments and for what
--   Comprehend billed, even on a replay: that money was spent. Returns
--   {created, replayed, deleted}.
--
-- es_enrich_dlq(KEYS = stream, dead-letter stream; ARGV = group, stream id,
--               error, deliveries, dead-letter max length)
--   Copies a pending entry's fields into the dead-letter stream with error,
--   deliveries and stream_id, and acknowledges it, in one step: the entry
--   can never be both lost and left pending, nor dead-lettered twice.
--   Returns 1 when moved, 0 when it was no longer pending.

local H, D = 3600, 86400
local TTL_M, TTL_H, TTL_D = ES.TTL_MINUTE, ES.TTL_HOUR, ES.TTL_DAY
local USAGE_TTL = ES.TTL_USAGE
local LIVE_MAXLEN = ES.LIVE_MAXLEN -- redis.call sends a number as its digits
local LF = {positive = 'pos', negative = 'neg', neutral = 'neu',
            mixed = 'mix'}

local function new_plan()
  return {incr = {}, exp = {}, neg = {}, pos = {}, zinc = {},
          zadd = {}, zrem = {}}
end

local function incr(p, key, field, v, expat, s)
  local h = p.incr[key]
  if h == nil then h = {}; p.incr[key] = h; p.exp[key] = expat end
  h[field] = (h[field] or 0) + v
  if s < 0 then p.neg[key] = true else p.pos[key] = true end
end

-- adds (s = 1) or removes (s = -1) one comment's contribution
local function apply(p, pre, now, ret, r, s)
  local t = r.t
  local cs = math.floor(r.created / 1000)
  local hour0 = cs - cs % H
  local day0 = cs - cs % D
  local mexp = hour0 + H + TTL_M
  local hexp = day0 + D + TTL_H
  local dexp = r.month + 31 * D + TTL_D
  local sexp = day0 + D + TTL_D
  local lf = LF[r.label] or 'neu'
  local mkey, hkey, dkey = t:sub(1, 10), t:sub(1, 8), t:sub(1, 6)
  local series = {{ES.KEY.SERIES_MINUTE, mkey, t:sub(11, 12), mexp},
                  {ES.KEY.SERIES_HOUR, hkey, t:sub(9, 10), hexp},
                  {ES.KEY.SERIES_DAY, dkey, t:sub(7, 8), dexp}}
  local recent = cs * 1000 >= (now - ret) * 1000
  for _, topic in ipairs(r.topics) do
    for _, sr in ipairs(series) do
      if sr[4] > now then
        local k = pre .. string.format(sr[1], topic, sr[2])
        incr(p, k, sr[3] .. ':n', s, sr[4], s)
        incr(p, k, sr[3] .. ':' .. lf, s, sr[4], s)
        incr(p, k, sr[3] .. ':cs', s * r.cs, sr[4], s)
      end
    end
    if sexp > now then
      incr(p, pre .. string.format(ES.KEY.SOV, hkey), topic, s, sexp, s)
    end
    if mexp > now and #r.terms > 0 then
      local tk = pre .. string.format(ES.KEY.TERMS, topic, mkey)
      local z = p.zinc[tk]
      if z == nil then z = {}; p.zinc[tk] = z; p.exp[tk] = mexp end
      for _, term in ipairs(r.terms) do z[term] = (z[term] or 0) + s end
      if s < 0 then p.neg[tk] = true else p.pos[tk] = true end
    end
    local rk = {pre .. string.format(ES.KEY.RECENT, topic),
                pre .. string.format(ES.KEY.RECENT_LABEL, topic, r.label)}
    for _, k in ipairs(rk) do
      if s > 0 then
        if recent then
          local z = p.zadd[k]
          if z == nil then z = {}; p.zadd[k] = z end
          z[r.id] = r.created_s
        end
      else
        if p.zadd[k] then p.zadd[k][r.id] = nil end
        local z = p.zrem[k]
        if z == nil then z = {}; p.zrem[k] = z end
        z[#z + 1] = r.id
      end
    end
  end
end

-- a key only decremented must exist: one expired or never written
-- (its comment predates the key's lifetime) is left alone
local function writable(p, k)
  return not p.neg[k] or p.pos[k] or redis.call('EXISTS', k) == 1
end

local function flush(p, now, ret)
  for k, h in pairs(p.incr) do
    if writable(p, k) then
      for f, v in pairs(h) do
        if v ~= 0 then
          redis.call('HINCRBY', k, f, string.format('%d', v))
        end
      end
      redis.call('EXPIREAT', k, string.format('%d', p.exp[k]))
    end
  end
  for k, z in pairs(p.zinc) do
    if writable(p, k) then
      for m, v in pairs(z) do
        if v ~= 0 then
          redis.call('ZINCRBY', k, string.format('%d', v), m)
        end
      end
      if p.neg[k] then
        redis.call('ZREMRANGEBYSCORE', k, '-inf', '0')
      end
      redis.call('EXPIREAT', k, string.format('%d', p.exp[k]))
    end
  end
  for k, z in pairs(p.zrem) do
    for i = 1, #z, 500 do
      redis.call('ZREM', k, unpack(z, i, math.min(i + 499, #z)))
    end
  end
  local floor = string.format('(%d', (now - ret) * 1000)
  for k, z in pairs(p.zadd) do
    local a, any = {}, false
    for m, sc in pairs(z) do
      a[#a + 1] = sc; a[#a + 1] = m; any = true
      if #a >= 1000 then redis.call('ZADD', k, unpack(a)); a = {} end
    end
    if #a > 0 then redis.call('ZADD', k, unpack(a)) end
    if any then
      redis.call('ZREMRANGEBYSCORE', k, '-inf', floor)
      redis.call('EXPIRE', k, ret)
    end
  end
end

local TOMBSTONE = '{"deleted":true}'

-- subtracts a replayed comment's share: meta is "cs|p p|p p" (its
-- compound, then the slots it added 1 to, then those it added cs to)
local function correct(adj, meta)
  local b1 = string.find(meta, '|', 1, true)
  local b2 = string.find(meta, '|', b1 + 1, true)
  local cs = tonumber(string.sub(meta, 1, b1 - 1))
  for i in string.gmatch(string.sub(meta, b1 + 1, b2 - 1), '%d+') do
    i = tonumber(i); adj[i] = (adj[i] or 0) + 1
  end
  for i in string.gmatch(string.sub(meta, b2 + 1), '%d+') do
    i = tonumber(i); adj[i] = (adj[i] or 0) + cs
  end
end

-- the worker's summed increments, args[i..last]: kind, key, expiry, n,
-- then n pairs; adj (nil when every comment was new) holds per slot
-- position what the replayed comments added
local function apply_ops(args, i, last, adj, now, ret)
  local pos = 0
  local floor = string.format('(%d', (now - ret) * 1000)
  while i <= last do
    local kind, k, exp = args[i], args[i + 1], args[i + 2]
    local n = tonumber(args[i + 3])
    local j, e = i + 4, i + 3 + 2 * n
    if kind == 'r' then
      local a = nil
      if adj ~= nil then
        a = {}
        for c = j, e, 2 do
          pos = pos + 1
          if adj[pos] == nil then
            a[#a + 1] = args[c]; a[#a + 1] = args[c + 1]
          end
        end
      else
        pos = pos + n
      end
      if a == nil and n > 0 then
        for c = j, e, 1000 do
          redis.call('ZADD', k, unpack(args, c, math.min(c + 999, e)))
        end
      elseif a ~= nil and #a > 0 then
        for c = 1, #a, 1000 do
          redis.call('ZADD', k, unpack(a, c, math.min(c + 999, #a)))
        end
      end
      if (a == nil and n > 0) or (a ~= nil and #a > 0) then
        redis.call('ZREMRANGEBYSCORE', k, '-inf', floor)
        redis.call('EXPIRE', k, ret)
      end
    else
      local wrote = false
      for c = j, e, 2 do
        pos = pos + 1
        local v = args[c + 1]
        if adj ~= nil and adj[pos] ~= nil then
          v = string.format('%d', tonumber(v) - adj[pos])
        end
        if v ~= '0' then
          if kind == 'h' then
            redis.call('HINCRBY', k, args[c], v)
          else
            redis.call('ZINCRBY', k, v, args[c])
          end
          wrote = true
        end
      end
      if wrote then redis.call('EXPIREAT', k, exp) end
    end
    i = e + 1
  end
end

-- a whole number from lo to hi, or nil
local function whole(v, lo, hi)
  local n = tonumber(v)
  if n == nil or n ~= math.floor(n) or n < lo or n > hi then return nil end
  return n
end

local function bad(msg)
  return redis.error_reply('ERR ' .. msg)
end

local INT = '^%-?%d+$'

-- The summed increments args[i..last] (see apply_ops), checked.
local function check_ops(args, i, last)
  while i <= last do
    local kind, n = args[i], whole(args[i + 3], 0, 2 ^ 31)
    if kind ~= 'h' and kind ~= 'z' and kind ~= 'r' then
      return bad('increment kind at argument ' .. i)
    end
    if args[i + 1] == nil or whole(args[i + 2], 0, 2 ^ 53) == nil or
       n == nil or i + 3 + 2 * n > last then
      return bad('increment at argument ' .. i)
    end
    for c = i + 4, i + 3 + 2 * n, 2 do
      local v = kind == 'r' and args[c] or args[c + 1]
      if not string.match(v, INT) or #v > 18 then
        return bad('increment value at argument ' .. c)
      end
    end
    i = i + 4 + 2 * n
  end
  return nil
end

-- Everything es_enrich_write reads, checked before its first write: a
-- record SET by a call that then fails would count as a replay on every
-- retry and never get its increments.
local function check_write(keys, args)
  if keys[1] == nil or keys[2] == nil then
    return bad('es_enrich_write needs KEYS: a key of the tenant and its ' ..
      'live stream')
  end
  local pre = args[1]
  if pre == nil or not string.match(pre, '^es:{t:[%w_%-]+}:$') then
    return bad('tenant prefix')
  end
  if whole(args[2], 1, 2 ^ 40) == nil then return bad('now') end
  if whole(args[3], 1, 2 ^ 31) == nil then return bad('retention') end
  if args[4] == nil or not string.match(args[4], '^%d%d%d%d%d%d$') then
    return bad('usage month')
  end
  if whole(args[5], 0, 2 ^ 53) == nil or whole(args[6], 0, 2 ^ 53) == nil then
    return bad('usage units or dollars')
  end
  local rec0 = whole(args[7], 8, #args + 1)
  if rec0 == nil then return bad('index of the first record') end
  local err = check_ops(args, 8, rec0 - 1)
  if err then return err end
  local a, nargs = rec0, #args
  local rec = pre .. string.format(ES.KEY.RECORD, '')
  while a <= nargs do
    if args[a] == 'd' then
      if a + 1 > nargs or not string.match(args[a + 1], '^[0-9a-z]+$') then
        return bad('truncated deletion at argument ' .. a)
      end
      a = a + 2
    else
      if a + 2 > nargs then
        return bad('truncated record at argument ' .. a)
      end
      if string.sub(args[a], 1, #rec) ~= rec or
         not string.match(args[a + 2], '^%-?%d+|[%d ]*|[%d ]*$') then
        return bad('record at argument ' .. a)
      end
      a = a + 3
    end
  end
  return nil
end

-- A stored record, decoded; nil when it is not one this worker wrote
-- (never trusted: its numbers are subtracted from the aggregates).
local function stored_record(v)
  local ok, o = pcall(cjson.decode, v)
  if not ok or type(o) ~= 'table' then return nil end
  if o.deleted then return o end
  if type(o.topics) ~= 'table' or type(o.created) ~= 'number' or
     type(o.cs) ~= 'number' or type(o.t) ~= 'string' or #o.t ~= 12 or
     type(o.month) ~= 'number' or type(o.label) ~= 'string' then
    return nil
  end
  return o
end

local function enrich_write(keys, args)
  local err = check_write(keys, args)
  if err then return err end
  local pre = args[1]
  local now = tonumber(args[2])
  local ret = tonumber(args[3])
  local month = args[4]
  local units = tonumber(args[5])
  local usd = tonumber(args[6])
  local rec0 = tonumber(args[7])
  local p = new_plan()
  local adj = nil
  local created, replayed, deleted = 0, 0, 0
  local live, idat = {}, #pre + 3
  local a = rec0
  local nargs = #args
  while a <= nargs do
    local op = args[a]
    if op ~= 'd' then
      -- a comment: record key, record JSON, meta (see correct)
      if redis.call('SET', op, args[a + 1], 'NX', 'EX', args[3]) then
        created = created + 1
        live[created] = string.sub(op, idat)
      else
        replayed = replayed + 1
        if adj == nil then adj = {} end
        correct(adj, args[a + 2])
      end
      a = a + 3
    else
      local id = args[a + 1]
      local rec = pre .. string.format(ES.KEY.RECORD, id)
      local v = redis.call('GET', rec)
      local o = v and stored_record(v) or {}
      if v and not o.deleted and o.topics then
        local r = {id = id, topics = o.topics or {}, label = o.label,
                   cs = o.cs, created = o.created,
                   created_s = string.format('%d', o.created),
                   t = o.t, month = o.month, terms = o.terms or {}}
        apply(p, pre, now, ret, r, -1)
        deleted = deleted + 1
      end
      if not o.deleted then
        redis.call('SET', rec, TOMBSTONE, 'EX', ret)
      end
      a = a + 2
    end
  end
  apply_ops(args, 8, rec0 - 1, adj, now, ret)
  flush(p, now, ret)
  if created > 0 or units > 0 or usd > 0 then
    local uk = pre .. string.format(ES.KEY.USAGE, month)
    if created > 0 then redis.call('HINCRBY', uk, 'comments', created) end
    if units > 0 then
      redis.call('HINCRBY', uk, 'comprehend_units', units)
    end
    if usd > 0 then
      redis.call('HINCRBY', uk, 'comprehend_usd_micros', usd)
    end
    redis.call('EXPIRE', uk, USAGE_TTL)
  end
  if created > 0 and keys[2] ~= nil then
    redis.call('XADD', keys[2], 'MAXLEN', '~', LIVE_MAXLEN, '*', 'ids',
               table.concat(live, ','))
  end
  if created > 0 or deleted > 0 then
    redis.call('INCR', pre .. ES.KEY.DV)
  end
  return {created, replayed, deleted}
end

local function enrich_dlq(keys, args)
  local stream, dlq = keys[1], keys[2]
  local group, id = args[1], args[2]
  local pend = redis.call('XPENDING', stream, group, id, id, 1)
  if #pend == 0 then return 0 end
  local f = {}
  local e = redis.call('XRANGE', stream, id, id)
  if #e > 0 then f = e[1][2] end
  f[#f + 1] = 'error'; f[#f + 1] = args[3]
  f[#f + 1] = 'deliveries'; f[#f + 1] = args[4]
  f[#f + 1] = 'stream_id'; f[#f + 1] = id
  redis.call('XADD', dlq, 'MAXLEN', '~', args[5], '*', unpack(f))
  redis.call('XACK', stream, group, id)
  return 1
end

redis.register_function('es_enrich_write', enrich_write)
redis.register_function('es_enrich_dlq', enrich_dlq)
