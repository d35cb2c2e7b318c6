/*
 * ngx_http_echostream_tenancy_lua.c - the Redis function library
 * "echostream_tenancy": a user's membership, created on first sign-in.
 *
 * es_api_signin(KEYS = user record "es:{users}:<sub>", the invite
 *     "es:{invites}:<sha256 of e-mail>" (any key when ARGV[2] is empty),
 *     the tenant set, the topics version counter;
 *     ARGV = sub, lower-case e-mail ("" = none), the token's tenant claim
 *     ("" = none), the user's own tenant id, "1" when the e-mail may
 *     accept an invite (verified, or verification not required))
 *   → {tenant, role}
 *
 *   1. A record whose tenant still lists the user as a member is the
 *      answer (unless the token's claim names another tenant).
 *   2. A tenant claim: that tenant; owner if it has no owner yet.
 *   3. A pending invite for the e-mail (the oldest, when several tenants
 *      invited it): that tenant, with the invited role; that invite is
 *      consumed, the others stay pending.
 *   4. Otherwise the user's own tenant (an id derived from the user), as
 *      owner.
 *   The record, the membership and the tenant's meta are written in the
 *   same call. Redis runs a function to the end before anything else, so
 *   two first requests of one user can never create two tenants.
 *
 * The keys span several hash tags (users, invites, the tenant): on a
 * Redis Cluster this function would need the keys co-located; one Redis
 * (or a primary with replicas) is what the module targets.
 */

#include "ngx_http_echostream_functions.h"

const char ngx_http_echostream_lua_tenancy[] =
    "#!lua name=echostream_tenancy\n"
    "\n"
    "local function now_ms()\n"
    "  local t = redis.call('TIME')\n"
    "  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "end\n"
    "\n"
    "local function tkey(tenant, suffix)\n"
    "  return 'es:{t:' .. tenant .. '}:' .. suffix\n"
    "end\n"
    "\n"
    "local function signin(keys, args)\n"
    "  local ukey, ikey, tenants, tver = keys[1], keys[2], keys[3], keys[4]\n"
    "  local sub, email, claim, own = args[1], args[2], args[3], args[4]\n"
    "  local invite_ok = args[5] == '1' and email ~= ''\n"
    "  local rec = redis.call('HMGET', ukey, 'tenant', 'role')\n"
    "  if rec[1] and (claim == '' or claim == rec[1]) then\n"
    "    local m = redis.call('HGET', tkey(rec[1], 'members'), sub)\n"
    "    if m then\n"
    "      local ok, d = pcall(cjson.decode, m)\n"
    "      local role = (ok and type(d) == 'table' and d.role) or rec[2]\n"
    "      if role ~= 'owner' then role = 'member' end\n"
    "      return {rec[1], role}\n"
    "    end\n"
    "  end\n"
    "  local tenant, role\n"
    "  local meta\n"
    "  if claim ~= '' then\n"
    "    tenant = claim\n"
    "  elseif invite_ok then\n"
    "    local all = redis.call('HGETALL', ikey)\n"
    "    local best, oldest, invited\n"
    "    for i = 1, #all, 2 do\n"
    "      local ok, d = pcall(cjson.decode, all[i + 1])\n"
    "      local created = ok and type(d) == 'table' and\n"
    "                      tonumber(d.created_ms)\n"
    "      if created and (not best or created < oldest) and\n"
    "         redis.call('HEXISTS', tkey(all[i], 'invites'), email) == 1 then\n"
    "        best, oldest, invited = all[i], created, d.role\n"
    "      end\n"
    "    end\n"
    "    if best then\n"
    "      tenant = best\n"
    "      role = (invited == 'owner') and 'owner' or 'member'\n"
    "      redis.call('HDEL', tkey(tenant, 'invites'), email)\n"
    "      redis.call('HDEL', ikey, tenant)\n"
    "    end\n"
    "  end\n"
    "  if not tenant then tenant = own end\n"
    "  meta = tkey(tenant, 'meta')\n"
    "  local owner = redis.call('HGET', meta, 'owner')\n"
    "  local now = now_ms()\n"
    "  if not owner then\n"
    "    role = 'owner'\n"
    "    redis.call('HSET', meta, 'owner', sub, 'created_ms', now)\n"
    "  elseif not role then\n"
    "    local m = redis.call('HGET', tkey(tenant, 'members'), sub)\n"
    "    local ok, d = pcall(cjson.decode, m or '')\n"
    "    role = (owner == sub or (ok and type(d) == 'table' and\n"
    "            d.role == 'owner')) and 'owner' or 'member'\n"
    "  end\n"
    "  local old = redis.call('HGET', tkey(tenant, 'members'), sub)\n"
    "  local joined = now\n"
    "  if old then\n"
    "    local ok, d = pcall(cjson.decode, old)\n"
    "    if ok and type(d) == 'table' and tonumber(d.joined_ms) then\n"
    "      joined = tonumber(d.joined_ms)\n"
    "    end\n"
    "  end\n"
    "  redis.call('HSET', tkey(tenant, 'members'), sub, cjson.encode({\n"
    "    sub = sub, email = email ~= '' and email or cjson.null,\n"
    "    role = role, joined_ms = joined}))\n"
    "  redis.call('HSET', ukey, 'tenant', tenant, 'role', role)\n"
    "  if redis.call('SADD', tenants, tenant) == 1 then\n"
    "    redis.call('INCR', tver)\n"
    "  end\n"
    "  return {tenant, role}\n"
    "end\n"
    "\n"
    "redis.register_function('es_api_signin', signin)\n";
