/*
 * es_metrics_test.c - unit tests for workers/common/es_metrics.c.
 *
 * The registry is checked through its JSON, the form the heartbeat
 * publishes and the module reads: counters add up, gauges replace, each
 * observation lands in exactly one bucket (bounds inclusive, as
 * Prometheus's "le" says), declared families are there at zero, kinds do
 * not mix, and updates from several threads are not lost.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "es_metrics.h"

static int reset(void **state)
{
    (void)state;
    es_metrics_reset();
    return 0;
}

static json_t *section(json_t *doc, const char *kind, const char *name)
{
    return json_object_get(json_object_get(doc, kind), name);
}

static long long bucket(json_t *doc, const char *name, size_t i)
{
    json_t *b = json_object_get(section(doc, "histograms", name), "buckets");

    assert_true(json_is_array(b));
    assert_int_equal(json_array_size(b), ES_METRICS_NBUCKETS);
    return (long long)json_integer_value(json_array_get(b, i));
}

static void test_counters_add_and_gauges_replace(void **state)
{
    json_t *doc;

    (void)state;
    es_metrics_add("echostream_x_total", 2);
    es_metrics_add("echostream_x_total", 3.5);
    es_metrics_add("echostream_x_total", -1); /* ignored: never goes down */
    es_metrics_set("echostream_g", 7);
    es_metrics_set("echostream_g", 4);
    doc = es_metrics_json();
    assert_non_null(doc);
    assert_true(
        json_real_value(section(doc, "counters", "echostream_x_total")) == 5.5);
    assert_true(json_real_value(section(doc, "gauges", "echostream_g")) == 4);
    assert_null(section(doc, "counters", "echostream_g"));
    json_decref(doc);
}

static void test_histogram_buckets_are_inclusive(void **state)
{
    json_t *doc;
    long long total = 0;

    (void)state;
    es_metrics_observe_ms("echostream_h_seconds", 0);      /* le 5 ms */
    es_metrics_observe_ms("echostream_h_seconds", 5);      /* le 5 ms */
    es_metrics_observe_ms("echostream_h_seconds", 5.01);   /* le 10 ms */
    es_metrics_observe_ms("echostream_h_seconds", 120000); /* le 120 s */
    es_metrics_observe_ms("echostream_h_seconds", 120001); /* +Inf */
    es_metrics_observe_ms("echostream_h_seconds", -3);     /* as 0 */
    doc = es_metrics_json();
    assert_int_equal(bucket(doc, "echostream_h_seconds", 0), 3);
    assert_int_equal(bucket(doc, "echostream_h_seconds", 1), 1);
    assert_int_equal(bucket(doc, "echostream_h_seconds", 12), 1);
    assert_int_equal(bucket(doc, "echostream_h_seconds", 13), 1);
    for (size_t i = 0; i < ES_METRICS_NBUCKETS; i++) {
        total += bucket(doc, "echostream_h_seconds", i);
    }
    assert_int_equal(total, 6);
    assert_true(json_real_value(json_object_get(
                    section(doc, "histograms", "echostream_h_seconds"),
                    "sum_ms")) == 0 + 5 + 5.01 + 120000 + 120001);
    json_decref(doc);
}

static void test_declared_families_start_at_zero(void **state)
{
    static const char *const names[] = {
        "echostream_a_total", "echostream_b_seconds", "echostream_c", NULL};
    json_t *doc;

    (void)state;
    es_metrics_declare(names);
    es_metrics_declare(names); /* twice: still one of each */
    doc = es_metrics_json();
    assert_true(
        json_real_value(section(doc, "counters", "echostream_a_total")) == 0);
    assert_true(json_real_value(section(doc, "gauges", "echostream_c")) == 0);
    for (size_t i = 0; i < ES_METRICS_NBUCKETS; i++) {
        assert_int_equal(bucket(doc, "echostream_b_seconds", i), 0);
    }
    assert_int_equal(json_object_size(json_object_get(doc, "counters")), 1);
    json_decref(doc);
}

static void test_a_kind_never_mixes_and_the_registry_is_bounded(void **state)
{
    char name[32];
    json_t *doc;

    (void)state;
    es_metrics_add("echostream_k_total", 1);
    es_metrics_set("echostream_k_total", 99); /* not a gauge: dropped */
    for (int i = 0; i < ES_METRICS_MAX + 5; i++) {
        snprintf(name, sizeof(name), "echostream_n%d_total", i);
        es_metrics_add(name, 1);
    }
    doc = es_metrics_json();
    assert_true(
        json_real_value(section(doc, "counters", "echostream_k_total")) == 1);
    assert_int_equal(json_object_size(json_object_get(doc, "counters")),
                     ES_METRICS_MAX);
    assert_int_equal(json_object_size(json_object_get(doc, "gauges")), 0);
    json_decref(doc);
}

#define THREADS 4
#define ROUNDS  20000

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        es_metrics_add("echostream_t_total", 1);
        es_metrics_observe_ms("echostream_t_seconds", 1);
    }
    return NULL;
}

static void test_threads_lose_no_update(void **state)
{
    pthread_t t[THREADS];
    json_t *doc;

    (void)state;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    doc = es_metrics_json();
    assert_true(
        json_real_value(section(doc, "counters", "echostream_t_total")) ==
        THREADS * ROUNDS);
    assert_int_equal(bucket(doc, "echostream_t_seconds", 0), THREADS * ROUNDS);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_counters_add_and_gauges_replace, reset),
        cmocka_unit_test_setup(test_histogram_buckets_are_inclusive, reset),
        cmocka_unit_test_setup(test_declared_families_start_at_zero, reset),
        cmocka_unit_test_setup(
            test_a_kind_never_mixes_and_the_registry_is_bounded, reset),
        cmocka_unit_test_setup(test_threads_lose_no_update, reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
