/*
 * es_backoff.c - full-jitter back-off and retry budget (see es_backoff.h).
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "es_backoff.h"

static uint64_t rng_state;

/* splitmix64: small, good enough for jitter, no global libc state touched */
static uint64_t rng_next(void)
{
    uint64_t z;

    if (rng_state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        rng_state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^
                    (uint64_t)ts.tv_sec;
    }
    z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

long long es_rand_ms(long long max)
{
    if (max <= 0) {
        return 0;
    }
    /* max + 1 in unsigned: LLONG_MAX + 1 does not fit a long long */
    return (long long)(rng_next() % ((uint64_t)max + 1));
}

void es_backoff_init(es_backoff *b, long long base_ms, long long cap_ms)
{
    b->base_ms = base_ms;
    b->cap_ms = cap_ms;
    b->attempt = 0;
}

long long es_backoff_next(es_backoff *b)
{
    long long ceiling = b->base_ms;

    /* stop doubling before the ceiling could overflow */
    for (int i = 0;
         i < b->attempt && ceiling < b->cap_ms && ceiling <= LLONG_MAX / 2;
         i++) {
        ceiling *= 2;
    }
    if (ceiling > b->cap_ms) {
        ceiling = b->cap_ms;
    }
    if (b->attempt < 62) {
        b->attempt++;
    }
    return es_rand_ms(ceiling);
}

void es_backoff_reset(es_backoff *b)
{
    b->attempt = 0;
}

void es_retry_budget_init(es_retry_budget *rb, double max, double retry_cost,
                          double success_refund)
{
    rb->tokens = max;
    rb->max = max;
    rb->retry_cost = retry_cost;
    rb->success_refund = success_refund;
}

int es_retry_budget_take(es_retry_budget *rb)
{
    if (rb->tokens < rb->retry_cost) {
        return 0;
    }
    rb->tokens -= rb->retry_cost;
    return 1;
}

void es_retry_budget_success(es_retry_budget *rb)
{
    rb->tokens += rb->success_refund;
    if (rb->tokens > rb->max) {
        rb->tokens = rb->max;
    }
}
