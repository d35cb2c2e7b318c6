/*
 * event.h - the alert event: the JSON the history stream keeps (field
 * "event") and every e-mail and webhook of the alert is written from.
 *
 *   {"rule","topic","metric","fired","window_minutes",
 *    "window":{"from","to"},"observed","baseline":{"mean","stddev",
 *    "hours"},"threshold","sensitivity","volume","samples":[...]}
 *
 * (readers add "id", the stream id). Numbers are rounded to 4 decimals:
 * what the e-mail shows and what the history holds are the same figures.
 * "stddev" is the sigma the threshold was computed with, after the floor
 * (spike.h). Samples are up to 5 comments of the window, each
 * {"id","body","author","subreddit","label","compound","link"}, the body
 * cut to 280 characters on a character boundary.
 *
 * Pure functions of their arguments (no Redis, no clock), so the shape
 * is unit-tested.
 */
#ifndef ES_ALERT_EVENT_H
#define ES_ALERT_EVENT_H

#include <stddef.h>

#include <jansson.h>

#include "rules.h"
#include "spike.h"

#define ES_ALERT_SAMPLES      5
#define ES_ALERT_SAMPLE_CHARS 280
/* comments of the window looked at to choose the samples */
#define ES_ALERT_SAMPLE_POOL 50

/*
 * s[0..n) (valid UTF-8) cut to at most max characters: when it is longer,
 * max - 1 characters and "…". A new string (malloc), or NULL without
 * memory.
 */
char *es_alert_cut_chars(const char *s, size_t n, size_t max);

/*
 * The samples of an alert on metric m from the comment records
 * records[0..n) (texts of es:{t:T}:c:<id>, newest first; NULL or a
 * tombstone is skipped): for the sentiment metrics the most negative
 * (lowest compound, newest first among equals), for volume the newest.
 * A new array, NULL without memory.
 */
json_t *es_alert_samples(es_metric m, const char *const *records,
                         const size_t *lens, size_t n);

/*
 * The event of rule r firing at now_ms with evaluation e over span sp.
 * Steals samples (an array). A new object, NULL without memory.
 */
json_t *es_alert_event(const es_alert_rule *r, const es_spike_eval *e,
                       const es_spike_span *sp, long long now_ms,
                       json_t *samples);

/* x rounded to 4 decimals. */
double es_alert_round4(double x);

/* The flags every event is dumped with (compact, reals as rounded). */
#define ES_ALERT_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(12))

#endif
