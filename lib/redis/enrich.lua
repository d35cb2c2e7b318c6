#!lua name=echostream_enrich
-- version: 10
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
--   Protocol 5 (ES.ENRICH_PROTOCOL: lib/es_schema.h, which the worker
--   speaks too).
--   This function does no arithmetic on comments: the worker
--   (workers/enrich/contrib.c) computes every key, field, amount and
--   expiry time a comment adds, and every one a deletion takes out (from
--   the record it deletes), and this function applies them, atomically
--   with the records that decide whether they count. One implementation
--   of the arithmetic, in C, so a deletion cannot disagree with the
--   creation it reverses.
--
--   The increments are the worker's sums over the batch, per key: a kind,
--   the key, its EXPIREAT time, a count n and n pairs (field, increment).
--   Kinds:
--     "h" HINCRBY fields, "z" ZINCRBY members, "a" add recent entries to
--       a topic's hour es:{t:<T>}:rc:<topic>:<YYYYMMDDHH> (the field is
--       the entry "<id>:<label letter><ms into the hour, base 36>;", the
--       increment 1; the key's EXPIREAT time is the hour's record
--       expiry): what the comments add, summed as if all were new;
--     "H" HINCRBY, "Z" ZINCRBY (negative), "A" remove recent entries
--       (pairs (entry, -k), k the deletions taking it out): what the
--       deletions take out, summed as if all applied; sent after every
--       lower-case key.
--   Slots (pairs) are numbered from 1 in argument order.
--   A record is either a comment's four arguments
--     its creation hour YYYYMMDDHH, the comment id, the tenant part
--     (lib/es_record.h) for the hour's record bucket, meta
--     "cs|p p …|p p …" (its compound in 1e-4 units, the slots the comment
--     added 1 to, then those it added its compound to; "cs||" for a
--     repeated id)
--   or a deletion's five
--     "D", the creation hour, the comment id, the tenant part the worker
--     read and computed the deletion from ("" when it read none), meta
--     "v|p p …|p p …" (v = -cs, the slots it added -1 to, then those it
--     added v to; "" when that part holds nothing to take out: none, a
--     tombstone, or not a part the worker writes); the hour is "" (and
--     the part and meta too) for a deletion that carries no creation time
--     and whose record the worker found nowhere: its tombstone waits in
--     the tenant's early hash es:{t:<T>}:cg, and the comment's creation,
--     when it comes, stores the tombstone instead of its part and counts
--     as a replay (the hash is looked at only while it exists); if a
--     record of the id has appeared in the retention meanwhile, the
--     deletion is reported like a stale one below
--   (each argument costs Redis a string, so a comment travels as four).
--   The hour's bucket is es:{t:<T>}:cr:<YYYYMMDDHH>, or its sub-bucket
--   ES.sub_bucket(…) when the hour is split: the split is chosen at the
--   hour's first write (ES.split_choose: from the previous hour's count,
--   or eight times this call's records of the hour, for about
--   ES.BUCKET_TARGET records a sub-bucket) and kept in the day's
--   es:{t:<T>}:crs:<YYYYMMDD>, with the records written (HH:n).
--   Protocols 3 and 4 sent a record as its own key es:{t:<T>}:c:<id>: such
--   a call is refused with an error naming the protocols, before any
--   write.
--
--   The tenant part (HSETNX into its hour's sub-bucket) is the idempotence
--   test: one command decides whether a comment's record is new. For
--   every comment whose part is not (a replay, a tombstone, an id seen
--   earlier in the batch), its share is subtracted from its slots before
--   any increment is issued, and its recent entries are left out; so the
--   call adds exactly what the new comments add, atomically with creating
--   their records, and a replay changes nothing. A deletion first compares
--   the stored part with the text it was computed from:
--     - the tombstone ES.GONE: already deleted, a no-op (a replayed
--       deletion);
--     - the same text: the part becomes the tombstone and the deletion's
--       decrements stay in; with an empty meta (no part, or nothing to
--       reverse) only the tombstone is written, which keeps a later
--       replay of the comment, or a creation racing the deletion through
--       another consumer, a no-op;
--     - anything else (the part changed or vanished, or appeared, since
--       the worker read it: another consumer got there first): not
--       applied, its share is taken out like a replay's, and its id is
--       reported so the worker retries it with what is stored then.
--   The records are taken in argument order before any increment, so a
--   comment created and deleted in one batch (the deletion expecting the
--   part the creation stores) ends at zero. A record bucket expires a
--   retention after its hour ends, or after now when that is later (a
--   backfilled comment's record lives a retention after its write).
--   Decrements ("H", "Z") go to keys that exist only: one expired or never
--   written (its comment predates the key's lifetime) is left alone, and
--   terms that reach 0 leave their set; a field a deletion brings to 0
--   stays, holding 0. A recent entry removed leaves its hour's text
--   without it (the key goes when it is empty).
--   Commands inside a function cost a few microseconds each, and building
--   strings and tables in Lua about as much again, so the common path does
--   nothing per comment but the HSETNX and nothing per increment but its
--   command; the recent entries of a topic's hour are one SET. A
--   trending term is a sorted-set member per topic and hour, one ZINCRBY
--   per member and call (the increments already summed over the batch).
--   When the call created or deleted anything, the tenant's data version
--   es:{t:<T>}:dv is incremented, so the API can tell a cached answer is
--   still current with one GET. When the call created records, one entry
--   with their ids and creation hours (fields ids and hours,
--   comma-separated, in order) goes to the live stream (capped near
--   ES_LIVE_MAXLEN entries) for the API's /api/v1/stream; a replay or a
--   deletion adds no entry. Every key carries the prefix, so all share the
--   tenant's hash tag and the call stays in KEYS[1]'s cluster slot. Bucket
--   keys expire at a time fixed by their bucket (EXPIREAT; the worker
--   leaves out a bucket already past its lifetime, so it is neither
--   written nor decremented). Usage (comments, Comprehend units and
--   dollars of the month) is added for new comments and for what
--   Comprehend billed, even on a replay: that money was spent; a deletion
--   refunds none. Returns {created, replayed, deleted} (deleted: records
--   a deletion reversed), and as a fourth element the ids of the deletions
--   not applied because their record changed, when there are any.
--   Arguments are checked before the first write; an error reply means
--   nothing was written.
--
-- es_enrich_public(no keys; ARGV = operations)
--   The public parts of a batch's comments (lib/es_record.h), shared by
--   every tenant that stores the comment. Operations:
--     "P", creation hour YYYYMMDDHH, EXPIREAT time, comment id, public
--       part: HSETNX into the hour's public bucket es:{c}:<hour> (split
--       like the tenant buckets, the split kept in es:{c}:s:<YYYYMMDD>); a
--       part longer than ES.PUBLIC_INLINE_MAX goes to es:{c}:<hour>:l and
--       the bucket holds ES.LONG, so one long comment does not make Redis
--       convert its bucket out of the listpack encoding;
--     "T", hour, EXPIREAT time, title reference, title: HSETNX into the
--       hour's title table es:{c}:<hour>:t (a post's title, once for all
--       its comments);
--     "X", hour, comment id: a deleted comment, whose existing part
--       becomes ES.GONE, so a replay cannot bring its text back.
--   Expiry times only ever grow (EXPIREAT NX, then GT): a comment's public
--   part lives as long as the longest retention of its tenants. The
--   worker sends the batch's "P" and "T" in a call before the tenants'
--   calls, so a tenant's record never lacks its public part, and its "X"
--   in a call after their replies, for the deletions every tenant
--   applied: a deletion retried later still finds the text and sentiment
--   it is computed from. Returns the number of parts written.
--
-- es_enrich_parts(KEYS[1] = the tenant's meta key; ARGV = prefix, now
--                 (s), hours, then pairs: comment id, creation hour
--                 YYYYMMDDHH or "")
--   What the batch's deletions reverse: per pair, three elements: the
--   hour of the record, its tenant part and its public part (false when
--   absent). A pair without an hour (a deletion entry that does not
--   carry its comment's creation time) is looked for from a day ahead of
--   now back through hours hours (the tenant's retention), then in the
--   hours outside that window that records were written into (the
--   tenant's es:{t:<T>}:crh, which es_enrich_write and the migration
--   keep: backfilled history); its hour is "" when no bucket holds it.
--
-- es_enrich_migrate(no keys; ARGV = lock key, lock token, lock lifetime
--                   (ms), operation, then the operation's arguments)
--   The migration of schema 1 (one JSON string es:{t:<T>}:c:<id> per
--   comment and tenant, sorted sets of recent ids) to schema 2, for the
--   worker's migration (workers/enrich/migrate.c, docs/enrich.md). Every
--   operation first checks that the lock key holds the token and renews
--   it for the lifetime; when it does not (another worker took over a
--   lock that expired), the call fails with "ERR migration lock lost"
--   before any write. Operations:
--     "lock": nothing more (renews the lock between chunks); returns 1.
--     "records", tenant prefix, now (s), retention (s), a count n and n
--       triples (creation hour YYYYMMDDHH, the records the migration
--       will write into the tenant's bucket of the hour, and into the
--       public one: the split estimates), then eight arguments per
--       legacy record: its JSON text as the worker read it, creation
--       hour YYYYMMDDHH ("" = drop it: a tombstone), comment id, tenant
--       part, public part (lib/es_record.h), title reference ("" = no
--       title), the title (JSON-escaped), recent entry ("" = the comment
--       is beyond the tenant's retention: no recent entry). A record is
--       converted only while es:{t:<T>}:c:<id> still holds exactly the
--       text read (else it is counted as changed and left for the
--       worker's next pass); then its parts are placed as es_enrich_write
--       and es_enrich_public place them (the hour's split chosen with
--       ES.split_choose, HSETNX so a part already stored in schema 2
--       wins, long public parts in the hour's :l, the title in its :t,
--       the same expiry times, which only grow), its recent entry is
--       appended to es:{t:<T>}:rc:<topic>:<hour> of each of its topics
--       when its tenant part was new (an existing part brought its own),
--       and the legacy key is deleted, all in this one call, so a crash
--       never loses a record nor converts one twice. A new hour's split
--       is chosen for the records of its estimate (the records of the
--       call when it has none), not only for the call's share. The
--       tenant's data version dv is incremented when a record was
--       converted. Returns {converted, already stored in schema 2,
--       dropped, changed, public parts new, public parts already stored
--       that differ from a VADER record's}.
--     "done", version key, version: sets the schema version and deletes
--       the lock; returns 1.
--     "release": deletes the lock (a migration stopped before its end,
--       resumed by the next worker to take the lock); returns 1.
--   The keys span the tenant's and the public hash tags, so the function
--   declares none (as es_enrich_public): it runs on one Redis, which is
--   where schema 1 lived.
--
-- es_enrich_dlq(KEYS = stream, dead-letter stream; ARGV = group, stream id,
--               error, deliveries, dead-letter max length)
--   Copies a pending entry's fields into the dead-letter stream with error,
--   deliveries and stream_id, and acknowledges it, in one step: the entry
--   can never be both lost and left pending, nor dead-lettered twice.
--   Returns 1 when moved, 0 when it was no longer pending.

local PROTOCOL = ES.ENRICH_PROTOCOL
local USAGE_TTL = ES.TTL_USAGE
local LIVE_MAXLEN = ES.LIVE_MAXLEN -- redis.call sends a number as its digits
local GONE = ES.GONE

-- takes a record's share out: meta is "v|p p|p p" (what it added to its
-- sum slots, then the slots it added unit to, then those it added v to);
-- unit is 1 for a comment, -1 for a deletion
local function correct(adj, meta, unit)
  local b1 = string.find(meta, '|', 1, true)
  local b2 = string.find(meta, '|', b1 + 1, true)
  local v = tonumber(string.sub(meta, 1, b1 - 1))
  for i in string.gmatch(string.sub(meta, b1 + 1, b2 - 1), '%d+') do
    i = tonumber(i); adj[i] = (adj[i] or 0) + unit
  end
  for i in string.gmatch(string.sub(meta, b2 + 1), '%d+') do
    i = tonumber(i); adj[i] = (adj[i] or 0) + v
  end
end

-- the increment of slot pos, less the share of what was not applied
local function net(v, adj, pos)
  if adj ~= nil and adj[pos] ~= nil then
    return string.format('%d', tonumber(v) - adj[pos])
  end
  return v
end

-- s without the recent entry e (which starts with an id and ends with
-- ';', so a match at the start or after a ';' is the entry)
local function without(s, e)
  local from = 1
  while true do
    local a, b = string.find(s, e, from, true)
    if a == nil then return s end
    if a == 1 or string.sub(s, a - 1, a - 1) == ';' then
      return string.sub(s, 1, a - 1) .. string.sub(s, b + 1)
    end
    from = a + 1
  end
end

-- a deletion's key ("H", "Z", "A"): its pairs args[j..e], the first at
-- slot pos + 1. A key only decremented must exist: one expired or never
-- written is left alone; a recent entry goes while a deletion applied
-- still takes it out.
local function apply_reversal(args, kind, k, exp, j, e, adj, pos)
  local f, v = {}, {}
  for c = j, e, 2 do
    pos = pos + 1
    local x = net(args[c + 1], adj, pos)
    if x ~= '0' then f[#f + 1] = args[c]; v[#v + 1] = x end
  end
  if #f == 0 then return pos end
  if kind == 'A' then
    local s = redis.call('GET', k)
    if not s then return pos end
    for c = 1, #f do s = without(s, f[c]) end
    if s == '' then
      redis.call('DEL', k)
    else
      redis.call('SET', k, s, 'KEEPTTL')
    end
    return pos
  end
  if redis.call('EXISTS', k) == 0 then return pos end
  for c = 1, #f do
    if kind == 'H' then
      redis.call('HINCRBY', k, f[c], v[c])
    else
      redis.call('ZINCRBY', k, v[c], f[c])
    end
  end
  if kind == 'Z' then redis.call('ZREMRANGEBYSCORE', k, '-inf', '0') end
  redis.call('EXPIREAT', k, exp)
  return pos
end

-- the worker's summed increments, args[i..last]: kind, key, expiry, n,
-- then n pairs; adj (nil when every record was applied) holds per slot
-- position the share of those that were not
local function apply_ops(args, i, last, adj)
  local pos = 0
  while i <= last do
    local kind, k, exp = args[i], args[i + 1], args[i + 2]
    local n = tonumber(args[i + 3])
    local j, e = i + 4, i + 3 + 2 * n
    if kind == 'a' then
      local a = {}
      for c = j, e, 2 do
        pos = pos + 1
        if adj == nil or adj[pos] == nil then a[#a + 1] = args[c] end
      end
      if #a > 0 then
        -- SET of the whole text, not APPEND: APPEND leaves the string
        -- room to grow (up to its size again), which an hour's index,
        -- written a batch at a time, would keep for its whole life
        redis.call('SET', k, (redis.call('GET', k) or '') .. table.concat(a),
                   'EXAT', exp)
      end
    elseif kind == 'h' or kind == 'z' then
      local wrote = false
      for c = j, e, 2 do
        pos = pos + 1
        local v = net(args[c + 1], adj, pos)
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
    else
      pos = apply_reversal(args, kind, k, exp, j, e, adj, pos)
    end
    i = e + 1
  end
end

-- the helpers every library shares (lib/redis/prelude/shared.lua)
local whole, bad = ES.whole, ES.bad

local INT = '^%-?%d+$'
local KINDS = {h = true, z = true, a = true, H = true, Z = true, A = true}
local META = '^%-?%d+|[%d ]*|[%d ]*$'
local ENTRY = '^[0-9a-z]+:%a[0-9a-z]+;$'
local ID = '^[0-9a-z]+$'

-- The summed increments args[i..last] (see apply_ops), checked.
local function check_ops(args, i, last)
  while i <= last do
    local kind, n = args[i], whole(args[i + 3], 0, 2 ^ 31)
    if not KINDS[kind] then
      return bad('increment kind at argument ' .. i)
    end
    if args[i + 1] == nil or whole(args[i + 2], 0, 2 ^ 53) == nil or
       n == nil or i + 3 + 2 * n > last then
      return bad('increment at argument ' .. i)
    end
    for c = i + 4, i + 3 + 2 * n, 2 do
      local v = args[c + 1]
      if not string.match(v, INT) or #v > 18 or
         ((kind == 'a' or kind == 'A') and
          not string.match(args[c], ENTRY)) then
        return bad('increment value at argument ' .. c)
      end
    end
    i = i + 4 + 2 * n
  end
  return nil
end

-- The records args[a..], checked: old is the prefix of a record key of
-- protocols 3 and 4.
local function check_records(args, a, old)
  local nargs = #args
  while a <= nargs do
    local op = args[a]
    local first = op == 'D' and args[a + 1] or op
    if op == 'd' or (first ~= nil and string.sub(first, 1, #old) == old) then
      return bad('es_enrich_write speaks protocol ' .. PROTOCOL ..
        ': argument ' .. a .. ' is a record key of protocol 3 or 4 ' ..
        '(one key per comment); a worker of protocol ' .. PROTOCOL ..
        ' sends the creation hour, the id and the tenant part')
    end
    local n = op == 'D' and 5 or 4
    local h = op == 'D' and args[a + 1] or op
    if a + n - 1 > nargs then
      return bad('truncated record at argument ' .. a)
    end
    local meta = args[a + n - 1]
    if op == 'D' and h == '' then
      -- a deletion without its comment's hour expects nothing
      if args[a + 3] ~= '' or meta ~= '' or
         not string.match(args[a + 2], ID) then
        return bad('record at argument ' .. a)
      end
    elseif ES.hour_of(h) == nil or
       not string.match(args[op == 'D' and a + 2 or a + 1], ID) or
       ((op ~= 'D' or meta ~= '') and not string.match(meta, META)) then
      return bad('record at argument ' .. a)
    end
    a = a + n
  end
  return nil
end

-- Everything es_enrich_write reads, checked before its first write: a
-- record written by a call that then fails would count as a replay on
-- every retry and never get its increments.
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
  return check_records(args, rec0, pre .. 'c:')
end

-- when the records of hour h expire: a retention after the hour ends,
-- or after now when that is later
local function bucket_expiry(h, now, ret)
  return math.max((ES.hour_of(h) + 1) * 3600, now) + ret
end

-- The records of the call (args[rec0..]), each hour's bucket split as
-- its first write chose (new hours choose for the comments here); returns
-- the hours' states: key -> {base, split, day format, created}.
local function record_hours(pre, args, rec0, now, ret)
  local hours, here = {}, {}
  local a = rec0
  while a <= #args do
    if args[a] == 'D' then
      local h = args[a + 1]
      if h ~= '' then here[h] = here[h] or 0 end
      a = a + 5
    else
      here[args[a]] = (here[args[a]] or 0) + 1
      a = a + 4
    end
  end
  local dayfmt = pre .. string.format(ES.KEY.RECORD_SPLIT, '%s')
  for h, n in pairs(here) do
    local exp = bucket_expiry(h, now, ret)
    hours[h] = {base = pre .. string.format(ES.KEY.RECORDS, h), exp = exp,
                split = ES.split_choose(dayfmt, h, n, exp), created = 0}
  end
  return hours, dayfmt
end

-- Whether the tenant part of comment id is in hour name's bucket.
local function held(pre, dayfmt, name, id)
  local base = pre .. string.format(ES.KEY.RECORDS, name)
  local k = ES.sub_bucket(base, ES.split_get(dayfmt, name) or 1, id)
  return redis.call('HEXISTS', k, id) == 1
end

-- The hours locate() walks, for a tenant keeping records ret seconds:
-- from a day ahead of now back through the retention.
local function window(now, ret)
  local hr = math.floor(now / 3600)
  return hr - math.floor(ret / 3600) - 1, hr + 24
end

-- The hour YYYYMMDDHH whose bucket holds the tenant part of comment id,
-- or nil (for a deletion that does not carry its comment's creation
-- time): the window's hours newest first, then the hours outside it
-- that records were written into (ES.KEY.FAR_HOURS: backfilled history).
local function locate(pre, id, now, ret)
  local dayfmt = pre .. string.format(ES.KEY.RECORD_SPLIT, '%s')
  local lo, hr = window(now, ret)
  while hr >= lo do
    local name = ES.hour_name(hr)
    if held(pre, dayfmt, name, id) then return name end
    hr = hr - 1
  end
  for _, name in ipairs(redis.call('SMEMBERS', pre .. ES.KEY.FAR_HOURS)) do
    if ES.hour_of(name) and held(pre, dayfmt, name, id) then return name end
  end
  return nil
end

-- Notes the hours of hs (name -> state with created) that got records
-- and lie outside locate()'s window, so locate() still finds them.
local function note_far(pre, hs, now, ret)
  local lo, hi = window(now, ret)
  local far = {}
  for h, st in pairs(hs) do
    local n = ES.hour_of(h)
    if st.created > 0 and (n < lo or n > hi) then far[#far + 1] = h end
  end
  if #far > 0 then
    redis.call('SADD', pre .. ES.KEY.FAR_HOURS, unpack(far))
    redis.call('EXPIRE', pre .. ES.KEY.FAR_HOURS, ret)
  end
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
  local adj = nil
  local created, replayed, deleted = 0, 0, 0
  local live, lhours, stale, touched = {}, {}, {}, {}
  local hours, dayfmt = record_hours(pre, args, rec0, now, ret)
  -- deletions that came before their comment, without its hour: looked
  -- up per comment only while there are any (one EXISTS a call)
  local early = pre .. ES.KEY.EARLY_GONE
  if redis.call('EXISTS', early) == 0 then early = nil end
  local a = rec0
  local nargs = #args
  while a <= nargs do
    local op = args[a]
    if op ~= 'D' then
      -- a comment: hour, id, tenant part, meta (see correct)
      local hs, id = hours[op], args[a + 1]
      local k = ES.sub_bucket(hs.base, hs.split, id)
      if early and redis.call('HDEL', early, id) == 1 then
        -- deleted already: its bucket gets the tombstone, and its
        -- share is taken out like a replay's
        redis.call('HSET', k, id, GONE)
        touched[k] = hs.exp
        replayed = replayed + 1
        if adj == nil then adj = {} end
        correct(adj, args[a + 3], 1)
      elseif redis.call('HSETNX', k, id, args[a + 2]) == 1 then
        created = created + 1
        live[created] = id
        lhours[created] = op
        hs.created = hs.created + 1
        touched[k] = hs.exp
      else
        replayed = replayed + 1
        if adj == nil then adj = {} end
        correct(adj, args[a + 3], 1)
      end
      a = a + 4
    elseif args[a + 1] == '' then
      -- a deletion the worker found no record for and that carries no
      -- creation time: its tombstone waits in the early hash for the
      -- comment, unless a record appeared since the worker looked (then
      -- it is computed again from that record)
      local id = args[a + 2]
      if locate(pre, id, now, ret) then
        stale[#stale + 1] = id
      else
        early = pre .. ES.KEY.EARLY_GONE
        redis.call('HSET', early, id, '1')
        redis.call('EXPIRE', early, ret)
      end
      a = a + 5
    else
      -- a deletion: "D", hour, id, the part it expects, meta
      local hs, id, want, meta = hours[args[a + 1]], args[a + 2], args[a + 3],
        args[a + 4]
      local k = ES.sub_bucket(hs.base, hs.split, id)
      local v = redis.call('HGET', k, id) or ''
      if v ~= GONE and v == want then
        redis.call('HSET', k, id, GONE)
        touched[k] = hs.exp
        if meta ~= '' then deleted = deleted + 1 end
      else
        if v ~= GONE then stale[#stale + 1] = id end
        if meta ~= '' then
          if adj == nil then adj = {} end
          correct(adj, meta, -1)
        end
      end
      a = a + 5
    end
  end
  for k, exp in pairs(touched) do redis.call('EXPIREAT', k, exp) end
  for h, hs in pairs(hours) do ES.split_count(dayfmt, h, hs.created) end
  if created > 0 then note_far(pre, hours, now, ret) end
  apply_ops(args, 8, rec0 - 1, adj)
  if created > 0 or units > 0 or usd > 0 then
    local uk = pre .. string.format(ES.KEY.USAGE, month)
    if created > 0 then
      redis.call('HINCRBY', uk, ES.USAGE.COMMENTS, created)
    end
    if units > 0 then
      redis.call('HINCRBY', uk, ES.USAGE.UNITS, units)
    end
    if usd > 0 then
      redis.call('HINCRBY', uk, ES.USAGE.USD, usd)
    end
    redis.call('EXPIRE', uk, USAGE_TTL)
  end
  if created > 0 and keys[2] ~= nil then
    -- one hour for all (the common case) or one per id
    local same = true
    for i = 2, created do same = same and lhours[i] == lhours[1] end
    redis.call('XADD', keys[2], 'MAXLEN', '~', LIVE_MAXLEN, '*', 'ids',
               table.concat(live, ','), 'hours',
               same and lhours[1] or table.concat(lhours, ','))
  end
  if created > 0 or deleted > 0 then
    redis.call('INCR', pre .. ES.KEY.DV)
  end
  if #stale > 0 then return {created, replayed, deleted, stale} end
  return {created, replayed, deleted}
end

-- the public parts of a batch (see the header)
local function enrich_public(_, args)
  local a, n, here = 1, #args, {}
  while a <= n do
    local op = args[a]
    local m = (op == 'P' or op == 'T') and 5 or 3
    local id = args[op == 'X' and a + 2 or a + 3]
    if (op ~= 'P' and op ~= 'X' and op ~= 'T') or a + m - 1 > n or
       ES.hour_of(args[a + 1]) == nil or
       not string.match(id or '', op == 'T' and '^%x+$' or ID) or
       (op ~= 'X' and whole(args[a + 2], 0, 2 ^ 40) == nil) then
      return bad('public part operation at argument ' .. a)
    end
    if op == 'P' then
      local h = args[a + 1]
      here[h] = here[h] or {n = 0, exp = 0, new = 0}
      here[h].n = here[h].n + 1
      here[h].exp = math.max(here[h].exp, tonumber(args[a + 2]))
    end
    a = a + m
  end
  local dayfmt = ES.PUBLIC_SPLIT .. '%s'
  local splits = {}
  for h, st in pairs(here) do
    splits[h] = ES.split_choose(dayfmt, h, st.n, st.exp)
  end
  local written, touched = 0, {}
  a = 1
  while a <= n do
    local h = args[a + 1]
    if args[a] == 'P' then
      local id, part, exp = args[a + 3], args[a + 4], tonumber(args[a + 2])
      local k = ES.sub_bucket(ES.PUBLIC .. h, splits[h], id)
      local v = part
      if #part > ES.PUBLIC_INLINE_MAX then v = ES.LONG end
      if redis.call('HSETNX', k, id, v) == 1 then
        written = written + 1
        here[h].new = here[h].new + 1
        if v == ES.LONG then
          local lk = ES.PUBLIC .. h .. ':l'
          redis.call('HSET', lk, id, part)
          touched[lk] = math.max(touched[lk] or 0, exp)
        end
      end
      touched[k] = math.max(touched[k] or 0, exp)
      a = a + 5
    elseif args[a] == 'T' then
      -- a post's title, once in the hour's table
      local tk, exp = ES.PUBLIC .. h .. ':t', tonumber(args[a + 2])
      redis.call('HSETNX', tk, args[a + 3], args[a + 4])
      touched[tk] = math.max(touched[tk] or 0, exp)
      a = a + 5
    else
      local id = args[a + 2]
      local k = ES.sub_bucket(ES.PUBLIC .. h,
                              ES.split_get(dayfmt, h) or 1, id)
      local v = redis.call('HGET', k, id)
      if v and v ~= GONE then
        redis.call('HSET', k, id, GONE)
        if v == ES.LONG then redis.call('HDEL', ES.PUBLIC .. h .. ':l', id) end
        written = written + 1
      end
      a = a + 3
    end
  end
  for k, exp in pairs(touched) do
    redis.call('EXPIREAT', k, exp, 'NX')
    redis.call('EXPIREAT', k, exp, 'GT')
  end
  for h, st in pairs(here) do ES.split_count(dayfmt, h, st.new) end
  return written
end

-- the stored parts of comment id of hour h (tenant part, public part or
-- false each); splits caches the hours' splits of the call
local function stored_parts(pre, id, h, splits)
  local tk = 't' .. h
  if splits[tk] == nil then
    splits[tk] = ES.split_get(pre .. string.format(ES.KEY.RECORD_SPLIT, '%s'),
                              h) or 1
    splits['p' .. h] = ES.split_get(ES.PUBLIC_SPLIT .. '%s', h) or 1
  end
  local tp = redis.call('HGET', ES.sub_bucket(
    pre .. string.format(ES.KEY.RECORDS, h), splits[tk], id), id)
  local pp = redis.call('HGET',
    ES.sub_bucket(ES.PUBLIC .. h, splits['p' .. h], id), id)
  if pp == ES.LONG then
    pp = redis.call('HGET', ES.PUBLIC .. h .. ':l', id)
  end
  return tp, pp
end

-- what a batch's deletions reverse (see the header)
local function enrich_parts(keys, args)
  local pre, now, span = args[1], whole(args[2], 1, 2 ^ 40),
    whole(args[3], 0, 24 * 3660)
  if keys[1] == nil or pre == nil or
     not string.match(pre, '^es:{t:[%w_%-]+}:$') or now == nil or
     span == nil or #args % 2 ~= 1 then
    return bad('es_enrich_parts needs the meta key, prefix, now, hours ' ..
      'and pairs of comment id and hour')
  end
  for i = 4, #args, 2 do
    if not string.match(args[i], ID) or
       (args[i + 1] ~= '' and ES.hour_of(args[i + 1]) == nil) then
      return bad('comment id and hour at argument ' .. i)
    end
  end
  local out, splits = {}, {}
  for i = 4, #args, 2 do
    local id, h = args[i], args[i + 1]
    local tp, pp = false, false
    if h ~= '' then
      tp, pp = stored_parts(pre, id, h, splits)
    else
      -- span is the retention in hours, plus one
      h = locate(pre, id, now, (span - 1) * 3600) or ''
      if h ~= '' then tp, pp = stored_parts(pre, id, h, splits) end
    end
    out[#out + 1] = h
    out[#out + 1] = tp or false
    out[#out + 1] = pp or false
  end
  return out
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

-- The migration from schema 1 (see the header): one chunk of a tenant's
-- legacy records, args[5..] as the header lists them.
local MIG_STRIDE = 8

-- the first record's argument, or nil and an error reply
local function check_migrate(args)
  local pre, nh = args[5], whole(args[8], 0, 2 ^ 20)
  local rec0 = nh and 9 + 3 * nh
  if pre == nil or not string.match(pre, '^es:{t:[%w_%-]+}:$') or
     whole(args[6], 1, 2 ^ 40) == nil or whole(args[7], 1, 2 ^ 31) == nil or
     rec0 == nil or rec0 > #args + 1 or
     (#args - rec0 + 1) % MIG_STRIDE ~= 0 then
    return nil, bad('es_enrich_migrate records needs the tenant prefix, ' ..
      'now, retention, the hours\' estimates and eight arguments a record')
  end
  for a = 9, rec0 - 1, 3 do
    if ES.hour_of(args[a]) == nil or whole(args[a + 1], 0, 2 ^ 40) == nil or
       whole(args[a + 2], 0, 2 ^ 40) == nil then
      return nil, bad('hour estimate at argument ' .. a)
    end
  end
  for a = rec0, #args, MIG_STRIDE do
    local h, e = args[a + 1], args[a + 7]
    if not string.match(args[a + 2], ID) or
       (h ~= '' and (ES.hour_of(h) == nil or args[a + 3] == '' or
                     args[a + 4] == '')) or
       (args[a + 5] ~= '' and not string.match(args[a + 5], '^%x+$')) or
       (e ~= '' and not string.match(e, ENTRY)) then
      return nil, bad('legacy record at argument ' .. a)
    end
  end
  return rec0
end

-- the public part stored for id in bucket k ('' when none)
local function public_stored(k, h, id)
  local v = redis.call('HGET', k, id) or ''
  if v == ES.LONG then v = redis.call('HGET', ES.PUBLIC .. h .. ':l', id) end
  return v or ''
end

-- grows key k's expiry to exp (never shortens it)
local function expire_grow(k, exp)
  redis.call('EXPIREAT', k, exp, 'NX')
  redis.call('EXPIREAT', k, exp, 'GT')
end

-- (checked by check_migrate; rec0 its answer)
local function migrate_records(args, rec0)
  local pre, now, ret = args[5], tonumber(args[6]), tonumber(args[7])
  local keep = math.max(ret, ES.TTL_MINUTE)
  local tday = pre .. string.format(ES.KEY.RECORD_SPLIT, '%s')
  local pday = ES.PUBLIC_SPLIT .. '%s'
  local here, est = {}, {}
  for a = rec0, #args, MIG_STRIDE do
    local h = args[a + 1]
    if h ~= '' then here[h] = (here[h] or 0) + 1 end
  end
  for a = 9, rec0 - 1, 3 do
    est[args[a]] = {tonumber(args[a + 1]), tonumber(args[a + 2])}
  end
  local hours = {}
  for h, n in pairs(here) do
    local hend = (ES.hour_of(h) + 1) * 3600
    local exp = math.max(hend, now) + ret
    local pexp = math.max(hend, now) + keep
    -- split_choose sizes a new hour for eight times what it is given
    local e = est[h] or {n, n}
    hours[h] = {
      base = pre .. string.format(ES.KEY.RECORDS, h), exp = exp, pexp = pexp,
      split = ES.split_choose(tday, h, math.ceil(math.max(e[1], n) / 8), exp),
      psplit = ES.split_choose(pday, h, math.ceil(math.max(e[2], n) / 8),
                               pexp),
      created = 0, pnew = 0}
  end
  -- the legacy keys, read in one command (each redis.call costs as much
  -- as a small command): a record converts while its key holds the text
  -- the worker read
  local olds, texts = {}, {}
  for a = rec0, #args, MIG_STRIDE do
    olds[#olds + 1] = pre .. 'c:' .. args[a + 2]
  end
  for i = 1, #olds, 1000 do
    local got = redis.call('MGET', unpack(olds, i, math.min(i + 999, #olds)))
    for j = 1, #got do texts[i + j - 1] = got[j] end
  end
  local conv, existed, dropped, changed, pnew, pdiff = 0, 0, 0, 0, 0, 0
  local tkeys, pkeys, recent, titles, dels = {}, {}, {}, {}, {}
  local r = 0
  for a = rec0, #args, MIG_STRIDE do
    local h, id = args[a + 1], args[a + 2]
    r = r + 1
    if texts[r] ~= args[a] then
      changed = changed + 1
    elseif h == '' then
      dels[#dels + 1] = olds[r]
      dropped = dropped + 1
    else
      local hs, tp, pp = hours[h], args[a + 3], args[a + 4]
      local k = ES.sub_bucket(hs.base, hs.split, id)
      if redis.call('HSETNX', k, id, tp) == 1 then
        conv = conv + 1
        hs.created = hs.created + 1
        tkeys[k] = hs.exp
        local e = args[a + 7]
        if e ~= '' then
          -- the topics are the tenant part's first field
          for tid in string.gmatch(string.match(tp, '^[^\31]*'), '[^,]+') do
            local rk = pre .. string.format(ES.KEY.RECENT, tid, h)
            local rc = recent[rk]
            if rc == nil then rc = {exp = hs.exp, e = {}}; recent[rk] = rc end
            rc.e[#rc.e + 1] = e
          end
        end
      else
        existed = existed + 1
      end
      local pk = ES.sub_bucket(ES.PUBLIC .. h, hs.psplit, id)
      local v = pp
      if #pp > ES.PUBLIC_INLINE_MAX then v = ES.LONG end
      if redis.call('HSETNX', pk, id, v) == 1 then
        pnew = pnew + 1
        hs.pnew = hs.pnew + 1
        if v == ES.LONG then
          local lk = ES.PUBLIC .. h .. ':l'
          redis.call('HSET', lk, id, pp)
          pkeys[lk] = hs.pexp
        end
      elseif string.match(tp, '^[^\31]*\31(.)') == 'v' and
             public_stored(pk, h, id) ~= pp then
        -- a VADER record's own part differs (a Comprehend record's VADER
        -- is the body scored now, and may well differ)
        pdiff = pdiff + 1
      end
      pkeys[pk] = hs.pexp
      local tk = args[a + 5] ~= '' and ES.PUBLIC .. h .. ':t'
      if tk and not titles[tk .. args[a + 5]] then
        -- a post's title once a call, as many comments share it
        titles[tk .. args[a + 5]] = true
        redis.call('HSETNX', tk, args[a + 5], args[a + 6])
        pkeys[tk] = hs.pexp
      end
      dels[#dels + 1] = olds[r]
    end
  end
  for i = 1, #dels, 1000 do
    redis.call('DEL', unpack(dels, i, math.min(i + 999, #dels)))
  end
  -- the tenant's keys have this migration's expiry, which only grows
  -- from call to call; the public ones may have a longer one from
  -- another tenant
  for k, exp in pairs(tkeys) do redis.call('EXPIREAT', k, exp) end
  for k, exp in pairs(pkeys) do expire_grow(k, exp) end
  for rk, rc in pairs(recent) do
    -- one SET of the whole text (see apply_ops)
    redis.call('SET', rk, (redis.call('GET', rk) or '') .. table.concat(rc.e),
               'EXAT', rc.exp)
  end
  for h, hs in pairs(hours) do
    ES.split_count(tday, h, hs.created)
    ES.split_count(pday, h, hs.pnew)
  end
  if conv > 0 then
    note_far(pre, hours, now, ret)
    redis.call('INCR', pre .. ES.KEY.DV)
  end
  return {conv, existed, dropped, changed, pnew, pdiff}
end

local function enrich_migrate(_, args)
  local lock, token, op = args[1], args[2], args[4]
  if lock == nil or token == nil or whole(args[3], 1000, 2 ^ 31) == nil or
     (op ~= 'lock' and op ~= 'records' and op ~= 'done' and
      op ~= 'release') then
    return bad('es_enrich_migrate needs the lock key, token, lifetime ' ..
      'and an operation: lock, records, done or release')
  end
  local rec0, err
  if op == 'records' then
    rec0, err = check_migrate(args)
    if err then return err end
  elseif op == 'done' and (args[5] == nil or args[6] == nil) then
    return bad('es_enrich_migrate done needs the version key and version')
  end
  if redis.call('GET', lock) ~= token then
    return redis.error_reply('ERR migration lock lost')
  end
  redis.call('PEXPIRE', lock, args[3])
  if op == 'lock' then return 1 end
  if op == 'done' then redis.call('SET', args[5], args[6]) end
  if op == 'done' or op == 'release' then
    redis.call('DEL', lock)
    return 1
  end
  return migrate_records(args, rec0)
end

redis.register_function('es_enrich_write', enrich_write)
redis.register_function('es_enrich_public', enrich_public)
redis.register_function('es_enrich_parts', enrich_parts)
redis.register_function('es_enrich_dlq', enrich_dlq)
redis.register_function('es_enrich_migrate', enrich_migrate)
