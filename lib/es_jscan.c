/*
 * es_jscan.c - one-pass JSON object scanner (see es_jscan.h).
 *
 * String bodies dominate a dump line (the comment body), so they are
 * skipped a machine word at a time: one 64-bit test finds whether any of 8
 * bytes is a quote, a backslash or a control character, and only such a
 * word is looked at byte by byte. Nested values are validated by a bounded
 * recursion (ES_JSCAN_MAX_DEPTH), so hostile nesting cannot exhaust the
 * stack.
 */
#include <stdint.h>
#include <string.h>

#include "es_jscan.h"

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static int fail(es_jscan *s, const char *at, const char *why)
{
    s->state = -1;
    s->err = why;
    s->err_off = (size_t)(at - s->start);
    return -1;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/*
 * Lowest byte of the word that is '"', '\\' or below 0x20, as a bit mask
 * whose lowest set bit is exact (higher bits may be false positives, which
 * the caller never looks at). Little-endian byte order.
 */
static inline uint64_t special_bytes(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"');
    uint64_t b = x ^ (ONES * '\\');
    uint64_t mq = (q - ONES) & ~q;
    uint64_t mb = (b - ONES) & ~b;
    uint64_t mc = (x - ONES * 0x20) & ~x;
    return (mq | mb | mc) & HIGHS;
}

/*
 * p is just past an opening quote. Returns the closing quote, or NULL after
 * recording the error; *escaped is set when the body holds a backslash.
 */
static const char *skip_string(es_jscan *s, const char *p, int *escaped)
{
    const char *end = s->end;

    *escaped = 0;
    for (;;) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (end - p >= 8) {
            uint64_t x, m;
            memcpy(&x, p, 8);
            m = special_bytes(x);
            if (m != 0) {
                p += __builtin_ctzll(m) >> 3;
                break;
            }
            p += 8;
        }
#endif
        while (p < end && (unsigned char)*p >= 0x20 && *p != '"' &&
               *p != '\\') {
            p++;
        }
        if (p >= end) {
            fail(s, p, "unterminated string");
            return NULL;
        }
        if (*p == '"') {
            return p;
        }
        if (*p != '\\') {
            fail(s, p, "control character in string");
            return NULL;
        }
        *escaped = 1;
        if (end - p < 2) {
            fail(s, p, "unterminated escape");
            return NULL;
        }
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p += 2;
            break;
        case 'u':
            if (end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) ||
                !is_hex(p[4]) || !is_hex(p[5])) {
                fail(s, p, "bad \\u escape");
                return NULL;
            }
            p += 6;
            break;
        default:
            fail(s, p, "bad escape");
            return NULL;
        }
    }
}

static const char *skip_digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9') {
        p++;
    }
    return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *skip_number(es_jscan *s, const char *p)
{
    const char *end = s->end, *q;

    if (p < end && *p == '-') {
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') {
        fail(s, p, "bad number");
        return NULL;
    }
    if (*p == '0') {
        p++;
    } else {
        p = skip_digits(p, end);
    }
    if (p < end && *p == '.') {
        q = skip_digits(p + 1, end);
        if (q == p + 1) {
            fail(s, p, "bad number fraction");
            return NULL;
        }
        p = q;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        q = skip_digits(p, end);
        if (q == p) {
            fail(s, p, "bad number exponent");
            return NULL;
        }
        p = q;
    }
    return p;
}

static const char *skip_literal(es_jscan *s, const char *p, const char *word,
                                size_t len)
{
    if ((size_t)(s->end - p) < len || memcmp(p, word, len) != 0) {
        fail(s, p, "bad literal");
        return NULL;
    }
    return p + len;
}

static const char *scan_value(es_jscan *s, const char *p, int depth,
                              es_json_type *type, int *escaped);

