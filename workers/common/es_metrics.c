/*
 * es_metrics.c - the process's metric registry (see es_metrics.h).
 *
 * A fixed array searched by name under one mutex: a worker has a dozen
 * families and touches them a few times per batch, so a linear search
 * beats any hash table in both code and time, and a fixed array means no
 * allocation after the first use of a name.
 */
#include <pthread.h>
#include <string.h>

#include "es_log.h"
#include "es_metrics.h"

enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };

typedef struct {
    char name[96];
    int kind;
    double value; /* counter, gauge */
    long long buckets[ES_METRICS_NBUCKETS];
    double sum_ms;
} family;

static const double bounds_ms[ES_METRICS_NBUCKETS - 1] = ES_METRICS_BUCKETS_MS;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static family families[ES_METRICS_MAX];
static size_t nfamilies;

/* The family called name, added with kind when missing; NULL when full or
   the name is too long. Called with the lock held. */
static family *find(const char *name, int kind)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < nfamilies; i++) {
        if (strcmp(families[i].name, name) == 0) {
            return families[i].kind == kind ? &families[i] : NULL;
        }
    }
    if (nfamilies >= ES_METRICS_MAX || len == 0 ||
        len >= sizeof(families[0].name)) {
        es_log(ES_WARN, "metric dropped", ES_STR("name", name), ES_END);
        return NULL;
    }
    memset(&families[nfamilies], 0, sizeof(families[0]));
    memcpy(families[nfamilies].name, name, len + 1);
    families[nfamilies].kind = kind;
    return &families[nfamilies++];
}

void es_metrics_add(const char *name, double v)
{
    family *f;

    if (!(v >= 0)) {
        return; /* a counter never goes down (NaN neither) */
    }
    pthread_mutex_lock(&lock);
    f = find(name, KIND_COUNTER);
    if (f) {
        f->value += v;
    }
    pthread_mutex_unlock(&lock);
}

void es_metrics_set(const char *name, double v)
{
    family *f;

    pthread_mutex_lock(&lock);
    f = find(name, KIND_GAUGE);
    if (f) {
        f->value = v;
    }
    pthread_mutex_unlock(&lock);
}

void es_metrics_observe_ms(const char *name, double ms)
{
    family *f;
    size_t b = 0;

    if (!(ms >= 0)) {
        ms = 0;
    }
    while (b < ES_METRICS_NBUCKETS - 1 && ms > bounds_ms[b]) {
        b++;
    }
    pthread_mutex_lock(&lock);
    f = find(name, KIND_HISTOGRAM);
    if (f) {
        f->buckets[b]++;
        f->sum_ms += ms;
    }
    pthread_mutex_unlock(&lock);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

void es_metrics_declare(const char *const *names)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; names[i] != NULL; i++) {
        (void)find(names[i], ends_with(names[i], "_seconds") ? KIND_HISTOGRAM
                             : ends_with(names[i], "_total") ? KIND_COUNTER
                                                             : KIND_GAUGE);
    }
    pthread_mutex_unlock(&lock);
}

/* Adds f to the right object of the document; -1 without memory. */
static int add_json(json_t *counters, json_t *gauges, json_t *histograms,
                    const family *f)
{
    json_t *h, *b;

    if (f->kind != KIND_HISTOGRAM) {
        return json_object_set_new(f->kind == KIND_COUNTER ? counters : gauges,
                                   f->name, json_real(f->value));
    }
    b = json_array();
    for (size_t i = 0; b && i < ES_METRICS_NBUCKETS; i++) {
        if (json_array_append_new(b, json_integer(f->buckets[i])) != 0) {
            json_decref(b);
            b = NULL;
        }
    }
    h = b ? json_pack("{s:o, s:f}", "buckets", b, "sum_ms", f->sum_ms) : NULL;
    return h ? json_object_set_new(histograms, f->name, h) : -1;
}

json_t *es_metrics_json(void)
{
    json_t *counters = json_object(), *gauges = json_object();
    json_t *histograms = json_object(), *doc;
    int failed = counters == NULL || gauges == NULL || histograms == NULL;

    pthread_mutex_lock(&lock);
    for (size_t i = 0; !failed && i < nfamilies; i++) {
        failed = add_json(counters, gauges, histograms, &families[i]) != 0;
    }
    pthread_mutex_unlock(&lock);
    if (failed) {
        json_decref(counters);
        json_decref(gauges);
        json_decref(histograms);
        return NULL;
    }
    /* "o" steals all three, also on failure */
    doc = json_pack("{s:o, s:o, s:o}", "counters", counters, "gauges", gauges,
                    "histograms", histograms);
    return doc;
}

void es_metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    nfamilies = 0;
    pthread_mutex_unlock(&lock);
}
