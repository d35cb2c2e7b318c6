/*
 * es_keys_test.c - unit tests for lib/es_keys.c and the key constants.
 *
 * The key strings are the contract with every other component (the nginx
 * module, the Redis functions, the docs), so the tests spell them out in
 * full rather than rebuilding them from the same macros.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "es_keys.h"

/* The hash tag of a key: the text between the first '{' and next '}'. */
static void hash_tag(const char *key, char *out, size_t size)
{
    const char *open = strchr(key, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    size_t n;

    assert_non_null(open);
    assert_non_null(close);
    n = (size_t)(close - open - 1);
    assert_true(n > 0 && n < size);
    memcpy(out, open + 1, n);
    out[n] = '\0';
}

static void test_ingest_keys_share_the_ingest_hash_tag(void **state)
{
    static const char *const keys[] = {
        ES_KEY_STREAM,        ES_KEY_SEEN_PREFIX,   ES_KEY_GONE_PREFIX,
        ES_KEY_CURSOR_PREFIX, ES_KEY_INGEST_BUDGET, ES_KEY_SYNTH_SEQ,
    };
    char tag[32];

    (void)state;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        hash_tag(keys[i], tag, sizeof(tag));
        assert_string_equal(tag, "ingest");
    }
    hash_tag(ES_KEY_WATCH_SUBS, tag, sizeof(tag));
    assert_string_equal(tag, "watch");
    hash_tag(ES_KEY_WATCH_VERSION, tag, sizeof(tag));
    assert_string_equal(tag, "watch");
}

static void test_key_constants_are_the_documented_names(void **state)
{
    (void)state;
    assert_string_equal(ES_KEY_STREAM, "es:{ingest}:comments");
    assert_string_equal(ES_KEY_SEEN_PREFIX, "es:{ingest}:seen:");
    assert_string_equal(ES_KEY_GONE_PREFIX, "es:{ingest}:gone:");
    assert_string_equal(ES_KEY_CURSOR_PREFIX, "es:{ingest}:cursor:");
    assert_string_equal(ES_KEY_INGEST_BUDGET, "es:{ingest}:budget");
    assert_string_equal(ES_KEY_WATCH_SUBS, "es:{watch}:subs");
    assert_string_equal(ES_KEY_WATCH_VERSION, "es:{watch}:version");
    assert_string_equal(ES_KEY_WORKERS, "es:workers");
    assert_string_equal(ES_KEY_DELIVER_QUEUE, "es:{deliver}:queue");
}

static void test_cursor_key_appends_subreddit(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(es_key_cursor(buf, sizeof(buf), "askreddit"),
                     (int)strlen("es:{ingest}:cursor:askreddit"));
    assert_string_equal(buf, "es:{ingest}:cursor:askreddit");
}

static void test_seen_and_gone_keys_name_the_chunk(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(es_key_seen(buf, sizeof(buf), 0), 18);
    assert_string_equal(buf, "es:{ingest}:seen:0");
    es_key_seen(buf, sizeof(buf), (1ULL << 20) - 1);
    assert_string_equal(buf, "es:{ingest}:seen:0");
    es_key_seen(buf, sizeof(buf), 1ULL << 20);
    assert_string_equal(buf, "es:{ingest}:seen:1");
    es_key_gone(buf, sizeof(buf), (5ULL << 20) + 17);
    assert_string_equal(buf, "es:{ingest}:gone:5");
    es_key_gone(buf, sizeof(buf), UINT64_MAX);
    assert_string_equal(buf, "es:{ingest}:gone:17592186044415");
}

static void test_dedup_offset_is_position_inside_chunk(void **state)
{
    (void)state;
    assert_true(es_dedup_offset(0) == 0);
    assert_true(es_dedup_offset((1ULL << 20) - 1) == (1ULL << 20) - 1);
    assert_true(es_dedup_offset(1ULL << 20) == 0);
    assert_true(es_dedup_offset((7ULL << 20) + 12345) == 12345);
    assert_true(es_dedup_offset(UINT64_MAX) == (1ULL << 20) - 1);
}

static void test_chunk_and_offset_rebuild_the_id(void **state)
{
    /* a realistic recent comment id, "k2j4x9p" in base 36 */
    uint64_t id = 43688721517ULL;
    char buf[64];
    unsigned long long chunk = 0;

    (void)state;
    assert_true(es_key_seen(buf, sizeof(buf), id) > 0);
    assert_int_equal(sscanf(buf, "es:{ingest}:seen:%llu", &chunk), 1);
    assert_true((chunk << ES_DEDUP_CHUNK_BITS) + es_dedup_offset(id) == id);
}

static void test_builders_fail_when_buffer_too_small(void **state)
{
    char buf[64];
    size_t need = strlen("es:{ingest}:cursor:askreddit");

    (void)state;
    assert_int_equal(es_key_cursor(buf, need, "askreddit"), -1);
    assert_int_equal(es_key_cursor(buf, need + 1, "askreddit"), (int)need);
    assert_int_equal(es_key_seen(buf, 18, 0), -1);
    assert_int_equal(es_key_seen(buf, 19, 0), 18);
    assert_int_equal(es_key_gone(buf, 5, 0), -1);
    assert_int_equal(es_key_gone(buf, 0, 0), -1);
    /* a cut key is still terminated */
    assert_int_equal(es_key_cursor(buf, 8, "askreddit"), -1);
    assert_int_equal(strlen(buf), 7);
}

