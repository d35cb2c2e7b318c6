/*
 * ngx_http_echostream_tenant_lua.c - the Redis function library
 * "echostream_tenant": every write the API makes to a tenant's topics,
 * alert rules, members, invites, settings and summary requests.
 *
 * Each write is one FCALL, so what must change together does (a topic and
 * the watch union ingest polls; an invite and its per-e-mail record), the
 * checks that decide a race (create vs. exists, update vs. missing, the
 * 100-topic limit, the last owner) run inside the same atomic step, and
 * concurrent requests on any nginx worker see one order. Errors come back
 * as "<CODE> <message>" (CONFLICT → 409, NOTFOUND → 404, NOTOPIC → 422,
 * STALE → the caller's compare-and-set lost, it re-reads and retries);
 * any other error is a server fault. Stored JSON is decoded with pcall and
 * a value that does not decode is treated as absent, never trusted.
 *
 * The watch union and the version counters are global keys ({watch},
 * {topics}, {tenants}) next to the tenant's {t:<tenant>} keys: the API
 * runs against one Redis, where a function may touch any key it is given.
 *
 * es_topic_put(KEYS = es:{t:T}:topics, es:{watch}:subs,
 *              es:{watch}:version, es:{topics}:version, es:{tenants}:all;
 *              ARGV = mode "create"|"replace", expected old JSON ("" =
 *              any), id, topic JSON, topic limit, tenant, subreddit...)
 *   create: CONFLICT when the id exists or the tenant has the limit;
 *   replace: NOTFOUND when missing, STALE when expected is not "" and not
 *   the stored value (PATCH's compare-and-set). Stores the JSON, moves the
 *   watch counts (+1 per new subreddit, -1 per subreddit of the old
 *   version, net; a count reaching 0 is deleted), INCRs es:{watch}:version
 *   when a count changed, always INCRs es:{topics}:version and the
 *   tenant's data version es:{t:T}:dv (the key next to keys[1]: cached
 *   series answers of the tenant are stale), and adds the tenant to
 *   es:{tenants}:all (enrich loads only listed tenants). Returns 1.
 *
 * es_topic_delete(KEYS = the first four of es_topic_put; ARGV = id)
 *   NOTFOUND, or deletes the topic, -1 per subreddit, the versions as
 *   above. The topic's series and comment keys are left to expire.
 *
 * es_rule_put(KEYS = es:{t:T}:alerts:rules, es:{t:T}:topics;
 *             ARGV = mode, expected, id, rule JSON, rule limit, topic id)
 *   As es_topic_put for the rule hash, plus NOTOPIC when the rule's topic
 *   is not a topic of the tenant. Returns 1.
 *
 * es_member_invite(KEYS = es:{t:T}:invites, es:{invites}:<sha256 hex of
 *                  the e-mail>, es:{t:T}:members;
 *                  ARGV = tenant, lower-case e-mail, role, inviter's sub,
 *                  now (ms), lifetime (s), invite limit, invite JSON,
 *                  invite id, inviter's e-mail)
 *   CONFLICT when a member of the tenant has the e-mail, or at the limit
 *   (expired entries of es:{t:T}:invites are pruned first). Writes the
 *   tenant's entry (the invite JSON, which holds the id) and the tenant's
 *   field of the per-e-mail hash (tenant → {"id","role","invited_by",
 *   "invited_by_email","created_ms","expires_ms"}), whose TTL is raised to
 *   the lifetime; inviting again renews, with a new id. Several tenants
 *   may invite one e-mail: an answer must never tell one tenant what
 *   another did.
 *
 * es_member_remove(KEYS = es:{t:T}:members, es:{users}:<sub>;
 *                  ARGV = tenant, sub)
 *   NOTFOUND; CONFLICT when the member is the tenant's last owner.
 *   Removes the membership and adds the sub to es:{t:T}:removed; the user
 *   record stays, so the removal sticks (sign-in finds no membership and
 *   gives no tenant). Returns 1.
 *
 * es_invites_list(KEYS = es:{invites}:<sha256>; ARGV = e-mail, now)
 *   The invites still valid (not past expires_ms, still filed by their
 *   tenant under the same id), each as JSON {"id","tenant","role",
 *   "invited_by","invited_by_email","created_ms","expires_ms"}; invalid
 *   ones are pruned.
 *
 * es_invite_accept(KEYS = es:{users}:<sub>, es:{invites}:<sha256>,
 *                  es:{tenants}:all, es:{topics}:version,
 *                  es:{watch}:subs, es:{watch}:version;
 *                  ARGV = sub, e-mail, invite id, confirm "1"|"0", now)
 *   NOTFOUND (no such valid invite), GONE (past its end; pruned), CONFLICT
 *   (already a member there; the only owner of a tenant with other
 *   members), CONFIRM (the user is the only member of their tenant and
 *   confirm is not "1": the message says what would be deleted). Else
 *   moves the membership (leaving the old tenant, or detaching it when it
 *   would be empty: topics out of the watch union, its state keys deleted,
 *   out of the tenant set), consumes the invite, and returns {tenant,
 *   role, deleted tenant or ""}.
 *
 * es_invite_decline(KEYS = es:{invites}:<sha256>; ARGV = e-mail, id)
 *   NOTFOUND, or deletes the invite on both sides. Returns 1.
 *
 * es_invite_remove(KEYS = es:{t:T}:invites, es:{invites}:<sha256>;
 *                  ARGV = tenant, lower-case e-mail)
 *   Deletes the tenant's entry and its field of the per-e-mail hash;
 *   NOTFOUND when neither existed. Returns 1.
 *
 * es_settings_set(KEYS = es:{t:T}:meta, es:{topics}:version;
 *                 ARGV = field, value, … ("" deletes the field))
 *   Only engine, comprehend_budget_usd and retention_days. INCRs the
 *   version when anything was given. Returns HMGET of the three fields.
 *
 * es_summary_request(KEYS = es:{t:T}:topics, es:{summaries}:requests,
 *                    es:{t:T}:summary_requests;
 *                    ARGV = tenant, request id, topic id ("" = all),
 *                    requested_by, requested_ms, request JSON, stream
 *                    MAXLEN, requests kept per tenant)
 *   NOTOPIC when a topic is given and missing. XADDs the request (fields
 *   tenant, id, topic, requested_by, requested_ms; MAXLEN ~), records its
 *   JSON under its id and keeps the newest requests only (ids start with
 *   their time, so they sort by age). Returns 1.
 */

