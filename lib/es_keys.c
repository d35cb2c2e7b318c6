/*
 * es_keys.c - Redis key builders (see es_keys.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

#define ES_TK_FORMAT_(name, format, pattern) format,
static const char *const tenant_formats[] = {ES_TENANT_KEYS(ES_TK_FORMAT_)};
#undef ES_TK_FORMAT_

#define ES_TK_PATTERN_(name, format, pattern) pattern,
static const char *const tenant_patterns[] = {ES_TENANT_KEYS(ES_TK_PATTERN_)};
#undef ES_TK_PATTERN_

const char *es_tenant_key_format(es_tkey k)
{
    return (unsigned)k < ES_TK_COUNT ? tenant_formats[k] : NULL;
}

const char *es_tenant_key_pattern(es_tkey k)
{
    return (unsigned)k < ES_TK_COUNT ? tenant_patterns[k] : NULL;
}

/* The format of k after the prefix already at buf[0..o); see es_keys.h. */
static int tenant_key_va(char *buf, size_t size, size_t o, es_tkey k,
                         va_list ap)
{
    const char *f, *arg;

    /* the format has only %s: copied here rather than handed to vsnprintf,
     * so a table entry can never make it read an argument of another type */
    for (f = tenant_formats[k]; *f != '\0'; f++) {
        if (f[0] == '%' && f[1] == 's') {
            arg = va_arg(ap, const char *);
            while (*arg != '\0' && o + 1 < size) {
                buf[o++] = *arg++;
            }
            if (*arg != '\0') {
                return -1;
            }
            f++;
            continue;
        }
        if (o + 1 >= size) {
            return -1;
        }
        buf[o++] = *f;
    }
    buf[o] = '\0';
    return (int)o;
}

int es_tenant_key_v(char *buf, size_t size, const char *tenant, es_tkey k,
                    va_list ap)
{
    int n;

    if ((unsigned)k >= ES_TK_COUNT) {
        return -1;
    }
    n = fit(snprintf(buf, size, ES_KEY_TENANT_PREFIX_FMT, tenant), size);
    if (n < 0) {
        return -1;
    }
    return tenant_key_va(buf, size, (size_t)n, k, ap);
}

int es_tenant_key(char *buf, size_t size, const char *tenant, es_tkey k, ...)
{
    va_list ap;
    int n;

    va_start(ap, k);
    n = es_tenant_key_v(buf, size, tenant, k, ap);
    va_end(ap);
    return n;
}

int es_tenant_key_p(char *buf, size_t size, const char *prefix, size_t plen,
                    es_tkey k, ...)
{
    va_list ap;
    int n;

    if ((unsigned)k >= ES_TK_COUNT || plen >= size) {
        return -1;
    }
    memcpy(buf, prefix, plen);
    va_start(ap, k);
    n = tenant_key_va(buf, size, plen, k, ap);
    va_end(ap);
    return n;
}

int es_tenant_prefix(char *buf, size_t size, const char *tenant)
{
    return fit(snprintf(buf, size, ES_KEY_TENANT_PREFIX_FMT, tenant), size);
}

int es_key_user(char *buf, size_t size, const char *sub)
{
    return fit(snprintf(buf, size, "%s%s", ES_KEY_USER_PREFIX, sub), size);
}

int es_key_invites(char *buf, size_t size, const char *email_hash_hex)
{
    return fit(
        snprintf(buf, size, "%s%s", ES_KEY_INVITES_PREFIX, email_hash_hex),
        size);
}
