-- lib/redis/prelude/shared.lua - the helpers every Redis function library
-- of lib/redis/ shares, as fields of its ES table.
--
-- lib/redis/luagen.c writes this file into each library right after the
-- schema constants (local ES = {...}) and before the library's own code,
-- so one copy of each helper serves every library and Redis still gets
-- one self-contained library a file (a library cannot call another's
-- local functions). A change here changes every library: bump every
-- library's version with it.
-- luacheck: globals ES

-- a whole number from lo to hi, or nil
function ES.whole(v, lo, hi)
  local n = tonumber(v)
  if n == nil or n ~= math.floor(n) or n < lo or n > hi then return nil end
  return n
end

-- an argument the calling program always sends right, found wrong: a
-- fault of the caller, refused before the function writes anything
function ES.bad(msg)
  return redis.error_reply('ERR ' .. msg)
end

-- the tenant's key (ES.KEY[name], lib/es_keys.h), its %s from ...
function ES.tkey(tenant, name, ...)
  return string.format(ES.TENANT_PREFIX, tenant) ..
    string.format(ES.KEY[name], ...)
end

-- Hours since the epoch (UTC) and the YYYYMMDDHH names of the hour
-- buckets, both ways. Redis's Lua has no os.date, so the civil calendar is
-- computed (Howard Hinnant's days-from-civil algorithm and its inverse).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- the hour (since the epoch) of a YYYYMMDDHH name, or nil
local function parse_hour(name)
  local y, m, d, h = string.match(name, '^(%d%d%d%d)(%d%d)(%d%d)(%d%d)$')
  if y == nil then return nil end
  y, m, d, h = tonumber(y), tonumber(m), tonumber(d), tonumber(h)
  if m < 1 or m > 12 or d < 1 or d > 31 or h > 23 then return nil end
  return days_from_civil(y, m, d) * 24 + h
end

-- Hour names recur in every argument of a call and across calls, and a
-- parse costs a pattern match and a date computation: the answers are
-- remembered (false: not an hour), a few thousand at most.
local hour_memo, hour_memos = {}, 0

function ES.hour_of(name)
  name = name or ''
  local v = hour_memo[name]
  if v == nil then
    if hour_memos >= 4096 then hour_memo, hour_memos = {}, 0 end
    v = parse_hour(name) or false
    hour_memo[name] = v
    hour_memos = hour_memos + 1
  end
  return v or nil
end

-- the YYYYMMDDHH name of an hour since the epoch
function ES.hour_name(hour)
  local z = math.floor(hour / 24) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) +
    math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return string.format('%04d%02d%02d%02d', y, m, d, hour % 24)
end

-- the first second (UTC) of the month of a YYYYMMDDHH name
function ES.month_start(name)
  return days_from_civil(tonumber(string.sub(name, 1, 4)),
    tonumber(string.sub(name, 5, 6)), 1) * 86400
end

-- Record buckets (lib/es_record.h): an hour's bucket is split into n
-- sub-buckets (n chosen at its first write, kept in the day's hash,
-- field HH, with HH:n counting what was written), so each stays small
-- enough for Redis's listpack encoding. dayfmt is the day hash's key
-- with a %s for YYYYMMDD.

-- the key of comment id's sub-bucket of the hour bucket base split n ways
function ES.sub_bucket(base, n, id)
  if n <= 1 then return base end
  return base .. ':' .. (tonumber(string.sub(id, -3), 36) % n)
end

-- the split of hour h (YYYYMMDDHH), or nil when none was chosen
function ES.split_get(dayfmt, h)
  local v = redis.call('HGET', string.format(dayfmt, string.sub(h, 1, 8)),
                       string.sub(h, 9, 10))
  return v and tonumber(v) or nil
end

-- the split of hour h, chosen now when it has none: enough sub-buckets
-- for the previous hour's count, or for eight times the here written by
-- the first call (a burst, or a backfilled hour, goes on), whichever is
-- more; the day's hash expires at exp or later. Too many sub-buckets cost
-- a key each, too few a hundred bytes a record: splitting wide is cheaper.
function ES.split_choose(dayfmt, h, here, exp)
  local s = ES.split_get(dayfmt, h)
  if s then return s end
  local p = ES.hour_name(ES.hour_of(h) - 1)
  local prev = tonumber(redis.call('HGET',
    string.format(dayfmt, string.sub(p, 1, 8)),
    string.sub(p, 9, 10) .. ':n') or '0') or 0
  local want = math.max(prev, 8 * here)
  s = 1
  while s * ES.BUCKET_TARGET < want and s < ES.BUCKET_SPLIT_MAX do
    s = s * 2
  end
  local dk = string.format(dayfmt, string.sub(h, 1, 8))
  redis.call('HSET', dk, string.sub(h, 9, 10), s)
  redis.call('EXPIREAT', dk, exp, 'NX')
  redis.call('EXPIREAT', dk, exp, 'GT')
  return s
end

-- counts n more records written in hour h
function ES.split_count(dayfmt, h, n)
  if n > 0 then
    redis.call('HINCRBY', string.format(dayfmt, string.sub(h, 1, 8)),
               string.sub(h, 9, 10) .. ':n', n)
  end
end
