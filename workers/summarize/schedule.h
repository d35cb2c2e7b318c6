/*
 * schedule.h - the daily summaries: queued once a day per tenant, at the
 * hour and in the time zone the tenant set (summary_hour, time_zone; 07:00
 * UTC when unset).
 *
 * Every summarize.interval seconds the scheduler reads every tenant's
 * settings and, for each tenant whose local hour has reached its summary
 * hour, queues the summaries of its previous local day: one per topic and
 * one of the whole tenant, on the same requests stream the API writes,
 * through es_summary_schedule. That function records the day in the
 * tenant's summary_sched key in the same step, so a day is queued once
 * however many summarizers tick, and a summarizer that was down at the
 * hour catches up at its next tick (the latest day only: a summary of a
 * day long gone would be read by no one). A tenant created after the day
 * ended gets nothing for it.
 */
#ifndef ES_SUM_SCHEDULE_H
#define ES_SUM_SCHEDULE_H

#include "summarizer.h"

/* One pass over every tenant. 0, or -1 when Redis failed. */
int es_sum_schedule_tick(es_summarizer *s, long long now_s);

/* A new request id: the time in base 36 (8 characters), then 6 random. */
void es_sum_request_id(long long now_ms, char out[15]);

#endif
