/*
 * delivery.h - a delivery record of es:{t:T}:deliveries and how it moves
 * on: pure JSON changes, no Redis (the loop in deliver.c stores each new
 * version with a compare-and-set).
 *
 *   {"id","kind":"alert"|"digest","channel":"email"|"webhook",
 *    "to":[addresses] | "url","ref","status":"pending"|"sent"|"failed",
 *    "attempts","created_ms","sent_ms","error",
 *    "results":{target: "sent" | "failed: <reason>"},"next_ms"}
 *
 * An e-mail delivery sends one message per address, so each recipient
 * gets their own (and their own unsubscribe link); "results" records each
 * target as it is settled, so a delivery interrupted after some of them
 * goes on with the rest and never sends a settled one again. When every
 * target is settled the status becomes "sent" (at least one got it) or
 * "failed" (none did), with sent_ms and the failures in "error". A
 * retryable failure counts an attempt and sets next_ms, the earliest
 * time of the next one (back-off doubling from the claim time, at most an
 * hour); after max attempts the status is "failed". A digest delivery
 * also carries its message: "subject", "text" and "html".
 */
#ifndef ES_ALERT_DELIVERY_H
#define ES_ALERT_DELIVERY_H

#include <jansson.h>

#define ES_DELIVERY_MAX_ATTEMPTS 8
#define ES_DELIVERY_BACKOFF_CAP  3600000LL

/* The targets: the addresses, or the URL (one). Borrowed strings. */
size_t es_delivery_targets(json_t *rec, const char **out, size_t max);

/* 1 when target is already settled in rec. */
int es_delivery_settled(json_t *rec, const char *target);

/* 1 when the status is no longer "pending". */
int es_delivery_done(json_t *rec);

/*
 * Settles target: sent (ok) or failed for good with err. When that was
 * the last target, closes the record (status, sent_ms, attempts + 1).
 * Returns 1 when the record is now closed, 0 when targets remain, -1
 * without memory.
 */
int es_delivery_settle(json_t *rec, const char *target, int ok, const char *err,
                       long long now_ms);

/*
 * Counts a retryable failure: attempts + 1, error, next_ms = now +
 * es_delivery_backoff; at max_attempts the record is closed as "failed"
 * (the targets not yet settled marked failed). Returns 1 when closed,
 * 0 when it is to be tried again, -1 without memory.
 */
int es_delivery_retry(json_t *rec, const char *err, long long now_ms,
                      long long base_ms, int max_attempts);

/* base_ms doubled per attempt after the first, at most an hour. */
long long es_delivery_backoff(long long attempts, long long base_ms);

#endif
