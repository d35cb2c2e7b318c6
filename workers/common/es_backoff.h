/*
 * es_backoff.h - retry pacing: exponential back-off with full jitter and a
 * retry budget.
 *
 * Full jitter (sleep a uniform random time in [0, min(cap, base * 2^n)]) is
 * what AWS's SDKs use: many clients retrying together spread out instead of
 * hammering a recovering service in waves. The budget is a token bucket in
 * the style of botocore's standard mode: each retry spends tokens, each
 * success returns one, and with the bucket empty a failing call gives up at
 * once instead of retrying, so a dead service is not hammered.
 */
#ifndef ES_BACKOFF_H
#define ES_BACKOFF_H

typedef struct {
    long long base_ms;
    long long cap_ms;
    int attempt; /* failures in a row */
} es_backoff;

void es_backoff_init(es_backoff *b, long long base_ms, long long cap_ms);

/* Records a failure and returns how long to wait before the next try. */
long long es_backoff_next(es_backoff *b);

/* Records a success: the next failure starts from base again. */
void es_backoff_reset(es_backoff *b);

typedef struct {
    double tokens;
    double max;
    double retry_cost;
    double success_refund;
} es_retry_budget;

void es_retry_budget_init(es_retry_budget *rb, double max, double retry_cost,
                          double success_refund);

/* Takes the tokens for one retry; returns 0 when the budget is spent. */
int es_retry_budget_take(es_retry_budget *rb);

void es_retry_budget_success(es_retry_budget *rb);

/* Uniform random in [0, max] from a per-process seeded generator. */
long long es_rand_ms(long long max);

#endif
