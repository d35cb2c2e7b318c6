#!lua name=echostream_tenancy
-- version: 6
--
-- lib/redis/tenancy.lua - the Redis function library
-- "echostream_tenancy": a user's membership, created on first sign-in.
--
-- es_api_signin(KEYS = user record "es:{users}:<sub>", the tenant set,
--     the topics version counter;
--     ARGV = sub, lower-case e-mail ("" = none), the token's tenant claim
--     ("" unless "echostream_tenant_claim on"), the user's own tenant id)
--   → {tenant, role}, or {"", "none"} for a user without a tenant
--
--   Membership is stored and changes only through the API: this function
--   never joins a user to another tenant, and never accepts an invite.
--
--   1. With a tenant claim (an operator who provisions tenants in the
--      identity provider opted in, and keeps the attribute unwritable by
--      app clients): that tenant, with the role stored there, as owner if
--      it has no owner yet, else as member. A user removed from that
--      tenant (its "removed" set) has no tenant.
--   2. A user record: the tenant it names, with the role stored in that
--      tenant's members. A user removed from it (or who left) has no
--      tenant until they accept an invite: the record stays, so the
--      removal sticks, and nothing here can bring them back, not even as
--      the tenant's first owner (the role comes only from the members).
--   3. No record (the first sign-in): a tenant of the user's own (an id
--      derived from the user), as owner. Should that id already have
--      another owner (only an operator's claim could do that), a fresh id
--      is taken.
--   The record, the membership and the tenant's meta are written in the
--   same call. Redis runs a function to the end before anything else, so
--   two first requests of one user can never create two tenants.
--
-- The keys span several hash tags (users, the tenant): on a Redis Cluster
-- this function would need the keys co-located; one Redis (or a primary
-- with replicas) is what the module targets.

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local tkey = ES.tkey

-- the user's role in tenant, from its members only; nil: not one
local function role_in(tenant, sub)
  local raw = redis.call('HGET', tkey(tenant, 'MEMBERS'), sub)
  if not raw then return nil end
  local ok, d = pcall(cjson.decode, raw)
  if ok and type(d) == 'table' and d.role == 'owner' then
    return 'owner'
  end
  return 'member'
end

-- makes sub a member of tenant with role, owner in meta if it has none
local function join(keys, tenant, sub, email, role, now)
  redis.call('HSET', tkey(tenant, 'MEMBERS'), sub, cjson.encode({
    sub = sub, email = email ~= '' and email or cjson.null,
    role = role, joined_ms = now}))
  redis.call('HSET', keys[1], 'tenant', tenant, 'role', role)
  if redis.call('SADD', keys[2], tenant) == 1 then
    redis.call('INCR', keys[3])
  end
end

local function signin(keys, args)
  local sub, email, claim, own = args[1], args[2], args[3], args[4]
  local rec = redis.call('HGET', keys[1], 'tenant')
  local now = now_ms()
  if claim ~= '' then
    if redis.call('SISMEMBER', tkey(claim, 'REMOVED'), sub) == 1 then
      return {'', 'none'}
    end
    local role = role_in(claim, sub)
    if role then
      if rec ~= claim then
        redis.call('HSET', keys[1], 'tenant', claim, 'role', role)
      end
      return {claim, role}
    end
    local meta = tkey(claim, 'META')
    role = 'member'
    if redis.call('HSETNX', meta, 'owner', sub) == 1 then
      redis.call('HSET', meta, 'created_ms', now)
      role = 'owner'
    end
    join(keys, claim, sub, email, role, now)
    return {claim, role}
  end
  if rec then
    local role = role_in(rec, sub)
    if role then return {rec, role} end
    return {'', 'none'}
  end
  local tenant = own
  local meta = tkey(tenant, 'META')
  if redis.call('HSETNX', meta, 'owner', sub) == 0 and
     redis.call('HGET', meta, 'owner') ~= sub then
    tenant = own .. '-' .. string.format('%x', now)
    meta = tkey(tenant, 'META')
    redis.call('HSET', meta, 'owner', sub)
  end
  redis.call('HSETNX', meta, 'created_ms', now)
  join(keys, tenant, sub, email, 'owner', now)
  return {tenant, 'owner'}
end

-- refused before anything is written without the KEYS and ARGV it reads
redis.register_function('es_api_signin', function(keys, args)
  if #keys < 3 or #args < 4 then
    return redis.error_reply(string.format('ERR es_api_signin needs 3 ' ..
      'keys and 4 arguments, got %d and %d', #keys, #args))
  end
  return signin(keys, args)
end)
