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
