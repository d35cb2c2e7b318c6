#!lua name=echostream
-- version: 8
--
-- lib/redis/ingest.lua - the Redis function library "echostream" used by
-- ingest (its name predates the others'; kept, so no migration is needed).
--
-- Every comment id has a bit in a "seen" bitmap chunk and one in a "gone"
-- chunk (docs/redis-keys.md): seen says the comment entered the stream,
-- gone that its deletion was handled. Two ways write the stream with them,
-- both atomic with the bits; they share the rules, so they can run at the
-- same time on the same ids:
--
-- es_ingest_add(KEYS = stream, then per comment its seen and gone bitmap
--               chunks; ARGV = max_len, ttl, then per comment:
--               bit offset, deleted flag, field count, field/value pairs)
--   For each comment, the seen bit is the test-and-set that makes the
--   stream exactly-once: only a comment whose bit was 0 is XADDed. A
--   deleted comment whose bit was already 1 (streamed earlier) and whose
--   "gone" bit was 0 yields one deletion event. The whole batch runs
--   atomically, so a crash leaves either all of it or none of it. Returns
--   one integer per comment: 1 added, 2 deletion event, 0 duplicate or
--   nothing to do. With max_len > 0, a consumer group present and the stream
--   that long, it refuses the batch with a BACKPRESSURE error instead. The
--   poller and --synthetic use it: small batches, every field an argument.
--
-- es_ingest_peek(KEYS = stream, then one bitmap chunk per range;
--                ARGV = max_len, then per range: first byte, byte count)
-- es_ingest_mark(KEYS = stream, then one bitmap chunk per range;
--                ARGV = ttl, entries appended, then per range: first byte,
--                the bytes peek answered (zero-padded to the count), the
--                bytes to store)
--   The bulk path (--backfill, workers/ingest/stream_writer.c): passing
--   every field of every comment through Lua costs Redis several times
--   what the XADD itself does, so the worker applies the same rules
--   itself inside a transaction:
--     WATCH <the chunks>; FCALL_RO es_ingest_peek → the bytes of the
--     ranges holding the batch's bits; the worker decides per comment as
--     es_ingest_add would; MULTI; XADD each entry to append; FCALL
--     es_ingest_mark; EXEC.
--   WATCH makes EXEC fail when any writer changed a chunk after the peek,
--   and the worker then starts over from the peek: the decision and the
--   append are one atomic step, as in es_ingest_add. peek refuses with
--   BACKPRESSURE as es_ingest_add does, and with WRONGTYPE when a key holds
--   another type; it answers one string per range, GETRANGE's (shorter
--   than the count when the chunk ends earlier, empty when it is absent).
--   mark runs last in the transaction: when entries were appended it first
--   checks that the stream is a stream (a failed XADD leaves no bit set),
--   then stores each range's new bytes and refreshes the TTL of every key
--   it names. Should a range no longer hold the bytes peek answered (only
--   possible without the WATCH), it stores the union of both, so no bit is
--   ever cleared, and counts the range. Returns that count (0 normally).
--   Ranges of one chunk must not overlap.
--
-- es_stream_trim(KEYS = stream; ARGV = max_len)
--   Deletes entries every consumer group has acknowledged: below the oldest
--   pending entry of each group, or up to its last-delivered id when nothing
--   is pending. With no group at all nothing can be waiting for an entry,
--   so it keeps the newest max_len. Returns the number of entries removed.
--
-- es_ingest_lease(KEYS = the lease key; ARGV = holder, ttl_ms, "hold" or
--                 "release")
--   The poller's lease (docs/scaling.md): several ingest processes may
--   run, but Reddit's budget belongs to the one OAuth client they share,
--   so only the holder of es:{ingest}:poller polls. "hold" takes the lease
--   when nobody holds it and renews it (PX ttl_ms) when holder already
--   does; "release" deletes it only when holder holds it (a clean stop
--   hands over at once). Returns the holder after the call ("" for none),
--   so a caller learns in one round trip whether it is the one and, if
--   not, who is.
--
-- Version 8 added es_ingest_lease. Version 5 added es_ingest_peek and
-- es_ingest_mark; es_ingest_add is
-- unchanged in what it takes and does. A later version must keep all three
-- contracts: a worker keeps a newer library it finds (es_lua.h).
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

-- type_ok through a table of the keys checked already: a batch names the
-- same chunk for every comment of it, and one TYPE per key suffices
local function string_ok(checked, key)
  if checked[key] == nil then checked[key] = type_ok(key, 'string') end
  return checked[key]
