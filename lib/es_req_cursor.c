/*
 * es_req_cursor.c - the comments cursor (es_req_cursor.h).
 *
 * Numbers are canonical decimal (no sign, no leading zero), so together
 * with canonical base64url one cursor has exactly one text; the decoded
 * bytes are checked piece by piece before anything is copied out.
 */
#include "es_req_cursor.h"

#include <stdio.h>
#include <string.h>

#include "es_req_b64url.h"

/* room for the decoded bytes: far more than the 36 a cursor holds */
#define ES_REQ_CURSOR_RAW 48

int es_req_cursor_id_valid(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > ES_REQ_CURSOR_ID_LEN) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z'))) {
            return 0;
        }
    }

    return 1;
}

/* Canonical decimal digits up to max at *p (moved past them); 0 or -1. */
static int es_req_cursor_uint(const unsigned char **p, const unsigned char *end,
                              uint64_t max, uint64_t *out)
{
    const unsigned char *s = *p;
    uint64_t v;

    if (s == end || *s < '0' || *s > '9' ||
        (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')) {
        return -1;
    }

    v = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        v = v * 10 + (uint64_t)(*s++ - '0');
        if (v > max) {
            return -1;
        }
    }

    *p = s;
    *out = v;
    return 0;
}

int es_req_cursor_decode(const char *s, size_t n, es_req_cursor *out)
{
    unsigned char raw[ES_REQ_CURSOR_RAW];
    const unsigned char *p, *end, *id;
    uint64_t score, ties;
    size_t len;

    if (n == 0 || n > ES_REQ_CURSOR_LEN ||
        es_req_b64url_decode(s, n, raw, sizeof(raw), &len) != 0) {
        return -1;
    }

    p = raw;
    end = raw + len;

    if (es_req_cursor_uint(&p, end, ES_REQ_CURSOR_SCORE_MAX, &score) != 0 ||
        p == end || *p++ != ':' ||
        es_req_cursor_uint(&p, end, ES_REQ_CURSOR_TIES_MAX, &ties) != 0 ||
        p == end || *p++ != ':') {
        return -1;
    }

    id = p;
    if (!es_req_cursor_id_valid((const char *)id, (size_t)(end - id))) {
        return -1;
    }

    out->score = (int64_t)score;
    out->ties = (uint32_t)ties;
    out->id_len = (size_t)(end - id);
    memcpy(out->id, id, out->id_len);
    out->id[out->id_len] = '\0';

    return 0;
}

int es_req_cursor_encode(const es_req_cursor *c, char *out)
{
    char raw[ES_REQ_CURSOR_RAW];
    int n;

    out[0] = '\0';

    if (c->score < 0 || c->score > ES_REQ_CURSOR_SCORE_MAX ||
        c->ties > ES_REQ_CURSOR_TIES_MAX ||
        !es_req_cursor_id_valid(c->id, c->id_len)) {
        return -1;
    }

    /* at most 15 + 1 + 6 + 1 + 12 bytes: 48 characters encoded */
    n = snprintf(raw, sizeof(raw), "%lld:%u:%.*s", (long long)c->score,
                 (unsigned)c->ties, (int)c->id_len, c->id);
    if (n < 0 || (size_t)n >= sizeof(raw)) {
        return -1;
    }

    return (int)es_req_b64url_encode((unsigned char *)raw, (size_t)n, out);
}