/* p is just past '{' or '['; returns the position after the closer. */
static const char *skip_container(es_jscan *s, const char *p, int depth,
                                  char closer)
{
    const char *end = s->end;
    es_json_type t;
    int esc;

    if (depth >= ES_JSCAN_MAX_DEPTH) {
        fail(s, p, "nesting too deep");
        return NULL;
    }
    p = skip_ws(p, end);
    if (p < end && *p == closer) {
        return p + 1;
    }
    for (;;) {
        if (closer == '}') {
            if (p >= end || *p != '"') {
                fail(s, p, "expected a key");
                return NULL;
            }
            p = skip_string(s, p + 1, &esc);
            if (p == NULL) {
                return NULL;
            }
            p = skip_ws(p + 1, end);
            if (p >= end || *p != ':') {
                fail(s, p, "expected ':'");
                return NULL;
            }
            p = skip_ws(p + 1, end);
        }
        p = scan_value(s, p, depth + 1, &t, &esc);
        if (p == NULL) {
            return NULL;
        }
        p = skip_ws(p, end);
        if (p < end && *p == closer) {
            return p + 1;
        }
        if (p >= end || *p != ',') {
            fail(s, p,
                 closer == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
            return NULL;
        }
        p = skip_ws(p + 1, end);
    }
}

/*
 * Validates one value at p (no leading whitespace) and returns the position
 * after it. Strings return the position after the closing quote.
 */
static const char *scan_value(es_jscan *s, const char *p, int depth,
                              es_json_type *type, int *escaped)
{
    *escaped = 0;
    if (p >= s->end) {
        fail(s, p, "truncated value");
        return NULL;
    }
    switch (*p) {
    case '"':
        *type = ES_JSON_STRING;
        p = skip_string(s, p + 1, escaped);
        return p ? p + 1 : NULL;
    case '{':
        *type = ES_JSON_OBJECT;
        return skip_container(s, p + 1, depth, '}');
    case '[':
        *type = ES_JSON_ARRAY;
        return skip_container(s, p + 1, depth, ']');
    case 't':
        *type = ES_JSON_TRUE;
        return skip_literal(s, p, "true", 4);
    case 'f':
        *type = ES_JSON_FALSE;
        return skip_literal(s, p, "false", 5);
    case 'n':
        *type = ES_JSON_NULL;
        return skip_literal(s, p, "null", 4);
    default:
        *type = ES_JSON_NUMBER;
        return skip_number(s, p);
    }
}

void es_jscan_init(es_jscan *s, const char *buf, size_t n)
{
    s->start = buf;
    s->p = buf;
    s->end = buf + n;
    s->state = 0;
    s->err = NULL;
    s->err_off = 0;
}

int es_jscan_next(es_jscan *s, es_jscan_member *m)
{
    const char *p = s->p, *end = s->end, *q;

    if (s->state < 0) {
        return -1;
    }
    if (s->state == 3) {
        return 0;
    }
    p = skip_ws(p, end);
    if (s->state == 0) {
        if (p >= end || *p != '{') {
            return fail(s, p, p >= end ? "empty line" : "expected '{'");
        }
        p = skip_ws(p + 1, end);
        s->state = 1;
    }
    if (s->state == 2) {
        /* after a member: ',' or the closing brace */
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
        } else if (p < end && *p == '}') {
            goto closed;
        } else {
            return fail(s, p,
                        p >= end ? "truncated object" : "expected ',' or '}'");
        }
    } else if (p < end && *p == '}') {
        goto closed;
    }
    if (p >= end || *p != '"') {
        return fail(s, p, p >= end ? "truncated object" : "expected a key");
    }
    m->key = p + 1;
    q = skip_string(s, p + 1, &m->key_escaped);
    if (q == NULL) {
        return -1;
    }
    m->key_len = (size_t)(q - m->key);
    p = skip_ws(q + 1, end);
    if (p >= end || *p != ':') {
        return fail(s, p, "expected ':'");
    }
    p = skip_ws(p + 1, end);
    q = scan_value(s, p, 0, &m->type, &m->val_escaped);
    if (q == NULL) {
        return -1;
    }
    if (m->type == ES_JSON_STRING) {
        m->val = p + 1;
        m->val_len = (size_t)(q - p - 2);
    } else {
        m->val = p;
        m->val_len = (size_t)(q - p);
    }
    s->p = q;
    s->state = 2;
    return 1;

closed:
    p = skip_ws(p + 1, end);
    if (p != end) {
        return fail(s, p, "data after the object");
    }
    s->p = p;
    s->state = 3;
    return 0;
}

int es_jscan_finish(es_jscan *s)
{
    es_jscan_member m;
    int rc;

    do {
        rc = es_jscan_next(s, &m);
    } while (rc == 1);
    return rc;
}

const char *es_jscan_error(const es_jscan *s, size_t *offset)
{
    if (s->state >= 0) {
        return NULL;
    }
    if (offset) {
        *offset = s->err_off;
    }
    return s->err;
}

int es_jscan_key_is(const es_jscan_member *m, const char *name, size_t len)
{
    return !m->key_escaped && m->key_len == len &&
           memcmp(m->key, name, len) == 0;
}

static int hex4(const char *p)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v |= c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v |= c - 'A' + 10;
        } else {
            return -1;
        }
    }
    return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Each escape is at least as long as what it decodes to (\n: 2 -> 1,
 * \uXXXX: 6 -> at most 3, a pair: 12 -> 4, a lone surrogate: 6 -> 3), so
 * the output never outgrows the input.
 */
size_t es_jscan_unescape(const char *s, size_t n, char *out, size_t out_size)
{
    const char *p = s, *end = s + n;
    size_t o = 0;

    if (out_size < 1) {
        return (size_t)-1;
    }
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = bs ? (size_t)(bs - p) : (size_t)(end - p);
        char tmp[4];
        size_t len = 1;
        int cp, lo;

        if (o + run + 1 > out_size) {
            return (size_t)-1;
        }
        memcpy(out + o, p, run);
        o += run;
        p += run;
        if (p >= end) {
            break;
        }
        if (end - p < 2) {
            return (size_t)-1;
        }
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
            tmp[0] = p[1];
            break;
        case 'b':
            tmp[0] = '\b';
            break;
        case 'f':
            tmp[0] = '\f';
            break;
        case 'n':
            tmp[0] = '\n';
            break;
        case 'r':
            tmp[0] = '\r';
            break;
        case 't':
            tmp[0] = '\t';
            break;
        case 'u':
            len = 0;
            break;
        default:
            return (size_t)-1;
        }
        if (len == 1) {
            p += 2;
        } else {
            if (end - p < 6) {
                return (size_t)-1;
            }
            cp = hex4(p + 2);
            if (cp < 0) {
                return (size_t)-1;
            }
            p += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                lo = -1;
                if (end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                    lo = hex4(p + 2);
                }
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
                cp = 0xFFFD;
            }
            len = put_utf8(tmp, (unsigned)cp);
        }
        if (o + len + 1 > out_size) {
            return (size_t)-1;
        }
        memcpy(out + o, tmp, len);
        o += len;
    }
    out[o] = '\0';
    return o;
}
