/*
 * digest.h - the daily digest e-mail: one per member who opted in
 * ("digest" in the member's record, PATCH /api/v1/me), with the day's
 * summaries, the numbers and the alerts fired that day.
 *
 * The scheduler asks once per tick and tenant. A day's digest is due once
 * the tenant's daily summaries of that day were queued (summary_sched) and
 * its whole-tenant summary, the last one queued, exists; the mails are
 * then composed here (digest_text.h) and handed to the alert worker's
 * delivery loop as deliveries of kind "digest" through es_delivery_add
 * (lib/redis/alert.lua), which stores and queues each one only when its id
 * is new. The ids are derived from the day and the member, and
 * digest_sched records the day after every delivery was added: a
 * summarizer killed half-way adds the rest at its next tick and never a
 * second copy. The delivery loop adds the List-Unsubscribe headers and
 * sends, exactly as it sends alerts.
 */
#ifndef ES_SUM_DIGEST_H
#define ES_SUM_DIGEST_H

#include "summarizer.h"

/*
 * Queues tenant's digest of day sched ("YYYY-MM-DD", the tenant's
 * summary_sched) unless digest_sched (may be "" or NULL) already holds it
 * or the day's whole-tenant summary is not written yet. tz is the
 * tenant's valid time zone. 0, or -1 when Redis failed.
 */
int es_sum_digest_tick(es_summarizer *s, const char *tenant, const char *tz,
                       const char *sched, const char *digest_sched);

#endif
