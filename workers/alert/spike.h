/*
 * spike.h - spike detection of the alert worker: pure arithmetic over
 * counts, no Redis, no clock of its own.
 *
 * A rule watches one metric of one topic over its window (the last
 * window_minutes minute buckets, the current one included) and compares
 * it with a baseline: the mean mu and standard deviation sigma of the same
 * metric over the 168 hourly buckets (7 days) that end where the hour
 * holding the window's first minute begins, so the spike being judged is
 * never part of its own baseline. Metrics:
 *
 *   negative_share  neg / n              hours with n = 0 are skipped
 *   mean_compound   cs / n / 10000       hours with n = 0 are skipped
 *   volume          comments per hour:   window n * 60 / window_minutes;
 *                   hourly n, zeros counted, from the first hour with data
 *
 * sigma has a floor, so a topic that has been perfectly steady does not
 * fire on the first comment that differs: 0.05 for both shares of
 * sentiment, max(1, sqrt(mu)) for volume (the deviation of a Poisson
 * count). With fewer than 24 baseline hours the rule is learning and
 * never fires; from 24 hours to 7 days it uses what exists.
 *
 * Firing: the window holds at least min_volume comments and the metric is
 * at or beyond mu + k*sigma (at or below mu - k*sigma for mean_compound,
 * where the bad direction is down). After firing the rule is disarmed and
 * quiet for cooldown_minutes; it fires again only once both the cool-down
 * has passed and it has re-armed, which takes one evaluation with the
 * metric back inside the half band, below mu + (k/2)*sigma (above
 * mu - (k/2)*sigma): hysteresis, so a metric hovering at the threshold
 * sends one alert, not one per cool-down. A share is only judged on a
 * window of at least min_volume comments (a handful of comments says
 * nothing either way); volume is judged on any window.
 *
 * Every function takes the time it works for (now_ms) from its caller, so
 * the worker and the unit tests drive the same code over any clock.
 */
#ifndef ES_ALERT_SPIKE_H
#define ES_ALERT_SPIKE_H

#include <stddef.h>

#define ES_SPIKE_BASELINE_HOURS 168
#define ES_SPIKE_LEARNING_HOURS 24
#define ES_SPIKE_WINDOW_MIN     5
#define ES_SPIKE_WINDOW_MAX     1440

#define ES_SPIKE_FLOOR_SHARE    0.05
#define ES_SPIKE_FLOOR_COMPOUND 0.05

typedef enum {
    ES_METRIC_NEGATIVE_SHARE = 0,
    ES_METRIC_VOLUME,
    ES_METRIC_MEAN_COMPOUND
} es_metric;

/* "negative_share", "volume", "mean_compound" */
const char *es_metric_name(es_metric m);

/* 0 and the metric, or -1 for an unknown name. */
int es_metric_parse(const char *s, es_metric *m);

/* The counts of one minute or hour bucket (cs: compound sum, 1e-4). */
typedef struct {
    long long n;
    long long neg;
    long long cs;
} es_bucket;

/*
 * The buckets a rule reads at now_ms. Minutes and hours are numbered
 * since the epoch (minute m covers [m * 60000, (m + 1) * 60000) ms).
 */
typedef struct {
    long long first_minute; /* the window's oldest minute */
    int nminutes;           /* window_minutes: through the current minute */
    long long first_hour;   /* the baseline's oldest hour */
    int nhours;             /* ES_SPIKE_BASELINE_HOURS */
    long long from_ms;      /* the window: first minute's start … */
    long long to_ms;        /* … to now_ms */
} es_spike_span;

void es_spike_span_at(long long now_ms, int window_minutes, es_spike_span *s);

typedef struct {
    es_metric metric;
    int window_minutes;
    long long min_volume;
    double k; /* sensitivity */
} es_spike_rule;

typedef enum {
    ES_SPIKE_LEARNING = 0, /* under 24 baseline hours: never fires */
    ES_SPIKE_UNJUDGED,     /* no metric, or a share below min_volume */
    ES_SPIKE_NORMAL,       /* judged, not beyond the threshold */
    ES_SPIKE_BEYOND        /* judged and beyond: fires when armed */
} es_spike_status;

typedef struct {
    es_spike_status status;
    int defined;      /* the window has a value of the metric */
    double observed;  /* the window's metric (0 when not defined) */
    long long volume; /* comments in the window */
    double mean;      /* baseline mu */
    double stddev;    /* baseline sigma as measured */
    double sigma;     /* sigma used: stddev raised to the floor */
    int hours;        /* baseline hours that counted */
    double threshold; /* mu + k*sigma (mu - k*sigma for mean_compound) */
    double rearm;     /* mu + k/2*sigma (mu - k/2*sigma) */
    int back;         /* judged and back inside the half band */
} es_spike_eval;

/*
 * Evaluates rule over the window's minute buckets win[0..nwin) and the
 * baseline's hour buckets hours[0..nhours), both oldest first (as
 * es_spike_span_at names them; a bucket with no data is all zeros).
 */
void es_spike_evaluate(const es_spike_rule *rule, const es_bucket *win,
                       size_t nwin, const es_bucket *hours, size_t nhours,
                       es_spike_eval *out);

/* The stored state of one rule (a rule never seen is armed). */
typedef struct {
    int armed;
    long long quiet_until_ms; /* no firing before this */
    long long fired_ms;       /* the last firing, 0 for none */
} es_spike_state;

typedef enum {
    ES_SPIKE_STAY = 0, /* nothing changes */
    ES_SPIKE_FIRE,     /* record an alert: disarm, quiet until the end */
    ES_SPIKE_REARM     /* back inside the half band: arm again */
} es_spike_action;

es_spike_action es_spike_decide(const es_spike_eval *e,
                                const es_spike_state *st, long long now_ms);

/* The state after firing at now_ms with a cool-down of cooldown_ms. */
void es_spike_fired(es_spike_state *st, long long now_ms,
                    long long cooldown_ms);

#endif
