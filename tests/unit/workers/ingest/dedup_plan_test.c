/*
 * dedup_plan_test.c - the batch planner agrees with es_ingest_add's rules
 * applied one comment at a time (GETBIT/SETBIT on whole bitmaps), on
 * random batches over random bitmap states: consecutive and scattered ids,
 * several chunks, repeats inside a batch, deletions before and after
 * their comment. Its ranges cover every bit of the batch, never overlap
 * and stay small for scattered ids; its new bytes are exactly the bitmaps
 * after the batch. The guess of a batch's bytes from the batch before
 * (what the writer sends ahead on) is exactly the bitmaps when nothing
 * else wrote them, and a bit set by anyone else proves it wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dedup_plan.h"
#include "es_keys.h"

#define CHUNKS      4
#define CHUNK_BYTES (1u << (ES_DEDUP_CHUNK_BITS - 3))

/* whole bitmaps, as Redis would hold them: [gone][chunk] */
static unsigned char *maps[2][CHUNKS];
static es_dplan plan;
static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static int get_bit(int gone, uint64_t id)
{
    uint64_t off = id & ((1u << ES_DEDUP_CHUNK_BITS) - 1);
    unsigned char *m = maps[gone][id >> ES_DEDUP_CHUNK_BITS];

    return (m[off >> 3] >> (7 - (off & 7))) & 1;
}

static void set_bit(int gone, uint64_t id)
{
    uint64_t off = id & ((1u << ES_DEDUP_CHUNK_BITS) - 1);
    unsigned char *m = maps[gone][id >> ES_DEDUP_CHUNK_BITS];

    m[off >> 3] |= (unsigned char)(0x80u >> (off & 7));
}

/* es_ingest_add's loop for one comment: its outcome */
static int reference(const es_xitem *it)
{
    int was = get_bit(0, it->id_num), r = ES_DPLAN_DUPLICATE;

    if (it->deleted) {
        if (was && !get_bit(1, it->id_num)) {
            r = ES_DPLAN_DELETE;
        }
        set_bit(1, it->id_num);
    } else if (!was) {
        r = ES_DPLAN_ADD;
    }
    set_bit(0, it->id_num);
    return r;
}

static void clear_maps(void)
{
    for (int g = 0; g < 2; g++) {
        for (int c = 0; c < CHUNKS; c++) {
            memset(maps[g][c], 0, CHUNK_BYTES);
        }
    }
}

/* a random id: mostly near a moving base, sometimes anywhere */
static uint64_t some_id(uint64_t *base)
{
    uint64_t span = (uint64_t)CHUNKS << ES_DEDUP_CHUNK_BITS;

    switch (rnd() % 8) {
    case 0:
        return rnd() % span; /* scattered */
    case 1:
        return *base; /* a repeat */
    default:
        *base = (*base + 1 + rnd() % 20) % span;
        return *base;
    }
}

static void check_batch(es_xitem *items, int n)
{
    int outcome[4096], appended = 0;
    size_t bytes = 0;

    assert_int_equal(es_dplan_ranges(&plan, items, n), 0);
    /* ranges: within a chunk, disjoint per key, bounded in size */
    for (int i = 0; i < plan.nranges; i++) {
        const es_drange *a = &plan.ranges[i];
        assert_true(a->count >= 1);
        assert_true(a->first + a->count <= CHUNK_BYTES);
        for (int j = i + 1; j < plan.nranges; j++) {
            const es_drange *b = &plan.ranges[j];
            if (a->chunk == b->chunk && a->gone == b->gone) {
                assert_true(a->first + a->count <= b->first ||
                            b->first + b->count <= a->first);
            }
        }
        bytes += a->count;
    }
    assert_true(bytes <= (size_t)n * 2 * (ES_DPLAN_GAP + 1));
    /* the bytes Redis holds, as peek answers them */
    for (int i = 0; i < plan.nranges; i++) {
        const es_drange *r = &plan.ranges[i];
        es_dplan_set_old(&plan, i,
                         (const char *)maps[r->gone][r->chunk] + r->first,
                         r->count);
    }
    for (int i = 0; i < n; i++) {
        outcome[i] = reference(&items[i]);
        appended += outcome[i] != ES_DPLAN_DUPLICATE;
    }
    assert_int_equal(es_dplan_decide(&plan, items, n), appended);
    for (int i = 0; i < n; i++) {
        assert_int_equal(plan.outcome[i], outcome[i]);
    }
    /* the bytes to store are the bitmaps after the batch */
    for (int i = 0; i < plan.nranges; i++) {
        const es_drange *r = &plan.ranges[i];
        assert_memory_equal(plan.now + r->at,
                            maps[r->gone][r->chunk] + r->first, r->count);
    }
}