#include "ngx_http_echostream_functions.h"

const char ngx_http_echostream_lua_tenant[] =
    "#!lua name=echostream_tenant\n"
    "\n"
    "-- errors are \"<CODE> <message>\": the module maps CODE to a status\n"
    "local function fail(code, msg)\n"
    "  return redis.error_reply(code .. ' ' .. msg)\n"
    "end\n"
    "\n"
    "-- a stored JSON object, or nil: stored values are never trusted\n"
    "local function decode(raw)\n"
    "  if type(raw) ~= 'string' then return nil end\n"
    "  local ok, v = pcall(cjson.decode, raw)\n"
    "  if ok and type(v) == 'table' then return v end\n"
    "  return nil\n"
    "end\n"
    "\n"
    "local function is_sub(s)\n"
    "  return type(s) == 'string' and #s >= 2 and #s <= 21\n"
    "    and string.find(s, '^[a-z0-9][a-z0-9_]*$') ~= nil\n"
    "end\n"
    "\n"
    "-- valid, de-duplicated subreddit names of list[first..]\n"
    "local function sub_list(list, first)\n"
    "  local out, seen = {}, {}\n"
    "  for i = first, #list do\n"
    "    local s = list[i]\n"
    "    if is_sub(s) and not seen[s] then\n"
    "      seen[s] = true\n"
    "      out[#out + 1] = s\n"
    "    end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "\n"
    "local function stored_subs(raw)\n"
    "  local t = decode(raw)\n"
    "  if t == nil or type(t.subreddits) ~= 'table' then\n"
    "    redis.log(redis.LOG_WARNING, 'echostream_tenant: a stored topic ' ..\n"
    "              'has no readable subreddits; its watch counts stay')\n"
    "    return {}\n"
    "  end\n"
    "  return sub_list(t.subreddits, 1)\n"
    "end\n"
    "\n"
    "-- moves the watch union from the old names to the new ones\n"
    "local function watch_move(subs_key, ver_key, old, new)\n"
    "  local d, order = {}, {}\n"
    "  for _, s in ipairs(new) do\n"
    "    if d[s] == nil then order[#order + 1] = s end\n"
    "    d[s] = (d[s] or 0) + 1\n"
    "  end\n"
    "  for _, s in ipairs(old) do\n"
    "    if d[s] == nil then order[#order + 1] = s end\n"
    "    d[s] = (d[s] or 0) - 1\n"
    "  end\n"
    "  local changed = false\n"
    "  for _, s in ipairs(order) do\n"
    "    if d[s] ~= 0 then\n"
    "      local cur = tonumber(redis.call('HGET', subs_key, s) or '0')\n"
    "      if cur == nil or cur ~= math.floor(cur) then cur = 0 end\n"
    "      local n = cur + d[s]\n"
    "      if n > 0 then\n"
    "        redis.call('HSET', subs_key, s, n)\n"
    "      else\n"
    "        redis.call('HDEL', subs_key, s)\n"
    "      end\n"
    "      changed = true\n"
    "    end\n"
    "  end\n"
    "  if changed then redis.call('INCR', ver_key) end\n"
    "end\n"
    "\n"
    "local function topic_put(keys, args)\n"
    "  local mode, expected, id, json = args[1], args[2], args[3], args[4]\n"
    "  local max = tonumber(args[5])\n"
    "  local old = redis.call('HGET', keys[1], id)\n"
    "  if mode == 'create' then\n"
    "    if old then\n"
    "      return fail('CONFLICT', 'topic ' .. id .. ' already exists')\n"
    "    end\n"
    "    if redis.call('HLEN', keys[1]) >= max then\n"
    "      return fail('CONFLICT',\n"
    "                  'topic limit reached (' .. max .. ' topics)')\n"
    "    end\n"
    "  else\n"
    "    if not old then return fail('NOTFOUND', 'no such topic') end\n"
    "    if expected ~= '' and expected ~= old then\n"
    "      return fail('STALE', 'topic changed meanwhile')\n"
    "    end\n"
    "  end\n"
    "  redis.call('HSET', keys[1], id, json)\n"
    "  watch_move(keys[2], keys[3], old and stored_subs(old) or {},\n"
    "             sub_list(args, 7))\n"
    "  redis.call('INCR', keys[4])\n"
    "  redis.call('INCR', string.sub(keys[1], 1, -7) .. 'dv')\n"
    "  redis.call('SADD', keys[5], args[6])\n"
    "  return 1\n"
    "end\n"
    "\n"
    "local function topic_delete(keys, args)\n"
    "  local old = redis.call('HGET', keys[1], args[1])\n"
    "  if not old then return fail('NOTFOUND', 'no such topic') end\n"
    "  redis.call('HDEL', keys[1], args[1])\n"
    "  watch_move(keys[2], keys[3], stored_subs(old), {})\n"
    "  redis.call('INCR', keys[4])\n"
    "  redis.call('INCR', string.sub(keys[1], 1, -7) .. 'dv')\n"
    "  return 1\n"
    "end\n"
    "\n"
    "local function rule_put(keys, args)\n"
    "  local mode, expected, id, json = args[1], args[2], args[3], args[4]\n"
    "  local max, topic = tonumber(args[5]), args[6]\n"
    "  local old = redis.call('HGET', keys[1], id)\n"
    "  if mode == 'create' then\n"
    "    if old then\n"
    "      return fail('CONFLICT', 'rule ' .. id .. ' already exists')\n"
    "    end\n"
    "    if redis.call('HLEN', keys[1]) >= max then\n"
    "      return fail('CONFLICT',\n"
    "                  'rule limit reached (' .. max .. ' rules)')\n"
    "    end\n"
    "  else\n"
    "    if not old then return fail('NOTFOUND', 'no such rule') end\n"
    "    if expected ~= '' and expected ~= old then\n"
    "      return fail('STALE', 'rule changed meanwhile')\n"
    "    end\n"
    "  end\n"
    "  if redis.call('HEXISTS', keys[2], topic) == 0 then\n"
    "    return fail('NOTOPIC', 'no such topic: ' .. topic)\n"
    "  end\n"
    "  redis.call('HSET', keys[1], id, json)\n"
    "  return 1\n"
    "end\n"
    "\n"
    "local function tkey(tenant, suffix)\n"
    "  return 'es:{t:' .. tenant .. '}:' .. suffix\n"
    "end\n"
    "\n"
    "-- an invite's end (ms); older invites carry only their creation time\n"
    "local function invite_end(inv, ttl)\n"
    "  local e = tonumber(inv.expires_ms)\n"
    "  if e then return e end\n"
    "  local c = tonumber(inv.created_ms)\n"
    "  return c and c + ttl * 1000 or 0\n"
    "end\n"
    "\n"
    "local function member_invite(keys, args)\n"
    "  local tenant, email, role, by = args[1], args[2], args[3], args[4]\n"
    "  local now, ttl = tonumber(args[5]), tonumber(args[6])\n"
    "  local max, id, by_email = tonumber(args[7]), args[9], args[10]\n"
    "  for _, raw in ipairs(redis.call('HVALS', keys[3])) do\n"
    "    local m = decode(raw)\n"
    "    if m and type(m.email) == 'string'\n"
    "       and string.lower(m.email) == email then\n"
    "      return fail('CONFLICT', email .. ' is already a member')\n"
    "    end\n"
    "  end\n"
    "  local all, n = redis.call('HGETALL', keys[1]), 0\n"
    "  for i = 1, #all, 2 do\n"
    "    local inv = decode(all[i + 1])\n"
    "    if inv == nil or invite_end(inv, ttl) <= now then\n"
    "      redis.call('HDEL', keys[1], all[i])\n"
    "    elseif all[i] ~= email then\n"
    "      n = n + 1\n"
    "    end\n"
    "  end\n"
    "  if n >= max then\n"
    "    return fail('CONFLICT',\n"
    "                'invite limit reached (' .. max .. ' invites)')\n"
    "  end\n"
    "  redis.call('HSET', keys[1], email, args[8])\n"
    "  redis.call('HSET', keys[2], tenant, cjson.encode({id = id, role = "
    "role,\n"
    "             invited_by = by, invited_by_email = by_email,\n"
    "             created_ms = now, expires_ms = now + ttl * 1000}))\n"
    "  if redis.call('TTL', keys[2]) < ttl then\n"
    "    redis.call('EXPIRE', keys[2], ttl)\n"
    "  end\n"
    "  return 1\n"
    "end\n"
    "\n"
    "-- removal sticks: the user record keeps naming the tenant (so sign-in\n"
    "-- finds no membership and gives no tenant), and the removed set holds\n"
    "-- even against an operator's tenant claim\n"
    "local function member_remove(keys, args)\n"
    "  local tenant, sub = args[1], args[2]\n"
    "  local all = redis.call('HGETALL', keys[1])\n"
    "  local found, role, owners = false, nil, 0\n"
    "  for i = 1, #all, 2 do\n"
    "    local m = decode(all[i + 1])\n"
    "    if all[i] == sub then\n"
    "      found = true\n"
    "      role = m and m.role\n"
    "    elseif m and m.role == 'owner' then\n"
    "      owners = owners + 1\n"
    "    end\n"
    "  end\n"
    "  if not found then return fail('NOTFOUND', 'no such member') end\n"
    "  if role == 'owner' and owners == 0 then\n"
    "    return fail('CONFLICT', 'cannot remove the last owner')\n"
    "  end\n"
    "  redis.call('HDEL', keys[1], sub)\n"
    "  redis.call('SADD', tkey(tenant, 'removed'), sub)\n"
    "  return 1\n"
    "end\n"
    "\n"
    "-- the invite of the per-e-mail hash keys[1] from tenant (raw JSON), if\n"
    "-- it is still valid: not past its end, and still filed by the tenant\n"
    "-- under the same id (not withdrawn, renewed or the tenant gone); an\n"
    "-- invalid one is pruned. Returns the decoded invite or nil, and why "
    "not.\n"
    "local function live_invite(ikey, tenant, raw, email, now)\n"
    "  local inv = decode(raw)\n"
    "  local mine = decode(redis.call('HGET', tkey(tenant, 'invites'), "
    "email))\n"
    "  if inv == nil or type(inv.id) ~= 'string' or mine == nil\n"
    "     or mine.id ~= inv.id then\n"
    "    redis.call('HDEL', ikey, tenant)\n"
    "    return nil, 'gone'\n"
    "  end\n"
    "  if invite_end(inv, 0) <= now then\n"
    "    redis.call('HDEL', ikey, tenant)\n"
    "    redis.call('HDEL', tkey(tenant, 'invites'), email)\n"
    "    return nil, 'expired'\n"
    "  end\n"
    "  return inv\n"
    "end\n"
    "\n"
    "-- oldest first (by the millisecond), then by id\n"
    "local function invites_list(keys, args)\n"
    "  local email, now = args[1], tonumber(args[2])\n"
    "  local all, live = redis.call('HGETALL', keys[1]), {}\n"
    "  for i = 1, #all, 2 do\n"
    "    local inv = live_invite(keys[1], all[i], all[i + 1], email, now)\n"
    "    if inv then\n"
    "      inv.tenant = all[i]\n"
    "      live[#live + 1] = inv\n"
    "    end\n"
    "  end\n"
    "  table.sort(live, function(a, b)\n"
    "    local x, y = tonumber(a.created_ms) or 0, tonumber(b.created_ms) or "
    "0\n"
    "    if x ~= y then return x < y end\n"
    "    return a.id < b.id\n"
    "  end)\n"
    "  local out = {}\n"
    "  for _, inv in ipairs(live) do\n"
    "    out[#out + 1] = cjson.encode({id = inv.id, tenant = inv.tenant,\n"
    "      role = inv.role == 'owner' and 'owner' or 'member',\n"
    "      invited_by = inv.invited_by,\n"
    "      invited_by_email = inv.invited_by_email,\n"
    "      created_ms = inv.created_ms, expires_ms = invite_end(inv, 0)})\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "\n"
    "-- the field (inviting tenant) and raw value of invite id in keys[1]\n"
    "local function find_invite(ikey, id)\n"
    "  local all = redis.call('HGETALL', ikey)\n"
    "  for i = 1, #all, 2 do\n"
    "    local inv = decode(all[i + 1])\n"
    "    if inv and inv.id == id then return all[i], all[i + 1] end\n"
    "  end\n"
    "  return nil\n"
    "end\n"
    "\n"
    "local function invite_decline(keys, args)\n"
    "  local email, id = args[1], args[2]\n"
    "  local tenant = find_invite(keys[1], id)\n"
    "  if not tenant then return fail('NOTFOUND', 'no such invite') end\n"
    "  redis.call('HDEL', keys[1], tenant)\n"
    "  local mine = decode(redis.call('HGET', tkey(tenant, 'invites'), "
    "email))\n"
    "  if mine and mine.id == id then\n"
    "    redis.call('HDEL', tkey(tenant, 'invites'), email)\n"
    "  end\n"
    "  return 1\n"
    "end\n"
    "\n"
    "-- detaches a tenant whose last member leaves: its topics leave the "
    "watch\n"
    "-- union, its state keys go, it leaves the tenant set (enrich stops\n"
    "-- writing it); the caller sweeps whatever else es:{t:T}:* holds\n"
    "local function tenant_detach(keys, tenant)\n"
    "  local topics = tkey(tenant, 'topics')\n"
    "  for _, raw in ipairs(redis.call('HVALS', topics)) do\n"
    "    watch_move(keys[5], keys[6], stored_subs(raw), {})\n"
    "  end\n"
    "  for _, suffix in ipairs({'topics', 'meta', 'members', 'invites',\n"
    "                           'removed', 'alerts:rules'}) do\n"
    "    redis.call('DEL', tkey(tenant, suffix))\n"
    "  end\n"
    "  redis.call('SREM', keys[3], tenant)\n"
    "  redis.call('INCR', keys[4])\n"
    "end\n"
    "\n"
    "local function invite_accept(keys, args)\n"
    "  local sub, email, id, confirm = args[1], args[2], args[3], args[4]\n"
    "  local now = tonumber(args[5])\n"
    "  local target, raw = find_invite(keys[2], id)\n"
    "  if not target then return fail('NOTFOUND', 'no such invite') end\n"
    "  local inv, why = live_invite(keys[2], target, raw, email, now)\n"
    "  if not inv then\n"
    "    if why == 'expired' then\n"
    "      return fail('GONE', 'the invite has expired: ask for a new one')\n"
    "    end\n"
    "    return fail('NOTFOUND', 'no such invite')\n"
    "  end\n"
    "  local role = inv.role == 'owner' and 'owner' or 'member'\n"
    "  local current = redis.call('HGET', keys[1], 'tenant')\n"
    "  local mine = current and decode(redis.call('HGET',\n"
    "    tkey(current, 'members'), sub))\n"
    "  local deleted = ''\n"
    "  if current and mine then\n"
    "    if current == target then\n"
    "      redis.call('HDEL', keys[2], target)\n"
    "      redis.call('HDEL', tkey(target, 'invites'), email)\n"
    "      return fail('CONFLICT', 'you are already a member of this tenant')\n"
    "    end\n"
    "    local all, others, owners = redis.call('HGETALL',\n"
    "      tkey(current, 'members')), 0, 0\n"
    "    for i = 1, #all, 2 do\n"
    "      if all[i] ~= sub then\n"
    "        others = others + 1\n"
    "        local m = decode(all[i + 1])\n"
    "        if m and m.role == 'owner' then owners = owners + 1 end\n"
    "      end\n"
    "    end\n"
    "    if others > 0 then\n"
    "      if mine.role == 'owner' and owners == 0 then\n"
    "        return fail('CONFLICT', 'you are the only owner of tenant ' ..\n"
    "          current .. ', which has other members: make one of them an ' "
    "..\n"
    "          'owner (or remove them) first')\n"
    "      end\n"
    "      redis.call('HDEL', tkey(current, 'members'), sub)\n"
    "    else\n"
    "      if confirm ~= '1' then\n"
    "        return fail('CONFIRM', 'accepting deletes your tenant ' ..\n"
    "          current .. ' and all its data (' ..\n"
    "          redis.call('HLEN', tkey(current, 'topics')) .. ' topics, ' ..\n"
    "          redis.call('HLEN', tkey(current, 'alerts:rules')) ..\n"
    "          ' alert rules); send {\"confirm\": true} to accept')\n"
    "      end\n"
    "      tenant_detach(keys, current)\n"
    "      deleted = current\n"
    "    end\n"
    "  end\n"
    "  redis.call('HSET', tkey(target, 'members'), sub, cjson.encode({\n"
    "    sub = sub, email = email, role = role, joined_ms = now}))\n"
    "  redis.call('SREM', tkey(target, 'removed'), sub)\n"
    "  redis.call('HSET', keys[1], 'tenant', target, 'role', role)\n"
    "  redis.call('HDEL', keys[2], target)\n"
    "  redis.call('HDEL', tkey(target, 'invites'), email)\n"
    "  redis.call('SADD', keys[3], target)\n"
    "  return {target, role, deleted}\n"
    "end\n"
    "local function invite_remove(keys, args)\n"
    "  local n = redis.call('HDEL', keys[1], args[2])\n"
    "    + redis.call('HDEL', keys[2], args[1])\n"
    "  if n == 0 then return fail('NOTFOUND', 'no such invite') end\n"
    "  return 1\n"
    "end\n"
    "\n"
    "local SETTINGS = {engine = true, comprehend_budget_usd = true,\n"
    "                  retention_days = true}\n"
    "\n"
    "local function settings_set(keys, args)\n"
    "  for i = 1, #args - 1, 2 do\n"
    "    if not SETTINGS[args[i]] then\n"
    "      return fail('INVALID', 'unknown setting ' .. args[i])\n"
    "    end\n"
    "  end\n"
    "  for i = 1, #args - 1, 2 do\n"
    "    if args[i + 1] == '' then\n"
    "      redis.call('HDEL', keys[1], args[i])\n"
    "    else\n"
    "      redis.call('HSET', keys[1], args[i], args[i + 1])\n"
    "    end\n"
    "  end\n"
    "  if #args > 0 then redis.call('INCR', keys[2]) end\n"
    "  return redis.call('HMGET', keys[1], 'engine', 'comprehend_budget_usd',\n"
    "                    'retention_days')\n"
    "end\n"
    "\n"
    "local function summary_request(keys, args)\n"
    "  local topic, keep = args[3], tonumber(args[8])\n"
    "  if topic ~= '' and redis.call('HEXISTS', keys[1], topic) == 0 then\n"
    "    return fail('NOTOPIC', 'no such topic: ' .. topic)\n"
    "  end\n"
    "  redis.call('XADD', keys[2], 'MAXLEN', '~', args[7], '*',\n"
    "             'tenant', args[1], 'id', args[2], 'topic', topic,\n"
    "             'requested_by', args[4], 'requested_ms', args[5])\n"
    "  redis.call('HSET', keys[3], args[2], args[6])\n"
    "  local n = redis.call('HLEN', keys[3])\n"
    "  if n > keep then\n"
    "    local ids = redis.call('HKEYS', keys[3])\n"
    "    table.sort(ids)\n"
    "    for i = 1, n - keep do redis.call('HDEL', keys[3], ids[i]) end\n"
    "  end\n"
    "  return 1\n"
    "end\n"
    "\n"
    "redis.register_function('es_topic_put', topic_put)\n"
    "redis.register_function('es_topic_delete', topic_delete)\n"
    "redis.register_function('es_rule_put', rule_put)\n"
    "redis.register_function('es_member_invite', member_invite)\n"
    "redis.register_function('es_member_remove', member_remove)\n"
    "redis.register_function('es_invite_remove', invite_remove)\n"
    "redis.register_function('es_invites_list', invites_list)\n"
    "redis.register_function('es_invite_accept', invite_accept)\n"
    "redis.register_function('es_invite_decline', invite_decline)\n"
    "redis.register_function('es_settings_set', settings_set)\n"
    "redis.register_function('es_summary_request', summary_request)\n";
