#!lua name=echostream
-- version: 1
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

local function ingest_add(keys, args)
  local stream = keys[1]
  local max_len = tonumber(args[1])
  local ttl = tonumber(args[2])
  if max_len > 0 and redis.call('XLEN', stream) >= max_len
     and has_groups(stream) then
    return redis.error_reply('BACKPRESSURE stream holds ' ..
      max_len .. ' entries not yet processed')
  end
  local out = {}
  local touched = {}
  local a, k = 3, 2
  while a <= #args do
    local off = args[a]
    local deleted = args[a + 1] == '1'
    local nf = tonumber(args[a + 2])
    local seen, gone = keys[k], keys[k + 1]
    local fields = {}
    for i = 1, nf * 2 do fields[i] = args[a + 2 + i] end
    a = a + 3 + nf * 2
    k = k + 2
    local was = redis.call('SETBIT', seen, off, 1)
    touched[seen] = true
    local r = 0
    if deleted then
      local g = redis.call('SETBIT', gone, off, 1)
      touched[gone] = true
      if was == 1 and g == 0 then
        redis.call('XADD', stream, '*', 'type', 'delete',
                   unpack(fields))
        r = 2
      end
    elseif was == 0 then
      redis.call('XADD', stream, '*', 'type', 'comment', unpack(fields))
      r = 1
    end
    out[#out + 1] = r
  end
  for key in pairs(touched) do redis.call('EXPIRE', key, ttl) end
  return out
end

local function id_less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

local function next_id(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms .. '-' .. string.format('%d', tonumber(seq) + 1)
end

local function stream_trim(keys, args)
  local stream = keys[1]
  local max_len = tonumber(args[1])
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
