#!lua name=echostream_tenant
-- version: 8
--
-- lib/redis/tenant.lua - the Redis function library
-- "echostream_tenant": every write the API makes to a tenant's topics,
-- alert rules, members (and their mail opt-ins), invites, settings and
-- summary requests.
--
-- Each write is one FCALL, so what must change together does (a topic and
-- the watch union ingest polls; an invite and its per-e-mail record), the
-- checks that decide a race (create vs. exists, update vs. missing, the
-- 100-topic limit, the last owner) run inside the same atomic step, and
-- concurrent requests on any nginx worker see one order. Errors come back
-- as "<CODE> <message>" (CONFLICT → 409, NOTFOUND → 404, NOTOPIC and
-- NOREF → 422, STALE → the caller's compare-and-set lost, it re-reads and
-- retries);
-- any other error is a server fault. Every function first checks that it
-- got the KEYS and ARGV it reads and that its numbers are numbers: Redis
-- keeps what a function wrote before an error, so a call refused there
-- ("ERR …") has written nothing. Stored JSON is decoded with pcall and
-- a value that does not decode is treated as absent, never trusted.
--
-- The watch union and the version counters are global keys ({watch},
-- {topics}, {tenants}) next to the tenant's {t:<tenant>} keys: the API
-- runs against one Redis, where a function may touch any key it is given.
--
-- es_item_put(KEYS = the items' hash es:{t:T}:<kind>, the hash a
--             reference must name an item of (the items' hash again when
--             the kind has none), then the hook's keys;
--             ARGV = what ("topic", "rule": for messages), mode
--             "create"|"replace", expected old JSON ("" = any), id, item
--             JSON, limit, referenced id ("" = none), hook ("" = none),
--             then the hook's arguments)
--   The one write of a tenant item of any kind (topics, alert rules, …:
--   the module's item layer, api/ngx_http_echostream_items.c). create:
--   CONFLICT when the id exists or the tenant has the limit; replace:
--   NOTFOUND when missing, STALE when expected is not "" and not the
--   stored value (PATCH's compare-and-set); NOREF <id> when the referenced
--   id is not in KEYS[2]. Stores the JSON and runs the hook. Returns 1.
--
-- es_item_delete(KEYS = the items' hash, then the hook's keys;
--                ARGV = what, id, hook ("" = none))
--   NOTFOUND, or deletes the item and runs the hook. Whatever else the
--   item gathered (a topic's series, terms and comment keys) is left to
--   expire.
--
--   Hooks, what a kind's write changes besides its hash; a kind without
--   one needs nothing here:
--   "topic" (keys: the tenant's data version es:{t:T}:dv,
--   es:{watch}:subs, es:{watch}:version, es:{topics}:version, and for a
--   put es:{tenants}:all; put arguments: tenant, subreddit...): moves the
--   watch union ingest polls (+1 per new subreddit, -1 per subreddit of
--   the old version, net; a count reaching 0 is deleted), INCRs
--   es:{watch}:version when a count changed, always INCRs
--   es:{topics}:version (enrich reloads topics) and the data version
--   (cached series answers of the tenant are stale), and on a put adds
--   the tenant to es:{tenants}:all (enrich loads only listed tenants).
--
-- es_topic_put, es_topic_delete, es_rule_put: the item writes of version
--   4, kept with their old KEYS and ARGV for nginx workers of that
--   version still draining during an upgrade; each is es_item_put or
--   es_item_delete (the topic hook for topics) with the same checks and
--   effects.
--   es_topic_put(KEYS = es:{t:T}:topics, es:{watch}:subs,
--                es:{watch}:version, es:{topics}:version, es:{tenants}:all;
--                ARGV = mode, expected, id, topic JSON, limit, tenant,
--                subreddit...)
--   es_topic_delete(KEYS = the first four of es_topic_put; ARGV = id)
--   es_rule_put(KEYS = es:{t:T}:alerts:rules, es:{t:T}:topics;
--               ARGV = mode, expected, id, rule JSON, rule limit, topic
--               id; NOTOPIC instead of NOREF)
--
-- es_member_invite(KEYS = es:{t:T}:invites, es:{invites}:<sha256 hex of
--                  the e-mail>, es:{t:T}:members;
--                  ARGV = tenant, lower-case e-mail, role, inviter's sub,
--                  now (ms), lifetime (s), invite limit, invite JSON,
--                  invite id, inviter's e-mail)
--   CONFLICT when a member of the tenant has the e-mail, or at the limit
--   (expired entries of es:{t:T}:invites are pruned first). Writes the
--   tenant's entry (the invite JSON, which holds the id) and the tenant's
--   field of the per-e-mail hash (tenant → {"id","role","invited_by",
--   "invited_by_email","created_ms","expires_ms"}), whose TTL is raised to
--   the lifetime; inviting again renews, with a new id. Several tenants
--   may invite one e-mail: an answer must never tell one tenant what
--   another did.
--
-- es_member_remove(KEYS = es:{t:T}:members, es:{users}:<sub>;
--                  ARGV = tenant, sub)
--   NOTFOUND; CONFLICT when the member is the tenant's last owner.
--   Removes the membership and adds the sub to es:{t:T}:removed; the user
--   record stays, so the removal sticks (sign-in finds no membership and
--   gives no tenant). Returns 1.
--
-- es_invites_list(KEYS = es:{invites}:<sha256>; ARGV = e-mail, now)
--   The invites still valid (not past expires_ms, still filed by their
--   tenant under the same id), each as JSON {"id","tenant","role",
--   "invited_by","invited_by_email","created_ms","expires_ms"}; invalid
--   ones are pruned.
--
-- es_invite_accept(KEYS = es:{users}:<sub>, es:{invites}:<sha256>,
--                  es:{tenants}:all, es:{topics}:version,
--                  es:{watch}:subs, es:{watch}:version;
--                  ARGV = sub, e-mail, invite id, confirm "1"|"0", now)
--   NOTFOUND (no such valid invite), GONE (past its end; pruned), CONFLICT
--   (already a member there; the only owner of a tenant with other
--   members), CONFIRM (the user is the only member of their tenant and
--   confirm is not "1": the message says what would be deleted). Else
--   moves the membership (leaving the old tenant, or detaching it when it
--   would be empty: topics out of the watch union, its state keys deleted,
--   out of the tenant set), consumes the invite, and returns {tenant,
--   role, deleted tenant or ""}.
--
-- es_invite_decline(KEYS = es:{invites}:<sha256>; ARGV = e-mail, id)
--   NOTFOUND, or deletes the invite on both sides. Returns 1.
--
-- es_invite_remove(KEYS = es:{t:T}:invites, es:{invites}:<sha256>;
--                  ARGV = tenant, lower-case e-mail)
--   Deletes the tenant's entry and its field of the per-e-mail hash;
--   NOTFOUND when neither existed. Returns 1.
--
-- es_member_optins(KEYS = es:{t:T}:members;
--                  ARGV = sub, digest, alert_email: each "1" (on), "0"
--                  (off) or "" (unchanged))
--   A member's own mail opt-ins (PATCH /me; an unsubscribe link turns
--   one off). NOTFOUND when the tenant has no such member (an unknown
--   tenant included: nothing is written, no key is made). Sets only
--   those two members of the record and keeps the rest; a record that
--   does not decode is refused ("ERR", untouched). Returns the record as
--   stored now.
--
-- es_settings_put(KEYS = es:{t:T}:meta, es:{topics}:version;
--                 ARGV = field, value, … ("" deletes the field))
--   Only engine, comprehend_budget_usd, retention_days, summary_hour,
--   time_zone and bedrock_budget_usd. INCRs the version when anything was
--   given (the workers reload). Returns HMGET of the six fields, in that
--   order.
-- es_settings_set: the same with the three fields of version 5, and
--   their HMGET, for nginx workers of that version.
--
-- es_summary_request(KEYS = es:{t:T}:topics, es:{summaries}:requests,
--                    es:{t:T}:summary_requests, es:{t:T}:summary_pending;
--                    ARGV = tenant, request id, topic id ("" = all),
--                    requested_by, requested_ms, request JSON, stream
--                    MAXLEN, requests kept per tenant)
--   NOTOPIC when a topic is given and missing. When summary_pending
--   names a request for the topic ("*" for all) that is still queued or
--   running, adds nothing and returns {0, that request's JSON}. Else
--   XADDs the request (fields tenant, id, topic, requested_by,
--   requested_ms, kind "request"; MAXLEN ~), records its JSON under its
--   id, names it in summary_pending, keeps the newest requests only (ids
--   start with their time, so they sort by age) and returns {1, its
--   JSON}. Called with the first three KEYS only (version 5's nginx
--   workers), it queues without the check and returns 1.

-- errors are "<CODE> <message>": the module maps CODE to a status
local function fail(code, msg)
  return redis.error_reply(code .. ' ' .. msg)
end

local whole, bad, tkey = ES.whole, ES.bad, ES.tkey

-- fn, refusing a call with fewer KEYS or ARGV than it reads before it can
-- write anything: Redis keeps what a function wrote before an error
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

local function is_sub(s)
  return type(s) == 'string' and #s >= 2 and #s <= 21
    and string.find(s, '^[a-z0-9][a-z0-9_]*$') ~= nil
end

-- valid, de-duplicated subreddit names of list[first..]
local function sub_list(list, first)
  local out, seen = {}, {}
  for i = first, #list do
    local s = list[i]
    if is_sub(s) and not seen[s] then
      seen[s] = true
      out[#out + 1] = s
    end
  end
  return out
end

local function stored_subs(raw)
  local t = decode(raw)
  if t == nil or type(t.subreddits) ~= 'table' then
    redis.log(redis.LOG_WARNING, 'echostream_tenant: a stored topic ' ..
              'has no readable subreddits; its watch counts stay')
    return {}
  end
  return sub_list(t.subreddits, 1)
end

-- moves the watch union from the old names to the new ones
local function watch_move(subs_key, ver_key, old, new)
  local d, order = {}, {}
  for _, s in ipairs(new) do
    if d[s] == nil then order[#order + 1] = s end
    d[s] = (d[s] or 0) + 1
  end
  for _, s in ipairs(old) do
    if d[s] == nil then order[#order + 1] = s end
    d[s] = (d[s] or 0) - 1
  end
  local changed = false
  for _, s in ipairs(order) do
    if d[s] ~= 0 then
      local cur = tonumber(redis.call('HGET', subs_key, s) or '0')
      if cur == nil or cur ~= math.floor(cur) then cur = 0 end
      local n = cur + d[s]
      if n > 0 then
        redis.call('HSET', subs_key, s, n)
      else
        redis.call('HDEL', subs_key, s)
      end
      changed = true
    end
  end
  if changed then redis.call('INCR', ver_key) end
end

-- the tenant of one of its keys
local function tenant_of(key)
  return string.match(key, '^es:{t:([%w_%-]+)}:')
end

-- The checks of a write to a hash of a tenant's items (topics, rules):
-- create needs a new id and room under the limit, replace an existing
-- item, unchanged since expected was read unless expected is "". Returns
-- the stored value (nil for a create), or nil and the error reply.
local function item_write_check(hash, what, mode, expected, id, max)
  local old = redis.call('HGET', hash, id)
  if mode == 'create' then
    if old then
      return nil, fail('CONFLICT', what .. ' ' .. id .. ' already exists')
    end
    if redis.call('HLEN', hash) >= max then
      return nil, fail('CONFLICT', what .. ' limit reached (' .. max ..
                       ' ' .. what .. 's)')
    end
  else
    if not old then return nil, fail('NOTFOUND', 'no such ' .. what) end
    if expected ~= '' and expected ~= old then
      return nil, fail('STALE', what .. ' changed meanwhile')
    end
  end
  return old, nil
end

-- what a kind's write changes besides its hash (see the header); each
-- hook reads keys from k (its first key) and arguments from a
local HOOKS = {
  topic = {
    nkeys = 4, nargs = 0, put_nkeys = 5, put_nargs = 1,
    put = function(keys, k, args, a, old)
      watch_move(keys[k + 1], keys[k + 2], old and stored_subs(old) or {},
                 sub_list(args, a + 1))
      redis.call('INCR', keys[k + 3])
      redis.call('INCR', keys[k])
      redis.call('SADD', keys[k + 4], args[a])
    end,
    delete = function(keys, k, _, _, old)
      watch_move(keys[k + 1], keys[k + 2], stored_subs(old), {})
      redis.call('INCR', keys[k + 3])
      redis.call('INCR', keys[k])
    end,
  },
}

-- the hook named h, checked with its KEYS from k and ARGV from a, for
-- the items hash of tenant; false for none, or nil and the error reply
local function hook_of(h, tenant, keys, k, args, a, put)
  if h == '' then return false, nil end
  local hook = HOOKS[h]
  if hook == nil then return nil, bad('unknown hook ' .. tostring(h)) end
  local nk = put and hook.put_nkeys or hook.nkeys
  local na = put and hook.put_nargs or hook.nargs
  if #keys < k + nk - 1 or #args < a + na - 1 then
    return nil, bad('hook ' .. h .. ' needs ' .. nk .. ' keys and ' .. na ..
                    ' arguments')
  end
  if keys[k] ~= tkey(tenant, 'DV') then
    return nil, bad('hook ' .. h .. ': KEYS[' .. k .. '] is not the data ' ..
                    'version of the items\' tenant')
  end
  return hook, nil
end

local function item_put(keys, args)
  local what, mode, expected, id, json = args[1], args[2], args[3],
    args[4], args[5]
  local max, ref = whole(args[6], 0, 1000000), args[7]
  if mode ~= 'create' and mode ~= 'replace' then return bad('mode') end
  if max == nil then return bad(what .. ' limit') end
  local tenant = tenant_of(keys[1])
  if tenant == nil then return bad('KEYS[1] is not a tenant key') end
  local hook, herr = hook_of(args[8], tenant, keys, 3, args, 9, true)
  if herr then return herr end
  local old, err = item_write_check(keys[1], what, mode, expected, id, max)
  if err then return err end
  if ref ~= '' and redis.call('HEXISTS', keys[2], ref) == 0 then
    return fail('NOREF', ref)
  end
  redis.call('HSET', keys[1], id, json)
  if hook then hook.put(keys, 3, args, 9, old) end
  return 1
end

local function item_delete(keys, args)
  local what, id = args[1], args[2]
  local tenant = tenant_of(keys[1])
  if tenant == nil then return bad('KEYS[1] is not a tenant key') end
  local hook, herr = hook_of(args[3], tenant, keys, 2, args, 4, false)
  if herr then return herr end
  local old = redis.call('HGET', keys[1], id)
  if not old then return fail('NOTFOUND', 'no such ' .. what) end
  redis.call('HDEL', keys[1], id)
  if hook then hook.delete(keys, 2, args, 4, old) end
  return 1
end

-- version 4's topic and rule writes, as item writes (see the header)
local function legacy_dv(key)
  local tenant = tenant_of(key)
  return tenant and tkey(tenant, 'DV')
end

local function topic_put(keys, args)
  local dv = legacy_dv(keys[1])
  if dv == nil then return bad('KEYS[1] is not a tenant key') end
  local a = {'topic', args[1], args[2], args[3], args[4], args[5], '',
             'topic'}
  for i = 6, #args do a[#a + 1] = args[i] end
  return item_put({keys[1], keys[1], dv, keys[2], keys[3], keys[4],
                   keys[5]}, a)
end

local function topic_delete(keys, args)
  local dv = legacy_dv(keys[1])
  if dv == nil then return bad('KEYS[1] is not a tenant key') end
  return item_delete({keys[1], dv, keys[2], keys[3], keys[4]},
                     {'topic', args[1], 'topic'})
end

local function rule_put(keys, args)
  local r = item_put({keys[1], keys[2]},
                     {'rule', args[1], args[2], args[3], args[4], args[5],
                      args[6], ''})
  if type(r) == 'table' and r.err and string.find(r.err, '^NOREF ') then
    return fail('NOTOPIC', 'no such topic: ' .. args[6])
  end
  return r
end

-- an invite's end (ms); older invites carry only their creation time
local function invite_end(inv, ttl)
  local e = tonumber(inv.expires_ms)
  if e then return e end
  local c = tonumber(inv.created_ms)
  return c and c + ttl * 1000 or 0
end

local function member_invite(keys, args)
  local tenant, email, role, by = args[1], args[2], args[3], args[4]
  local now, ttl = whole(args[5], 0, 2 ^ 53), whole(args[6], 1, 2 ^ 31)
  local max, id, by_email = whole(args[7], 0, 1000000), args[9], args[10]
  if now == nil or ttl == nil or max == nil then
    return bad('now, lifetime or invite limit')
  end
  for _, raw in ipairs(redis.call('HVALS', keys[3])) do
    local m = decode(raw)
    if m and type(m.email) == 'string'
       and string.lower(m.email) == email then
      return fail('CONFLICT', email .. ' is already a member')
    end
  end
  local all, n = redis.call('HGETALL', keys[1]), 0
  for i = 1, #all, 2 do
    local inv = decode(all[i + 1])
    if inv == nil or invite_end(inv, ttl) <= now then
      redis.call('HDEL', keys[1], all[i])
    elseif all[i] ~= email then
      n = n + 1
    end
  end
  if n >= max then
    return fail('CONFLICT',
                'invite limit reached (' .. max .. ' invites)')
  end
  redis.call('HSET', keys[1], email, args[8])
  redis.call('HSET', keys[2], tenant, cjson.encode({id = id, role = role,
             invited_by = by, invited_by_email = by_email,
             created_ms = now, expires_ms = now + ttl * 1000}))
  if redis.call('TTL', keys[2]) < ttl then
    redis.call('EXPIRE', keys[2], ttl)
  end
  return 1
end

-- removal sticks: the user record keeps naming the tenant (so sign-in
-- finds no membership and gives no tenant), and the removed set holds
-- even against an operator's tenant claim
local function member_remove(keys, args)
  local tenant, sub = args[1], args[2]
  local all = redis.call('HGETALL', keys[1])
  local found, role, owners = false, nil, 0
  for i = 1, #all, 2 do
    local m = decode(all[i + 1])
    if all[i] == sub then
      found = true
      role = m and m.role
    elseif m and m.role == 'owner' then
      owners = owners + 1
    end
  end
  if not found then return fail('NOTFOUND', 'no such member') end
  if role == 'owner' and owners == 0 then
    return fail('CONFLICT', 'cannot remove the last owner')
  end
  redis.call('HDEL', keys[1], sub)
  redis.call('SADD', tkey(tenant, 'REMOVED'), sub)
  return 1
end

-- the invite of the per-e-mail hash keys[1] from tenant (raw JSON), if
-- it is still valid: not past its end, and still filed by the tenant
-- under the same id (not withdrawn, renewed or the tenant gone); an
-- invalid one is pruned. Returns the decoded invite or nil, and why not.
local function live_invite(ikey, tenant, raw, email, now)
  local inv = decode(raw)
  local mine = decode(redis.call('HGET', tkey(tenant, 'INVITES'), email))
  if inv == nil or type(inv.id) ~= 'string' or mine == nil
     or mine.id ~= inv.id then
    redis.call('HDEL', ikey, tenant)
    return nil, 'gone'
  end
  if invite_end(inv, 0) <= now then
    redis.call('HDEL', ikey, tenant)
    redis.call('HDEL', tkey(tenant, 'INVITES'), email)
    return nil, 'expired'
  end
  return inv
end

-- oldest first (by the millisecond), then by id
local function invites_list(keys, args)
  local email, now = args[1], whole(args[2], 0, 2 ^ 53)
  if now == nil then return bad('now') end
  local all, live = redis.call('HGETALL', keys[1]), {}
  for i = 1, #all, 2 do
    local inv = live_invite(keys[1], all[i], all[i + 1], email, now)
    if inv then
      inv.tenant = all[i]
      live[#live + 1] = inv
    end
  end
  table.sort(live, function(a, b)
    local x, y = tonumber(a.created_ms) or 0, tonumber(b.created_ms) or 0
    if x ~= y then return x < y end
    return a.id < b.id
  end)
  local out = {}
  for _, inv in ipairs(live) do
    out[#out + 1] = cjson.encode({id = inv.id, tenant = inv.tenant,
      role = inv.role == 'owner' and 'owner' or 'member',
      invited_by = inv.invited_by,
      invited_by_email = inv.invited_by_email,
      created_ms = inv.created_ms, expires_ms = invite_end(inv, 0)})
  end
  return out
end

-- the field (inviting tenant) and raw value of invite id in keys[1]
local function find_invite(ikey, id)
  local all = redis.call('HGETALL', ikey)
  for i = 1, #all, 2 do
    local inv = decode(all[i + 1])
    if inv and inv.id == id then return all[i], all[i + 1] end
  end
  return nil
end

local function invite_decline(keys, args)
  local email, id = args[1], args[2]
  local tenant = find_invite(keys[1], id)
  if not tenant then return fail('NOTFOUND', 'no such invite') end
  redis.call('HDEL', keys[1], tenant)
  local mine = decode(redis.call('HGET', tkey(tenant, 'INVITES'), email))
  if mine and mine.id == id then
    redis.call('HDEL', tkey(tenant, 'INVITES'), email)
  end
  return 1
end

-- detaches a tenant whose last member leaves: its topics leave the watch
-- union, its state keys go, it leaves the tenant set (enrich stops
-- writing it); the caller sweeps whatever else es:{t:T}:* holds
local function tenant_detach(keys, tenant)
  local topics = tkey(tenant, 'TOPICS')
  for _, raw in ipairs(redis.call('HVALS', topics)) do
    watch_move(keys[5], keys[6], stored_subs(raw), {})
  end
  for _, name in ipairs({'TOPICS', 'META', 'MEMBERS', 'INVITES',
                         'REMOVED', 'RULES', 'ALERT_STATE',
                         'SUMMARY_PENDING', 'DELIVERIES'}) do
    redis.call('DEL', tkey(tenant, name))
  end
  redis.call('SREM', keys[3], tenant)
  redis.call('INCR', keys[4])
end

local function invite_accept(keys, args)
  local sub, email, id, confirm = args[1], args[2], args[3], args[4]
  local now = whole(args[5], 0, 2 ^ 53)
  if now == nil then return bad('now') end
  local target, raw = find_invite(keys[2], id)
  if not target then return fail('NOTFOUND', 'no such invite') end
  local inv, why = live_invite(keys[2], target, raw, email, now)
  if not inv then
    if why == 'expired' then
      return fail('GONE', 'the invite has expired: ask for a new one')
    end
    return fail('NOTFOUND', 'no such invite')
  end
  local role = inv.role == 'owner' and 'owner' or 'member'
  -- a member of the inviting tenant already (whatever the user record
  -- names: an operator's claim can move it): the invite is used up
  if redis.call('HEXISTS', tkey(target, 'MEMBERS'), sub) == 1 then
    redis.call('HDEL', keys[2], target)
    redis.call('HDEL', tkey(target, 'INVITES'), email)
    return fail('CONFLICT', 'you are already a member of this tenant')
  end
  local current = redis.call('HGET', keys[1], 'tenant')
  local mine = current and decode(redis.call('HGET',
    tkey(current, 'MEMBERS'), sub))
  local deleted = ''
  if current and mine then
    local all, others, owners = redis.call('HGETALL',
      tkey(current, 'MEMBERS')), 0, 0
    for i = 1, #all, 2 do
      if all[i] ~= sub then
        others = others + 1
        local m = decode(all[i + 1])
        if m and m.role == 'owner' then owners = owners + 1 end
      end
    end
    if others > 0 then
      if mine.role == 'owner' and owners == 0 then
        return fail('CONFLICT', 'you are the only owner of tenant ' ..
          current .. ', which has other members: make one of them an ' ..
          'owner (or remove them) first')
      end
      redis.call('HDEL', tkey(current, 'MEMBERS'), sub)
    else
      if confirm ~= '1' then
        return fail('CONFIRM', 'accepting deletes your tenant ' ..
          current .. ' and all its data (' ..
          redis.call('HLEN', tkey(current, 'TOPICS')) .. ' topics, ' ..
          redis.call('HLEN', tkey(current, 'RULES')) ..
          ' alert rules); send {"confirm": true} to accept')
      end
      tenant_detach(keys, current)
      deleted = current
    end
  end
  redis.call('HSET', tkey(target, 'MEMBERS'), sub, cjson.encode({
    sub = sub, email = email, role = role, joined_ms = now}))
  redis.call('SREM', tkey(target, 'REMOVED'), sub)
  redis.call('HSET', keys[1], 'tenant', target, 'role', role)
  redis.call('HDEL', keys[2], target)
  redis.call('HDEL', tkey(target, 'INVITES'), email)
  redis.call('SADD', keys[3], target)
  return {target, role, deleted}
end
local function invite_remove(keys, args)
  local n = redis.call('HDEL', keys[1], args[2])
    + redis.call('HDEL', keys[2], args[1])
  if n == 0 then return fail('NOTFOUND', 'no such invite') end
  return 1
end

-- a member's opt-in: "1" on, "0" off, "" unchanged
local OPTIN = {['1'] = true, ['0'] = false}

local function member_optins(keys, args)
  local sub = args[1]
  for i = 2, 3 do
    if args[i] ~= '' and OPTIN[args[i]] == nil then
      return bad('opt-ins are "1", "0" or ""')
    end
  end
  local raw = redis.call('HGET', keys[1], sub)
  if not raw then return fail('NOTFOUND', 'no such member') end
  local m = decode(raw)
  if m == nil then return bad('the member record does not decode') end
  if args[2] ~= '' then m.digest = OPTIN[args[2]] end
  if args[3] ~= '' then m.alert_email = OPTIN[args[3]] end
  local json = cjson.encode(m)
  if json ~= raw then redis.call('HSET', keys[1], sub, json) end
  return json
end

-- the settings of meta, in the order es_settings_put answers them; the
-- first three are version 5's (es_settings_set)
local SETTINGS = {'engine', 'comprehend_budget_usd', 'retention_days',
                  'summary_hour', 'time_zone', 'bedrock_budget_usd'}

-- writes the pairs of args among the first n SETTINGS; their HMGET
local function settings_write(keys, args, n)
  if #args % 2 ~= 0 then return bad('settings come in pairs') end
  local known = {}
  for i = 1, n do known[SETTINGS[i]] = true end
  for i = 1, #args - 1, 2 do
    if not known[args[i]] then
      return fail('INVALID', 'unknown setting ' .. args[i])
    end
  end
  for i = 1, #args - 1, 2 do
    if args[i + 1] == '' then
      redis.call('HDEL', keys[1], args[i])
    else
      redis.call('HSET', keys[1], args[i], args[i + 1])
    end
  end
  if #args > 0 then redis.call('INCR', keys[2]) end
  return redis.call('HMGET', keys[1], unpack(SETTINGS, 1, n))
end

local function settings_put(keys, args)
  return settings_write(keys, args, #SETTINGS)
end

local function settings_set(keys, args)
  return settings_write(keys, args, 3)
end

-- the request summary_pending names for field, when it is still queued
-- or running: its stored JSON, else nil
local function pending_request(pending, requests, field)
  local id = redis.call('HGET', pending, field)
  if not id then return nil end
  local raw = redis.call('HGET', requests, id)
  local r = decode(raw)
  if r and r.id == id and (r.status == 'queued' or r.status == 'running') then
    return raw
  end
  return nil
end

local function summary_request(keys, args)
  local topic, keep = args[3], whole(args[8], 1, 1000000)
  if keep == nil or whole(args[7], 1, 2 ^ 31) == nil then
    return bad('stream length or requests kept')
  end
  if topic ~= '' and redis.call('HEXISTS', keys[1], topic) == 0 then
    return fail('NOTOPIC', 'no such topic: ' .. topic)
  end
  local field = topic ~= '' and topic or '*'
  if keys[4] then
    local raw = pending_request(keys[4], keys[3], field)
    if raw then return {0, raw} end
  end
  redis.call('XADD', keys[2], 'MAXLEN', '~', args[7], '*',
             'tenant', args[1], 'id', args[2], 'topic', topic,
             'requested_by', args[4], 'requested_ms', args[5],
             'kind', 'request')
  redis.call('HSET', keys[3], args[2], args[6])
  local n = redis.call('HLEN', keys[3])
  if n > keep then
    local ids = redis.call('HKEYS', keys[3])
    table.sort(ids)
    for i = 1, n - keep do redis.call('HDEL', keys[3], ids[i]) end
  end
  if not keys[4] then return 1 end
  redis.call('HSET', keys[4], field, args[2])
  return {1, args[6]}
end

-- the KEYS and ARGV each function reads at least (see the header)
redis.register_function('es_item_put', arity('es_item_put', item_put, 2, 8))
redis.register_function('es_item_delete',
  arity('es_item_delete', item_delete, 1, 3))
redis.register_function('es_topic_put', arity('es_topic_put', topic_put, 5, 6))
redis.register_function('es_topic_delete',
  arity('es_topic_delete', topic_delete, 4, 1))
redis.register_function('es_rule_put', arity('es_rule_put', rule_put, 2, 6))
redis.register_function('es_member_invite',
  arity('es_member_invite', member_invite, 3, 10))
redis.register_function('es_member_remove',
  arity('es_member_remove', member_remove, 1, 2))
redis.register_function('es_invite_remove',
  arity('es_invite_remove', invite_remove, 2, 2))
redis.register_function('es_invites_list',
  arity('es_invites_list', invites_list, 1, 2))
redis.register_function('es_invite_accept',
  arity('es_invite_accept', invite_accept, 6, 5))
redis.register_function('es_invite_decline',
  arity('es_invite_decline', invite_decline, 1, 2))
redis.register_function('es_member_optins',
  arity('es_member_optins', member_optins, 1, 3))
redis.register_function('es_settings_put',
  arity('es_settings_put', settings_put, 2, 0))
redis.register_function('es_settings_set',
  arity('es_settings_set', settings_set, 2, 0))
redis.register_function('es_summary_request',
  arity('es_summary_request', summary_request, 3, 8))
