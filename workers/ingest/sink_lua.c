/*
 * sink_lua.c - the Redis function library "echostream" used by ingest.
 *
 * es_ingest_add(KEYS = stream, then per comment its seen and gone bitmap
 *               chunks; ARGV = max_len, ttl, then per comment:
 *               bit offset, deleted flag, field count, field/value pairs)
 *   For each comment, SETBIT in its "seen" chunk is the test-and-set that
 *   makes the stream exactly-once: only a comment whose bit was 0 is
 *   XADDed. A deleted comment whose bit was already 1 (streamed earlier) and
 *   whose "gone" bit was 0 yields one deletion event. The whole batch runs
 *   atomically, so a crash leaves either all of it or none of it. Returns
 *   one integer per comment: 1 added, 2 deletion event, 0 duplicate or
 *   nothing to do. With max_len > 0, a consumer group present and the stream
 *   that long, it refuses the batch with a BACKPRESSURE error instead.
 *
 * es_stream_trim(KEYS = stream; ARGV = max_len)
 *   Deletes entries every consumer group has acknowledged: below the oldest
 *   pending entry of each group, or up to its last-delivered id when nothing
 *   is pending. With no group at all nothing can be waiting for an entry,
 *   so it keeps the newest max_len. Returns the number of entries removed.
 *
 * All keys a call touches are passed in KEYS and share the {ingest} hash
 * tag, as Redis Cluster requires.
 */
#include "sink_lua.h"

const char es_sink_lua[] =
    "#!lua name=echostream\n"
    "\n"
    "local function has_groups(stream)\n"
    "  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', stream)\n"
    "  return ok and #groups > 0\n"
    "end\n"
    "\n"
    "local function ingest_add(keys, args)\n"
    "  local stream = keys[1]\n"
    "  local max_len = tonumber(args[1])\n"
    "  local ttl = tonumber(args[2])\n"
    "  if max_len > 0 and redis.call('XLEN', stream) >= max_len\n"
    "     and has_groups(stream) then\n"
    "    return redis.error_reply('BACKPRESSURE stream holds ' ..\n"
    "      max_len .. ' entries not yet processed')\n"
    "  end\n"
    "  local out = {}\n"
    "  local touched = {}\n"
    "  local a, k = 3, 2\n"
    "  while a <= #args do\n"
    "    local off = args[a]\n"
    "    local deleted = args[a + 1] == '1'\n"
    "    local nf = tonumber(args[a + 2])\n"
    "    local seen, gone = keys[k], keys[k + 1]\n"
    "    local fields = {}\n"
    "    for i = 1, nf * 2 do fields[i] = args[a + 2 + i] end\n"
    "    a = a + 3 + nf * 2\n"
    "    k = k + 2\n"
    "    local was = redis.call('SETBIT', seen, off, 1)\n"
    "    touched[seen] = true\n"
    "    local r = 0\n"
    "    if deleted then\n"
    "      local g = redis.call('SETBIT', gone, off, 1)\n"
    "      touched[gone] = true\n"
    "      if was == 1 and g == 0 then\n"
    "        redis.call('XADD', stream, '*', 'type', 'delete',\n"
    "                   unpack(fields))\n"
    "        r = 2\n"
    "      end\n"
    "    elseif was == 0 then\n"
    "      redis.call('XADD', stream, '*', 'type', 'comment', unpack(fields))\n"
    "      r = 1\n"
    "    end\n"
    "    out[#out + 1] = r\n"
    "  end\n"
    "  for key in pairs(touched) do redis.call('EXPIRE', key, ttl) end\n"
    "  return out\n"
    "end\n"
    "\n"
    "local function id_less(a, b)\n"
    "  local am, as = string.match(a, '^(%d+)-(%d+)$')\n"
    "  local bm, bs = string.match(b, '^(%d+)-(%d+)$')\n"
    "  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), "
    "tonumber(bs)\n"
    "  return am < bm or (am == bm and as < bs)\n"
    "end\n"
    "\n"
    "local function next_id(id)\n"
    "  local ms, seq = string.match(id, '^(%d+)-(%d+)$')\n"
    "  return ms .. '-' .. string.format('%d', tonumber(seq) + 1)\n"
    "end\n"
    "\n"
    "local function stream_trim(keys, args)\n"
    "  local stream = keys[1]\n"
    "  local max_len = tonumber(args[1])\n"
    "  if redis.call('EXISTS', stream) == 0 then return 0 end\n"
    "  local groups = redis.call('XINFO', 'GROUPS', stream)\n"
    "  if #groups == 0 then\n"
    "    return redis.call('XTRIM', stream, 'MAXLEN', max_len)\n"
    "  end\n"
    "  local min_id = nil\n"
    "  for _, g in ipairs(groups) do\n"
    "    local info = {}\n"
    "    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end\n"
    "    local keep\n"
    "    if tonumber(info['pending']) > 0 then\n"
    "      keep = redis.call('XPENDING', stream, info['name'])[2]\n"
    "    else\n"
    "      keep = next_id(info['last-delivered-id'])\n"
    "    end\n"
    "    if min_id == nil or id_less(keep, min_id) then min_id = keep end\n"
    "  end\n"
    "  return redis.call('XTRIM', stream, 'MINID', min_id)\n"
    "end\n"
    "\n"
    "redis.register_function('es_ingest_add', ingest_add)\n"
    "redis.register_function('es_stream_trim', stream_trim)\n";
