/*
 * tcache_test.c - unit tests for lib/es_tcache.c, the verified-token cache.
 *
 * Besides the behaviour each caller relies on (hit, miss, expiry, bounded
 * size, counters), a long random run is checked against a plain model with
 * keys forced into a few colliding probe chains that wrap around the end
 * of the index, which is where deletion by backward shifting goes wrong
 * if it does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "es_tcache.h"

/* A distinct key from n: SHA-256 of its decimal form. */
static void key_of(unsigned n, unsigned char key[32])
{
    char buf[16];

    snprintf(buf, sizeof(buf), "%u", n);
    es_tcache_key(buf, strlen(buf), key);
}

static es_jwt_claims claims_of(const char *sub, int64_t exp)
{
    es_jwt_claims c;

    memset(&c, 0, sizeof(c));
    snprintf(c.sub, sizeof(c.sub), "%s", sub);
    snprintf(c.email, sizeof(c.email), "%s@example.com", sub);
    snprintf(c.tenant, sizeof(c.tenant), "t_%s", sub);
    c.email_verified = 1;
    c.token_use_id = 1;
    c.exp = exp;
    return c;
}

static void test_put_then_get_returns_the_claims(void **state)
{
    es_tcache *c = es_tcache_new(8);
    es_jwt_claims in = claims_of("alice", 1000), out;
    unsigned char k[32];

    (void)state;
    assert_non_null(c);
    key_of(1, k);
    es_tcache_put(c, k, &in);
    memset(&out, 0, sizeof(out));
    assert_int_equal(es_tcache_get(c, k, 999, &out), 1);
    assert_memory_equal(&out, &in, sizeof(in));
    es_tcache_free(c);
}

static void test_unknown_key_misses(void **state)
{
    es_tcache *c = es_tcache_new(8);
    es_jwt_claims in = claims_of("alice", 1000), out;
    unsigned char k1[32], k2[32];

    (void)state;
    key_of(1, k1);
    key_of(2, k2);
    assert_int_equal(es_tcache_get(c, k1, 0, &out), 0);
    es_tcache_put(c, k1, &in);
    memset(&out, 0x11, sizeof(out));
    assert_int_equal(es_tcache_get(c, k2, 0, &out), 0);
    assert_int_equal(out.exp, 0x1111111111111111);
    es_tcache_free(c);
}

static void test_expired_entry_is_dropped_as_a_miss(void **state)
{
    es_tcache *c = es_tcache_new(8);
    es_jwt_claims in = claims_of("alice", 1000), out;
    es_tcache_stats st;
    unsigned char k[32];

    (void)state;
    key_of(1, k);
    es_tcache_put(c, k, &in);
    assert_int_equal(es_tcache_get(c, k, 1000, &out), 1); /* last second */
    assert_int_equal(es_tcache_get(c, k, 1001, &out), 0);
    es_tcache_stats_get(c, &st);
    assert_int_equal(st.entries, 0);
    /* dropped, not just hidden: an earlier clock does not revive it */
    assert_int_equal(es_tcache_get(c, k, 0, &out), 0);
    es_tcache_stats_get(c, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.evictions, 0);
    es_tcache_free(c);
}

