#!lua name=echostream_read
-- version: 2
--
-- lib/redis/read.lua - the Redis function library "echostream_read": how
-- every program reads the comments enrich stored (docs/redis-keys.md).
--
-- Redis keeps a comment's record as two compact parts in hashes bucketed
-- (and split) by creation hour, the public one shared by the tenants, and
-- a topic's recent comments as text per hour (lib/es_record.h), because
-- one key and one JSON text per comment cost three times the memory.
-- Readers do not see that: these two read-only functions answer in the
-- shapes the readers had before, the JSON record and ZRANGE ...
-- WITHSCORES rows, so the nginx module, the summarizer and the alert
-- worker parse what they parsed, and the stored form has one reader in
-- one place.
--
-- es_recent(KEYS[1] = the tenant's meta key es:{t:<T>}:meta;
--           ARGV = prefix "es:{t:<T>}:", topic id, label ('' = every
--           label), min ms ('-inf' or a whole number), max ms ('+inf' or
--           a whole number), offset, count, order 'asc' or 'desc')
--   The ids of the topic's comments (of the label) created in [min, max],
--   ordered by creation time and then id (bytes), ascending or descending
--   as ZRANGE ... BYSCORE [REV] orders members, skipping offset and
--   answering at most count (at most 10,000): a flat array id, ms, id,
--   ms, ... as ZRANGE ... WITHSCORES LIMIT answers. Only hours within the
--   tenant's retention (meta retention_days, default 30, at most 366
--   walked) and up to a day ahead of now are read; each hour is one key,
--   so a page reads the hours it spans and, at most, every hour of the
--   retention (48 keys a call).
--
-- es_records(KEYS[1] = the tenant's meta key;
--            ARGV = prefix, then pairs: comment id, creation hour
--            YYYYMMDDHH)
--   Per pair, in order: the record as JSON (members of lib/es_record.h, in
--   its order; the title from the hour's title table, a long public part
--   from the hour's :l), ES.TOMBSTONE when the comment was deleted
--   (the tenant's part, or the stored record's public part, gone), {}
--   when a stored part does not parse, or nil when the tenant stores no
--   record of it (expired, never written).
--
-- Both refuse malformed arguments with an error reply.

local SEP, GONE = ES.SEP, ES.GONE
local RT, RP, REC = ES.RT, ES.RP, ES.REC
local LABELS, ENGINES = ES.LABELS, ES.ENGINES
local MAX_COUNT, MAX_DAYS, BATCH = 10000, 366, 48
local whole, bad = ES.whole, ES.bad
local HOUR_MS = 3600000

-- the fields of a stored part, split at SEP
local function split(s)
  local out, pos = {}, 1
  while true do
    local e = string.find(s, SEP, pos, true)
    if e == nil then
      out[#out + 1] = string.sub(s, pos)
      return out
    end
    out[#out + 1] = string.sub(s, pos, e - 1)
    pos = e + 1
  end
end

-- an integer in 1e-4 units as the 4-decimal number the record shows
local function fixed4(v)
  local n = tonumber(v) or 0
  local sign = n < 0 and '-' or ''
  n = math.abs(n)
  return string.format('%s%d.%04d', sign, math.floor(n / 10000), n % 10000)
end

-- '"a","b"' of the strings list[from..]
local function quoted(list, from, to)
  local q = {}
  for i = from, to do q[#q + 1] = '"' .. list[i] .. '"' end
  return table.concat(q, ',')
end

local function member(name) return ',"' .. name .. '":' end

-- the JSON record of comment id of hour h (YYYYMMDDHH) from its tenant
-- part tp and public part pp (nil when either does not parse)
local function assemble(id, h, tp, pp)
  local t, p = split(tp), split(pp)
  local hour = ES.hour_of(h)
  if #t < RT.OFFSET or #p < RP.BODY or hour == nil or
     tonumber(t[RT.OFFSET], 36) == nil then
    return nil
  end
  local created = hour * HOUR_MS + tonumber(t[RT.OFFSET], 36)
  local minute = math.floor(created / 60000) % 60
  -- Comprehend's sentiment is the tenant's own; VADER's is the comment's
  local sv, L = p, RP
  if t[RT.ENGINE] == 'c' and #t >= RT.POS then sv, L = t, RT end
  local comp = sv[L.COMPOUND]
  if comp == '' then comp = sv[L.CS] end
  local topics = {}
  for tid in string.gmatch(t[RT.TOPICS], '[^,]+') do
    topics[#topics + 1] = tid
  end
  local title = p[RP.LINK_TITLE]
  if string.sub(title, 1, 1) == '#' then
    title = redis.call('HGET', ES.PUBLIC .. h .. ':t',
                       string.sub(title, 2)) or ''
  end
  local link = p[RP.PERMALINK]
  if string.sub(link, 1, 1) == '~' then
    link = '/r/' .. p[RP.SUBREDDIT] .. '/comments/' .. string.sub(link, 2) ..
      '/' .. id .. '/'
  end
  return table.concat({
    '{"', REC.ID, '":"', id, '"',
    member(REC.TOPICS), '[', quoted(topics, 1, #topics), ']',
    member(REC.LABEL), '"', LABELS[sv[L.LABEL]] or 'neutral', '"',
    member(REC.COMPOUND), fixed4(comp),
    member(REC.NEG), fixed4(sv[L.NEG]),
    member(REC.NEU), fixed4(sv[L.NEU]),
    member(REC.POS), fixed4(sv[L.POS]),
    member(REC.CS), sv[L.CS],
    member(REC.ENGINE), '"', ENGINES[t[RT.ENGINE]] or 'vader', '"',
    member(REC.CREATED), string.format('%d', created),
    member(REC.T), '"', h, string.format('%02d', minute), '"',
    member(REC.MONTH), string.format('%d', ES.month_start(h)),
    member(REC.SUBREDDIT), '"', p[RP.SUBREDDIT], '"',
    member(REC.AUTHOR), '"', p[RP.AUTHOR], '"',
    member(REC.BODY), '"', p[RP.BODY], '"',
    member(REC.PERMALINK), '"', link, '"',
    member(REC.LINK_TITLE), '"', title, '"',
    member(REC.SCORE), '"', p[RP.SCORE], '"}'})
end

-- the stored parts of comment id of hour h: tenant part, public part
-- (each nil when absent); splits caches the hours' splits of the call
local function parts(pre, id, h, splits)
  local tk, pk = pre .. 'crs:' .. h, 'pub:' .. h
  if splits[tk] == nil then
    splits[tk] = ES.split_get(pre .. string.format(ES.KEY.RECORD_SPLIT, '%s'),
                              h) or 1
    splits[pk] = ES.split_get(ES.PUBLIC_SPLIT .. '%s', h) or 1
  end
  local tp = redis.call('HGET', ES.sub_bucket(
    pre .. string.format(ES.KEY.RECORDS, h), splits[tk], id), id)
  local pp = redis.call('HGET', ES.sub_bucket(ES.PUBLIC .. h, splits[pk], id),
                        id)
  if pp == ES.LONG then
    pp = redis.call('HGET', ES.PUBLIC .. h .. ':l', id)
  end
  return tp or nil, pp or nil
end

local function records(keys, args)
  local pre = args[1]
  if keys[1] == nil or pre == nil or
     not string.match(pre, '^es:{t:[%w_%-]+}:$') or #args % 2 ~= 1 then
    return bad('es_records needs the meta key, the tenant prefix and ' ..
      'pairs of comment id and creation hour')
  end
  local out, splits = {}, {}
  for i = 2, #args, 2 do
    if not string.match(args[i], '^[0-9a-z]+$') or
       ES.hour_of(args[i + 1]) == nil then
      return bad('comment id and hour at argument ' .. i)
    end
  end
  for i = 2, #args, 2 do
    local id, h = args[i], args[i + 1]
    local tp, pp = parts(pre, id, h, splits)
    local v = false
    if tp == GONE or (tp and pp == GONE) then
      v = ES.TOMBSTONE
    elseif tp and pp then
      -- a part that does not parse: an object without the members, which
      -- the readers skip as damaged (and log)
      v = assemble(id, h, tp, pp) or '{}'
    end
    out[#out + 1] = v
  end
  return out
end

-- a bound in ms: '-inf', '+inf' or a whole number
local function bound(v, inf)
  if v == '-inf' then return -inf end
  if v == '+inf' then return inf end
  return whole(v, -2 ^ 53, 2 ^ 53)
end

local function rows_asc(a, b)
  if a[1] ~= b[1] then return a[1] < b[1] end
  return a[2] < b[2]
end

local function rows_desc(a, b)
  if a[1] ~= b[1] then return a[1] > b[1] end
  return a[2] > b[2]
end

-- The rows of one hour's text s (hour h): {ms, id} within [lo, hi], of
-- the label letter (nil: any), sorted.
local function hour_rows(s, h, letter, lo, hi, cmp)
  local rows, base = {}, h * HOUR_MS
  for id, l, off in string.gmatch(s, '([0-9a-z]+):(%a)([0-9a-z]+);') do
    if letter == nil or l == letter then
      local ms = base + tonumber(off, 36)
      if ms >= lo and ms <= hi then rows[#rows + 1] = {ms, id} end
    end
  end
  table.sort(rows, cmp)
  return rows
end

local function recent(keys, args)
  local pre, topic, label = args[1], args[2], args[3]
  local lo, hi = bound(args[4], 2 ^ 60), bound(args[5], 2 ^ 60)
  local offset, count = whole(args[6], 0, 2 ^ 31), whole(args[7], 0, 2 ^ 31)
  local order = args[8]
  if keys[1] == nil or pre == nil or
     not string.match(pre, '^es:{t:[%w_%-]+}:$') or topic == nil or
     not string.match(topic, '^[%w_%-]+$') or lo == nil or hi == nil or
     offset == nil or count == nil or
     (order ~= 'asc' and order ~= 'desc') then
    return bad('es_recent needs the meta key, then prefix, topic, label, ' ..
      'min, max, offset, count and asc or desc')
  end
  local letter = nil
  if label ~= '' then
    for l, name in pairs(LABELS) do
      if name == label then letter = l end
    end
    if letter == nil then return bad('label ' .. tostring(label)) end
  end
  count = math.min(count, MAX_COUNT)
  local days = whole(redis.call('HGET', keys[1], 'retention_days'), 1,
                     MAX_DAYS * 10) or 30
  local t = redis.call('TIME')
  local now_h = math.floor(tonumber(t[1]) / 3600)
  local first = math.max(now_h - math.min(days, MAX_DAYS) * 24 - 1,
                         math.floor(lo / HOUR_MS))
  local last = math.min(now_h + 24, math.floor(hi / HOUR_MS))
  local out = {}
  if count == 0 or first > last then return out end
  local step, cmp = 1, rows_asc
  local h0, h1 = first, last
  if order == 'desc' then step, cmp, h0, h1 = -1, rows_desc, last, first end
  local fmt = pre .. string.format(ES.KEY.RECENT, topic, '%s')
  local h = h0
  while (step > 0 and h <= h1) or (step < 0 and h >= h1) do
    local hours, names = {}, {}
    while #hours < BATCH and ((step > 0 and h <= h1) or
                              (step < 0 and h >= h1)) do
      hours[#hours + 1] = h
      names[#names + 1] = string.format(fmt, ES.hour_name(h))
      h = h + step
    end
    local texts = redis.call('MGET', unpack(names))
    for i = 1, #hours do
      if texts[i] then
        local rows = hour_rows(texts[i], hours[i], letter, lo, hi, cmp)
        for _, r in ipairs(rows) do
          if offset > 0 then
            offset = offset - 1
          else
            out[#out + 1] = r[2]
            out[#out + 1] = string.format('%d', r[1])
            if #out >= 2 * count then return out end
          end
        end
      end
    end
  end
  return out
end

redis.register_function{function_name = 'es_records', callback = records,
  flags = {'no-writes'}}
redis.register_function{function_name = 'es_recent', callback = recent,
  flags = {'no-writes'}}