static void test_tenant_keys_are_spelled_out(void **state)
{
    char buf[128];

    (void)state;
    assert_int_equal(es_tenant_key(buf, sizeof(buf), "acme", ES_TK_TOPICS),
                     (int)strlen("es:{t:acme}:topics"));
    assert_string_equal(buf, "es:{t:acme}:topics");
    es_tenant_key(buf, sizeof(buf), "acme", ES_TK_SERIES_MINUTE, "t1",
                  "2026112514");
    assert_string_equal(buf, "es:{t:acme}:ts:t1:m:2026112514");
    es_tenant_key(buf, sizeof(buf), "acme", ES_TK_SERIES_DAY, "t1", "202611");
    assert_string_equal(buf, "es:{t:acme}:ts:t1:d:202611");
    es_tenant_key(buf, sizeof(buf), "acme", ES_TK_RECENT, "t1", "2026112514");
    assert_string_equal(buf, "es:{t:acme}:rc:t1:2026112514");
    es_tenant_key(buf, sizeof(buf), "u0a1b2c3d4e", ES_TK_RECORDS, "2026112514");
    assert_string_equal(buf, "es:{t:u0a1b2c3d4e}:cr:2026112514");
    es_tenant_key(buf, sizeof(buf), "acme", ES_TK_RULES);
    assert_string_equal(buf, "es:{t:acme}:alerts:rules");
    es_tenant_key(buf, sizeof(buf), "acme", ES_TK_DV);
    assert_string_equal(buf, "es:{t:acme}:dv");
    es_tenant_key(buf, sizeof(buf), "acme", ES_TK_LIVE);
    assert_string_equal(buf, "es:{t:acme}:live");
    es_tenant_key(buf, sizeof(buf), "acme", ES_TK_SUMMARY_PENDING);
    assert_string_equal(buf, "es:{t:acme}:summary_pending");
    es_tenant_key(buf, sizeof(buf), "acme", ES_TK_ALERT_STATE);
    assert_string_equal(buf, "es:{t:acme}:alerts:state");
    es_tenant_key(buf, sizeof(buf), "acme", ES_TK_DELIVERIES);
    assert_string_equal(buf, "es:{t:acme}:deliveries");
    assert_int_equal(es_key_user(buf, sizeof(buf), "sub-1"), 16);
    assert_string_equal(buf, "es:{users}:sub-1");
    es_key_invites(buf, sizeof(buf), "ab12");
    assert_string_equal(buf, "es:{invites}:ab12");
}

static void test_tenant_key_table_is_whole(void **state)
{
    char tag[32], buf[256];
    const char *f;
    int k, n;

    (void)state;
    for (k = 0; k < ES_TK_COUNT; k++) {
        f = es_tenant_key_format((es_tkey)k);
        assert_non_null(f);
        assert_non_null(es_tenant_key_pattern((es_tkey)k));
        /* only %s, and at most two of them */
        for (n = 0; (f = strchr(f, '%')) != NULL; f += 2, n++) {
            assert_int_equal(f[1], 's');
        }
        assert_true(n <= 2);
        assert_true(es_tenant_key(buf, sizeof(buf), "x", (es_tkey)k, "a", "b") >
                    0);
        hash_tag(buf, tag, sizeof(tag));
        assert_string_equal(tag, "t:x");
    }
    assert_null(es_tenant_key_format(ES_TK_COUNT));
    assert_int_equal(es_tenant_key(buf, sizeof(buf), "x", ES_TK_COUNT), -1);
}

static void test_tenant_key_fails_when_buffer_too_small(void **state)
{
    char buf[64];
    int n;

    (void)state;
    n = es_tenant_key(buf, sizeof(buf), "acme", ES_TK_SERIES_HOUR, "t1",
                      "20261125");
    assert_int_equal(n, (int)strlen("es:{t:acme}:ts:t1:h:20261125"));
    /* exactly the key and its NUL fit; one byte fewer does not */
    assert_int_equal(es_tenant_key(buf, (size_t)n + 1, "acme",
                                   ES_TK_SERIES_HOUR, "t1", "20261125"),
                     n);
    assert_int_equal(es_tenant_key(buf, (size_t)n, "acme", ES_TK_SERIES_HOUR,
                                   "t1", "20261125"),
                     -1);
    assert_int_equal(es_tenant_key(buf, 8, "acme", ES_TK_TOPICS), -1);
    assert_int_equal(es_key_user(buf, 12, "sub"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_keys_share_the_ingest_hash_tag),
        cmocka_unit_test(test_key_constants_are_the_documented_names),
        cmocka_unit_test(test_cursor_key_appends_subreddit),
        cmocka_unit_test(test_seen_and_gone_keys_name_the_chunk),
        cmocka_unit_test(test_dedup_offset_is_position_inside_chunk),
        cmocka_unit_test(test_chunk_and_offset_rebuild_the_id),
        cmocka_unit_test(test_builders_fail_when_buffer_too_small),
        cmocka_unit_test(test_tenant_keys_are_spelled_out),
        cmocka_unit_test(test_tenant_key_table_is_whole),
        cmocka_unit_test(test_tenant_key_fails_when_buffer_too_small),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