static void test_put_of_a_present_key_replaces_it(void **state)
{
    es_tcache *c = es_tcache_new(2);
    es_jwt_claims a = claims_of("alice", 1000), b = claims_of("bob", 2000);
    es_jwt_claims out;
    es_tcache_stats st;
    unsigned char k[32];

    (void)state;
    key_of(1, k);
    es_tcache_put(c, k, &a);
    es_tcache_put(c, k, &b);
    es_tcache_stats_get(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(es_tcache_get(c, k, 1500, &out), 1);
    assert_string_equal(out.sub, "bob");
    es_tcache_free(c);
}

static void test_eviction_never_exceeds_capacity(void **state)
{
    es_tcache *c = es_tcache_new(10);
    es_jwt_claims in, out;
    es_tcache_stats st;
    unsigned char k[32];
    unsigned present = 0;

    (void)state;
    for (unsigned i = 0; i < 1000; i++) {
        key_of(i, k);
        in = claims_of("u", 10000 + i);
        es_tcache_put(c, k, &in);
        es_tcache_stats_get(c, &st);
        assert_true(st.entries <= 10);
    }
    assert_int_equal(st.entries, 10);
    assert_int_equal(st.evictions, 990);
    /* the index and the entries agree: exactly 10 keys are found */
    for (unsigned i = 0; i < 1000; i++) {
        key_of(i, k);
        present += (unsigned)es_tcache_get(c, k, 0, &out);
    }
    assert_int_equal(present, 10);
    /* the newest entry, expiring last, survived */
    key_of(999, k);
    assert_int_equal(es_tcache_get(c, k, 0, &out), 1);
    assert_int_equal(out.exp, 10999);
    es_tcache_free(c);
}

static void test_eviction_takes_the_entry_expiring_first(void **state)
{
    static const int64_t exps[] = {500, 100, 900, 300};
    es_tcache *c = es_tcache_new(4);
    es_jwt_claims in, out;
    unsigned char k[32];

    (void)state;
    for (unsigned i = 0; i < 4; i++) {
        key_of(i, k);
        in = claims_of("u", exps[i]);
        es_tcache_put(c, k, &in);
    }
    key_of(4, k);
    in = claims_of("new", 50);
    es_tcache_put(c, k, &in);
    key_of(1, k); /* exp 100: the earliest of the four */
    assert_int_equal(es_tcache_get(c, k, 0, &out), 0);
    for (unsigned i = 0; i < 5; i++) {
        key_of(i, k);
        assert_int_equal(es_tcache_get(c, k, 0, &out), i != 1);
    }
    es_tcache_free(c);
}

static void test_capacity_of_one_holds_the_latest(void **state)
{
    es_tcache *c = es_tcache_new(1);
    es_jwt_claims a = claims_of("a", 100), b = claims_of("b", 100), out;
    unsigned char ka[32], kb[32];

    (void)state;
    key_of(1, ka);
    key_of(2, kb);
    es_tcache_put(c, ka, &a);
    es_tcache_put(c, kb, &b);
    assert_int_equal(es_tcache_get(c, ka, 0, &out), 0);
    assert_int_equal(es_tcache_get(c, kb, 0, &out), 1);
    assert_string_equal(out.sub, "b");
    es_tcache_free(c);
}

static void test_stats_count_hits_misses_entries_evictions(void **state)
{
    es_tcache *c = es_tcache_new(2);
    es_jwt_claims in = claims_of("u", 100), out;
    es_tcache_stats st;
    unsigned char k[32];

    (void)state;
    es_tcache_stats_get(c, &st);
    assert_int_equal(st.hits + st.misses + st.entries + st.evictions, 0);
    for (unsigned i = 0; i < 3; i++) {
        key_of(i, k);
        es_tcache_put(c, k, &in);
    }
    key_of(2, k);
    es_tcache_get(c, k, 0, &out);
    es_tcache_get(c, k, 0, &out);
    key_of(7, k);
    es_tcache_get(c, k, 0, &out);
    es_tcache_stats_get(c, &st);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.evictions, 1);
    es_tcache_free(c);
}

static void test_key_is_the_sha256_of_the_token(void **state)
{
    static const unsigned char abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    unsigned char k[32];

    (void)state;
    es_tcache_key("abcdef", 3, k); /* only len bytes count */
    assert_memory_equal(k, abc, 32);
}

static void test_new_refuses_capacity_out_of_range(void **state)
{
    (void)state;
    assert_null(es_tcache_new(0));
    assert_null(es_tcache_new((size_t)ES_TCACHE_MAX_CAPACITY + 1));
    es_tcache_free(NULL);
}

/*
 * Random puts and gets over 600 keys in a cache of 1000 (never full, so
 * the model needs no eviction policy), with every key's hash bytes forced
 * to one of 16 values around the end of the 2048-slot index: long chains
 * that wrap, and deletions in their middle.
 */
