/*
 * es_ids.c - identifier validation (see es_ids.h).
 */
#include <string.h>

#include "es_ids.h"

static int is_alnum_lower(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

int es_subreddit_normalize(const char *s, size_t n, char *out)
{
    if (n < 2 || n > 21 || s[0] == '_') {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (!is_alnum_lower(c) && c != '_') {
            return -1;
        }
        out[i] = c;
    }
    out[n] = '\0';
    return 0;
}

int es_comment_id_parse(const char *s, size_t n, uint64_t *num)
{
    uint64_t v = 0;

    if (n > 3 && memcmp(s, "t1_", 3) == 0) {
        s += 3;
        n -= 3;
    }
    if (n == 0 || n > 12) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!is_alnum_lower(c)) {
            return -1;
        }
        v = v * 36 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    *num = v;
    return 0;
}

void es_comment_id_format(uint64_t num, char *out)
{
    char tmp[16];
    int n = 0;

    do {
        unsigned d = (unsigned)(num % 36);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        num /= 36;
    } while (num && n < 14);
    for (int i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    out[n] = '\0';
}

int es_tenant_id_valid(const char *s, size_t n)
{
    if (n == 0 || n > 64) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || is_alnum_lower(c) || c == '_' ||
              c == '-')) {
            return -1;
        }
    }
    return 0;
}

int es_user_sub_valid(const char *s, size_t n)
{
    if (n == 0 || n > ES_USER_SUB_MAX) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || is_alnum_lower(c) || c == '-' ||
              c == '_' || c == '.' || c == ':' || c == '@' || c == '+')) {
            return -1;
        }
    }
    return 0;
}
