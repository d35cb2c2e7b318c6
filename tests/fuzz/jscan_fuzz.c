/*
 * jscan_fuzz.c - the JSON scanner the workers read stream entries and
 * dump lines with (es_jscan), including its string unescaping.
 *
 * Invariants: every member's key and value spans lie inside the input;
 * an error has an offset within the input; an unescaped string fits the
 * room it was given and never grows.
 */
#include "es_jscan.h"
#include "fuzz.h"

static int inside(const char *buf, size_t n, const char *p, size_t len)
{
    return p >= buf && len <= n && p + len <= buf + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    es_jscan_member m;
    size_t off, k, guard;
    es_jscan s;
    char *buf, *out;
    int rc;

    buf = es_fuzz_copy(data, size, 0);
    out = malloc(size + 1);
    if (out == NULL) {
        abort();
    }

    es_jscan_init(&s, buf, size);
    for (guard = 0; guard <= size + 1; guard++) {
        rc = es_jscan_next(&s, &m);
        if (rc != 1) {
            break;
        }
        ES_FUZZ_CHECK(inside(buf, size, m.key, m.key_len));
        ES_FUZZ_CHECK(inside(buf, size, m.val, m.val_len));
        if (m.key_escaped) {
            k = es_jscan_unescape(m.key, m.key_len, out, size + 1);
            ES_FUZZ_CHECK(k <= m.key_len);
        }
        if (m.type == ES_JSON_STRING && m.val_escaped) {
            k = es_jscan_unescape(m.val, m.val_len, out, size + 1);
            ES_FUZZ_CHECK(k <= m.val_len);
        }
        (void)es_jscan_key_is(&m, "body", 4);
    }
    ES_FUZZ_CHECK(guard <= size + 1);
    if (es_jscan_finish(&s) != 0 || rc < 0) {
        if (es_jscan_error(&s, &off) != NULL) {
            ES_FUZZ_CHECK(off <= size);
        }
    }

    free(out);
    free(buf);
    return 0;
}
