/*
 * ngx_http_echostream_tenancy_lua.c - the Redis function library
 * "echostream_tenancy": a user's membership, created on first sign-in.
 *
 * es_api_signin(KEYS = user record "es:{users}:<sub>", the tenant set,
 *     the topics version counter;
 *     ARGV = sub, lower-case e-mail ("" = none), the token's tenant claim
 *     ("" unless "echostream_tenant_claim on"), the user's own tenant id)
 *   → {tenant, role}, or {"", "none"} for a user without a tenant
 *
 *   Membership is stored and changes only through the API: this function
 *   never joins a user to another tenant, and never accepts an invite.
 *
 *   1. With a tenant claim (an operator who provisions tenants in the
 *      identity provider opted in, and keeps the attribute unwritable by
 *      app clients): that tenant, with the role stored there, as owner if
 *      it has no owner yet, else as member. A user removed from that
 *      tenant (its "removed" set) has no tenant.
 *   2. A user record: the tenant it names, with the role stored in that
 *      tenant's members. A user removed from it (or who left) has no
 *      tenant until they accept an invite: the record stays, so the
 *      removal sticks, and nothing here can bring them back, not even as
 *      the tenant's first owner (the role comes only from the members).
 *   3. No record (the first sign-in): a tenant of the user's own (an id
 *      derived from the user), as owner. Should that id already have
 *      another owner (only an operator's claim could do that), a fresh id
 *      is taken.
 *   The record, the membership and the tenant's meta are written in the
 *   same call. Redis runs a function to the end before anything else, so
 *   two first requests of one user can never create two tenants.
 *
 * The keys span several hash tags (users, the tenant): on a Redis Cluster
 * this function would need the keys co-located; one Redis (or a primary
 * with replicas) is what the module targets.
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
    "-- the user's role in tenant, from its members only; nil: not one\n"
    "local function role_in(tenant, sub)\n"
    "  local raw = redis.call('HGET', tkey(tenant, 'members'), sub)\n"
    "  if not raw then return nil end\n"
    "  local ok, d = pcall(cjson.decode, raw)\n"
    "  if ok and type(d) == 'table' and d.role == 'owner' then\n"
    "    return 'owner'\n"
    "  end\n"
    "  return 'member'\n"
    "end\n"
    "\n"
    "-- makes sub a member of tenant with role, owner in meta if it has none\n"
    "local function join(keys, tenant, sub, email, role, now)\n"
    "  redis.call('HSET', tkey(tenant, 'members'), sub, cjson.encode({\n"
    "    sub = sub, email = email ~= '' and email or cjson.null,\n"
    "    role = role, joined_ms = now}))\n"
    "  redis.call('HSET', keys[1], 'tenant', tenant, 'role', role)\n"
    "  if redis.call('SADD', keys[2], tenant) == 1 then\n"
    "    redis.call('INCR', keys[3])\n"
    "  end\n"
    "end\n"
    "\n"
    "local function signin(keys, args)\n"
    "  local sub, email, claim, own = args[1], args[2], args[3], args[4]\n"
    "  local rec = redis.call('HGET', keys[1], 'tenant')\n"
    "  local now = now_ms()\n"
    "  if claim ~= '' then\n"
    "    if redis.call('SISMEMBER', tkey(claim, 'removed'), sub) == 1 then\n"
    "      return {'', 'none'}\n"
    "    end\n"
    "    local role = role_in(claim, sub)\n"
    "    if role then\n"
    "      if rec ~= claim then\n"
    "        redis.call('HSET', keys[1], 'tenant', claim, 'role', role)\n"
    "      end\n"
    "      return {claim, role}\n"
    "    end\n"
    "    local meta = tkey(claim, 'meta')\n"
    "    role = 'member'\n"
    "    if redis.call('HSETNX', meta, 'owner', sub) == 1 then\n"
    "      redis.call('HSET', meta, 'created_ms', now)\n"
    "      role = 'owner'\n"
    "    end\n"
    "    join(keys, claim, sub, email, role, now)\n"
    "    return {claim, role}\n"
    "  end\n"
    "  if rec then\n"
    "    local role = role_in(rec, sub)\n"
    "    if role then return {rec, role} end\n"
    "    return {'', 'none'}\n"
    "  end\n"
    "  local tenant = own\n"
    "  local meta = tkey(tenant, 'meta')\n"
    "  if redis.call('HSETNX', meta, 'owner', sub) == 0 and\n"
    "     redis.call('HGET', meta, 'owner') ~= sub then\n"
    "    tenant = own .. '-' .. string.format('%x', now)\n"
    "    meta = tkey(tenant, 'meta')\n"
    "    redis.call('HSET', meta, 'owner', sub)\n"
    "  end\n"
    "  redis.call('HSETNX', meta, 'created_ms', now)\n"
    "  join(keys, tenant, sub, email, 'owner', now)\n"
    "  return {tenant, 'owner'}\n"
    "end\n"
    "\n"
    "redis.register_function('es_api_signin', signin)\n";
