/*
 * event.c - the alert event and its samples (see event.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "es_record.h"
#include "es_time.h"
#include "es_utf8.h"
#include "event.h"

#define REDDIT "https://www.reddit.com"

double es_alert_round4(double x)
{
    double r = round(x * 10000.0) / 10000.0;

    return r == 0 ? 0 : r; /* never "-0" */
}

char *es_alert_cut_chars(const char *s, size_t n, size_t max)
{
    size_t pos = 0, chars = 0, keep = 0;
    char *out;

    while (pos < n) {
        size_t l = es_utf8_char_len((const unsigned char *)s + pos, n - pos);
        if (l == 0) {
            l = 1; /* not UTF-8 after all: count the byte, cut nowhere */
        }
        if (chars == (max > 0 ? max - 1 : 0)) {
            keep = pos; /* where the cut goes if one is needed */
        }
        pos += l;
        chars++;
    }
    if (chars <= max) {
        out = malloc(n + 1);
        if (out) {
            memcpy(out, s, n);
            out[n] = '\0';
        }
        return out;
    }
    out = malloc(keep + 4);
    if (out) {
        memcpy(out, s, keep);
        memcpy(out + keep, "\xe2\x80\xa6", 4); /* U+2026 and the NUL */
    }
    return out;
}

/* A sample from one record (borrowed), or NULL when it is not one. */
static json_t *sample_of(json_t *rec)
{
    const char *body = json_string_value(json_object_get(rec, ES_REC(BODY)));
    const char *link =
        json_string_value(json_object_get(rec, ES_REC(PERMALINK)));
    json_t *id = json_object_get(rec, ES_REC(ID));
    json_t *s;
    char *cut, *url;

    if (!json_is_string(id) || body == NULL) {
        return NULL;
    }
    cut = es_alert_cut_chars(
        body, json_string_length(json_object_get(rec, ES_REC(BODY))),
        ES_ALERT_SAMPLE_CHARS);
    url = NULL;
    if (link != NULL && link[0] == '/') {
        url = malloc(strlen(REDDIT) + strlen(link) + 1);
        if (url) {
            strcpy(url, REDDIT);
            strcat(url, link);
        }
    }
    s = json_pack("{s:O, s:s?, s:O?, s:O?, s:O?, s:f, s:s?}", "id", id, "body",
                  cut, "author", json_object_get(rec, ES_REC(AUTHOR)),
                  "subreddit", json_object_get(rec, ES_REC(SUBREDDIT)), "label",
                  json_object_get(rec, ES_REC(LABEL)), "compound",
                  es_alert_round4(json_number_value(
                      json_object_get(rec, ES_REC(COMPOUND)))),
                  "link", url);
    free(cut);
    free(url);
    return s;
}

static double compound_of(json_t *sample)
{
    return json_number_value(json_object_get(sample, "compound"));
}

json_t *es_alert_samples(es_metric m, const char *const *records,
                         const size_t *lens, size_t n)
{
    json_t *pool[ES_ALERT_SAMPLE_POOL];
    size_t np = 0;
    json_t *out = json_array();

    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n && np < ES_ALERT_SAMPLE_POOL; i++) {
        json_t *rec, *s;
        if (records[i] == NULL) {
            continue;
        }
        rec = json_loadb(records[i], lens[i], 0, NULL);
        s = json_is_object(rec) &&
                    !json_is_true(json_object_get(rec, ES_REC(DELETED)))
                ? sample_of(rec)
                : NULL;
        json_decref(rec);
        if (s != NULL) {
            pool[np++] = s;
        }
    }
    if (m != ES_METRIC_VOLUME) {
        /* insertion sort, stable: the newest first among equal scores */
        for (size_t i = 1; i < np; i++) {
            json_t *x = pool[i];
            size_t j = i;
            while (j > 0 && compound_of(pool[j - 1]) > compound_of(x)) {
                pool[j] = pool[j - 1];
                j--;
            }
            pool[j] = x;
        }
    }
    for (size_t i = 0; i < np; i++) {
        if (json_array_size(out) < ES_ALERT_SAMPLES) {
            json_array_append(out, pool[i]);
        }
        json_decref(pool[i]);
    }
    return out;
}

json_t *es_alert_event(const es_alert_rule *r, const es_spike_eval *e,
                       const es_spike_span *sp, long long now_ms,
                       json_t *samples)
{
    char fired[ES_TIME_STR_SIZE], from[ES_TIME_STR_SIZE], to[ES_TIME_STR_SIZE];

    es_time_str(now_ms, fired);
    es_time_str(sp->from_ms, from);
    es_time_str(sp->to_ms, to);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:{s:s, s:s}, s:f, s:{s:f, s:f, s:i}, "
        "s:f, s:f, s:I, s:o}",
        "rule", r->id, "topic", r->topic, "metric",
        es_metric_name(r->spike.metric), "fired", fired, "window_minutes",
        r->spike.window_minutes, "window", "from", from, "to", to, "observed",
        es_alert_round4(e->observed), "baseline", "mean",
        es_alert_round4(e->mean), "stddev", es_alert_round4(e->sigma), "hours",
        e->hours, "threshold", es_alert_round4(e->threshold), "sensitivity",
        r->spike.k, "volume", (json_int_t)e->volume, "samples", samples);
}
