#!lua name=echostream
-- version: 5
--
-- lib/redis/ingest.lua - the Redis function library "echostream" used by
-- ingest (its name predates the others'; kept, so no migration is needed).
--
-- es_ingest_add(KEYS = stream, then per comment its seen and gone bitmap
--               chunks; ARGV = max_len, ttl, then per comment:
--               bit offset, deleted flag, field count, field/value pairs)
--   For each comment, SETBIT in its "seen" chunk is the test-and-set that
--   makes the stream exactly-once: only a comment whose bit was 0 is
--   XADDed. A deleted comment whose bit was already 1 (streamed earlier) and
--   whose "gone" bit was 0 yields one deletion event. The whole batch runs
--   atomically, so a crash leaves either all of it or none of it. Returns
--   one integer per comment: 1 added, 2 deletion event, 0 duplicate or
--   nothing to do. With max_len > 0, a consumer group present and the stream
--   that long, it refuses the batch with a BACKPRESSURE error instead.
--
-- es_stream_trim(KEYS = stream; ARGV = max_len)
--   Deletes entries every consumer group has acknowledged: below the oldest
--   pending entry of each group, or up to its last-delivered id when nothing
--   is pending. With no group at all nothing can be waiting for an entry,
--   so it keeps the newest max_len. Returns the number of entries removed.
--
-- All keys a call touches are passed in KEYS and share the {ingest} hash
-- tag, as Redis Cluster requires.

local function has_groups(stream)
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', stream)
  return ok and #groups > 0
end

local whole = ES.whole

local function bad(msg)
  return ES.bad('es_ingest_add: ' .. msg)
end

local WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong ' ..
  'kind of value'

-- a key that is absent or of the type t
local function type_ok(key, t)
  local have = redis.call('TYPE', key).ok
  return have == 'none' or have == t
end

-- The batch's comments, checked before anything is written: Redis keeps
-- what a function wrote before an error, so a bad argument found halfway
-- would leave half a batch behind. nil and the error otherwise.
local function ingest_plan(keys, args)
  local plan = {}
  local a, k = 3, 2
  while a <= #args do
    local c = {off = whole(args[a], 0, 2 ^ 20 - 1),
               deleted = args[a + 1], nf = whole(args[a + 2], 0, 10000),
               seen = keys[k], gone = keys[k + 1]}
    if c.off == nil then return nil, bad('bit offset ' .. a) end
    if c.deleted ~= '0' and c.deleted ~= '1' then
      return nil, bad('deleted flag ' .. (a + 1))
    end
    if c.nf == nil or a + 2 + c.nf * 2 > #args then
      return nil, bad('field count ' .. (a + 2))
    end
    if c.seen == nil or c.gone == nil then
      return nil, bad('no bitmap keys for comment ' .. (#plan + 1))
    end
    if not type_ok(c.seen, 'string') or not type_ok(c.gone, 'string') then
      return nil, redis.error_reply(WRONGTYPE)
    end
    c.fields = {}
    for i = 1, c.nf * 2 do c.fields[i] = args[a + 2 + i] end
    plan[#plan + 1] = c
    a = a + 3 + c.nf * 2
    k = k + 2
  end
  return plan
end

local function ingest_add(keys, args)
  local stream = keys[1]
  local max_len = whole(args[1], 0, 2 ^ 53)
  local ttl = whole(args[2], 1, 2 ^ 31)
  if stream == nil then return bad('no stream key') end
  if max_len == nil then return bad('max_len') end
  if ttl == nil then return bad('ttl must be a whole number of seconds > 0') end
  if not type_ok(stream, 'stream') then return redis.error_reply(WRONGTYPE) end
  local plan, err = ingest_plan(keys, args)
  if plan == nil then return err end
  if max_len > 0 and redis.call('XLEN', stream) >= max_len
     and has_groups(stream) then
    return redis.error_reply('BACKPRESSURE stream holds ' ..
      max_len .. ' entries not yet processed')
  end
  local out = {}
  local touched = {}
  for _, c in ipairs(plan) do
    -- read, append, then mark: the bit never says "streamed" for a
    -- comment the stream does not hold
    local was = redis.call('GETBIT', c.seen, c.off)
    local r = 0
    if c.deleted == '1' then
      local g = redis.call('GETBIT', c.gone, c.off)
      if was == 1 and g == 0 then
        redis.call('XADD', stream, '*', ES.F.TYPE, ES.TYPE.DELETE,
                   unpack(c.fields))
        r = 2
      end
      redis.call('SETBIT', c.gone, c.off, 1)
      touched[c.gone] = true
    elseif was == 0 then
      redis.call('XADD', stream, '*', ES.F.TYPE, ES.TYPE.COMMENT,
                 unpack(c.fields))
      r = 1
    end
    redis.call('SETBIT', c.seen, c.off, 1)
    touched[c.seen] = true
    out[#out + 1] = r
  end
  for key in pairs(touched) do redis.call('EXPIRE', key, ttl) end
  return out
end

-- Stream ids compared and stepped as decimal text: their parts go up to
-- 2^64 - 1, beyond what a Lua number holds exactly.
local function dec_less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end

local function dec_incr(s)
  local i = #s
  while i > 0 and s:sub(i, i) == '9' do i = i - 1 end
  if i == 0 then return '1' .. string.rep('0', #s) end
  return s:sub(1, i - 1) .. string.char(s:byte(i) + 1) ..
    string.rep('0', #s - i)
end

local function id_parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms, seq
end

local function id_less(a, b)
  local am, as = id_parts(a)
  local bm, bs = id_parts(b)
  if am ~= bm then return dec_less(am, bm) end
  return dec_less(as, bs)
end

-- the id right after id: the sequence + 1, or the next millisecond's 0
local function next_id(id)
  local ms, seq = id_parts(id)
  if seq == '18446744073709551615' then return dec_incr(ms) .. '-0' end
  return ms .. '-' .. dec_incr(seq)
end

local function stream_trim(keys, args)
  local stream = keys[1]
  local max_len = whole(args[1], 0, 2 ^ 53)
  if stream == nil or max_len == nil then
    return redis.error_reply('ERR es_stream_trim: a stream key and a ' ..
      'max_len of 0 or more')
  end
  if redis.call('EXISTS', stream) == 0 then return 0 end
  local groups = redis.call('XINFO', 'GROUPS', stream)
  if #groups == 0 then
    return redis.call('XTRIM', stream, 'MAXLEN', max_len)
  end
  local min_id = nil
  for _, g in ipairs(groups) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    local keep
    if tonumber(info['pending']) > 0 then
      keep = redis.call('XPENDING', stream, info['name'])[2]
    else
      keep = next_id(info['last-delivered-id'])
    end
    if min_id == nil or id_less(keep, min_id) then min_id = keep end
  end
  return redis.call('XTRIM', stream, 'MINID', min_id)
end

redis.register_function('es_ingest_add', ingest_add)
redis.register_function('es_stream_trim', stream_trim)