static void test_random_run_matches_a_model(void **state)
{
    enum { KEYS = 600, OPS = 40000 };
    static unsigned char keys[KEYS][32];
    static int64_t model_exp[KEYS];
    static int model_present[KEYS];
    es_tcache *c = es_tcache_new(1000);
    es_jwt_claims in, out;
    es_tcache_stats st;
    uint64_t rnd = 88172645463325252u;
    size_t present = 0;

    (void)state;
    for (unsigned i = 0; i < KEYS; i++) {
        uint64_t h = 2040 + i % 16;

        key_of(i, keys[i]);
        memcpy(keys[i], &h, sizeof(h));
    }
    for (unsigned op = 0; op < OPS; op++) {
        unsigned i, now;

        rnd ^= rnd << 13;
        rnd ^= rnd >> 7;
        rnd ^= rnd << 17;
        i = (unsigned)(rnd % KEYS);
        now = (unsigned)(op / 40);
        if ((rnd >> 32) % 3 == 0) {
            in = claims_of("u", now + (int64_t)((rnd >> 40) % 50));
            snprintf(in.sub, sizeof(in.sub), "%u", i);
            es_tcache_put(c, keys[i], &in);
            present += !model_present[i];
            model_present[i] = 1;
            model_exp[i] = in.exp;
        } else {
            int want = model_present[i] && now <= model_exp[i];
            int got = es_tcache_get(c, keys[i], now, &out);

            if (got != want) {
                fail_msg("op %u key %u: got %d want %d", op, i, got, want);
            }
            if (got) {
                char sub[16];

                snprintf(sub, sizeof(sub), "%u", i);
                assert_string_equal(out.sub, sub);
                assert_int_equal(out.exp, model_exp[i]);
            } else if (model_present[i]) {
                model_present[i] = 0;
                present--;
            }
        }
        es_tcache_stats_get(c, &st);
        assert_int_equal(st.entries, present);
    }
    assert_int_equal(st.evictions, 0);
    es_tcache_free(c);
}

/* Full-cache churn: whatever is evicted, index and entries stay in step. */
static void test_churn_at_capacity_keeps_index_consistent(void **state)
{
    enum { KEYS = 400, CAP = 37 };
    es_tcache *c = es_tcache_new(CAP);
    es_jwt_claims in, out;
    unsigned char k[32];
    uint64_t rnd = 0x9e3779b97f4a7c15u;
    unsigned found = 0;

    (void)state;
    for (unsigned op = 0; op < 20000; op++) {
        rnd ^= rnd << 13;
        rnd ^= rnd >> 7;
        rnd ^= rnd << 17;
        key_of((unsigned)(rnd % KEYS), k);
        in = claims_of("u", (int64_t)((rnd >> 20) % 1000));
        es_tcache_put(c, k, &in);
        if (op % 7 == 0) {
            es_tcache_get(c, k, 500, &out); /* drops it when exp < 500 */
        }
    }
    for (unsigned i = 0; i < KEYS; i++) {
        key_of(i, k);
        found += (unsigned)es_tcache_get(c, k, -1, &out);
    }
    {
        es_tcache_stats st;

        es_tcache_stats_get(c, &st);
        assert_int_equal(found, st.entries);
        assert_true(st.entries <= CAP);
        assert_true(st.evictions > 0);
    }
    es_tcache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_then_get_returns_the_claims),
        cmocka_unit_test(test_unknown_key_misses),
        cmocka_unit_test(test_expired_entry_is_dropped_as_a_miss),
        cmocka_unit_test(test_put_of_a_present_key_replaces_it),
        cmocka_unit_test(test_eviction_never_exceeds_capacity),
        cmocka_unit_test(test_eviction_takes_the_entry_expiring_first),
        cmocka_unit_test(test_capacity_of_one_holds_the_latest),
        cmocka_unit_test(test_stats_count_hits_misses_entries_evictions),
        cmocka_unit_test(test_key_is_the_sha256_of_the_token),
        cmocka_unit_test(test_new_refuses_capacity_out_of_range),
        cmocka_unit_test(test_random_run_matches_a_model),
        cmocka_unit_test(test_churn_at_capacity_keeps_index_consistent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
