/*
 * es_req_entry_id.c - stream entry ids (es_req_entry_id.h).
 */
#include "es_req_entry_id.h"

/* 1-20 digits at *p up to '-' or the end, at most UINT64_MAX; 0 or -1. */
static int es_req_entry_id_part(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v;
    size_t digits;

    v = 0;
    for (digits = 0; s < end && *s != '-'; s++, digits++) {
        if (*s < '0' || *s > '9' || digits == 20 ||
            v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            return -1;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }

    if (digits == 0) {
        return -1;
    }

    *p = s;
    *out = v;
    return 0;
}

int es_req_entry_id(const char *s, size_t n, uint64_t *ms, uint64_t *seq)
{
    const char *p, *end;
    uint64_t a, b;

    p = s;
    end = s + n;

    if (es_req_entry_id_part(&p, end, &a) != 0 || p == end || *p++ != '-' ||
        es_req_entry_id_part(&p, end, &b) != 0 || p != end) {
        return -1;
    }

    if (ms != NULL) {
        *ms = a;
    }
    if (seq != NULL) {
        *seq = b;
    }
    return 0;
}

int es_req_entry_id_valid(const char *s, size_t n)
{
    return es_req_entry_id(s, n, NULL, NULL) == 0;
}
