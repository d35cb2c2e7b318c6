/*
 * es_keys.c - Redis key builders (see es_keys.h).
 */
#include <stdio.h>

#include "es_keys.h"

static int fit(int n, size_t size)
{
    return (n < 0 || (size_t)n >= size) ? -1 : n;
}

int es_key_cursor(char *buf, size_t size, const char *subreddit)
{
    return fit(snprintf(buf, size, "%s%s", ES_KEY_CURSOR_PREFIX, subreddit),
               size);
}

int es_key_seen(char *buf, size_t size, uint64_t id_num)
{
    return fit(snprintf(buf, size, "%s%llu", ES_KEY_SEEN_PREFIX,
                        (unsigned long long)(id_num >> ES_DEDUP_CHUNK_BITS)),
               size);
}

int es_key_gone(char *buf, size_t size, uint64_t id_num)
{
    return fit(snprintf(buf, size, "%s%llu", ES_KEY_GONE_PREFIX,
                        (unsigned long long)(id_num >> ES_DEDUP_CHUNK_BITS)),
               size);
}

uint64_t es_dedup_offset(uint64_t id_num)
{
    return id_num & ((1ULL << ES_DEDUP_CHUNK_BITS) - 1);
}