static void test_random_batches_agree_with_one_at_a_time(void **state)
{
    static es_xitem items[4096];
    uint64_t base = 12345;

    (void)state;
    clear_maps();
    for (int round = 0; round < 400; round++) {
        int n = 1 + (int)(rnd() % (round % 10 == 0 ? 4000 : 300));
        for (int i = 0; i < n; i++) {
            items[i].id_num = some_id(&base);
            items[i].deleted = rnd() % 6 == 0;
        }
        check_batch(items, n);
    }
}

static void test_consecutive_ids_are_one_small_range(void **state)
{
    es_xitem items[1000];
    uint64_t first = (2ULL << ES_DEDUP_CHUNK_BITS) + 5000;

    (void)state;
    clear_maps();
    for (int i = 0; i < 1000; i++) {
        items[i].id_num = first + (uint64_t)i;
        items[i].deleted = 0;
    }
    assert_int_equal(es_dplan_ranges(&plan, items, 1000), 0);
    assert_int_equal(plan.nranges, 1);
    assert_int_equal(plan.ranges[0].chunk, 2);
    assert_int_equal(plan.ranges[0].gone, 0);
    assert_int_equal(plan.ranges[0].first, 5000 / 8);
    assert_int_equal(plan.ranges[0].count, (5999 / 8) - (5000 / 8) + 1);
    check_batch(items, 1000);
    /* the same batch again: nothing to append, the bytes unchanged */
    check_batch(items, 1000);
    assert_int_equal(es_dplan_decide(&plan, items, 1000), 0);
}

static void test_a_batch_across_a_chunk_boundary(void **state)
{
    es_xitem items[3];
    uint64_t edge = 1ULL << ES_DEDUP_CHUNK_BITS;

    (void)state;
    clear_maps();
    items[0] = (es_xitem){edge - 1, 0, 0, 0};
    items[1] = (es_xitem){edge, 0, 0, 0};
    items[2] = (es_xitem){edge - 1, 0, 0, 1};
    assert_int_equal(es_dplan_ranges(&plan, items, 3), 0);
    assert_int_equal(plan.nranges, 3); /* seen 0, seen 1, gone 0 */
    assert_int_equal(plan.ranges[0].first, CHUNK_BYTES - 1);
    assert_int_equal(plan.ranges[1].first, 0);
    assert_int_equal(plan.ranges[2].gone, 1);
    check_batch(items, 3);
    assert_int_equal(plan.outcome[0], ES_DPLAN_ADD);
    assert_int_equal(plan.outcome[1], ES_DPLAN_ADD);
    assert_int_equal(plan.outcome[2], ES_DPLAN_DELETE);
}

static void test_short_peek_answers_are_zero_padded(void **state)
{
    es_xitem items[2] = {{800, 0, 0, 0}, {801, 0, 0, 0}};
    const char one = (char)0x80; /* bit 800: the first of byte 100 */

    (void)state;
    assert_int_equal(es_dplan_ranges(&plan, items, 2), 0);
    assert_int_equal(plan.nranges, 1);
    /* the chunk is absent: "" */
    es_dplan_set_old(&plan, 0, "", 0);
    es_dplan_decide(&plan, items, 2);
    assert_int_equal(plan.outcome[0], ES_DPLAN_ADD);
    assert_int_equal(plan.outcome[1], ES_DPLAN_ADD);
    assert_int_equal(plan.now[0], 0xc0);
    /* 800 streamed before */
    es_dplan_set_old(&plan, 0, &one, 1);
    es_dplan_decide(&plan, items, 2);
    assert_int_equal(plan.outcome[0], ES_DPLAN_DUPLICATE);
    assert_int_equal(plan.outcome[1], ES_DPLAN_ADD);
}

