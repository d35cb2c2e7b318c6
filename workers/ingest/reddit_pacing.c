/*
 * reddit_pacing.c - pacing arithmetic (see reddit_pacing.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reddit_pacing.h"

/* Weight of the newest observation in the rate estimate. */
#define ES_RATE_ALPHA 0.3

void es_bucket_init(es_bucket *b, double qpm, double capacity, long long now)
{
    b->per_ms = qpm / 60000.0;
    b->capacity = capacity < 1 ? 1 : capacity;
    b->tokens = b->capacity;
    b->last_ms = now;
}

static void refill(es_bucket *b, long long now)
{
    if (now > b->last_ms) {
        b->tokens += (double)(now - b->last_ms) * b->per_ms;
        if (b->tokens > b->capacity) {
            b->tokens = b->capacity;
        }
        b->last_ms = now;
    }
}

long long es_bucket_wait_ms(es_bucket *b, long long now)
{
    refill(b, now);
    if (b->tokens >= 1.0) {
        return 0;
    }
    if (b->per_ms <= 0) {
        return 60000;
    }
    return (long long)ceil((1.0 - b->tokens) / b->per_ms);
}

void es_bucket_take(es_bucket *b, long long now)
{
    refill(b, now);
    b->tokens -= 1.0;
}

int es_window_init(es_window *w, double qpm, long long span_ms)
{
    double cap = floor(qpm);

    memset(w, 0, sizeof(*w));
    w->span_ms = span_ms;
    if (cap > ES_WINDOW_MAX) {
        return 0;
    }
    w->cap = cap < 1 ? 1 : (size_t)cap;
    w->t = calloc(w->cap, sizeof(*w->t));
    if (w->t == NULL) {
        w->cap = 0;
        return -1;
    }
    return 0;
}

void es_window_free(es_window *w)
{
    free(w->t);
    memset(w, 0, sizeof(*w));
}

long long es_window_wait_ms(const es_window *w, long long now)
{
    long long free_at;

    if (w->cap == 0 || w->n < w->cap) {
        return 0;
    }
    /* full: the oldest send must leave the span first */
    free_at = w->t[w->head] + w->span_ms;
    return free_at > now ? free_at - now : 0;
}

void es_window_take(es_window *w, long long now)
{
    if (w->cap == 0) {
        return;
    }
    if (w->n < w->cap) {
        w->t[(w->head + w->n) % w->cap] = now;
        w->n++;
        return;
    }
    w->t[w->head] = now;
    w->head = (w->head + 1) % w->cap;
}

long long es_ratelimit_delay_ms(double remaining, double reset_s)
{
    if (!(reset_s > 0)) {
        return 0;
    }
    if (reset_s > 3600) {
        reset_s = 3600; /* a window is ten minutes; distrust the absurd */
    }
    if (remaining <= 1) {
        return (long long)ceil(reset_s * 1000.0);
    }
    return (long long)(reset_s * 1000.0 / remaining);
}

double es_rate_update(double old, int have_old, double n_new, double elapsed_s)
{
    double obs;

    if (!(elapsed_s > 0)) {
        return have_old ? old : 0.0;
    }
    obs = n_new / elapsed_s;
    if (!have_old) {
        return obs;
    }
    return ES_RATE_ALPHA * obs + (1.0 - ES_RATE_ALPHA) * old;
}

double es_rate_from_span(size_t n, double oldest, double newest)
{
    double span = newest - oldest;

    if (n < 2 || !(span > 0)) {
        return -1;
    }
    return (double)(n - 1) / span;
}

double es_poll_interval(double rate, int pages, double min_s, double max_s)
{
    double iv = rate > 0 ? ES_POLL_TARGET / rate : max_s;

    if (pages > 1) {
        iv /= pages;
    }
    if (iv < min_s) {
        iv = min_s;
    }
    if (iv > max_s) {
        iv = max_s;
    }
    return iv;
}

double es_cycle_s(size_t units, double rate_total, double budget_qpm,
                  double min_s)
{
    double per, spare, t;

    if (units == 0) {
        return min_s;
    }
    if (!(budget_qpm > 0)) {
        return HUGE_VAL;
    }
    per = 60.0 / budget_qpm; /* seconds one request takes of the budget */
    spare = 1.0 - per * (rate_total > 0 ? rate_total : 0) / ES_PAGE_SIZE;
    if (spare <= 0.01) {
        return HUGE_VAL;
    }
    t = per * (double)units / spare;
    return t < min_s ? min_s : t;
}

double es_poll_urgency(double waited_s, double rate, double cycle_s)
{
    double d = isfinite(cycle_s) && cycle_s > 0 ? cycle_s : 60.0;

    if (rate > 0 && ES_URGENT_FILL / rate < d) {
        d = ES_URGENT_FILL / rate;
    }
    return waited_s / d;
}

double es_sub_qpm(double rate, double interval_s)
{
    double pages;

    if (!(interval_s > 0)) {
        return 0;
    }
    pages = ceil(rate * interval_s / ES_PAGE_SIZE);
    if (pages < 1) {
        pages = 1;
    }
    return pages * 60.0 / interval_s;
}

/* Advances over a run of characters other than stop characters. */
static const char *field(const char *s, const char *stops)
{
    const char *p = s;

    while (*p && strchr(stops, *p) == NULL) {
        p++;
    }
    return p == s ? NULL : p;
}

int es_user_agent_valid(const char *ua)
{
    const char *p = ua;

    for (int i = 0; i < 2; i++) {
        p = field(p, ": \t");
        if (p == NULL || *p != ':') {
            return 0;
        }
        p++;
    }
    p = field(p, ": \t");
    if (p == NULL || strncmp(p, " (by /u/", 8) != 0) {
        return 0;
    }
    p = field(p + 8, ") \t");
    return p != NULL && strcmp(p, ")") == 0;
}
