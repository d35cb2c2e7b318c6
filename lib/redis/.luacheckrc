-- luacheck settings for the Redis function libraries of lib/redis/.
-- Redis 7 runs Lua 5.1 with a few libraries as globals; ES is the table of
-- schema constants the build writes in front of each library
-- (lib/redis/luagen.c). Nothing may set a global: Redis refuses it.
std = "lua51"
read_globals = {"redis", "cjson", "cmsgpack", "bit", "struct", "ES"}
max_line_length = 80
