/*
 * reddit_pacing.h - the arithmetic of polling Reddit politely, as pure
 * functions (no clock, no I/O) so every rule is unit-tested on its own.
 *
 * Three limits combine: our own token bucket (reddit.qpm requests per
 * minute, with a small burst) and a sliding window over the send times of
 * the last requests (never more than reddit.qpm in any minute, burst
 * included), Reddit's X-Ratelimit-* headers (spread what is left of the
 * window over the time until it resets), and per subreddit ingest's own
 * floor, ingest.min_interval. Within them the poller spends the whole
 * budget: es_cycle_s says how often each polling unit (a subreddit, or a
 * group of quiet ones read through one listing, poll_plan.h) comes round.
 */
#ifndef ES_INGEST_REDDIT_PACING_H
#define ES_INGEST_REDDIT_PACING_H

#include <stddef.h>

/* New comments a poll should find: half a page leaves room for bursts. */
#define ES_POLL_TARGET 50.0
/* Comments that fit a listing before Reddit's ~1,000 item cap bites. */
#define ES_LISTING_SAFE 900.0
/* Comments per listing page. */
#define ES_PAGE_SIZE 100

typedef struct {
    double tokens;
    double capacity;
    double per_ms;     /* refill rate */
    long long last_ms; /* time of the last refill */
} es_bucket;

/* A bucket of qpm requests per minute, starting full (burst = capacity). */
void es_bucket_init(es_bucket *b, double qpm, double capacity, long long now);

/* Milliseconds until one token is available (0: now). */
long long es_bucket_wait_ms(es_bucket *b, long long now);

/* Takes one token (may go negative if taken early). */
void es_bucket_take(es_bucket *b, long long now);

/*
 * The send times of the last requests, so that no span of span_ms holds
 * more than floor(qpm) of them (at least one). A bucket alone lets its
 * burst come on top of a minute's refill; this does not. Budgets above
 * ES_WINDOW_MAX requests are not tracked (the bucket alone limits them).
 */
#define ES_WINDOW_MAX 10000

typedef struct {
    long long *t; /* ring of send times, oldest at head */
    size_t cap;   /* 0: not tracked */
    size_t head, n;
    long long span_ms;
} es_window;

/* 0, or -1 when out of memory. */
int es_window_init(es_window *w, double qpm, long long span_ms);
void es_window_free(es_window *w);

/* Milliseconds until one more request fits the window (0: now). */
long long es_window_wait_ms(const es_window *w, long long now);

/* Records a request sent at now. */
void es_window_take(es_window *w, long long now);

/*
 * Delay before the next request from Reddit's rate headers: with
 * remaining <= 1 wait for the reset, otherwise spread the remaining requests
 * evenly over the reset window. Milliseconds, >= 0.
 */
long long es_ratelimit_delay_ms(double remaining, double reset_s);

/*
 * Updates a comments/s estimate (EWMA) from n_new comments seen over
 * elapsed_s seconds. have_old == 0 takes the observation as is.
 */
double es_rate_update(double old, int have_old, double n_new, double elapsed_s);

/*
 * Rate from the created_utc values of one page (newest - oldest spread),
 * or -1 when the page cannot tell (fewer than 2 items or no spread).
 */
double es_rate_from_span(size_t n, double oldest, double newest);

/*
 * Poll interval in seconds for a subreddit with the given rate: about
 * ES_POLL_TARGET comments per poll, divided by the pages the last poll
 * needed (more than one page means the estimate lags), clamped.
 */
double es_poll_interval(double rate, int pages, double min_s, double max_s);

/*
 * Seconds between two polls of each of `units` polling units sharing
 * budget_qpm, when their comments add up to rate_total per second: each
 * poll costs one request plus a page per ES_PAGE_SIZE comments gathered
 * since the last, so the cycle T solves T = (60 / qpm) * (units +
 * rate_total * T / ES_PAGE_SIZE). Never below min_s (ingest.min_interval);
 * HUGE_VAL when the pages alone need more than the budget.
 */
double es_cycle_s(size_t units, double rate_total, double budget_qpm,
                  double min_s);

/*
 * How overdue a polling unit is: the seconds it has waited since its last
 * poll over the interval it should be polled at, which is the cycle
 * (everyone's fair share of the budget) or, when it gathers more than
 * ES_URGENT_FILL comments in that time, the time it takes to gather them.
 * The scheduler gives each request to the most overdue unit allowed to go
 * (ingest.min_interval since its last poll): round robin while every unit
 * keeps within a few pages per cycle, and a busy one first before its
 * comments can overflow the listing (during the start-up, when 60 new
 * subreddits each wait for a first poll, a busy one gets its turns).
 * cycle_s not finite: a minute.
 */
#define ES_URGENT_FILL (3.0 * ES_PAGE_SIZE)

double es_poll_urgency(double waited_s, double rate, double cycle_s);

/* Requests per minute one subreddit needs at this rate and interval. */
double es_sub_qpm(double rate, double interval_s);

/* 1 when ua has Reddit's "<platform>:<app id>:<version> (by /u/<user>)". */
int es_user_agent_valid(const char *ua);

#endif
