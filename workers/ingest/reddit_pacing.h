/*
 * reddit_pacing.h - the arithmetic of polling Reddit politely, as pure
 * functions (no clock, no I/O) so every rule is unit-tested on its own.
 *
 * Three limits combine: our own token bucket (never more than reddit.qpm
 * requests in any minute), Reddit's X-Ratelimit-* headers (spread what is
 * left of the window over the time until it resets), and per subreddit an
 * interval chosen so each poll finds about ES_POLL_TARGET new comments.
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

/* Requests per minute one subreddit needs at this rate and interval. */
double es_sub_qpm(double rate, double interval_s);

/*
 * Budget check over n subreddits: *required_qpm gets the sum of their
 * needs; behind[i] = 1 when sub i would gather more than ES_LISTING_SAFE
 * comments between polls once intervals are stretched to fit budget_qpm.
 * Returns the number of subreddits behind.
 */
size_t es_budget_eval(const double *rate, const double *interval, size_t n,
                      double budget_qpm, double *required_qpm, int *behind);

/* 1 when ua has Reddit's "<platform>:<app id>:<version> (by /u/<user>)". */
int es_user_agent_valid(const char *ua);

#endif