/* the bytes of range i of p as the maps hold them */
static const char *held(const es_dplan *p, int i)
{
    const es_drange *r = &p->ranges[i];

    return (const char *)maps[r->gone][r->chunk] + r->first;
}

static void test_the_guess_from_the_batch_before(void **state)
{
    static es_xitem a[600], b[600];
    static es_dplan pa, pb;
    uint64_t span = (uint64_t)CHUNKS << ES_DEDUP_CHUNK_BITS;

    (void)state;
    for (int round = 0; round < 300; round++) {
        uint64_t base = rnd() % span, bb;
        int na = 1 + (int)(rnd() % 500), nb = 1 + (int)(rnd() % 500);
        int sparse = round % 3 == 0;

        clear_maps();
        /* a: a run of ids with deletions; b: the run after it, or ids
           spread over a's span (so one range of a meets several of b) */
        for (int i = 0; i < na; i++) {
            a[i].id_num = (base + (uint64_t)i * (1 + rnd() % 3)) % span;
            a[i].deleted = rnd() % 5 == 0;
        }
        bb = sparse ? base : a[na - 1].id_num;
        for (int i = 0; i < nb; i++) {
            bb = (bb + (sparse ? 1 + rnd() % 2000 : 1 + rnd() % 3)) % span;
            b[i].id_num = rnd() % 10 == 0 ? a[rnd() % (uint64_t)na].id_num : bb;
            b[i].deleted = rnd() % 5 == 0;
        }
        /* a committed: the maps hold its bits, its plan its bytes */
        assert_int_equal(es_dplan_ranges(&pa, a, na), 0);
        for (int i = 0; i < pa.nranges; i++) {
            es_dplan_set_old(&pa, i, held(&pa, i), pa.ranges[i].count);
        }
        es_dplan_decide(&pa, a, na);
        for (int i = 0; i < na; i++) {
            reference(&a[i]);
        }
        /* b guessed from a: every range right */
        assert_int_equal(es_dplan_ranges(&pb, b, nb), 0);
        es_dplan_guess(&pb, &pa);
        for (int i = 0; i < pb.nranges; i++) {
            assert_true(
                es_dplan_old_is(&pb, i, held(&pb, i), pb.ranges[i].count));
        }
        /* without a: right exactly where a set nothing */
        es_dplan_guess(&pb, NULL);
        for (int i = 0; i < pb.nranges; i++) {
            const es_drange *r = &pb.ranges[i];
            int zero = 1;
            for (uint32_t j = 0; j < r->count; j++) {
                zero &= held(&pb, i)[j] == 0;
            }
            assert_int_equal(es_dplan_old_is(&pb, i, held(&pb, i), r->count),
                             zero);
        }
        /* someone else set a bit of b's: that range's guess is wrong */
        {
            int i = (int)(rnd() % (uint64_t)pb.nranges);
            const es_drange *r = &pb.ranges[i];
            es_dplan_guess(&pb, &pa);
            maps[r->gone][r->chunk][r->first + rnd() % r->count] ^=
                (unsigned char)(1u << (rnd() % 8));
            assert_false(es_dplan_old_is(&pb, i, held(&pb, i), r->count));
            /* an empty answer (no chunk) is right only for zeros */
            {
                int zero = 1;
                for (uint32_t j = 0; j < r->count; j++) {
                    zero &= pb.old[r->at + j] == 0;
                }
                assert_int_equal(es_dplan_old_is(&pb, i, "", 0), zero);
            }
        }
    }
    es_dplan_free(&pa);
    es_dplan_free(&pb);
}

static int setup(void **state)
{
    (void)state;
    for (int g = 0; g < 2; g++) {
        for (int c = 0; c < CHUNKS; c++) {
            maps[g][c] = calloc(1, CHUNK_BYTES);
            if (maps[g][c] == NULL) {
                return -1;
            }
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int g = 0; g < 2; g++) {
        for (int c = 0; c < CHUNKS; c++) {
            free(maps[g][c]);
        }
    }
    es_dplan_free(&plan);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_batches_agree_with_one_at_a_time),
        cmocka_unit_test(test_consecutive_ids_are_one_small_range),
        cmocka_unit_test(test_a_batch_across_a_chunk_boundary),
        cmocka_unit_test(test_short_peek_answers_are_zero_padded),
        cmocka_unit_test(test_the_guess_from_the_batch_before),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
