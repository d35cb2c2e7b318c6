/*
 * spike.c - the metric of a window, its baseline and the firing rule
 * (spike.h has the definitions; docs/alerts.md the reasons).
 *
 * Counts stay integers until the one division that makes a metric, so a
 * window read twice gives the same double both times, and the baseline is
 * two passes (mean, then squared deviations) rather than a running sum of
 * squares, which loses digits when the values are close to each other.
 */
#include <math.h>
#include <string.h>

#include "spike.h"

#define MINUTE_MS 60000LL
#define HOUR_MS   3600000LL

static const char *const metric_names[] = {"negative_share", "volume",
                                           "mean_compound"};

const char *es_metric_name(es_metric m)
{
    if ((unsigned)m >= sizeof(metric_names) / sizeof(metric_names[0])) {
        return "negative_share";
    }
    return metric_names[m];
}

int es_metric_parse(const char *s, es_metric *m)
{
    for (size_t i = 0; i < sizeof(metric_names) / sizeof(metric_names[0]);
         i++) {
        if (strcmp(s, metric_names[i]) == 0) {
            *m = (es_metric)i;
            return 0;
        }
    }
    return -1;
}

void es_spike_span_at(long long now_ms, int window_minutes, es_spike_span *s)
{
    long long cur = now_ms / MINUTE_MS;

    if (window_minutes < 1) {
        window_minutes = 1;
    }
    s->nminutes = window_minutes;
    s->first_minute = cur - window_minutes + 1;
    s->from_ms = s->first_minute * MINUTE_MS;
    s->to_ms = now_ms;
    s->nhours = ES_SPIKE_BASELINE_HOURS;
    /* the hours before the one holding the window's first minute */
    s->first_hour = s->from_ms / HOUR_MS - ES_SPIKE_BASELINE_HOURS;
}

/* The value of metric m for counts b, or 0 when undefined (n = 0). */
static int metric_of(es_metric m, const es_bucket *b, double per_hour,
                     double *v)
{
    switch (m) {
    case ES_METRIC_VOLUME:
        *v = (double)b->n * per_hour;
        return 1;
    case ES_METRIC_MEAN_COMPOUND:
        if (b->n <= 0) {
            return 0;
        }
        *v = (double)b->cs / (double)b->n / 10000.0;
        return 1;
    case ES_METRIC_NEGATIVE_SHARE:
    default:
        if (b->n <= 0) {
            return 0;
        }
        *v = (double)b->neg / (double)b->n;
        return 1;
    }
}

/* Mean and standard deviation of the hours that count (spike.h). */
static void baseline(es_metric m, const es_bucket *hours, size_t nhours,
                     double *mean, double *sd, int *count)
{
    size_t first = 0;
    double sum = 0, sq = 0, v;
    int c = 0;

    if (m == ES_METRIC_VOLUME) {
        /* zeros count, but only from the first hour with data: a topic
           created yesterday has one day of history, not six days of 0 */
        while (first < nhours && hours[first].n <= 0) {
            first++;
        }
    }
    for (size_t i = first; i < nhours; i++) {
        if (metric_of(m, &hours[i], 1.0, &v)) {
            sum += v;
            c++;
        }
    }
    *count = c;
    *mean = c > 0 ? sum / c : 0;
    for (size_t i = first; i < nhours; i++) {
        if (metric_of(m, &hours[i], 1.0, &v)) {
            sq += (v - *mean) * (v - *mean);
        }
    }
    *sd = c > 0 ? sqrt(sq / c) : 0;
}

static double sigma_floor(es_metric m, double mean)
{
    switch (m) {
    case ES_METRIC_VOLUME:
        return mean > 1.0 ? sqrt(mean) : 1.0;
    case ES_METRIC_MEAN_COMPOUND:
        return ES_SPIKE_FLOOR_COMPOUND;
    case ES_METRIC_NEGATIVE_SHARE:
    default:
        return ES_SPIKE_FLOOR_SHARE;
    }
}

void es_spike_evaluate(const es_spike_rule *rule, const es_bucket *win,
                       size_t nwin, const es_bucket *hours, size_t nhours,
                       es_spike_eval *out)
{
    es_bucket sum = {0, 0, 0};
    int down = rule->metric == ES_METRIC_MEAN_COMPOUND;
    int window = rule->window_minutes > 0 ? rule->window_minutes : 1;
    int judged;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < nwin; i++) {
        sum.n += win[i].n;
        sum.neg += win[i].neg;
        sum.cs += win[i].cs;
    }
    out->volume = sum.n;
    out->defined = metric_of(rule->metric, &sum, 60.0 / window, &out->observed);
    if (!out->defined) {
        out->observed = 0;
    }

    baseline(rule->metric, hours, nhours, &out->mean, &out->stddev,
             &out->hours);
    out->sigma = out->stddev;
    if (out->sigma < sigma_floor(rule->metric, out->mean)) {
        out->sigma = sigma_floor(rule->metric, out->mean);
    }
    out->threshold = down ? out->mean - rule->k * out->sigma
                          : out->mean + rule->k * out->sigma;
    out->rearm = down ? out->mean - rule->k / 2 * out->sigma
                      : out->mean + rule->k / 2 * out->sigma;

    if (out->hours < ES_SPIKE_LEARNING_HOURS) {
        out->status = ES_SPIKE_LEARNING;
        return;
    }
    judged = out->defined && (rule->metric == ES_METRIC_VOLUME ||
                              out->volume >= rule->min_volume);
    if (!judged) {
        out->status = ES_SPIKE_UNJUDGED;
        return;
    }
    out->back = down ? out->observed > out->rearm : out->observed < out->rearm;
    if (out->volume >= rule->min_volume &&
        (down ? out->observed <= out->threshold
              : out->observed >= out->threshold)) {
        out->status = ES_SPIKE_BEYOND;
    } else {
        out->status = ES_SPIKE_NORMAL;
    }
}

es_spike_action es_spike_decide(const es_spike_eval *e,
                                const es_spike_state *st, long long now_ms)
{
    if (e->status == ES_SPIKE_BEYOND && st->armed &&
        now_ms >= st->quiet_until_ms) {
        return ES_SPIKE_FIRE;
    }
    if (!st->armed && e->back) {
        return ES_SPIKE_REARM;
    }
    return ES_SPIKE_STAY;
}

void es_spike_fired(es_spike_state *st, long long now_ms, long long cooldown_ms)
{
    st->armed = 0;
    st->fired_ms = now_ms;
    st->quiet_until_ms = now_ms + cooldown_ms;
}