end

-- The batch's comments, checked before anything is written: Redis keeps
-- what a function wrote before an error, so a bad argument found halfway
-- would leave half a batch behind. Answers two lists, the index in args of
-- each comment's first argument and its bit offset; nil and the error
-- otherwise. The fields stay in args (no copy per comment).
local function ingest_plan(keys, args)
  local at, offs, checked = {}, {}, {}
  local a, k, n = 3, 2, #args
  while a <= n do
    local off = whole(args[a], 0, 2 ^ 20 - 1)
    local deleted = args[a + 1]
    local nf = whole(args[a + 2], 0, 10000)
    local seen, gone = keys[k], keys[k + 1]
    if off == nil then return nil, nil, bad('bit offset ' .. a) end
    if deleted ~= '0' and deleted ~= '1' then
      return nil, nil, bad('deleted flag ' .. (a + 1))
    end
    if nf == nil or a + 2 + nf * 2 > n then
      return nil, nil, bad('field count ' .. (a + 2))
    end
    if seen == nil or gone == nil then
      return nil, nil, bad('no bitmap keys for comment ' .. (#at + 1))
    end
    if not string_ok(checked, seen) or not string_ok(checked, gone) then
      return nil, nil, redis.error_reply(WRONGTYPE)
    end
    at[#at + 1] = a
    offs[#offs + 1] = off
    a = a + 3 + nf * 2
    k = k + 2
  end
  return at, offs
end

local function backpressure(stream, max_len)
  if max_len > 0 and redis.call('XLEN', stream) >= max_len
     and has_groups(stream) then
    return redis.error_reply('BACKPRESSURE stream holds ' ..
      max_len .. ' entries not yet processed')
  end
  return nil
end

local function ingest_add(keys, args)
  local stream = keys[1]
  local max_len = whole(args[1], 0, 2 ^ 53)
  local ttl = whole(args[2], 1, 2 ^ 31)
  if stream == nil then return bad('no stream key') end
  if max_len == nil then return bad('max_len') end
  if ttl == nil then return bad('ttl must be a whole number of seconds > 0') end
  if not type_ok(stream, 'stream') then return redis.error_reply(WRONGTYPE) end
  local at, offs, refused = ingest_plan(keys, args)
  if at == nil then return refused end
  refused = backpressure(stream, max_len)
  if refused then return refused end
  local call = redis.call
  local F_TYPE, COMMENT, DELETE = ES.F.TYPE, ES.TYPE.COMMENT, ES.TYPE.DELETE
  local out, touched = {}, {}
  for i = 1, #at do
    local a, off = at[i], offs[i]
    local seen, gone = keys[2 * i], keys[2 * i + 1]
    local last = a + 2 + args[a + 2] * 2
    -- read, append, then mark: the bit never says "streamed" for a
    -- comment the stream does not hold
    local was = call('GETBIT', seen, off)
    local r = 0
    if args[a + 1] == '1' then
      local g = call('GETBIT', gone, off)
      if was == 1 and g == 0 then
        call('XADD', stream, '*', F_TYPE, DELETE, unpack(args, a + 3, last))
        r = 2
      end
      call('SETBIT', gone, off, 1)
      touched[gone] = true
    elseif was == 0 then
      call('XADD', stream, '*', F_TYPE, COMMENT, unpack(args, a + 3, last))
      r = 1
    end
    call('SETBIT', seen, off, 1)
    touched[seen] = true
    out[i] = r
  end
  for key in pairs(touched) do call('EXPIRE', key, ttl) end
  return out
end

-- a chunk is 2^20 bits: 2^17 bytes
local CHUNK_BYTES = 2 ^ 17

-- KEYS[2..] and their (first byte, ...) argument groups of `width`
-- arguments from args[from], checked: nil and the error when wrong
local function ranges_ok(fn, keys, args, from, width)
  local n = #keys - 1
  if keys[1] == nil then
    return ES.bad(fn .. ': no stream key')
  end
  if #args ~= from - 1 + n * width then
    return ES.bad(fn .. ': ' .. n .. ' ranges need ' ..
      (from - 1 + n * width) .. ' arguments')
  end
  local checked = {}
  for i = 1, n do
    local a = from + (i - 1) * width
    if whole(args[a], 0, CHUNK_BYTES - 1) == nil then
      return ES.bad(fn .. ': first byte ' .. a)
    end
    if not string_ok(checked, keys[i + 1]) then
      return redis.error_reply(WRONGTYPE)
    end
  end
  if not type_ok(keys[1], 'stream') then return redis.error_reply(WRONGTYPE) end
  return nil
end

local function ingest_peek(keys, args)
  local max_len = whole(args[1], 0, 2 ^ 53)
  if max_len == nil then
    return ES.bad('es_ingest_peek: max_len')
  end
  local err = ranges_ok('es_ingest_peek', keys, args, 2, 2)
  if err then return err end
  for i = 1, #keys - 1 do
    local a = 2 + (i - 1) * 2
    local first = tonumber(args[a])
    local count = whole(args[a + 1], 1, CHUNK_BYTES - first)
    if count == nil then
      return ES.bad('es_ingest_peek: byte count ' .. (a + 1))
    end
  end
  local refused = backpressure(keys[1], max_len)
  if refused then return refused end
  local out = {}
  for i = 1, #keys - 1 do
    local a = 2 + (i - 1) * 2
    local first = tonumber(args[a])
    out[i] = redis.call('GETRANGE', keys[i + 1], first,
      first + tonumber(args[a + 1]) - 1)
  end
  return out
end

-- the bytes of a and b or-ed together (equal lengths)
local function bytes_or(a, b)
  local out = {}
  for i = 1, #a do
    out[i] = string.char(bit.bor(string.byte(a, i), string.byte(b, i)))
  end
  return table.concat(out)
end

local function ingest_mark(keys, args)
  local ttl = whole(args[1], 1, 2 ^ 31)
  local appended = whole(args[2], 0, 2 ^ 53)
  if ttl == nil then
    return ES.bad('es_ingest_mark: ttl must be a whole ' ..
      'number of seconds > 0')
  end
  if appended == nil then
    return ES.bad('es_ingest_mark: entries appended')
  end
  local err = ranges_ok('es_ingest_mark', keys, args, 3, 3)
  if err then return err end
  for i = 1, #keys - 1 do
    local a = 3 + (i - 1) * 3
    local old, new = args[a + 1], args[a + 2]
    if #old == 0 or #old ~= #new or
       tonumber(args[a]) + #old > CHUNK_BYTES then
      return ES.bad('es_ingest_mark: bytes of range ' .. i)
    end
  end
  -- the XADDs of this transaction failed if the key is not a stream: then
  -- nothing may be marked (an absent stream cannot follow an append)
  if appended > 0 and redis.call('TYPE', keys[1]).ok ~= 'stream' then
    return redis.error_reply(WRONGTYPE)
  end
  local call = redis.call
  local conflicts, touched = 0, {}
  for i = 1, #keys - 1 do
    local key, a = keys[i + 1], 3 + (i - 1) * 3
    local first, old, new = tonumber(args[a]), args[a + 1], args[a + 2]
    local cur = call('GETRANGE', key, first, first + #old - 1)
    if #cur < #old then cur = cur .. string.rep('\0', #old - #cur) end
    if cur ~= old then
      conflicts = conflicts + 1
      new = bytes_or(cur, new)
    end
    if new ~= cur then call('SETRANGE', key, first, new) end
    touched[key] = true
  end
  for key in pairs(touched) do call('EXPIRE', key, ttl) end
  return conflicts
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

-- the lease is compared and set in one step: no holder can renew a
-- lease another process took after it expired
local function ingest_lease(keys, args)
  local key, holder, mode = keys[1], args[1], args[3]
  local ttl = whole(args[2], 1, 2 ^ 40)
  if key == nil or holder == nil or holder == '' or ttl == nil or
      (mode ~= 'hold' and mode ~= 'release') then
    return redis.error_reply('ERR es_ingest_lease: a key, a holder, ' ..
      'ttl_ms of 1 or more and "hold" or "release"')
  end
  local now = redis.call('GET', key)
  if mode == 'release' then
    if now == holder then
      redis.call('DEL', key)
      return ''
    end
    return now or ''
  end
  if now and now ~= holder then return now end
  redis.call('SET', key, holder, 'PX', ttl)
  return holder
end

redis.register_function('es_ingest_add', ingest_add)
redis.register_function{function_name = 'es_ingest_peek',
  callback = ingest_peek, flags = {'no-writes'}}
redis.register_function('es_ingest_mark', ingest_mark)
redis.register_function('es_stream_trim', stream_trim)
redis.register_function('es_ingest_lease', ingest_lease)
