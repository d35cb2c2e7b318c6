/*
 * delivery.c - the states of a delivery record (see delivery.h).
 */
#include <stdio.h>
#include <string.h>

#include "delivery.h"

size_t es_delivery_targets(json_t *rec, const char **out, size_t max)
{
    json_t *to = json_object_get(rec, "to");
    size_t n = 0;

    if (json_is_string(to)) {
        if (max > 0) {
            out[n++] = json_string_value(to);
        }
        return n;
    }
    for (size_t i = 0; i < json_array_size(to) && n < max; i++) {
        const char *s = json_string_value(json_array_get(to, i));
        if (s != NULL) {
            out[n++] = s;
        }
    }
    return n;
}

int es_delivery_settled(json_t *rec, const char *target)
{
    return json_object_get(json_object_get(rec, "results"), target) != NULL;
}

int es_delivery_done(json_t *rec)
{
    const char *st = json_string_value(json_object_get(rec, "status"));

    return st == NULL || strcmp(st, "pending") != 0;
}

static json_t *results_of(json_t *rec)
{
    json_t *res = json_object_get(rec, "results");

    if (!json_is_object(res)) {
        res = json_object();
        if (res == NULL || json_object_set_new(rec, "results", res) != 0) {
            return NULL;
        }
    }
    return res;
}

static json_int_t attempts_of(json_t *rec)
{
    return json_integer_value(json_object_get(rec, "attempts"));
}

/* Closes rec from its results: sent when any target got it. */
static int close_record(json_t *rec, long long now_ms)
{
    json_t *res = results_of(rec), *v;
    char err[1024] = "";
    const char *target;
    size_t used = 0;
    int any = 0;

    if (res == NULL) {
        return -1;
    }
    json_object_foreach(res, target, v)
    {
        const char *s = json_string_value(v);
        if (s != NULL && strcmp(s, "sent") == 0) {
            any = 1;
        } else if (s != NULL && used < sizeof(err) - 1) {
            int n = snprintf(err + used, sizeof(err) - used, "%s%s: %s",
                             used ? "; " : "", target,
                             strncmp(s, "failed: ", 8) == 0 ? s + 8 : s);
            used = n < 0 ? used : used + (size_t)n;
        }
    }
    if (json_object_set_new(rec, "status",
                            json_string(any ? "sent" : "failed")) != 0 ||
        json_object_set_new(rec, "attempts",
                            json_integer(attempts_of(rec) + 1)) != 0) {
        return -1;
    }
    if (any && json_object_set_new(rec, "sent_ms", json_integer(now_ms))) {
        return -1;
    }
    if (err[0] == '\0') {
        json_object_del(rec, "error"); /* an earlier retry's, now moot */
    } else if (json_object_set_new(rec, "error", json_string(err)) != 0) {
        return -1;
    }
    json_object_del(rec, "next_ms");
    return 1;
}

int es_delivery_settle(json_t *rec, const char *target, int ok, const char *err,
                       long long now_ms)
{
    json_t *res = results_of(rec);
    const char *targets[64];
    size_t n;
    char buf[512];

    if (res == NULL) {
        return -1;
    }
    snprintf(buf, sizeof(buf), "failed: %s", err ? err : "");
    if (json_object_set_new(res, target, json_string(ok ? "sent" : buf)) != 0) {
        return -1;
    }
    n = es_delivery_targets(rec, targets, 64);
    for (size_t i = 0; i < n; i++) {
        if (!es_delivery_settled(rec, targets[i])) {
            return 0;
        }
    }
    return close_record(rec, now_ms);
}

long long es_delivery_backoff(long long attempts, long long base_ms)
{
    long long d = base_ms > 0 ? base_ms : 1000;

    for (long long i = 1; i < attempts && d < ES_DELIVERY_BACKOFF_CAP; i++) {
        d *= 2;
    }
    return d < ES_DELIVERY_BACKOFF_CAP ? d : ES_DELIVERY_BACKOFF_CAP;
}

int es_delivery_retry(json_t *rec, const char *err, long long now_ms,
                      long long base_ms, int max_attempts)
{
    json_int_t attempts = attempts_of(rec) + 1;
    const char *targets[64];
    size_t n;

    if (json_object_set_new(rec, "error", json_string(err ? err : "")) != 0) {
        return -1;
    }
    if (attempts < max_attempts) {
        if (json_object_set_new(rec, "attempts", json_integer(attempts)) != 0 ||
            json_object_set_new(
                rec, "next_ms",
                json_integer(now_ms +
                             es_delivery_backoff(attempts, base_ms))) != 0) {
            return -1;
        }
        return 0;
    }
    /* given up: what is not settled failed with the last reason; the
       closing adds the last attempt */
    n = es_delivery_targets(rec, targets, 64);
    for (size_t i = 0; i < n; i++) {
        if (!es_delivery_settled(rec, targets[i])) {
            json_t *res = results_of(rec);
            char buf[512];
            snprintf(buf, sizeof(buf), "failed: %s", err ? err : "");
            if (res == NULL ||
                json_object_set_new(res, targets[i], json_string(buf)) != 0) {
                return -1;
            }
        }
    }
    if (json_object_set_new(rec, "attempts", json_integer(attempts - 1)) != 0) {
        return -1;
    }
    return close_record(rec, now_ms);
}
